/// A deterministic random number generator for tests and benchmarks: the same seed always
/// gives the same sequence, on every platform, so a failing seed replays exactly.
///
/// It is SplitMix64 (Steele, Lea and Flood, 2014): the state advances by a fixed odd constant
/// and each output is a strong mix of the state. The first value after `init(seed: s)` is
/// ``mix(_:)`` of `s`, the next ``mix(_:)`` of `s + 0x9E3779B97F4A7C15`, and so on.
///
/// **Not secure**: its outputs reveal its state. Never use it to make a password, a token or a
/// salt outside tests; ``InsecureSeededRandomSource`` wraps it for the directory's random-source
/// parameter.
///
/// ```swift
/// var random = SeededRandomNumberGenerator(seed: 42)
/// let delay = Int.random(in: 0..<100, using: &random)
/// ```
public struct SeededRandomNumberGenerator: RandomNumberGenerator, Sendable {
  /// The golden-ratio increment SplitMix64 adds to its state before each output.
  private static let increment: UInt64 = 0x9E37_79B9_7F4A_7C15

  /// The seed plus one increment per value produced so far.
  private var state: UInt64

  /// Creates a generator whose sequence is fixed by `seed`.
  ///
  /// - Parameter seed: Any value; equal seeds give equal sequences.
  public init(seed: UInt64) {
    state = seed
  }

  /// The next value of the sequence.
  ///
  /// - Returns: 64 well-mixed bits.
  public mutating func next() -> UInt64 {
    let value = Self.mix(state)
    state &+= Self.increment
    return value
  }

  /// SplitMix64's output function on its own: a well-mixed, stateless hash of `value`.
  ///
  /// Equal to the first value a generator seeded with `value` produces. Useful to derive
  /// independent-looking data from an index without keeping a generator around.
  ///
  /// - Parameter value: Any value.
  /// - Returns: Its hash.
  public static func mix(_ value: UInt64) -> UInt64 {
    var z = value &+ increment
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
