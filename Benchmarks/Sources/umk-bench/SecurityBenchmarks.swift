import Foundation
import UMKCrypto
import UserManagementKit
import UserManagementKitTesting

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The benchmarks of two-factor sign-in and scoped API keys (issue 14).
enum SecurityBenchmarkName: String, CaseIterable, Sendable {
  /// `authenticateAPIKey` over `InMemoryDirectoryStore`, ops/s on one task.
  case apiKeyVerify = "security.api_key_verify"
  /// `authenticateAPIKey` then `isAllowed(_:to:on:)`, over `InMemoryDirectoryStore`, ops/s.
  case apiKeyVerifyAndAuthorize = "security.api_key_verify_and_authorize"
  /// `authenticateAPIKey` over `FileDirectoryStore`, ops/s.
  case apiKeyVerifyFileStore = "security.api_key_verify.file_store"
  /// `authenticateAPIKey` then `isAllowed(_:to:on:)` over `FileDirectoryStore`, ops/s.
  case apiKeyVerifyAndAuthorizeFileStore = "security.api_key_verify_and_authorize.file_store"
  /// `completeSignIn(_:with:)` with an authenticator code, ops/s (informational).
  case totpVerify = "security.totp_verify"
  /// One typed TOTP code checked against a window of three steps (three HMAC-SHA1), ops/s,
  /// against OpenSSL through Python's `hmac.digest`.
  case totpWindow = "security.totp_window_sha1"
  /// Verifying the HMAC-SHA256 of an 88-byte token with a 16-byte key, ops/s, against OpenSSL
  /// through Python's `hmac.digest`.
  case tokenHMAC = "security.hmac_sha256.token88"

  /// Whether the benchmark reads an API-key directory over this kind of store.
  var needsKeyDirectory: (memory: Bool, file: Bool) {
    switch self {
    case .apiKeyVerify, .apiKeyVerifyAndAuthorize, .totpVerify: (true, false)
    case .apiKeyVerifyFileStore, .apiKeyVerifyAndAuthorizeFileStore: (false, true)
    case .totpWindow, .tokenHMAC: (false, false)
    }
  }
}

/// How much the security benchmarks measure.
struct SecurityPlan: Sendable {
  /// Timed rounds of API-key verifications and of sign-ins (after one warm-up round).
  var rounds: Int
  /// API-key verifications per round (the warm-up round does a tenth).
  var verificationsPerRound: Int
  /// Users enrolled with an authenticator; each completes one sign-in per round.
  var signInsPerRound: Int
  /// Ours/reference pairs of the side-by-side primitives (after one warm-up batch each).
  var pairs: Int
  /// Operations per timed batch of a primitive, on both sides.
  var batch: Int

  /// The plan for a full or `--quick` run. Both use the same directory; `--quick` takes fewer
  /// measurements.
  ///
  /// - Parameter quick: Whether to take fewer measurements.
  /// - Returns: The plan.
  static func make(quick: Bool) -> SecurityPlan {
    quick
      ? SecurityPlan(
        rounds: 5, verificationsPerRound: 20_000, signInsPerRound: 500, pairs: 5, batch: 10_000)
      : SecurityPlan(
        rounds: 9, verificationsPerRound: 50_000, signInsPerRound: 1_000, pairs: 9,
        batch: 20_000)
  }
}

/// Runs the security benchmarks in a worker process (`--worker security`).
///
/// The directory benchmarks build a directory of ``userCount`` users (``Dataset``, with its
/// six policies) through the public facade, with `InsecureFastPasswordHasher` so that password
/// hashing is not what is measured, a ``TestClock`` and a keyring that seals authenticator
/// secrets (the recommended configuration). Every active user with API access gets one scoped
/// key (every third of them three), scoped to viewing the resource type of their first policy.
/// Each key is verified once before timing, which writes its `lastUsedAt`; the clock does not
/// move while the keys are timed, so the timed loops never reach
/// `apiKeyLastUsedResolution` (5 minutes) and measure the read path only, as a server does
/// between two writes of a key's last use.
struct SecurityBenchmark {
  /// The worker label.
  static let worker = "security"
  /// The users in each benchmark directory.
  static let userCount = 10_000
  /// Concurrent tasks that populate a file-backed directory (so its durable commits are
  /// grouped; filling it one commit at a time would take minutes of fsyncs).
  static let populateTasks = 32

