import UMKCrypto

extension LegacyPasswordHash {
  /// A SHA-crypt hash, as glibc's crypt(3) writes it to `/etc/shadow`:
  /// `$5$rounds=N$<salt>$<checksum>` (SHA-256) or `$6$…` (SHA-512), `rounds=N$` left out when
  /// N is the default 5,000. Computed as Ulrich Drepper's "Unix crypt using SHA-256 and
  /// SHA-512" specifies.
  ///
  /// Parsed strictly: rounds from 1,000 to 999,999,999 written without leading zeros (crypt(3)
  /// clamps other values and writes the clamped one, so no hash it wrote has them), and at
  /// most ``HashCostLimits/maximumSHACryptRounds``; a salt of up to 16 characters of
  /// `./0-9A-Za-z`; a checksum of exactly 43 (SHA-256) or 86 (SHA-512) such characters.
  struct SHACryptHash {
    /// The digest.
    enum Variant {
      case sha256, sha512

      /// The census and error name: `sha256-crypt` or `sha512-crypt`.
      var format: String {
        switch self {
        case .sha256: "sha256-crypt"
        case .sha512: "sha512-crypt"
        }
      }

      /// The checksum's length in characters.
      var checksumLength: Int {
        switch self {
        case .sha256: 43
        case .sha512: 86
        }
      }
    }

    /// The rounds when the hash names none.
    static let defaultRounds = 5000
    /// The fewest rounds the specification allows.
    static let minimumRounds = 1000
    /// The most rounds the specification allows.
    static let maximumRounds = 999_999_999
    /// The longest salt, in characters.
    static let maximumSaltLength = 16

    /// The digest.
    let variant: Variant
    /// The rounds.
    let rounds: Int
    /// The salt's characters.
    let salt: [UInt8]
    /// The checksum's characters.
    let checksum: [UInt8]

    /// Whether `password`'s bytes give the stored checksum (compared in constant time).
    func matches(_ password: UnsafeRawBufferPointer) -> Bool {
      let computed: [UInt8]
      switch variant {
      case .sha256:
        let digest = Self.digest(SHA256.self, password, salt: salt, rounds: rounds)
        computed = Self.encode(digest, order: Self.sha256Order, tail: (31, 30))
      case .sha512:
        let digest = Self.digest(SHA512.self, password, salt: salt, rounds: rounds)
        computed = Self.encode(digest, order: Self.sha512Order, tail: (63, nil))
      }
      return ConstantTime.equals(computed, checksum)
    }

    /// The specification's digest: two starting digests of password and salt, then `rounds`
    /// rounds that mix the previous digest with sequences derived from both.
    private static func digest<H: HashFunction>(
      _: H.Type, _ password: UnsafeRawBufferPointer, salt: [UInt8], rounds: Int
    ) -> [UInt8] {
      let size = H.digestByteCount
      var alternate = H()
      alternate.update(password)
      alternate.update(salt)
      alternate.update(password)
      let alternateDigest = alternate.finalize().bytes

      var start = H()
      start.update(password)
      start.update(salt)
      var remaining = password.count
      while remaining > size {
        start.update(alternateDigest)
        remaining -= size
      }
      start.update(alternateDigest[..<remaining])
      var length = password.count
      while length > 0 {
        if length & 1 == 1 { start.update(alternateDigest) } else { start.update(password) }
        length >>= 1
      }
      var current = start.finalize().bytes

      var passwordHasher = H()
      for _ in 0..<password.count { passwordHasher.update(password) }
      let passwordSequence = repeated(passwordHasher.finalize().bytes, to: password.count)

      var saltHasher = H()
      for _ in 0..<(16 + Int(current[0])) { saltHasher.update(salt) }
      let saltSequence = Array(saltHasher.finalize().bytes.prefix(salt.count))

      for round in 0..<rounds {
        var hasher = H()
        let odd = round & 1 == 1
        if odd { hasher.update(passwordSequence) } else { hasher.update(current) }
        if round % 3 != 0 { hasher.update(saltSequence) }
        if round % 7 != 0 { hasher.update(passwordSequence) }
        if odd { hasher.update(current) } else { hasher.update(passwordSequence) }
        current = hasher.finalize().bytes
      }
      return current
    }

