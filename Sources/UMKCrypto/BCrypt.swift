/// The bcrypt password hash (Provos and Mazières, "A Future-Adaptable Password Scheme", USENIX
/// 1999) as OpenBSD's `bcrypt(3)` writes it: modular crypt strings such as
/// `$2b$10$a07rXVLfZFOvKhKyLRW1M.vPgPkbJgitd3n5ouYX0Lq3unlt5neC2` (the password
/// `correct horse battery staple`, salt `somesalt12345678`, cost 10).
///
/// ```swift
/// // Verifying an imported hash: cap the cost so a hostile string cannot force unbounded work.
/// let ok = try BCrypt.verify(password: password.utf8, against: stored, maximumCost: 14)
///
/// // Producing one (tests, or a host that must keep writing bcrypt):
/// let encoded = try BCrypt.hash(password: password.utf8, salt: sixteenRandomBytes, cost: 12)
/// ```
///
/// ## The string
///
/// `$2b$` (the variant), two decimal digits of cost and `$`, then 22 characters encoding the
/// 16-byte salt and 31 characters encoding the first 23 bytes of the output, both in bcrypt's
/// own Base64 alphabet (``Base64/Variant/bcrypt``): 60 ASCII characters in all. Parsing is
/// strict (see ``ParsedHash/init(parsing:)``); in particular non-canonical Base64, whose unused
/// trailing bits are not zero, is rejected rather than silently normalized.
///
/// ## Variants
///
/// - `$2b$` (OpenBSD since 2014) is what ``hash(password:salt:cost:variant:)`` writes by
///   default.
/// - `$2a$` is computed exactly like `$2b$`, as modern implementations (OpenBSD today, Python's
///   `bcrypt`, most libraries) do. OpenBSD's original `$2a$` code stored the password length in
///   an 8-bit integer, so a password of 255 bytes or more wrapped around to a short key; `$2b$`
///   was introduced to mark hashes made after that fix. Hashes that old code made from such long
///   passwords do not verify here. Openwall's crypt_blowfish (PHP, many Linux distributions)
///   also mixes an extra "safety" bit into `$2a$` hashes of a few passwords with bytes ≥ 0x80;
///   those particular hashes do not verify here either.
/// - `$2y$` is crypt_blowfish's name for the correct algorithm and is computed like `$2b$`.
/// - `$2x$` is crypt_blowfish's name for hashes made with its old sign-extension bug (bytes ≥
///   0x80 were sign-extended into neighbouring key bytes). It is refused with
///   ``CryptoParameterError/Code/unsupportedVariant``, as is the original `$2$`.
///
/// ## Passwords
///
/// The key is the password's bytes followed by a NUL byte, repeated to 72 bytes. Passwords
/// longer than 72 bytes are therefore truncated to their first 72 bytes (bytes 73 onwards do not
/// change the hash), exactly as every bcrypt implementation does; 72 bytes of UTF-8 can be as
/// few as 18 characters. The bytes are used as given (no normalization, as the old system saw
/// them). A password containing a NUL byte is hashed with that byte, like Python's `bcrypt`
/// does; C implementations that take a C string stop at the first NUL instead.
///
/// ## Cost and scheduling
///
/// The cost is the base-2 logarithm of the number of expensive key-schedule rounds, 4 through 31;
/// each step doubles the time (cost 10 is 2 × 1,024 key expansions, about 70 ms on one core of
/// the x86-64 machine the benchmarks run on). Hashing and verifying are CPU-bound blocking calls
/// on the calling thread. They work in one fixed 4.3 KiB scratch area (on the stack where the
/// runtime allows) plus a few small arrays, and zero the key schedule state, the key and the
/// salt words before returning. From Swift concurrency, run them off the cooperative pool and
/// bound how many run at once.
public enum BCrypt {
  /// The bcrypt variant: the letter after `$2` in the encoded string.
  ///
  /// All three supported variants compute the same hash; they differ only in the string's
  /// prefix. The raw value is that prefix without dollar signs, for example `"2b"`.
  public enum Variant: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// `$2a$`: computed as `$2b$` (see ``BCrypt`` for the history).
    case a = "2a"

    /// `$2b$`: OpenBSD's current variant, the default.
    case b = "2b"

    /// `$2y$`: crypt_blowfish's (PHP's) name for the correct algorithm.
    case y = "2y"