  /// Which benchmarks to report.
  let selected: Set<SecurityBenchmarkName>
  /// The measurement plan.
  let plan: SecurityPlan

  /// Runs the named security benchmarks in this process, writing each JSON line to standard
  /// output as it finishes.
  ///
  /// - Parameters:
  ///   - names: Full benchmark names.
  ///   - quick: Whether to take fewer measurements.
  /// - Returns: The results, in the order written.
  /// - Throws: ``BenchmarkFailure`` or a library error if a benchmark cannot run.
  static func run(names: Set<String>, quick: Bool) async throws -> [BenchmarkResult] {
    let benchmark = SecurityBenchmark(
      selected: Set(SecurityBenchmarkName.allCases.filter { names.contains($0.rawValue) }),
      plan: .make(quick: quick))
    return try await benchmark.run()
  }

  private func run() async throws -> [BenchmarkResult] {
    var results: [BenchmarkResult] = []
    func report(_ result: BenchmarkResult) {
      Output.result(result.jsonLine)
      Output.log(result.summary)
      results.append(result)
    }

    if selected.contains(.totpWindow) { report(try totpWindow()) }
    if selected.contains(.tokenHMAC) { report(try tokenHMAC()) }

    if selected.contains(where: { $0.needsKeyDirectory.memory }) {
      let fixture = try await KeyFixture.make(
        store: InMemoryDirectoryStore(), label: "memory", concurrent: false)
      if selected.contains(.apiKeyVerify) {
        report(try await verifyKeys(fixture, authorize: false, name: .apiKeyVerify))
      }
      if selected.contains(.apiKeyVerifyAndAuthorize) {
        report(try await verifyKeys(fixture, authorize: true, name: .apiKeyVerifyAndAuthorize))
      }
      if selected.contains(.totpVerify) { report(try await signIns(fixture)) }
    }

    if selected.contains(where: { $0.needsKeyDirectory.file }) {
      let root = try Self.workspace()
      defer { Self.removeWorkspace(root) }
      // The store makes its own directory, private to its owner.
      let store = try FileDirectoryStore(directory: root + "/umk")
      defer { store.close() }
      let fixture = try await KeyFixture.make(store: store, label: "file", concurrent: true)
      if selected.contains(.apiKeyVerifyFileStore) {
        report(try await verifyKeys(fixture, authorize: false, name: .apiKeyVerifyFileStore))
      }
      if selected.contains(.apiKeyVerifyAndAuthorizeFileStore) {
        report(
          try await verifyKeys(
            fixture, authorize: true, name: .apiKeyVerifyAndAuthorizeFileStore))
      }
    }
    return results
  }

  // MARK: - API keys

  /// A populated directory with API keys, and the keys to present.
  struct KeyFixture {
    /// The directory.
    let directory: UserDirectory
    /// Its clock; it stands still while keys are timed.
    let clock: TestClock
    /// The administrator who populated it.
    let admin: Principal
    /// The typed password of every user.
    let password: Secret
    /// Every key made: its secret and a resource its scope covers.
    let keys: [(secret: Secret, resource: Resource)]
    /// Active General Users without a key, in insertion order (for the sign-in benchmark).
    let otherUsers: [User]
    /// A label for progress lines.
    let tag: String

