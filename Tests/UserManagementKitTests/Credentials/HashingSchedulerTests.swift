import Testing
import UMKCrypto
import UserManagementKitTesting

@testable import UserManagementKit

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

@Suite("Hashing scheduler")
struct HashingSchedulerTests {
  /// A hasher that records how many of its calls overlap.
  final class OverlapHasher: PasswordHasher {
    let state = Locked((running: 0, peak: 0))
    func hash(_ password: Secret) throws(UserManagementError) -> PasswordHash {
      state.withLock {
        $0.running += 1
        $0.peak = max($0.peak, $0.running)
      }
      var spin = 0
      for index in 0..<200_000 { spin &+= index }
      state.withLock { $0.running -= 1 }
      return PasswordHash(encoded: "$x$\(spin)")
    }
    func verify(_ password: Secret, against hash: PasswordHash) throws(UserManagementError)
      -> PasswordVerification
    { .invalid }
    func canVerify(_ hash: PasswordHash) -> Bool { hash.encoded.hasPrefix("$x$") }
    func needsRehash(_ hash: PasswordHash) -> Bool { false }
  }

  @Test func boundsConcurrentHashes() async throws {
    let hasher = OverlapHasher()
    let directory = UserDirectory(
      store: InMemoryDirectoryStore(),
      configuration: .init(passwordHasher: hasher, maximumConcurrentHashes: 2))
    let admin = try await directory.bootstrap(
      NewUser(username: "a@example.com", firstName: "A", lastName: "A", password: .generated)
    ).user
    try await withThrowingTaskGroup(of: Void.self) { group in
      for index in 0..<24 {
        group.addTask {
          try await directory.addUser(
            NewUser(
              username: "u\(index)@example.com", firstName: "U", lastName: "U", password: .generated
            ),
            by: .user(admin.id))
        }
      }
      try await group.waitForAll()
    }
    #expect(hasher.state.withLock { $0.peak } <= 2)
    #expect(try await directory.userCount(by: .user(admin.id)) == 25)
  }

  /// Blocks every job that enters it until opened.
  final class Gate: Sendable {
    let state = Locked((open: false, entered: 0))
    func pass() {
      state.withLock { $0.entered += 1 }
      while !state.withLock({ $0.open }) { usleep(500) }
    }
    func open() { state.withLock { $0.open = true } }
    var entered: Int { state.withLock { $0.entered } }
  }

  /// How a job that a test does not await ended: `nil` until it ends, then its error's code
  /// (or `nil` for success).
  final class Outcome: Sendable {
    private let state = Locked<(finished: Bool, code: UserManagementError.Code?)>((false, nil))
    func finish(_ code: UserManagementError.Code?) { state.withLock { $0 = (true, code) } }

    /// Runs `body` in a task of its own and records how it ends.
    static func of(_ body: @escaping @Sendable () async throws -> Void) -> Outcome {
      let outcome = Outcome()
      Task {
        do {
          try await body()
          outcome.finish(nil)
        } catch {
          outcome.finish((error as? UserManagementError)?.code)
        }
      }
      return outcome
    }
    var isFinished: Bool { state.withLock { $0.finished } }
    var code: UserManagementError.Code? { state.withLock { $0.code } }
  }

  /// Polls `condition` every millisecond for up to ten seconds.
  func eventually(_ condition: () -> Bool) async throws {
    for _ in 0..<10_000 where !condition() { try await Task.sleep(for: .milliseconds(1)) }
    #expect(condition())
  }

  @Test func aFullQueueRefusesAtOnceAndTheOthersRunInOrder() async throws {
    let scheduler = HashingScheduler(limit: 1, maximumWaiting: 2)
    let gate = Gate()
    let order = Locked<[Int]>([])
    func job(_ index: Int) -> Task<Void, any Error> {
      Task {
        try await scheduler.run { () throws(UserManagementError) in
          if index == 0 { gate.pass() }
          order.withLock { $0.append(index) }
        }
      }
    }
    let first = job(0)
    try await eventually { gate.entered == 1 }
    let second = job(1)
    try await eventually { scheduler.waitingCount == 1 }
    let third = job(2)
    try await eventually { scheduler.waitingCount == 2 }
    // The fourth is answered while the gate is still closed (never waiting for it).
    let fourth = Outcome.of {
      try await scheduler.run { () throws(UserManagementError) in order.withLock { $0.append(3) }
      }
    }
    try await eventually { fourth.isFinished }
    gate.open()
    try await eventually { fourth.isFinished }
    #expect(fourth.code == .overloaded)
    try await eventually { order.withLock { $0.count } == 3 }
    if order.withLock({ $0.count }) == 3 {
      for task in [first, second, third] { try await task.value }
    }
    #expect(order.withLock { $0 } == [0, 1, 2])
    #expect(scheduler.waitingCount == 0)
  }

