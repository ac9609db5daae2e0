/// Eight state words of a Merkle–Damgård hash (SHA-1 uses the first five).
typealias StateWords<Word> = (Word, Word, Word, Word, Word, Word, Word, Word)

/// Sixteen words: one message block of SHA-1/SHA-2 in its natural word size.
typealias BlockWords<Word> = (
  Word, Word, Word, Word, Word, Word, Word, Word, Word, Word, Word, Word, Word, Word, Word, Word
)

/// The internal description of a SHA-1/SHA-2 style hash: 16-word blocks, big-endian words,
/// `0x80` padding and a big-endian bit-length trailer of two words.
///
/// Conformers supply only the constants and the compression function; buffering, padding,
/// HMAC key-state precomputation and the PBKDF2 inner loop are shared and specialised per type.
protocol MerkleDamgardHash: HashFunction {
  /// The machine word the compression function operates on (`UInt32` or `UInt64`).
  associatedtype Word: FixedWidthInteger & UnsignedInteger & Sendable

  /// The initial chaining value (unused trailing words must be zero).
  static var initialState: StateWords<Word> { get }

  /// How many leading state words form the digest.
  static var digestWordCount: Int { get }

  /// How many words of scratch space ``compress(_:_:)`` needs for its message schedule
  /// (at least 16).
  static var scheduleWordCount: Int { get }

  /// Runs the compression function.
  ///
  /// - Parameters:
  ///   - state: The eight-word chaining value, updated in place.
  ///   - schedule: `scheduleWordCount` words whose first 16 hold the message block as native
  ///     integers (already converted from big-endian). The rest is scratch. Implementations must
  ///     leave the first 16 words unchanged (the PBKDF2 loop relies on it).
  static func compress(_ state: UnsafeMutablePointer<Word>, _ schedule: UnsafeMutablePointer<Word>)

  /// Compresses `count` consecutive blocks of message bytes into `state`.
  ///
  /// The default loads each block into `schedule` and calls ``compress(_:_:)``; a hash with a
  /// hardware implementation uses it unless `implementation` is
  /// ``HashImplementation/portable``.
  ///
  /// - Parameters:
  ///   - state: The eight-word chaining value, updated in place.
  ///   - schedule: `scheduleWordCount` words of scratch space.
  ///   - source: `count` × ``mdBlockByteCount`` bytes, possibly unaligned.
  ///   - count: The number of blocks.
  ///   - implementation: Which implementation may run.
  static func compressBlocks(
    _ state: UnsafeMutablePointer<Word>, _ schedule: UnsafeMutablePointer<Word>,
    from source: UnsafeRawPointer, count: Int, implementation: HashImplementation)

  /// Runs further PBKDF2 iterations of one output block on a faster implementation, if this
  /// CPU has one.
  ///
  /// - Parameters:
  ///   - innerState: The chaining value after the HMAC key block XOR ipad (eight words).
  ///   - outerState: The chaining value after the HMAC key block XOR opad (eight words).
  ///   - u: U_j as eight words on entry, U_{j+iterations} on return.
  ///   - t: The XOR of U_1…U_j on entry, of U_1…U_{j+iterations} on return.
  ///   - iterations: How many iterations to run.
  /// - Returns: Whether they ran; if not, `u` and `t` are unchanged and the caller runs its
  ///   portable loop.
  static func acceleratedPBKDF2Iterations(
    innerState: UnsafePointer<Word>, outerState: UnsafePointer<Word>,
    u: UnsafeMutablePointer<Word>, t: UnsafeMutablePointer<Word>, iterations: Int
  ) -> Bool
}

/// Which implementation of a hash function or key derivation may run.
///
/// Callers of the public API always get ``automatic``. Tests use ``portable`` to check that the
/// hardware-accelerated and portable implementations agree, and benchmarks to measure both.
@_spi(Testing)
public enum HashImplementation: Sendable {
  /// The fastest implementation this CPU supports (SHA instructions, vectorized C), with the
  /// Swift implementation as the fallback.
  case automatic
  /// The portable Swift implementation only.
  case portable
}

extension MerkleDamgardHash {
  static func compressBlocks(
    _ state: UnsafeMutablePointer<Word>, _ schedule: UnsafeMutablePointer<Word>,
    from source: UnsafeRawPointer, count: Int, implementation: HashImplementation
  ) {
    portableCompressBlocks(state, schedule, from: source, count: count)
  }

  static func acceleratedPBKDF2Iterations(
    innerState: UnsafePointer<Word>, outerState: UnsafePointer<Word>,
    u: UnsafeMutablePointer<Word>, t: UnsafeMutablePointer<Word>, iterations: Int
  ) -> Bool {
    false
  }

  /// Compresses `count` consecutive blocks with the Swift ``compress(_:_:)``.
  @inline(__always)
  static func portableCompressBlocks(
    _ state: UnsafeMutablePointer<Word>, _ schedule: UnsafeMutablePointer<Word>,
    from source: UnsafeRawPointer, count: Int
  ) {
    let blockSize = mdBlockByteCount
    for index in 0..<count {
      loadBlock(schedule, from: source + index &* blockSize)
      compress(state, schedule)
    }
  }

  /// Bytes per message block: sixteen words.
  static var mdBlockByteCount: Int { 16 &* MemoryLayout<Word>.size }

