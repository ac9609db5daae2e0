/// An error thrown when a cryptographic operation is called with parameters it cannot accept.
///
/// Match on ``code``, which is stable across releases; ``message`` is for humans and may change.
public struct CryptoParameterError: Error, Sendable, Hashable, CustomStringConvertible {
  /// A stable, machine-readable identifier for a kind of parameter error.
  public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// The stable string form of the code, for example `"crypto.iterations.out-of-range"`.
    public let rawValue: String

    /// Creates a code from its stable string form.
    ///
    /// - Parameter rawValue: The stable string form of the code.
    public init(rawValue: String) {
      self.rawValue = rawValue
    }

    /// The iteration (work factor) count is outside the range the algorithm accepts.
    public static let iterationsOutOfRange = Code(rawValue: "crypto.iterations.out-of-range")

    /// The requested output (derived key) length is outside the range the algorithm accepts.
    public static let outputLengthOutOfRange = Code(rawValue: "crypto.output-length.out-of-range")

    /// A key (for example a BLAKE2b key or an Argon2 secret) is longer or shorter than the
    /// algorithm accepts.
    public static let keyLengthOutOfRange = Code(rawValue: "crypto.key-length.out-of-range")

    /// A nonce (for example a ChaCha20-Poly1305 nonce) is shorter or longer than the algorithm
    /// accepts.
    public static let nonceLengthOutOfRange = Code(rawValue: "crypto.nonce-length.out-of-range")

    /// An authentication tag (for example a ChaCha20-Poly1305 tag) is shorter or longer than the
    /// algorithm accepts.
    public static let tagLengthOutOfRange = Code(rawValue: "crypto.tag-length.out-of-range")

    /// A time step (for example a TOTP period) is outside the range the algorithm accepts.
    public static let periodOutOfRange = Code(rawValue: "crypto.period.out-of-range")

    /// A time (for example a TOTP time before the Unix epoch) is outside the range the
    /// algorithm accepts.
    public static let timeOutOfRange = Code(rawValue: "crypto.time.out-of-range")

    /// The salt is shorter or longer than the algorithm accepts.
    public static let saltLengthOutOfRange = Code(rawValue: "crypto.salt-length.out-of-range")

    /// An input (for example a password or associated data) is longer than the algorithm
    /// accepts.
    public static let inputLengthOutOfRange = Code(rawValue: "crypto.input-length.out-of-range")

    /// The memory cost is outside the range the algorithm accepts, or too large to address on
    /// this platform.
    public static let memoryOutOfRange = Code(rawValue: "crypto.memory.out-of-range")

    /// The degree of parallelism (number of lanes) is outside the range the algorithm accepts.
    public static let parallelismOutOfRange = Code(rawValue: "crypto.parallelism.out-of-range")

    /// A cost parameter is acceptable to the algorithm but exceeds the ceiling the caller set
    /// (for example when verifying a hash with absurd parameters read from storage).
    public static let costLimitExceeded = Code(rawValue: "crypto.cost-limit.exceeded")

    /// An encoded hash or parameter string (for example a bcrypt `$2b$…` string) is not well
    /// formed: wrong length or structure, characters outside its alphabet, or a non-canonical
    /// encoding.
    public static let malformedEncoding = Code(rawValue: "crypto.encoding.malformed")

    /// An encoded hash names an algorithm variant that is recognized but deliberately not
    /// supported (for example bcrypt's `$2x$`, which reproduces a historical bug).
    public static let unsupportedVariant = Code(rawValue: "crypto.variant.unsupported")

    /// The stable string form of the code.
    public var description: String { rawValue }
  }

  /// What kind of parameter was rejected.
  public let code: Code

  /// A human-readable explanation that never contains secret inputs.
  public let message: String

  /// Creates a parameter error.
  ///
  /// - Parameters:
  ///   - code: What kind of parameter was rejected.
  ///   - message: A human-readable explanation; it must not contain secret inputs.
  public init(code: Code, message: String) {
    self.code = code
    self.message = message
  }

  /// The code followed by the message.
  public var description: String { "\(code.rawValue): \(message)" }
}