    /// Populates a directory over `store` and makes its keys.
    ///
    /// - Parameters:
    ///   - store: An empty store.
    ///   - label: `memory` or `file`, for progress lines.
    ///   - concurrent: Whether to add users and keys from ``SecurityBenchmark/populateTasks``
    ///     tasks (for a durable store) rather than one.
    /// - Returns: The fixture, every key verified once (its `lastUsedAt` written).
    /// - Throws: A library error if the directory refuses an operation.
    static func make(store: any DirectoryStore, label: String, concurrent: Bool) async throws
      -> KeyFixture
    {
      let tag = "[security \(label)]"
      let clock = TestClock()
      let keyring = try SecretKeyring(current: SecretKey.generate(id: "bench-1"))
      let directory = UserDirectory(
        store: store,
        configuration: .init(
          passwordHasher: InsecureFastPasswordHasher(), now: clock.function,
          accountSecurity: .init(keyring: keyring)))
      let password = Secret("benchmark passphrase, long enough")
      let bootstrapped = try await directory.bootstrap(
        NewUser(
          username: "root-admin@example.org", firstName: "Root", lastName: "Administrator",
          password: .typed(password)))
      let admin = Principal.user(bootstrapped.user.id)
      var policies: [PolicyID] = []
      var resourceTypes: [PolicyID: String] = [:]
      for name in Dataset.policyNames {
        let type = name.lowercased().replacing(" ", with: "-")
        let policy = try await directory.createPolicy(
          PolicyDocument(
            name: name,
            permissions: [
              Permission(resourceType: type, allowed: [.view, .edit], resourceIds: [.any])
            ]),
          by: admin)
        policies.append(policy.id)
        resourceTypes[policy.id] = type
      }

      let started = Measure.clock.now
      let dataset = Dataset(count: SecurityBenchmark.userCount)
      let requests = (0..<dataset.count).map {
        dataset.newUser(at: $0, policies: policies, password: password)
      }
      let users = try await Self.each(requests, concurrent: concurrent) { request in
        try await directory.addUser(request, by: admin).user
      }
      // Keys for every active user with API access: one each, three for every third of them.
      var owners: [(user: User, resource: Resource)] = []
      var keyUsers = 0
      var otherUsers: [User] = []
      for (index, user) in users.enumerated() where user.status == .active {
        let type =
          policies.first { user.policies.contains($0) }.flatMap { resourceTypes[$0] }
          ?? "reports-reader"
        let resource = Resource(type: type, id: "r\(index)")
        if user.apiAccessEnabled {
          for _ in 0..<(keyUsers % 3 == 0 ? 3 : 1) { owners.append((user, resource)) }
          keyUsers += 1
        } else if user.role == .generalUser {
          otherUsers.append(user)
        }
      }
      let keys = try await Self.each(owners, concurrent: concurrent) { owner in
        let created = try await directory.createAPIKey(
          for: owner.user.id, name: "bench key",
          scopes: [APIKeyScope(resourceType: owner.resource.type, actions: [.view])],
          by: admin)
        return (secret: created.secret, resource: owner.resource)
      }
      // Every key once: this writes its last use, which the timed loops then never rewrite.
      // Concurrent writes of two keys of one user conflict, and the loser leaves its time for
      // its next use (best effort), so a second pass, one key at a time, writes those.
      _ = try await Self.each(keys, concurrent: concurrent) { key in
        try await directory.authenticateAPIKey(key.secret).key.lastUsedAt
      }
      if concurrent {
        for key in keys { _ = try await directory.authenticateAPIKey(key.secret) }
      }
      let seconds = Measure.seconds(Measure.clock.now - started)
      Output.log(
        "\(tag) \(Output.grouped(Double(users.count))) users, \(Output.grouped(Double(keys.count))) "
          + "API keys of \(Output.grouped(Double(Set(owners.map(\.user.id)).count))) users, "
          + "each verified once, in \(Output.grouped(seconds)) s")
      return KeyFixture(
        directory: directory, clock: clock, admin: admin, password: password, keys: keys,
        otherUsers: otherUsers, tag: tag)
    }

