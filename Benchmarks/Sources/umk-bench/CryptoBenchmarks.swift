import Foundation
@_spi(Testing) import UMKCrypto
import UserManagementKit

/// How many measurements the crypto benchmarks take.
struct CryptoPlan: Sendable {
  /// Ours/reference pairs per side-by-side benchmark (at least 5, see `BENCHMARKS.md`).
  var pairs: Int
  /// Timed rounds of API password verifications (after one warm-up round).
  var verifyRounds: Int
  /// Verifications per round.
  var verificationsPerRound: Int

  /// The plan for a full or `--quick` run. Both use the named parameters; `--quick` takes
  /// fewer measurements.
  ///
  /// - Parameter quick: Whether to take fewer measurements.
  /// - Returns: The plan.
  static func make(quick: Bool) -> CryptoPlan {
    quick
      ? CryptoPlan(pairs: 5, verifyRounds: 5, verificationsPerRound: 20_000)
      : CryptoPlan(pairs: 9, verifyRounds: 9, verificationsPerRound: 50_000)
  }
}

/// One benchmark of the credentials issue: a name and how to measure it.
///
/// To add one, append an entry to ``all``. A benchmark against a Python reference is usually
/// ``sideBySide(_:target:script:arguments:environment:ours:)``: a script in
/// `Benchmarks/reference/` that supports `--serve` (see ``ReferenceProcess``) and a closure
/// running our operation once; the helper checks the outputs are equal and interleaves the two.
struct CryptoBenchmark: Sendable {
  /// The full benchmark name, such as `crypto.pbkdf2_sha256.600000`.
  let name: String
  /// Whether it must run alone in a fresh worker process (memory figures).
  let needsFreshProcess: Bool
  /// Measures the benchmark.
  let measure: @Sendable (CryptoPlan) throws -> BenchmarkResult

  /// The password and salt every hashing benchmark uses (the reference scripts' defaults).
  static let password = Array("password".utf8)
  /// The salt, 16 bytes.
  static let salt = Array("somesalt12345678".utf8)

  /// Every crypto benchmark, in the order they run.
  static let all: [CryptoBenchmark] = [
    argon2id(memoryKiB: 19_456, iterations: 2, parallelism: 1),
    argon2id(memoryKiB: 65_536, iterations: 3, parallelism: 4),
    pbkdf2(hash: "sha256", iterations: 600_000, portable: false, target: 2.0),
    pbkdf2(hash: "sha256", iterations: 600_000, portable: true, target: 0.9),
    pbkdf2(hash: "sha512", iterations: 220_000, portable: false, target: 1.0),
    bcryptVerify(cost: 10),
    apiPasswordVerify,
    argon2ExtraMemory,
  ]

  /// The benchmark with this full name, if any.
  ///
  /// - Parameter name: A full name.
  /// - Returns: The benchmark, or `nil`.
  static func named(_ name: String) -> CryptoBenchmark? {
    all.first { $0.name == name }
  }

  // MARK: - Side by side with a reference

  /// A timed benchmark against a reference process: after one warm-up call of ours (whose
  /// output must equal the reference's, when the script prints one), `plan.pairs` pairs of one
  /// call of ours and one of the reference, alternating; medians of each.
  ///
  /// - Parameters:
  ///   - name: The full benchmark name.
  ///   - target: The speedup target (reference time ÷ ours).
  ///   - script: The reference script in `Benchmarks/reference/`.
  ///   - arguments: Its arguments (`--serve` is added).
  ///   - environment: Extra environment variables for the reference process.
  ///   - ours: Runs our operation once and returns its output.
  /// - Returns: The benchmark.
  static func sideBySide(
    _ name: String, target: Double, script: String, arguments: [String],
    environment: [String: String] = [:],
    ours: @escaping @Sendable () throws -> [UInt8]
  ) -> CryptoBenchmark {
    CryptoBenchmark(name: name, needsFreshProcess: false) { plan in
      let reference = try ReferenceProcess(
        script: script, arguments: arguments, environment: environment)
      let output = try ours()  // warm-up
      if let expected = reference.outputHex, expected != hex(output) {
        throw BenchmarkFailure(
          "\(name): our output \(hex(output)) differs from \(reference.name)'s \(expected)")
      }
      var oursTimes: [Double] = []
      var referenceTimes: [Double] = []
      for _ in 0..<plan.pairs {
        var error: (any Error)?
        let elapsed = Measure.clock.measure {
          do { _ = try ours() } catch let thrown { error = thrown }
        }
        if let error { throw error }
        oursTimes.append(Measure.seconds(elapsed))
        referenceTimes.append(try reference.timeOne())
      }
      return BenchmarkResult(
        name: name, unit: .seconds, ours: Measure.median(oursTimes),
        reference: ReferenceFigure(value: Measure.median(referenceTimes), name: reference.name),
        target: target, pairs: plan.pairs)
    }
  }

  /// Argon2id against argon2-cffi (libargon2), lanes in parallel on both sides.
  private static func argon2id(memoryKiB: Int, iterations: Int, parallelism: Int)
    -> CryptoBenchmark
  {
    let parameters = Argon2.Parameters(
      variant: .id, memoryKiB: memoryKiB, iterations: iterations, parallelism: parallelism)
    return sideBySide(
      "crypto.argon2id.m\(memoryKiB).t\(iterations).p\(parallelism)", target: 1.0,
      script: "argon2_ref.py",
      arguments: [
        "--variant", "id", "--memory", "\(memoryKiB)", "--iterations", "\(iterations)",
        "--parallelism", "\(parallelism)",
      ]
    ) {
      try Argon2.hash(password: password, salt: salt, parameters: parameters)
    }
  }