    /// `digest` repeated and cut to `count` bytes.
    private static func repeated(_ digest: [UInt8], to count: Int) -> [UInt8] {
      var output: [UInt8] = []
      output.reserveCapacity(count)
      while output.count < count {
        output += digest.prefix(count - output.count)
      }
      return output
    }

    /// The byte triples of SHA-256's output, each written as a little-endian 24-bit number.
    private static let sha256Order: [(Int, Int, Int)] = [
      (0, 10, 20), (21, 1, 11), (12, 22, 2), (3, 13, 23), (24, 4, 14), (15, 25, 5), (6, 16, 26),
      (27, 7, 17), (18, 28, 8), (9, 19, 29),
    ]

    /// The byte triples of SHA-512's output.
    private static let sha512Order: [(Int, Int, Int)] = [
      (0, 21, 42), (22, 43, 1), (44, 2, 23), (3, 24, 45), (25, 46, 4), (47, 5, 26), (6, 27, 48),
      (28, 49, 7), (50, 8, 29), (9, 30, 51), (31, 52, 10), (53, 11, 32), (12, 33, 54),
      (34, 55, 13), (56, 14, 35), (15, 36, 57), (37, 58, 16), (59, 17, 38), (18, 39, 60),
      (40, 61, 19), (62, 20, 41),
    ]

    /// The specification's transposed base64: each triple `(a, b, c)` as the 24-bit number
    /// `a · b · c` in four characters, then the bytes left over (`tail`) in three or two.
    private static func encode(
      _ digest: [UInt8], order: [(Int, Int, Int)], tail: (Int, Int?)
    ) -> [UInt8] {
      var output: [UInt8] = []
      for (high, middle, low) in order {
        CryptBase64.append(digest[high], digest[middle], digest[low], count: 4, to: &output)
      }
      if let low = tail.1 {
        CryptBase64.append(0, digest[tail.0], digest[low], count: 3, to: &output)
      } else {
        CryptBase64.append(0, 0, digest[tail.0], count: 2, to: &output)
      }
      return output
    }
  }

  /// `$5$[rounds=N$]<salt>$<checksum>` or `$6$…`.
  static func parseSHACrypt(_ encoded: String, limits: HashCostLimits)
    throws(UserManagementError) -> LegacyPasswordHash
  {
    let variant: SHACryptHash.Variant = encoded.hasPrefix("$5$") ? .sha256 : .sha512
    let format = variant.format
    guard encoded.utf8.count <= 3 + 20 + SHACryptHash.maximumSaltLength + 1 + 86 else {
      throw malformed(format, "too long")
    }
    var fields = encoded.utf8.dropFirst(3).split(
      separator: UInt8(ascii: "$"), omittingEmptySubsequences: false)
    var rounds = SHACryptHash.defaultRounds
    let prefix = Array("rounds=".utf8)
    if fields.count == 3, let first = fields.first, first.starts(with: prefix) {
      let digits = first.dropFirst(prefix.count)
      guard let leading = digits.first, leading != UInt8(ascii: "0"), digits.count <= 9,
        digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
      else { throw malformed(format, "bad rounds") }
      rounds = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
      guard rounds >= SHACryptHash.minimumRounds, rounds <= SHACryptHash.maximumRounds else {
        throw malformed(format, "rounds outside 1,000 to 999,999,999")
      }
      fields.removeFirst()
    }
    guard fields.count == 2 else { throw malformed(format, "wrong number of fields") }
    let salt = Array(fields[0])
    let checksum = Array(fields[1])
    guard salt.count <= SHACryptHash.maximumSaltLength, CryptBase64.isEncoded(salt) else {
      throw malformed(format, "bad salt")
    }
    guard checksum.count == variant.checksumLength, CryptBase64.isEncoded(checksum) else {
      throw malformed(format, "bad checksum")
    }
    if rounds > limits.maximumSHACryptRounds {
      throw HashCostLimits.exceeded(
        "rounds", rounds, limit: limits.maximumSHACryptRounds, algorithm: format)
    }
    return .shaCrypt(
      SHACryptHash(variant: variant, rounds: rounds, salt: salt, checksum: checksum))
  }
}