    /// Runs `body` on every element, one at a time or from
    /// ``SecurityBenchmark/populateTasks`` tasks, and returns the results in order.
    private static func each<Element: Sendable, Result: Sendable>(
      _ elements: [Element], concurrent: Bool,
      _ body: @escaping @Sendable (Element) async throws -> Result
    ) async throws -> [Result] {
      guard concurrent else {
        var results: [Result] = []
        results.reserveCapacity(elements.count)
        for element in elements { results.append(try await body(element)) }
        return results
      }
      let tasks = SecurityBenchmark.populateTasks
      return try await withThrowingTaskGroup(of: [(Int, Result)].self) { group in
        for task in 0..<tasks {
          group.addTask {
            var done: [(Int, Result)] = []
            for index in stride(from: task, to: elements.count, by: tasks) {
              done.append((index, try await body(elements[index])))
            }
            return done
          }
        }
        var slots = [Result?](repeating: nil, count: elements.count)
        for try await done in group {
          for (index, result) in done { slots[index] = result }
        }
        return slots.compactMap { $0 }
      }
    }
  }

  /// Verifies random valid keys one after another (one task), round after round: the median
  /// round rate after a warm-up round a tenth as long. Each round is followed by a round of
  /// the keyed hash alone (`APIPasswordGenerator.verify` of the same keys against hashes of
  /// the same scheme), so the line also says what share of the keyed hash's rate the whole
  /// verification reaches, a ratio that a busy machine disturbs less than the rate.
  private func verifyKeys(
    _ fixture: KeyFixture, authorize: Bool, name: SecurityBenchmarkName
  ) async throws -> BenchmarkResult {
    // 4,096 random keys, picked before timing, each with a keyed hash of the stored scheme.
    var state: UInt64 = authorize ? 11 : 7
    var picks: [(secret: Secret, resource: Resource, hash: PasswordHash)] = []
    let hasher = APIPasswordGenerator()
    for _ in 0..<4_096 {
      state = SeededRandomNumberGenerator.mix(state)
      let key = fixture.keys[Int(state % UInt64(fixture.keys.count))]
      picks.append((key.secret, key.resource, hasher.hash(key.secret)))
    }
    let directory = fixture.directory
    let clockBefore = fixture.clock.now
    // The users' versions before timing, to show afterwards that the timed loops wrote nothing.
    var versions: [UInt64] = []
    for pick in picks {
      versions.append(try await directory.authenticateAPIKey(pick.secret).user.version)
    }
    var rates: [Double] = []
    var hashRates: [Double] = []
    var ratios: [Double] = []
    var allowed = 0
    var attempted = 0
    for round in 0...plan.rounds {
      let count = round == 0 ? plan.verificationsPerRound / 10 : plan.verificationsPerRound
      let start = Measure.clock.now
      for index in 0..<count {
        let pick = picks[index & 4_095]
        let key = try await directory.authenticateAPIKey(pick.secret)
        if authorize, try await directory.isAllowed(key, to: .view, on: pick.resource) {
          allowed += 1
        }
      }
      let rate = Double(count) / Measure.seconds(Measure.clock.now - start)
      var matched = 0
      let hashStart = Measure.clock.now
      for index in 0..<count {
        let pick = picks[index & 4_095]
        if try APIPasswordGenerator.verify(pick.secret, against: pick.hash) { matched += 1 }
      }
      let hashRate = Double(count) / Measure.seconds(Measure.clock.now - hashStart)
      guard matched == count else {
        throw BenchmarkFailure("\(name.rawValue): a keyed hash did not match its key")
      }
      if round > 0 {
        rates.append(rate)
        hashRates.append(hashRate)
        ratios.append(rate / hashRate)
      }
      attempted += count
      Output.log(
        "\(fixture.tag) \(name.rawValue) round \(round): \(Output.grouped(rate)) ops/s; "
          + "keyed hash alone \(Output.grouped(hashRate)) ops/s"
          + (round == 0 ? " (warm-up)" : ""))
    }
    guard fixture.clock.now == clockBefore else {
      throw BenchmarkFailure("\(name.rawValue): the clock moved while keys were verified")
    }
    for (pick, version) in zip(picks, versions)
    where try await directory.authenticateAPIKey(pick.secret).user.version != version {
      throw BenchmarkFailure("\(name.rawValue): verifying a key wrote to the store")
    }
    var extra: [(name: String, json: String)] = [
      ("users", String(SecurityBenchmark.userCount)), ("keys", String(fixture.keys.count)),
      ("keyed_hash_ops_per_second", Unit.opsPerSecond.json(Measure.median(hashRates))),
      ("of_keyed_hash_rate", Unit.ratioJSON(Measure.median(ratios))),
    ]
    if authorize {
      // Keys of users who hold the scoped type's policy (or are administrators) are allowed.
      extra.append(("allowed_fraction", Unit.ratioJSON(Double(allowed) / Double(attempted))))
    }
    // The target (200,000/s per core) is for verifying a key; authorizing a request
    // afterwards reads the user and their policies again, and is reported for information.
    return BenchmarkResult(
      name: name.rawValue, unit: .opsPerSecond, ours: Measure.median(rates), reference: nil,
      target: authorize ? nil : 200_000, pairs: rates.count, extra: extra)
  }