  /// PBKDF2-HMAC against OpenSSL through hashlib. The portable variant forces our Swift
  /// implementation and starts OpenSSL with its SHA-extension bit masked off.
  private static func pbkdf2(hash: String, iterations: Int, portable: Bool, target: Double)
    -> CryptoBenchmark
  {
    let keyByteCount = hash == "sha512" ? 64 : 32
    let implementation: HashImplementation = portable ? .portable : .automatic
    return sideBySide(
      "crypto.pbkdf2_\(hash).\(iterations)" + (portable ? ".portable" : ""), target: target,
      script: "pbkdf2_ref.py",
      arguments: [
        "--hash", hash, "--iterations", "\(iterations)", "--key-length", "\(keyByteCount)",
      ],
      // CPUID.7.EBX bit 29 (SHA) cleared; an empty value would clear every extension.
      environment: portable ? ["OPENSSL_ia32cap": ":~0x20000000"] : [:]
    ) {
      hash == "sha512"
        ? try PBKDF2.deriveKey(
          password: password, salt: salt, iterations: iterations, keyByteCount: keyByteCount,
          hashFunction: SHA512.self, implementation: implementation)
        : try PBKDF2.deriveKey(
          password: password, salt: salt, iterations: iterations, keyByteCount: keyByteCount,
          hashFunction: SHA256.self, implementation: implementation)
    }
  }

  /// bcrypt verification (`BCrypt.verify`) against Python's bcrypt (`checkpw`), the same
  /// password, salt and cost on both sides.
  private static func bcryptVerify(cost: Int) -> CryptoBenchmark {
    let passwordBytes = Array("correct horse battery staple".utf8)
    // Hashed once, outside the timing; a failure here surfaces as a malformed-hash error below.
    let stored = (try? BCrypt.hash(password: passwordBytes, salt: salt, cost: cost)) ?? ""
    return sideBySide(
      "crypto.bcrypt_verify.cost\(cost)", target: 0.8, script: "bcrypt_ref.py",
      arguments: ["--cost", "\(cost)"]
    ) {
      [try BCrypt.verify(password: passwordBytes, against: stored, maximumCost: 31) ? 1 : 0]
    }
  }

  // MARK: - Absolute targets

  /// The rate of `APIPasswordGenerator.verify(_:against:)` on one core, for a generated token
  /// and its stored keyed hash: median of `plan.verifyRounds` rounds after a warm-up round.
  private static let apiPasswordVerify = CryptoBenchmark(
    name: "crypto.api_password_verify", needsFreshProcess: false
  ) { plan in
    let generator = APIPasswordGenerator()
    let token = generator.generate()
    let stored = generator.hash(token)
    var rates: [Double] = []
    for round in 0...plan.verifyRounds {
      var valid = 0
      let elapsed = try Measure.clock.measure { () throws(UserManagementError) in
        for _ in 0..<plan.verificationsPerRound {
          if try APIPasswordGenerator.verify(token, against: stored) { valid += 1 }
        }
      }
      guard valid == plan.verificationsPerRound else {
        throw BenchmarkFailure("crypto.api_password_verify: a valid token was rejected")
      }
      if round > 0 {
        rates.append(Double(plan.verificationsPerRound) / Measure.seconds(elapsed))
      }
    }
    return BenchmarkResult(
      name: "crypto.api_password_verify", unit: .opsPerSecond, ours: Measure.median(rates),
      reference: nil, target: 200_000, pairs: plan.verifyRounds)
  }

  /// The extra peak resident memory of one Argon2id hash at m = 19456 KiB, t = 2, p = 1, in a
  /// fresh process: peak RSS after the hash minus RSS before it (on Linux the peak is reset
  /// first, through `/proc/self/clear_refs`). Target: 1.1 × m.
  private static let argon2ExtraMemory = CryptoBenchmark(
    name: "crypto.argon2id.m19456.extra_memory", needsFreshProcess: true
  ) { _ in
    let memoryKiB = 19_456
    let parameters = Argon2.Parameters(
      variant: .id, memoryKiB: memoryKiB, iterations: 2, parallelism: 1)
    Measure.resetPeakResidentBytes()
    let before = Measure.residentBytes()
    _ = try Argon2.hash(password: password, salt: salt, parameters: parameters)
    let after = Measure.residentBytes()
    return BenchmarkResult(
      name: "crypto.argon2id.m19456.extra_memory", unit: .bytes,
      ours: Double(max(0, after.peak - before.current)), reference: nil,
      target: 1.1 * Double(memoryKiB) * 1024, pairs: 1)
  }

  /// Lowercase hex of some bytes.
  private static func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var text: [UInt8] = []
    for byte in bytes {
      text.append(digits[Int(byte >> 4)])
      text.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: text, as: UTF8.self)
  }

  // MARK: - Worker

  /// Runs the named crypto benchmarks in this process, in catalog order, writing each JSON
  /// line to standard output as it finishes.
  ///
  /// - Parameters:
  ///   - names: Full names.
  ///   - quick: Whether to take fewer measurements.
  /// - Returns: The results.
  /// - Throws: ``BenchmarkFailure`` or a library error if a benchmark cannot run.
  static func run(_ names: Set<String>, quick: Bool) throws -> [BenchmarkResult] {
    let plan = CryptoPlan.make(quick: quick)
    if names.contains(where: { $0.hasPrefix("crypto.pbkdf2_sha256") })
      && !SHA256.isHardwareAccelerated
    {
      Output.log(
        "umk-bench: this CPU has no SHA-256 instructions; crypto.pbkdf2_sha256.600000 measures "
          + "the portable implementation")
    }
    var results: [BenchmarkResult] = []
    for benchmark in all where names.contains(benchmark.name) {
      let result = try benchmark.measure(plan)
      Output.result(result.jsonLine)
      results.append(result)
    }
    return results
  }
}