    /// The prefix without dollar signs, for example `2b`.
    public var description: String { rawValue }
  }

  /// The smallest cost bcrypt accepts.
  public static let minimumCost = 4

  /// The largest cost bcrypt accepts (2³¹ rounds).
  public static let maximumCost = 31

  /// The length of a bcrypt salt in bytes.
  public static let saltByteCount = 16

  /// The length of the hash (the part of the output the string keeps) in bytes.
  public static let digestByteCount = 23

  /// The number of password bytes bcrypt uses; later bytes are ignored.
  public static let maximumPasswordByteCount = 72

  /// The length of an encoded bcrypt string in characters.
  public static let encodedLength = 60

  /// The parts of a bcrypt modular crypt string.
  ///
  /// Parse stored strings with ``init(parsing:)``; ``encoded`` gives the
  /// string back, identical to the parsed one (parsing accepts only canonical strings).
  public struct ParsedHash: Sendable, Hashable, CustomStringConvertible {
    /// The variant named by the prefix.
    public let variant: Variant

    /// The cost (the base-2 logarithm of the number of rounds), 4 through 31.
    public let cost: Int

    /// The 16-byte salt.
    public let salt: [UInt8]

    /// The 23-byte hash.
    public let digest: [UInt8]

    /// Creates a parsed hash from its parts.
    ///
    /// - Parameters:
    ///   - variant: The variant.
    ///   - cost: The cost, 4 through 31.
    ///   - salt: The salt, 16 bytes.
    ///   - digest: The hash, 23 bytes.
    /// - Throws: ``CryptoParameterError`` with code
    ///   ``CryptoParameterError/Code/iterationsOutOfRange`` for a cost outside 4…31,
    ///   ``CryptoParameterError/Code/saltLengthOutOfRange`` for a salt that is not 16 bytes, or
    ///   ``CryptoParameterError/Code/outputLengthOutOfRange`` for a digest that is not 23 bytes.
    public init(variant: Variant, cost: Int, salt: [UInt8], digest: [UInt8])
      throws(CryptoParameterError)
    {
      try BCrypt.validate(cost: cost)
      try BCrypt.validate(salt: salt)
      guard digest.count == BCrypt.digestByteCount else {
        throw CryptoParameterError(
          code: .outputLengthOutOfRange, message: "A bcrypt digest is 23 bytes.")
      }
      self.variant = variant
      self.cost = cost
      self.salt = salt
      self.digest = digest
    }

    /// Parses a bcrypt modular crypt string strictly.
    ///
    /// Accepted: exactly 60 ASCII characters, `$2a$`, `$2b$` or `$2y$`, two decimal digits of
    /// cost from 04 to 31 and `$`, then 22 + 31 characters of canonical bcrypt Base64. Nothing
    /// is computed, so parsing is cheap even for hostile input.
    ///
    /// - Parameter encoded: The string, for example read from a user database.
    /// - Throws: ``CryptoParameterError`` with code
    ///   ``CryptoParameterError/Code/unsupportedVariant`` for `$2x$` and `$2$`,
    ///   ``CryptoParameterError/Code/iterationsOutOfRange`` for a well-formed cost outside
    ///   4…31, or ``CryptoParameterError/Code/malformedEncoding`` for anything else that is
    ///   not such a string (wrong prefix, length or separators, characters outside the
    ///   alphabet, non-canonical Base64).
    public init(parsing encoded: some StringProtocol) throws(CryptoParameterError) {
      let text = Array(encoded.utf8)
      let variant = try BCrypt.parseVariant(text)
      guard text.count == BCrypt.encodedLength else {
        throw BCrypt.malformed("a bcrypt string is 60 characters long, not \(text.count)")
      }
      let tens = text[4]
      let ones = text[5]
      let digits = UInt8(ascii: "0")...UInt8(ascii: "9")
      guard digits.contains(tens), digits.contains(ones), text[6] == UInt8(ascii: "$") else {
        throw BCrypt.malformed("the cost must be two decimal digits followed by '$'")
      }
      let cost = Int(tens - UInt8(ascii: "0")) * 10 + Int(ones - UInt8(ascii: "0"))
      try BCrypt.validate(cost: cost)
      guard let salt = Base64.decode(ascii: Array(text[7..<29]), variant: .bcrypt) else {
        throw BCrypt.malformed("the salt is not canonical bcrypt Base64")
      }
      guard let digest = Base64.decode(ascii: Array(text[29...]), variant: .bcrypt) else {
        throw BCrypt.malformed("the hash is not canonical bcrypt Base64")
      }
      try self.init(variant: variant, cost: cost, salt: salt, digest: digest)
    }

    /// The modular crypt string, for example `$2b$10$…` (60 characters).
    public var encoded: String {
      let costDigits = cost < 10 ? "0\(cost)" : "\(cost)"
      return "$\(variant.rawValue)$\(costDigits)$"
        + Base64.encode(salt, variant: .bcrypt) + Base64.encode(digest, variant: .bcrypt)
    }

    /// The variant and cost only, such as `bcrypt $2b$ cost 10`: a hash is material for
    /// offline guessing, so it is never printed; use ``encoded`` to store it.
    public var description: String { "bcrypt $\(variant.rawValue)$ cost \(cost)" }
  }

  /// Hashes a password into a bcrypt modular crypt string.
  ///
  /// - Parameters:
  ///   - password: The password bytes, for example `string.utf8`; only the first 72 bytes are
  ///     used (see ``BCrypt``).
  ///   - salt: 16 bytes, which should be fresh random bytes for every hash.
  ///   - cost: The cost, 4 through 31 (the time doubles with each step).
  ///   - variant: The prefix to write (default `$2b$`); the hash is the same for all three.
  /// - Returns: The 60-character string.
  /// - Throws: ``CryptoParameterError`` with code
  ///   ``CryptoParameterError/Code/saltLengthOutOfRange`` for a salt that is not 16 bytes, or
  ///   ``CryptoParameterError/Code/iterationsOutOfRange`` for a cost outside 4…31.
  public static func hash(
    password: some Sequence<UInt8>, salt: [UInt8], cost: Int, variant: Variant = .b
  ) throws(CryptoParameterError) -> String {
    try validate(salt: salt)
    try validate(cost: cost)
    let digest = computeDigest(password: password, salt: salt, cost: cost)
    return try ParsedHash(variant: variant, cost: cost, salt: salt, digest: digest).encoded
  }

  /// Checks a password against a bcrypt modular crypt string, in constant time once computed.
  ///
  /// The string is parsed strictly (see ``ParsedHash/init(parsing:)``) and its cost checked
  /// against `maximumCost` before any hashing, so a malformed or hostile string costs nothing.
  ///
  /// - Parameters:
  ///   - password: The password bytes to check, exactly as the system that wrote the hash saw
  ///     them (typically UTF-8, unnormalized).
  ///   - encoded: The stored string, `$2a$`, `$2b$` or `$2y$`.
  ///   - maximumCost: The largest cost to compute; strings asking for more are refused.
  /// - Returns: `true` if the password matches.
  /// - Throws: ``CryptoParameterError`` as ``ParsedHash/init(parsing:)`` does, or with code
  ///   ``CryptoParameterError/Code/costLimitExceeded`` if the cost exceeds `maximumCost`.
  public static func verify(
    password: some Sequence<UInt8>, against encoded: String, maximumCost: Int
  ) throws(CryptoParameterError) -> Bool {
    let parsed = try ParsedHash(parsing: encoded)
    return try verify(password: password, against: parsed, maximumCost: maximumCost)
  }

  /// Checks a password against a parsed bcrypt hash, in constant time once computed.
  ///
  /// - Parameters:
  ///   - password: The password bytes to check.
  ///   - parsed: The parsed stored hash.
  ///   - maximumCost: The largest cost to compute; hashes asking for more are refused.
  /// - Returns: `true` if the password matches.
  /// - Throws: ``CryptoParameterError`` with code
  ///   ``CryptoParameterError/Code/costLimitExceeded`` if the cost exceeds `maximumCost`.
  public static func verify(
    password: some Sequence<UInt8>, against parsed: ParsedHash, maximumCost: Int
  ) throws(CryptoParameterError) -> Bool {
    guard parsed.cost <= maximumCost else {
      throw CryptoParameterError(
        code: .costLimitExceeded,
        message: "bcrypt cost \(parsed.cost) exceeds the limit of \(maximumCost).")
    }
    let computed = computeDigest(password: password, salt: parsed.salt, cost: parsed.cost)
    return ConstantTime.equals(computed, parsed.digest)
  }

  /// The 23-byte hash, for an already validated salt and cost.
  static func computeDigest(password: some Sequence<UInt8>, salt: [UInt8], cost: Int) -> [UInt8] {
    Array(EksBlowfish.output(password: password, salt: salt, cost: cost).prefix(digestByteCount))
  }

  static func validate(cost: Int) throws(CryptoParameterError) {
    guard (minimumCost...maximumCost).contains(cost) else {
      throw CryptoParameterError(
        code: .iterationsOutOfRange, message: "bcrypt cost must be 4 through 31, not \(cost).")
    }
  }

  static func validate(salt: [UInt8]) throws(CryptoParameterError) {
    guard salt.count == saltByteCount else {
      throw CryptoParameterError(
        code: .saltLengthOutOfRange, message: "A bcrypt salt is 16 bytes, not \(salt.count).")
    }
  }

  /// Reads the `$2?$` prefix.
  private static func parseVariant(_ text: [UInt8]) throws(CryptoParameterError) -> Variant {
    let dollar = UInt8(ascii: "$")
    guard text.count >= 3, text[0] == dollar, text[1] == UInt8(ascii: "2") else {
      throw malformed("a bcrypt string starts with '$2'")
    }
    if text[2] == dollar {
      throw CryptoParameterError(
        code: .unsupportedVariant,
        message: "The original bcrypt variant '$2$' is not supported.")
    }
    guard text.count >= 4, text[3] == dollar else {
      throw malformed("a bcrypt string starts with '$2a$', '$2b$' or '$2y$'")
    }
    switch text[2] {
    case UInt8(ascii: "a"): return .a
    case UInt8(ascii: "b"): return .b
    case UInt8(ascii: "y"): return .y
    case UInt8(ascii: "x"):
      throw CryptoParameterError(
        code: .unsupportedVariant,
        message: "bcrypt '$2x$' hashes reproduce crypt_blowfish's sign-extension bug and are "
          + "not supported.")
    default:
      throw malformed("a bcrypt string starts with '$2a$', '$2b$' or '$2y$'")
    }
  }

  /// A ``CryptoParameterError/Code/malformedEncoding`` error; `reason` must not contain input.
  private static func malformed(_ reason: String) -> CryptoParameterError {
    CryptoParameterError(code: .malformedEncoding, message: "Malformed bcrypt string: \(reason).")
  }
}