  // MARK: - Two-factor sign-in

  /// Completes sign-ins with authenticator codes: each of ``SecurityPlan/signInsPerRound``
  /// enrolled users signs in once per round; the password step (which issues the challenge)
  /// and computing the user's code are not timed, `completeSignIn` is, one call at a time.
  /// The clock moves 30 s between rounds, so every code is for a step later than the user's
  /// last one.
  private func signIns(_ fixture: KeyFixture) async throws -> BenchmarkResult {
    let directory = fixture.directory
    let clock = fixture.clock
    let users = Array(fixture.otherUsers.prefix(plan.signInsPerRound))
    guard users.count == plan.signInsPerRound else {
      throw BenchmarkFailure("security.totp_verify: only \(users.count) users to enrol")
    }
    var secrets: [[UInt8]] = []
    for user in users {
      let enrollment = try await directory.enrollSecondFactor(
        for: user.id, password: fixture.password, by: .user(user.id))
      guard let key = Base32.decode(enrollment.secret.revealForDisplay()) else {
        throw BenchmarkFailure("security.totp_verify: the enrolment's secret is not base32")
      }
      _ = try await directory.confirmSecondFactor(
        for: user.id, code: try Self.code(key, at: clock.now), by: .user(user.id))
      secrets.append(key)
    }
    var rates: [Double] = []
    var checkRates: [Double] = []
    var ratios: [Double] = []
    var passwordSeconds = 0.0
    for round in 0...plan.rounds {
      clock.advance(by: 30)
      var seconds = 0.0
      var codes: [String] = []
      for (user, key) in zip(users, secrets) {
        let passwordStart = Measure.clock.now
        guard
          case .secondFactorRequired(let challenge) = try await directory.authenticate(
            username: user.username.rawValue, password: fixture.password)
        else { throw BenchmarkFailure("security.totp_verify: no challenge for an enrolled user") }
        if round > 0 { passwordSeconds += Measure.seconds(Measure.clock.now - passwordStart) }
        let code = try Self.code(key, at: clock.now)
        codes.append(code)
        let start = Measure.clock.now
        let signedIn = try await directory.completeSignIn(
          challenge.token, with: .authenticator(code))
        seconds += Measure.seconds(Measure.clock.now - start)
        guard signedIn.user.id == user.id else {
          throw BenchmarkFailure("security.totp_verify: signed in the wrong user")
        }
      }
      let rate = Double(users.count) / seconds
      // The same codes checked with the primitive alone: the window of three HMAC-SHA1 steps.
      let step = try OneTimePassword.timeStep(at: Int64(clock.now.timeIntervalSince1970))
      let checkStart = Measure.clock.now
      var matched = 0
      for (key, code) in zip(secrets, codes) {
        guard let typed = UInt32(code) else { continue }
        var found: UInt64?
        for candidate in step &- 1...step &+ 1
        where try OneTimePassword.code(key: key, counter: candidate) == typed {
          found = candidate
        }
        if found != nil { matched += 1 }
      }
      let checkRate = Double(users.count) / Measure.seconds(Measure.clock.now - checkStart)
      guard matched == users.count else {
        throw BenchmarkFailure("security.totp_verify: a code did not match its window")
      }
      if round > 0 {
        rates.append(rate)
        checkRates.append(checkRate)
        ratios.append(rate / checkRate)
      }
      Output.log(
        "\(fixture.tag) security.totp_verify round \(round): \(Output.grouped(rate)) sign-ins/s; "
          + "code check alone \(Output.grouped(checkRate))/s" + (round == 0 ? " (warm-up)" : ""))
    }
    let passwordRate = Double(users.count * plan.rounds) / passwordSeconds
    return BenchmarkResult(
      name: SecurityBenchmarkName.totpVerify.rawValue, unit: .opsPerSecond,
      ours: Measure.median(rates), reference: nil, target: nil, pairs: rates.count,
      extra: [
        ("users", String(SecurityBenchmark.userCount)), ("enrolled", String(users.count)),
        ("password_step_ops_per_second", Unit.opsPerSecond.json(passwordRate)),
        ("code_check_ops_per_second", Unit.opsPerSecond.json(Measure.median(checkRates))),
        ("of_code_check_rate", Unit.ratioJSON(Measure.median(ratios))),
      ])
  }