  @Test func aCancelledWaiterLeavesTheQueueAndItsJobNeverRuns() async throws {
    let scheduler = HashingScheduler(limit: 1, maximumWaiting: 4)
    let gate = Gate()
    let ran = Locked<[String]>([])
    let running = Task {
      try await scheduler.run { () throws(UserManagementError) in
        gate.pass()
        ran.withLock { $0.append("running") }
      }
    }
    try await eventually { gate.entered == 1 }
    let waiting = Task {
      try await scheduler.run { () throws(UserManagementError) in
        ran.withLock { $0.append("cancelled") }
      }
    }
    try await eventually { scheduler.waitingCount == 1 }
    waiting.cancel()
    let left = Outcome.of {
      try await waiting.value
    }
    try await eventually { left.isFinished }
    #expect(left.code == .cancelled, "it left the queue before the slot came free")
    #expect(scheduler.waitingCount == 0)
    // A task cancelled before it asks never queues, even with a slot free later.
    let early = Task {
      withUnsafeCurrentTask { $0?.cancel() }
      try await scheduler.run { () throws(UserManagementError) in
        ran.withLock { $0.append("early") }
      }
    }
    let refused = Outcome.of {
      try await early.value
    }
    try await eventually { refused.isFinished }
    #expect(refused.code == .cancelled, "refused before it queued behind the closed gate")
    gate.open()
    try await running.value
    // The slot came back: the next job is admitted at once.
    let next = Outcome.of {
      try await scheduler.run { () throws(UserManagementError) in
        ran.withLock { $0.append("next") }
      }
    }
    try await eventually { next.isFinished }
    #expect(ran.withLock { $0 } == ["running", "next"])
  }

  /// A hasher whose verification passes through a gate.
  final class GatedHasher: PasswordHasher {
    let gate = Gate()
    func hash(_ password: Secret) throws(UserManagementError) -> PasswordHash {
      PasswordHash(encoded: "$gated$")
    }
    func verify(_ password: Secret, against hash: PasswordHash) throws(UserManagementError)
      -> PasswordVerification
    {
      gate.pass()
      return .invalid
    }
    func canVerify(_ hash: PasswordHash) -> Bool { hash.encoded.hasPrefix("$gated$") }
    func needsRehash(_ hash: PasswordHash) -> Bool { false }
  }