  /// Loads one block of big-endian words from possibly unaligned memory.
  @inline(__always)
  static func loadBlock(_ schedule: UnsafeMutablePointer<Word>, from source: UnsafeRawPointer) {
    let size = MemoryLayout<Word>.size
    for index in 0..<16 {
      schedule[index] = Word(
        bigEndian: source.loadUnaligned(fromByteOffset: index &* size, as: Word.self))
    }
  }

  /// Writes the first `count` words of `words` to `destination` as big-endian bytes.
  @inline(__always)
  static func storeWords(
    _ words: UnsafePointer<Word>, count: Int, to destination: UnsafeMutableRawPointer
  ) {
    let size = MemoryLayout<Word>.size
    for index in 0..<count {
      destination.storeBytes(
        of: words[index].bigEndian, toByteOffset: index &* size, as: Word.self)
    }
  }
}

/// Buffering and padding shared by SHA-1, SHA-256 and SHA-512.
///
/// All storage is inline (no heap allocation), so copying an engine is cheap and forks its state.
struct MerkleDamgardEngine<H: MerkleDamgardHash>: Sendable {
  typealias Word = H.Word

  /// The current chaining value.
  private(set) var state: StateWords<Word>
  /// Raw storage for a partially filled block.
  private var pending: BlockWords<Word> = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
  /// How many bytes of `pending` are in use (always less than one block).
  private var pendingByteCount = 0
  /// Total number of message bytes absorbed, modulo 2^64.
  private var totalByteCount: UInt64 = 0
  /// Which compression-function implementation may run.
  private let implementation: HashImplementation

  init(implementation: HashImplementation = .automatic) {
    state = H.initialState
    self.implementation = implementation
  }

  mutating func update(_ input: UnsafeRawBufferPointer) {
    guard var source = input.baseAddress, !input.isEmpty else { return }
    let blockSize = H.mdBlockByteCount
    var remaining = input.count
    totalByteCount &+= UInt64(truncatingIfNeeded: remaining)

    var chaining = state
    var buffer = pending
    var buffered = pendingByteCount
    let implementation = implementation
    withUnsafeTemporaryAllocation(of: Word.self, capacity: H.scheduleWordCount) { scratch in
      guard let schedule = scratch.baseAddress else { return }
      withUnsafeMutablePointer(to: &chaining) { tuple in
        tuple.withMemoryRebound(to: Word.self, capacity: 8) { words in
          withUnsafeMutableBytes(of: &buffer) { block in
            guard let blockBase = block.baseAddress else { return }
            if buffered > 0 {
              let take = min(blockSize &- buffered, remaining)
              (blockBase + buffered).copyMemory(from: source, byteCount: take)
              buffered &+= take
              source += take
              remaining &-= take
              if buffered == blockSize {
                H.compressBlocks(
                  words, schedule, from: blockBase, count: 1, implementation: implementation)
                buffered = 0
              }
            }
            let blockCount = remaining / blockSize
            if blockCount > 0 {
              H.compressBlocks(
                words, schedule, from: source, count: blockCount, implementation: implementation)
              source += blockCount &* blockSize
              remaining &-= blockCount &* blockSize
            }
            if remaining > 0 {
              blockBase.copyMemory(from: source, byteCount: remaining)
              buffered = remaining
            }
          }
        }
      }
    }
    state = chaining
    pending = buffer
    pendingByteCount = buffered
  }

  /// Appends the padding and returns the digest bytes; `self` is not modified.
  func finalize() -> [UInt8] {
    let digestWordCount = H.digestWordCount
    let byteCount = digestWordCount &* MemoryLayout<Word>.size
    let finalState = finalizedState()
    return [UInt8](unsafeUninitializedCapacity: byteCount) { buffer, initialized in
      guard let base = buffer.baseAddress else { return }
      withUnsafePointer(to: finalState) { tuple in
        tuple.withMemoryRebound(to: Word.self, capacity: 8) { words in
          H.storeWords(words, count: digestWordCount, to: UnsafeMutableRawPointer(base))
        }
      }
      initialized = byteCount
    }
  }

  /// Appends the padding and returns the final chaining value; `self` is not modified.
  func finalizedState() -> StateWords<Word> {
    var engine = self
    engine.applyPadding()
    return engine.state
  }

  /// Absorbs `0x80`, zero bytes and the two-word big-endian bit length, leaving no pending bytes.
  private mutating func applyPadding() {
    let blockSize = H.mdBlockByteCount
    let lengthFieldSize = 2 &* MemoryLayout<Word>.size
    let used = pendingByteCount &+ 1 &+ lengthFieldSize
    let zeroCount = (blockSize &- used % blockSize) % blockSize
    let trailerCount = 1 &+ zeroCount &+ lengthFieldSize
    let bitCountLow = totalByteCount &<< 3
    let bitCountHigh = totalByteCount &>> 61
    withUnsafeTemporaryAllocation(byteCount: trailerCount, alignment: 8) { trailer in
      trailer.initializeMemory(as: UInt8.self, repeating: 0)
      trailer[0] = 0x80
      trailer.storeBytes(
        of: bitCountLow.bigEndian, toByteOffset: trailerCount &- 8, as: UInt64.self)
      if lengthFieldSize == 16 {
        trailer.storeBytes(
          of: bitCountHigh.bigEndian, toByteOffset: trailerCount &- 16, as: UInt64.self)
      }
      update(UnsafeRawBufferPointer(trailer))
    }
  }
}
