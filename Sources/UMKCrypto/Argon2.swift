/// The Argon2 memory-hard password hashing function (RFC 9106): Argon2d, Argon2i and Argon2id,
/// versions 0x10 and 0x13, with optional secret key and associated data.
///
/// ```swift
/// let parameters = Argon2.Parameters(memoryKiB: 19_456, iterations: 2, parallelism: 1)
/// let tag = try Argon2.hash(password: password, salt: salt, parameters: parameters)
///
/// // Parameters read from storage may be hostile: cap the cost before computing.
/// let limits = Argon2.CostLimits(maximumMemoryKiB: 262_144, maximumIterations: 16)
/// let ok = try Argon2.isValidTag(
///   storedTag, password: password, salt: storedSalt, parameters: storedParameters,
///   limits: limits)
/// ```
///
/// ## Resources
///
/// One hash allocates the `memoryKiB` block matrix once (rounded down to a multiple of
/// 4 × `parallelism` KiB), plus a few KiB of stack per lane, and zeroes the matrix before
/// freeing it. With `parallelism` 1 everything runs on the calling thread. With more lanes,
/// the lanes of each of the 4 × `iterations` slices are computed concurrently with
/// `DispatchQueue.concurrentPerform` (at most one thread per core), and the calling thread
/// blocks until the hash is done. Both are CPU-bound blocking calls: from Swift concurrency, run
/// them off the cooperative pool and bound how many run at once (memory × concurrency).
public enum Argon2 {
  /// The Argon2 variant, which decides how reference blocks are chosen (RFC 9106 §3.4).
  ///
  /// The raw value is the algorithm identifier used in PHC strings, for example `"argon2id"`.
  public enum Variant: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Argon2d: data-dependent addressing. Fastest and most resistant to GPU cracking, but
    /// open to side-channel attacks; not for password hashing where those matter.
    case d = "argon2d"

    /// Argon2i: data-independent addressing, resistant to side channels.
    case i = "argon2i"

    /// Argon2id: data-independent addressing for the first half of the first pass, then
    /// data-dependent. The variant RFC 9106 recommends.
    case id = "argon2id"

    /// The type value `y` hashed into H0 (0, 1 or 2).
    var typeCode: UInt32 {
      switch self {
      case .d: 0
      case .i: 1
      case .id: 2
      }
    }