  @Test func aSignInTheDirectoryIsTooBusyToCheckCountsNoFailure() async throws {
    let hasher = GatedHasher()
    let outcomes = Locked<[SignInEvent.Outcome]>([])
    let store = InMemoryDirectoryStore()
    let directory = UserDirectory(
      store: store,
      configuration: .init(
        passwordHasher: hasher, maximumConcurrentHashes: 1, maximumWaitingHashes: 1,
        signInObserver: { event in outcomes.withLock { $0.append(event.outcome) } }))
    let admin = try await directory.bootstrap(
      NewUser(
        username: "ada@example.com", firstName: "Ada", lastName: "A",
        password: .typed(Secret("analytical engine 1843")))
    ).user
    func signIn() -> Task<Void, any Error> {
      Task {
        _ = try await directory.authenticate(username: "ada@example.com", password: Secret("wrong"))
      }
    }
    let checked = signIn()
    try await eventually { hasher.gate.entered == 1 }
    let queued = signIn()
    try await eventually { directory.scheduler.waitingCount == 1 }
    // Waiting for its turn, it has reserved nothing yet: the one failure is the checked one's.
    #expect(await store.loginThrottle(for: admin.id, kind: .password).consecutiveFailures == 1)
    let refused = Outcome.of {
      _ = try await directory.authenticate(username: "ada@example.com", password: Secret("wrong"))
    }
    try await eventually { refused.isFinished }
    #expect(refused.code == .overloaded, "answered at once, not after the gate opens")
    queued.cancel()
    let left = Outcome.of {
      try await queued.value
    }
    try await eventually { left.isFinished }
    #expect(left.code == .cancelled, "answered before the slot came free")
    hasher.gate.open()
    do {
      try await checked.value
    } catch let error as UserManagementError {
      #expect(error.code == .invalidCredentials)
    }
    // Three sign-ins, one check: only the one that was checked counts as a failure.
    let throttle = await store.loginThrottle(for: admin.id, kind: .password)
    #expect(throttle.consecutiveFailures == 1)
    #expect(
      outcomes.withLock { $0 }.sorted(by: { $0.rawValue < $1.rawValue }) == [
        .cancelled, .invalidCredentials, .overloaded,
      ])
  }

  /// Many short jobs through two slots, a quarter of them cancelled as they start: every one
  /// ends (run or cancelled), and the slots all come back. A caller that took its ticket just
  /// as a slot came free must not be left waiting with the slot unused.
  @Test func everyJobEndsUnderChurn() async throws {
    let scheduler = HashingScheduler(limit: 2, maximumWaiting: 10_000)
    let ran = Locked(0)
    let ended = Locked((count: 0, otherwise: 0))
    var tasks: [Task<Void, Never>] = []
    for index in 0..<2_000 {
      let task = Task {
        do {
          try await scheduler.run { () throws(UserManagementError) in ran.withLock { $0 += 1 } }
          ended.withLock { $0.count += 1 }
        } catch {
          // Only a cancellation may stop a job here (the queue has room for all).
          let cancelled = (error as? UserManagementError)?.code == .cancelled
          ended.withLock { ended in
            ended.count += 1
            if !cancelled { ended.otherwise += 1 }
          }
        }
      }
      if index % 4 == 0 { task.cancel() }
      tasks.append(task)
    }
    try await eventually { ended.withLock { $0.count } == 2_000 }
    #expect(ended.withLock { $0.otherwise } == 0)
    #expect(scheduler.waitingCount == 0)
    // Both slots are free again: two jobs that hold their slot run together.
    let gate = Gate()
    let holders = (0..<2).map { _ in
      Task { try await scheduler.run { () throws(UserManagementError) in gate.pass() } }
    }
    try await eventually { gate.entered == 2 }
    gate.open()
    if gate.entered == 2 { for holder in holders { try await holder.value } }
    if ended.withLock({ $0.count }) == 2_000 { for task in tasks { await task.value } }
  }

  /// A wrong password against a legacy hash is checked, and evened out with the dummy
  /// verification, in one turn of the scheduler: once checked, its answer cannot be refused.
  @Test func aLegacyHashAndItsDummyVerificationTakeOneTurn() async throws {
    let hasher = CountingPasswordHasher(
      MigratingPasswordHasher(preferred: PBKDF2PasswordHasher(insecureIterations: 2)))
    let directory = UserDirectory(
      store: InMemoryDirectoryStore(), configuration: .init(passwordHasher: hasher))
    let admin = try await directory.bootstrap(
      NewUser(
        username: "ada@example.com", firstName: "Ada", lastName: "A",
        password: .typed(Secret("analytical engine 1843")))
    ).user
    let legacy = try #require(passwordHashVectors.first { $0.format == "ldap-ssha" })
    _ = try await directory.importUsers(
      [
        PortableUser(
          username: "old@example.com", firstName: "O", lastName: "O",
          passwordHash: PasswordHash(encoded: legacy.hash))
      ], by: .user(admin.id))
    hasher.reset()
    let before = directory.scheduler.admittedCount
    do {
      _ = try await directory.authenticate(username: "old@example.com", password: Secret("wrong"))
      Issue.record("a wrong password signed in")
    } catch {
      #expect(error.code == .invalidCredentials)
    }
    #expect(directory.scheduler.admittedCount - before == 1)
    #expect(hasher.verificationCount == 2)
  }

  /// A sign-in that finds the queue full is refused before it reads or writes the store, for
  /// a known username as for an unknown one.
  @Test func aSignInThatFindsTheQueueFullTouchesNothing() async throws {
    /// Counts the store's commits and username lookups.
    final class CountingStore: ForwardingDirectoryStore, Sendable {
      let base: any DirectoryStore = InMemoryDirectoryStore()
      let counts = Locked((commits: 0, lookups: 0))
      func commit(_ changes: ChangeSet) async throws {
        counts.withLock { $0.commits += 1 }
        try await base.commit(changes)
      }
      func user(usernameKey: String) async throws -> UserRecord? {
        counts.withLock { $0.lookups += 1 }
        return try await base.user(usernameKey: usernameKey)
      }
    }
    let hasher = GatedHasher()
    let store = CountingStore()
    let directory = UserDirectory(
      store: store,
      configuration: .init(
        passwordHasher: hasher, maximumConcurrentHashes: 1, maximumWaitingHashes: 0))
    _ = try await directory.bootstrap(
      NewUser(
        username: "ada@example.com", firstName: "Ada", lastName: "A",
        password: .typed(Secret("analytical engine 1843"))))
    let checked = Task {
      _ = try await directory.authenticate(username: "ada@example.com", password: Secret("wrong"))
    }
    try await eventually { hasher.gate.entered == 1 }
    let before = store.counts.withLock { $0 }
    for username in ["ada@example.com", "nobody@example.com"] {
      let refused = Outcome.of {
        _ = try await directory.authenticate(username: username, password: Secret("wrong"))
      }
      try await eventually { refused.isFinished }
      #expect(refused.code == .overloaded, "\(username)")
    }
    let after = store.counts.withLock { $0 }
    #expect(after.commits == before.commits && after.lookups == before.lookups)
    hasher.gate.open()
    _ = try? await checked.value
  }
}