  /// The code an authenticator app shows for `key` at `time` (SHA-1, 6 digits, 30 s).
  private static func code(_ key: [UInt8], at time: Date) throws -> String {
    let step = try OneTimePassword.timeStep(at: Int64(time.timeIntervalSince1970))
    return OneTimePassword.formatted(try OneTimePassword.code(key: key, counter: step), digits: 6)
  }

  // MARK: - Primitives against OpenSSL

  /// RFC 6238's SHA-1 test key, as in `reference/hmac_ref.py`.
  static let totpKey = Array("12345678901234567890".utf8)
  /// The time step of 2026-01-01T00:00:00Z, as in `reference/hmac_ref.py`.
  static let totpBaseStep: UInt64 = 58_907_520
  /// Distinct steps the window benchmark cycles through.
  static let totpSlots = 1_024
  /// An 88-byte token shaped like an API key, as in `reference/hmac_ref.py`.
  static let token: [UInt8] = {
    let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
    return Array("umk_key_".utf8) + Array((alphabet + alphabet).prefix(80))
  }()
  /// The 16-byte key of the token's keyed hash.
  static let tokenKey = Array("somesalt12345678".utf8)

  /// One typed code checked against the window of three steps around its own, `count` times:
  /// three HMAC-SHA1 (`OneTimePassword.code`), each compared with the typed code.
  private func totpWindow() throws -> BenchmarkResult {
    let key = Self.totpKey
    let base = Self.totpBaseStep
    let slots = Self.totpSlots
    var typed: [UInt32] = []
    for slot in 0..<slots {
      typed.append(try OneTimePassword.code(key: key, counter: base + UInt64(slot)))
    }
    var output: [UInt8] = []
    for code in typed.prefix(4) {
      output += [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: code >> $0) }
    }
    return try batchSideBySide(
      .totpWindow, mode: "totp-window", output: output
    ) { count throws(CryptoParameterError) in
      var valid = 0
      for index in 0..<count {
        let slot = index & (slots - 1)
        let step = base &+ UInt64(slot)
        let presented = typed[slot]
        var found: UInt64?
        for candidate in step &- 1...step &+ 1 {
          if try OneTimePassword.code(key: key, counter: candidate) == presented {
            found = candidate
          }
        }
        if found != nil { valid += 1 }
      }
      return valid
    }
  }

  /// Verifying an 88-byte token's HMAC-SHA256 with a 16-byte key, `count` times.
  private func tokenHMAC() throws -> BenchmarkResult {
    let token = Self.token
    let key = Self.tokenKey
    let stored = HMAC<SHA256>.authenticationCode(for: token, using: key).bytes
    return try batchSideBySide(.tokenHMAC, mode: "hmac-sha256", output: stored) { count in
      var valid = 0
      for _ in 0..<count
      where HMAC<SHA256>.isValidAuthenticationCode(stored, authenticating: token, using: key) {
        valid += 1
      }
      return valid
    }
  }

  /// A rate against `reference/hmac_ref.py`: after one untimed warm-up batch on each side (and
  /// a check that our output equals the reference's), `plan.pairs` pairs of one batch of ours
  /// and one of the reference, alternating, each of `plan.batch` operations; medians of each
  /// side's rates.
  private func batchSideBySide<Failure: Error>(
    _ name: SecurityBenchmarkName, mode: String, output: [UInt8],
    ours: (Int) throws(Failure) -> Int
  ) throws -> BenchmarkResult {
    let reference = try ReferenceProcess(
      script: "hmac_ref.py", arguments: ["--mode", mode, "--batch", "\(plan.batch)"])
    guard reference.outputHex == Self.hex(output) else {
      throw BenchmarkFailure(
        "\(name.rawValue): our output \(Self.hex(output)) differs from \(reference.name)'s "
          + (reference.outputHex ?? "(none)"))
    }
    guard try ours(plan.batch) == plan.batch else {  // warm-up
      throw BenchmarkFailure("\(name.rawValue): a valid input was rejected")
    }
    var oursRates: [Double] = []
    var referenceRates: [Double] = []
    var pairRatios: [Double] = []
    for _ in 0..<plan.pairs {
      var valid = 0
      let elapsed = try Measure.clock.measure { () throws(Failure) in valid = try ours(plan.batch) }
      let answer = try reference.request("run")
      let referenceSeconds = try reference.seconds(answer)
      guard valid == plan.batch, answer["valid"] as? Int == plan.batch else {
        throw BenchmarkFailure("\(name.rawValue): a valid input was rejected")
      }
      let oursRate = Double(plan.batch) / Measure.seconds(elapsed)
      let referenceRate = Double(plan.batch) / referenceSeconds
      oursRates.append(oursRate)
      referenceRates.append(referenceRate)
      pairRatios.append(oursRate / referenceRate)
    }
    return BenchmarkResult(
      name: name.rawValue, unit: .opsPerSecond, ours: Measure.median(oursRates),
      reference: ReferenceFigure(value: Measure.median(referenceRates), name: reference.name),
      target: 1.0, pairs: plan.pairs,
      extra: [
        ("pair_speedup_median", Unit.ratioJSON(Measure.median(pairRatios))),
        ("batch", String(plan.batch)),
      ])
  }

  /// Lowercase hex of some bytes.
  private static func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String($0 >> 4, radix: 16) + String($0 & 0x0F, radix: 16) }.joined()
  }

  // MARK: - Files

  /// A fresh directory for the file-backed store: `Benchmarks/.build/security-bench/PID`,
  /// removed when the worker finishes.
  private static func workspace() throws -> String {
    let path = PythonEnvironment.benchmarksDirectory
      .appendingPathComponent(".build/security-bench/\(getpid())").path
    try? FileManager.default.removeItem(atPath: path)
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  private static func removeWorkspace(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
  }
}
