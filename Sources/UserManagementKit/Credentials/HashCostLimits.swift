/// The most work verifying one stored hash may cost.
///
/// Stored hashes describe their own cost, and an imported hash is data from outside: one that
/// asks for 4 GiB of memory or 10⁹ iterations must be refused, not computed. Hashes above a
/// limit fail with ``UserManagementError/Code/unsupportedHash`` before any work is done.
public struct HashCostLimits: Hashable, Sendable {
  /// The most memory an Argon2 hash may use, in KiB (default 262,144: 256 MiB).
  public var maximumArgon2MemoryKiB: Int
  /// The most Argon2 passes (default 64).
  public var maximumArgon2Iterations: Int
  /// The most Argon2 work, memory (KiB) times passes (default 1,048,576: 1 GiB-pass, 27
  /// times the default hash), so the two limits above cannot be combined at their maximum.
  public var maximumArgon2MemoryPasses: Int
  /// The most Argon2 lanes (default 16; each lane is computed on its own thread).
  public var maximumArgon2Parallelism: Int
  /// The most PBKDF2 work, in iterations of one output block (default 10,000,000): a key
  /// longer than the PRF's digest is derived block by block, each block costing every
  /// iteration again, so a hash is checked against iterations × blocks, not iterations alone.
  public var maximumPBKDF2Iterations: Int
  /// The highest bcrypt cost (default 16: 65,536 key expansions).
  public var maximumBcryptCost: Int
  /// The most SHA-crypt (`$5$`, `$6$`) rounds (default 5,000,000: 1,000 times crypt(3)'s
  /// default of 5,000, a few seconds of one core; the format itself allows 999,999,999).
  ///
  /// SHA-crypt, phpass and Drupal 7 hash the password again in every round, so their
  /// ceilings count rounds of a password of up to 64 bytes: a longer password is checked
  /// only if rounds × its 64-byte blocks stay within the ceiling (a 4 KiB password, 64
  /// blocks, against crypt(3)'s default 5,000 rounds is; against 5,000,000 it is not, and the
  /// check fails with ``UserManagementError/Code/unsupportedHash``, which sign-in answers as
  /// wrong credentials).
  public var maximumSHACryptRounds: Int
  /// The highest log₂ of a Drupal 7 (`$S$`) hash's iteration count (default 22: 4,194,304
  /// SHA-512 iterations, 128 times Drupal 7's default of 2^15; Drupal itself allows 30), for
  /// a password of up to 64 bytes (see ``maximumSHACryptRounds``).
  public var maximumDrupalHashCountLog2: Int
  /// The highest phpass (`$P$`, `$H$`) log2 iteration count (default 24: 16,777,216 MD5
  /// iterations, about the work of 10,000,000 PBKDF2 iterations; WordPress writes 8, phpBB3
  /// 11, passlib 19, and the format allows up to 30), for a password of up to 64 bytes (see
  /// ``maximumSHACryptRounds``).
  public var maximumPHPassLog2Iterations: Int
  /// The most memory a scrypt hash may use, 128 × r × (N + p) bytes (default 268,435,456:
  /// 256 MiB; Django's default hash takes 16 MiB, passlib's 64 MiB).
  public var maximumScryptMemoryBytes: Int
  /// The most scrypt work, N × r × p (default 8,388,608: 1 GiB of 128-byte blocks mixed, as
  /// for Argon2's memory × passes), since parallel lanes run one after another and reuse the
  /// memory, so the memory limit alone does not bound p.
  public var maximumScryptWork: Int