    /// The PHC identifier, for example `argon2id`.
    public var description: String { rawValue }
  }

  /// The version of the algorithm (RFC 9106 uses 0x13; 0x10 is the original, still found in
  /// older stored hashes).
  ///
  /// The raw value is the version number as written in PHC strings (`v=19` is 0x13).
  public enum Version: UInt32, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Version 0x10 (16): later passes overwrite blocks instead of XOR-ing into them.
    case v10 = 0x10

    /// Version 0x13 (19), the current version specified by RFC 9106.
    case v13 = 0x13

    /// The version in hexadecimal, for example `0x13`.
    public var description: String { self == .v10 ? "0x10" : "0x13" }
  }

  /// The cost and output parameters of one Argon2 computation.
  ///
  /// Values are checked when hashing, not here, so that parameters read from storage can be
  /// represented before they are judged.
  public struct Parameters: Sendable, Hashable {
    /// The variant (default Argon2id).
    public var variant: Variant

    /// The version (default 0x13).
    public var version: Version

    /// The memory size `m` in KiB; at least 8 × ``parallelism`` and at most 2³² − 1.
    public var memoryKiB: Int

    /// The number of passes `t` over memory; 1 through 2³² − 1.
    public var iterations: Int

    /// The degree of parallelism `p` (number of lanes); 1 through 2²⁴ − 1.
    public var parallelism: Int

    /// The tag length `T` in bytes; 4 through 2³² − 1 (default 32).
    public var tagByteCount: Int

    /// Creates a parameter set.
    ///
    /// - Parameters:
    ///   - variant: The variant (default Argon2id).
    ///   - version: The version (default 0x13).
    ///   - memoryKiB: The memory size in KiB.
    ///   - iterations: The number of passes.
    ///   - parallelism: The number of lanes (default 1).
    ///   - tagByteCount: The tag length in bytes (default 32).
    public init(
      variant: Variant = .id, version: Version = .v13, memoryKiB: Int, iterations: Int,
      parallelism: Int = 1, tagByteCount: Int = 32
    ) {
      self.variant = variant
      self.version = version
      self.memoryKiB = memoryKiB
      self.iterations = iterations
      self.parallelism = parallelism
      self.tagByteCount = tagByteCount
    }
  }

  /// A ceiling on the cost of one computation, checked before any memory is allocated.
  ///
  /// Use it whenever parameters come from outside the program (for example a stored hash that
  /// may have been tampered with), so that `m` = 4 GiB or `t` = 10⁹ fails immediately with
  /// ``CryptoParameterError/Code/costLimitExceeded`` instead of exhausting the host.
  public struct CostLimits: Sendable, Hashable {
    /// The largest accepted ``Parameters/memoryKiB``.
    public var maximumMemoryKiB: Int

    /// The largest accepted ``Parameters/iterations``.
    public var maximumIterations: Int

    /// The largest accepted ``Parameters/parallelism``.
    public var maximumParallelism: Int

    /// Creates cost limits; omitted limits are unbounded (only RFC 9106's ranges apply).
    ///
    /// - Parameters:
    ///   - maximumMemoryKiB: The largest accepted memory size in KiB.
    ///   - maximumIterations: The largest accepted number of passes.
    ///   - maximumParallelism: The largest accepted number of lanes.
    public init(
      maximumMemoryKiB: Int = .max, maximumIterations: Int = .max, maximumParallelism: Int = .max
    ) {
      self.maximumMemoryKiB = maximumMemoryKiB
      self.maximumIterations = maximumIterations
      self.maximumParallelism = maximumParallelism
    }

    /// No limits beyond the ranges RFC 9106 allows.
    public static let unlimited = CostLimits()
  }

  /// Computes an Argon2 tag (the raw hash).
  ///
  /// - Parameters:
  ///   - password: The password `P` (typically the UTF-8 encoding of a normalized string);
  ///     at most 2³² − 1 bytes.
  ///   - salt: The salt `S`; 8 through 2³² − 1 bytes (16 random bytes is usual).
  ///   - secret: The optional secret key `K` (a "pepper"); at most 2³² − 1 bytes.
  ///   - associatedData: The optional associated data `X`; at most 2³² − 1 bytes.
  ///   - parameters: The variant, version, costs and tag length.
  ///   - limits: A ceiling on the costs, checked before allocating (default: none).
  /// - Returns: The tag, `parameters.tagByteCount` bytes long.
  /// - Throws: ``CryptoParameterError`` if an input or parameter is outside the range RFC 9106
  ///   allows (codes ``CryptoParameterError/Code/memoryOutOfRange``,
  ///   ``CryptoParameterError/Code/iterationsOutOfRange``,
  ///   ``CryptoParameterError/Code/parallelismOutOfRange``,
  ///   ``CryptoParameterError/Code/outputLengthOutOfRange``,
  ///   ``CryptoParameterError/Code/saltLengthOutOfRange``,
  ///   ``CryptoParameterError/Code/keyLengthOutOfRange``,
  ///   ``CryptoParameterError/Code/inputLengthOutOfRange``), or with code
  ///   ``CryptoParameterError/Code/costLimitExceeded`` if it exceeds `limits`.
  public static func hash(
    password: some Sequence<UInt8>, salt: some Sequence<UInt8>,
    secret: some Sequence<UInt8> = [UInt8](), associatedData: some Sequence<UInt8> = [UInt8](),
    parameters: Parameters, limits: CostLimits = .unlimited
  ) throws(CryptoParameterError) -> [UInt8] {
    try validate(parameters, limits: limits)
    let result: Result<[UInt8], CryptoParameterError> = withBytes(of: password) { password in
      withBytes(of: salt) { salt in
        withBytes(of: secret) { secret in
          withBytes(of: associatedData) { associatedData in
            Result { () throws(CryptoParameterError) -> [UInt8] in
              let inputs = Argon2Inputs(
                password: password, salt: salt, secret: secret, associatedData: associatedData)
              try validate(inputs)
              return Argon2Instance.computeTag(inputs: inputs, parameters: parameters)
            }
          }
        }
      }
    }
    return try result.get()
  }

  /// Checks a tag in constant time by recomputing it.
  ///
  /// A tag whose length differs from `parameters.tagByteCount` is rejected without computing.
  ///
  /// - Parameters:
  ///   - tag: The expected tag, for example decoded from a stored PHC string.
  ///   - password: The password to check.
  ///   - salt: The salt the tag was computed with.
  ///   - secret: The secret key the tag was computed with, if any.
  ///   - associatedData: The associated data the tag was computed with, if any.
  ///   - parameters: The parameters the tag was computed with.
  ///   - limits: A ceiling on the costs, checked before allocating (default: none). Set it when
  ///     the parameters come from storage.
  /// - Returns: `true` if `tag` is the Argon2 tag of `password` under these inputs.
  /// - Throws: ``CryptoParameterError`` under the same conditions as
  ///   ``hash(password:salt:secret:associatedData:parameters:limits:)``.
  public static func isValidTag(
    _ tag: some Sequence<UInt8>, password: some Sequence<UInt8>, salt: some Sequence<UInt8>,
    secret: some Sequence<UInt8> = [UInt8](), associatedData: some Sequence<UInt8> = [UInt8](),
    parameters: Parameters, limits: CostLimits = .unlimited
  ) throws(CryptoParameterError) -> Bool {
    let expected = Array(tag)
    try validate(parameters, limits: limits)
    guard expected.count == parameters.tagByteCount else { return false }
    let computed = try hash(
      password: password, salt: salt, secret: secret, associatedData: associatedData,
      parameters: parameters, limits: limits)
    return ConstantTime.equals(computed, expected)
  }

  /// The largest value of a 32-bit length or cost field (2³² − 1).
  private static let maximumUInt32: UInt64 = UInt64(UInt32.max)

  /// Whether `minimum` ≤ `value` ≤ 2³² − 1.
  private static func isUInt32(_ value: Int, atLeast minimum: Int) -> Bool {
    value >= minimum && UInt64(value) <= maximumUInt32
  }

  /// Checks the parameters against RFC 9106 §3.1 and against the caller's limits.
  static func validate(_ parameters: Parameters, limits: CostLimits) throws(CryptoParameterError) {
    let p = parameters.parallelism
    guard p >= 1, p <= 0xFF_FFFF else {
      throw CryptoParameterError(
        code: .parallelismOutOfRange, message: "Argon2 parallelism must be 1 through 2^24 - 1.")
    }
    guard isUInt32(parameters.memoryKiB, atLeast: 8 &* p) else {
      throw CryptoParameterError(
        code: .memoryOutOfRange,
        message: "Argon2 memory must be 8 * parallelism (\(8 &* p)) through 2^32 - 1 KiB.")
    }
    guard isUInt32(parameters.iterations, atLeast: 1) else {
      throw CryptoParameterError(
        code: .iterationsOutOfRange, message: "Argon2 iterations must be 1 through 2^32 - 1.")
    }
    guard isUInt32(parameters.tagByteCount, atLeast: 4) else {
      throw CryptoParameterError(
        code: .outputLengthOutOfRange, message: "Argon2 tag length must be 4 through 2^32 - 1.")
    }
    guard parameters.memoryKiB <= limits.maximumMemoryKiB else {
      throw CryptoParameterError(
        code: .costLimitExceeded,
        message: "Argon2 memory \(parameters.memoryKiB) KiB exceeds the limit of "
          + "\(limits.maximumMemoryKiB) KiB.")
    }
    guard parameters.iterations <= limits.maximumIterations else {
      throw CryptoParameterError(
        code: .costLimitExceeded,
        message: "Argon2 iterations \(parameters.iterations) exceed the limit of "
          + "\(limits.maximumIterations).")
    }
    guard parameters.parallelism <= limits.maximumParallelism else {
      throw CryptoParameterError(
        code: .costLimitExceeded,
        message: "Argon2 parallelism \(parameters.parallelism) exceeds the limit of "
          + "\(limits.maximumParallelism).")
    }
    // The block matrix must be addressable (only a constraint where Int has 32 bits).
    let (bytes, overflow) = parameters.memoryKiB.multipliedReportingOverflow(by: 1024)
    guard !overflow, bytes < Int.max / 2 else {
      throw CryptoParameterError(
        code: .memoryOutOfRange,
        message: "Argon2 memory of \(parameters.memoryKiB) KiB cannot be addressed here.")
    }
  }

  /// Checks the input lengths against RFC 9106 §3.1.
  static func validate(_ inputs: Argon2Inputs) throws(CryptoParameterError) {
    guard UInt64(inputs.password.count) <= maximumUInt32 else {
      throw CryptoParameterError(
        code: .inputLengthOutOfRange, message: "Argon2 password must be at most 2^32 - 1 bytes.")
    }
    guard inputs.salt.count >= 8, UInt64(inputs.salt.count) <= maximumUInt32 else {
      throw CryptoParameterError(
        code: .saltLengthOutOfRange, message: "Argon2 salt must be 8 through 2^32 - 1 bytes.")
    }
    guard UInt64(inputs.secret.count) <= maximumUInt32 else {
      throw CryptoParameterError(
        code: .keyLengthOutOfRange, message: "Argon2 secret must be at most 2^32 - 1 bytes.")
    }
    guard UInt64(inputs.associatedData.count) <= maximumUInt32 else {
      throw CryptoParameterError(
        code: .inputLengthOutOfRange,
        message: "Argon2 associated data must be at most 2^32 - 1 bytes.")
    }
  }

  /// Calls `body` with the bytes of `sequence` in place when it has contiguous storage, or
  /// else with a temporary copy that is zeroed afterwards (inputs may be secrets).
  private static func withBytes<Result>(
    of sequence: some Sequence<UInt8>, _ body: (UnsafeRawBufferPointer) -> Result
  ) -> Result {
    if let result = sequence.withContiguousStorageIfAvailable({
      body(UnsafeRawBufferPointer($0))
    }) {
      return result
    }
    var copy = Array(sequence)
    defer {
      copy.withUnsafeMutableBytes { bytes in
        guard let base = bytes.baseAddress else { return }
        secureZero(base, byteCount: bytes.count)
      }
    }
    return copy.withUnsafeBytes(body)
  }
}

/// The byte-string inputs of one Argon2 computation, valid only during the call that made them.
struct Argon2Inputs {
  var password: UnsafeRawBufferPointer
  var salt: UnsafeRawBufferPointer
  var secret: UnsafeRawBufferPointer
  var associatedData: UnsafeRawBufferPointer
}