  /// Creates limits.
  ///
  /// - Parameters:
  ///   - maximumArgon2MemoryKiB: The most Argon2 memory, in KiB.
  ///   - maximumArgon2Iterations: The most Argon2 passes.
  ///   - maximumArgon2MemoryPasses: The most Argon2 memory (KiB) times passes.
  ///   - maximumArgon2Parallelism: The most Argon2 lanes.
  ///   - maximumPBKDF2Iterations: The most PBKDF2 iterations.
  ///   - maximumBcryptCost: The highest bcrypt cost.
  ///   - maximumSHACryptRounds: The most SHA-crypt rounds.
  ///   - maximumDrupalHashCountLog2: The highest log₂ of a Drupal 7 iteration count.
  ///   - maximumPHPassLog2Iterations: The highest phpass log2 iteration count.
  ///   - maximumScryptMemoryBytes: The most scrypt memory, in bytes.
  ///   - maximumScryptWork: The most scrypt work, N × r × p.
  public init(
    maximumArgon2MemoryKiB: Int = 262_144, maximumArgon2Iterations: Int = 64,
    maximumArgon2MemoryPasses: Int = 1_048_576, maximumArgon2Parallelism: Int = 16,
    maximumPBKDF2Iterations: Int = 10_000_000,
    maximumBcryptCost: Int = 16, maximumSHACryptRounds: Int = 5_000_000,
    maximumDrupalHashCountLog2: Int = 22,
    maximumPHPassLog2Iterations: Int = 24, maximumScryptMemoryBytes: Int = 268_435_456,
    maximumScryptWork: Int = 8_388_608
  ) {
    self.maximumArgon2MemoryKiB = maximumArgon2MemoryKiB
    self.maximumArgon2Iterations = maximumArgon2Iterations
    self.maximumArgon2MemoryPasses = maximumArgon2MemoryPasses
    self.maximumArgon2Parallelism = maximumArgon2Parallelism
    self.maximumPBKDF2Iterations = maximumPBKDF2Iterations
    self.maximumBcryptCost = maximumBcryptCost
    self.maximumSHACryptRounds = maximumSHACryptRounds
    self.maximumDrupalHashCountLog2 = maximumDrupalHashCountLog2
    self.maximumPHPassLog2Iterations = maximumPHPassLog2Iterations
    self.maximumScryptMemoryBytes = maximumScryptMemoryBytes
    self.maximumScryptWork = maximumScryptWork
  }

  /// Refuses PBKDF2 parameters whose work, iterations × output blocks, is above `limit`.
  static func checkPBKDF2Work(
    iterations: Int, keyLength: Int, digestLength: Int, limit: Int, algorithm: String
  ) throws(UserManagementError) {
    let blocks = max(1, (keyLength + digestLength - 1) / digestLength)
    let (work, overflow) = iterations.multipliedReportingOverflow(by: blocks)
    if overflow || work > limit {
      throw exceeded(
        "work (iterations × \(blocks) blocks of output)", overflow ? Int.max : work,
        limit: limit, algorithm: algorithm)
    }
  }

  /// Refuses a hash of a format that hashes the password again in every round (SHA-crypt,
  /// phpass, Drupal 7) when its rounds times the password's 64-byte blocks are above `limit`.
  ///
  /// Each round of those formats costs more the longer the password: a 4 KiB password makes
  /// a SHA-crypt round about 40 times the work of a short one. The ceilings count rounds of a
  /// password of up to 64 bytes, so that a hash within them costs about what they promise for
  /// any password presented at sign-in. (Callers count a format's other per-password work as
  /// rounds too: SHA-crypt's step that hashes the password once per byte of it, WordPress's
  /// second pass.)
  static func checkPerRoundWork(
    rounds: Int, passwordByteCount: Int, limit: Int, algorithm: String
  ) throws(UserManagementError) {
    let blocks = max(1, (passwordByteCount + 63) / 64)
    let (work, overflow) = rounds.multipliedReportingOverflow(by: blocks)
    if overflow || work > limit {
      throw exceeded(
        "rounds × \(blocks) 64-byte blocks of the password", overflow ? Int.max : work,
        limit: limit, algorithm: algorithm)
    }
  }

  /// 2^`log2`, clamped to `0...Int.max` for a ceiling set outside what a shift can express.
  static func powerOfTwo(_ log2: Int) -> Int {
    log2 < 0 ? 0 : log2 >= Int.bitWidth - 1 ? Int.max : 1 << log2
  }

  static func exceeded(_ what: String, _ value: Int, limit: Int, algorithm: String)
    -> UserManagementError
  {
    UserManagementError(
      .unsupportedHash,
      "The stored hash asks for \(what) \(value), above the configured ceiling of \(limit).",
      context: ["algorithm": algorithm, "reason": "cost_limit"])
  }
}
