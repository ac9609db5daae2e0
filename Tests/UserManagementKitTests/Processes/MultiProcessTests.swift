import Foundation
import Testing
import UserManagementKit
import UserManagementKitTesting

/// Several processes on one store: real `UMKStoreTorture` children race conflicting
/// operations through ``UserDirectory``, and the directory's rules must hold across them. The
/// test process keeps its own store open throughout, so it also checks that a long-lived
/// store sees other processes' commits without reopening.
@Suite("Several processes, one store", .tags(.multiProcess), .serialized)
struct MultiProcessTests {
  /// A store with an administrator, opened by the test process.
  struct Fixture {
    let temporary: TemporaryDirectory
    let executable: URL
    let store: FileDirectoryStore
    let directory: UserDirectory
    let admin: User

    init() async throws {
      temporary = try TemporaryDirectory()
      executable = try tortureExecutable()
      store = try FileDirectoryStore(directory: temporary.store)
      directory = UserDirectory(
        store: store,
        configuration: .init(
          passwordHasher: InsecureFastPasswordHasher(),
          requirePasswordChangeAfterAdminReset: false))
      admin = try await directory.bootstrap(Self.newUser("admin-a@example.com")).user
    }

    static func newUser(_ username: String, role: Role = .generalUser) -> NewUser {
      NewUser(
        username: username, firstName: "Parent", lastName: "Process",
        password: .typed(Secret("a perfectly fine passphrase")), role: role)
    }

    /// Starts a child in `arguments[0]`'s mode on the store, with the other arguments.
    func spawn(_ arguments: [String], gated: Bool = false) throws -> ChildProcess {
      try ChildProcess(
        executable, [arguments[0], temporary.store] + arguments.dropFirst(),
        outputPath: temporary.path + "/child-\(UUID().uuidString).out",
        environment: gated ? ["UMK_TORTURE_GATE": "1"] : [:])
    }

    /// Starts one child per argument list, waits until all have opened the store, releases
    /// them together (the last first when `reversed`) and returns each one's outcome line
    /// (`ok` or `refused <code>`), in the order of the argument lists.
    ///
    /// When `gated`, each child stops again just before its first commit, after reading the
    /// state and passing the directory's checks; once all have stopped (or finished, refused
    /// by a check), they are released together. Then only the store's check at commit, which
    /// must see the other processes' commits, can refuse the losers.
    func race(_ argumentLists: [[String]], reversed: Bool = false, gated: Bool = false)
      async throws -> [String]
    {
      let children = try argumentLists.map { try spawn($0, gated: gated) }
      let order = reversed ? Array(children.reversed()) : children
      for child in children { try await child.waitForLine { $0 == "ready" } }
      for child in order { try child.send("go") }
      if gated {
        for child in children {
          try await child.waitForLine(after: 1) {
            $0 == "committing" || $0 == "ok" || $0.hasPrefix("refused ")
          }
        }
        for child in order where child.lines.contains("committing") { try child.send("go") }
      }
      var outcomes: [String] = []
      for child in children {
        outcomes.append(
          try await child.waitForLine(after: 1) { $0 == "ok" || $0.hasPrefix("refused ") })
        try await child.waitForExit()
      }
      if gated {
        // Every child passed the directory's checks: whatever refused one was the store.
        for child in children {
          #expect(
            child.lines.contains("committing"),
            "a check refused before the commit: \(child.transcript)")
        }
      }
      return outcomes
    }
  }

  /// Two administrators deactivate each other at the same moment from two processes: one
  /// wins, the other is refused, and exactly one active administrator remains.
  @Test func administratorsDeactivatingEachOther() async throws {
    let fixture = try await Fixture()
    let a = fixture.admin
    let b = try await fixture.directory.addUser(
      Fixture.newUser("admin-b@example.com", role: .admin), by: .user(a.id)
    ).user
    var refusals: [String: Int] = [:]
    for round in 0..<8 {
      let outcomes = try await fixture.race(
        [
          ["race-deactivate", a.id.description, b.id.description],
          ["race-deactivate", b.id.description, a.id.description],
        ], reversed: round.isMultiple(of: 2), gated: round % 4 >= 2)
      #expect(outcomes.count(where: { $0 == "ok" }) == 1, "round \(round): \(outcomes)")
      for outcome in outcomes where outcome != "ok" {
        let code = String(outcome.dropFirst("refused ".count))
        refusals[code, default: 0] += 1
        // The loser is refused because it is no longer active (it re-reads after the
        // version conflict), because it would leave no active administrator, or because
        // its retries ran out.
        #expect(
          ["not_authorized", "last_active_administrator", "version_conflict"].contains(code),
          "round \(round): \(outcomes)")
      }
      // The test process's store, open all along, sees the children's commits.
      let active = try await fixture.store.userCount(
        matching: UserFilter(status: .active, role: .admin))
      #expect(active == 1, "round \(round): \(active) active administrators, \(outcomes)")
      guard active == 1,
        let survivor = try await fixture.store.users(
          matching: UserQuery(filter: UserFilter(status: .active, role: .admin))
        ).users.first
      else { return }
      let loser = survivor.id == a.id ? b : a
      try await fixture.directory.setStatus(.active, of: loser.id, by: .user(survivor.id))
    }
    print("Mutual deactivation refusals: \(refusals)")
  }

  /// Two processes deactivate two different administrators at once, as a system principal
  /// (so no actor's version is pinned): the directory's checks pass in both, and the store's
  /// check of the state left by the other process's commit must refuse one.
  @Test func lastActiveAdministratorAcrossProcesses() async throws {
    let fixture = try await Fixture()
    let a = fixture.admin
    let b = try await fixture.directory.addUser(
      Fixture.newUser("admin-b@example.com", role: .admin), by: .user(a.id)
    ).user
    for round in 0..<8 {
      let outcomes = try await fixture.race(
        [
          ["race-deactivate", "system", a.id.description],
          ["race-deactivate", "system", b.id.description],
        ], reversed: round.isMultiple(of: 2), gated: round % 4 >= 2)
      #expect(outcomes.count(where: { $0 == "ok" }) == 1, "round \(round): \(outcomes)")
      #expect(
        outcomes.count(where: { $0 == "refused last_active_administrator" }) == 1,
        "round \(round): \(outcomes)")
      let active = try await fixture.store.users(
        matching: UserQuery(filter: UserFilter(status: .active, role: .admin))
      ).users
      #expect(active.count == 1, "round \(round): \(active.count) active administrators")
      guard let survivor = active.first else { return }
      let loser = survivor.id == a.id ? b : a
      try await fixture.directory.setStatus(.active, of: loser.id, by: .user(survivor.id))
    }
  }

  /// Several processes open a directory that does not exist yet and bootstrap it at once:
  /// one creates the store, all open it, exactly one bootstrap succeeds.
  @Test func bootstrappingANewDirectoryFromSeveralProcesses() async throws {
    let temporary = try TemporaryDirectory()
    let executable = try tortureExecutable()
    for round in 0..<3 {
      let directory = temporary.path + "/store-\(round)"
      let children = try (0..<4).map { index in
        try ChildProcess(
          executable, ["race-bootstrap", directory, "first-\(index)@example.com"],
          outputPath: temporary.path + "/bootstrap-\(round)-\(index).out")
      }
      for child in children { try await child.waitForLine { $0 == "ready" } }
      for child in children { try child.send("go") }
      var outcomes: [String] = []
      for child in children {
        outcomes.append(
          try await child.waitForLine(after: 1) { $0 == "ok" || $0.hasPrefix("refused ") })
        try await child.waitForExit()
      }
      #expect(outcomes.count(where: { $0 == "ok" }) == 1, "round \(round): \(outcomes)")
      #expect(
        outcomes.count(where: { $0 == "refused already_bootstrapped" }) == 3,
        "round \(round): \(outcomes)")
      let store = try FileDirectoryStore(directory: directory)
      let users = try await store.users(matching: UserQuery()).users
      #expect(users.count == 1, "round \(round)")
      #expect(users.first?.isActiveAdmin == true, "round \(round)")
      store.close()
    }
  }

  /// Several processes add the same username at once: exactly one succeeds.
  @Test func sameUsernameFromSeveralProcesses() async throws {
    let fixture = try await Fixture()
    for round in 0..<4 {
      let username = "same-\(round)@example.com"
      let outcomes = try await fixture.race(
        Array(repeating: ["race-add", fixture.admin.id.description, username], count: 4),
        gated: round >= 2)
      #expect(outcomes.count(where: { $0 == "ok" }) == 1, "round \(round): \(outcomes)")
      #expect(
        outcomes.count(where: { $0 == "refused username_taken" }) == 3,
        "round \(round): \(outcomes)")
      let matching = try await fixture.store.userCount(matching: UserFilter(search: username))
      #expect(matching == 1, "round \(round)")
    }
  }

  /// Several processes add distinct users and rename one shared user in loops: every user
  /// is there, and the shared user's version counts every successful rename (no lost
  /// update).
  @Test func distinctAddsAndSharedUpdatesFromSeveralProcesses() async throws {
    let fixture = try await Fixture()
    let shared = try await fixture.directory.addUser(
      Fixture.newUser("shared@example.com"), by: .user(fixture.admin.id)
    ).user
    let before = try await fixture.store.userCount(matching: UserFilter())
    let processes = 3
    let count = 30
    let children = try (0..<processes).map { index in
      try fixture.spawn([
        "add-loop", fixture.admin.id.description, "p\(index)", String(count),
        shared.id.description,
      ])
    }
    for child in children { try await child.waitForLine { $0 == "ready" } }
    for child in children { try child.send("go") }
    var renamed = 0
    for child in children {
      try await child.waitForLine { $0 == "done" }
      try await child.waitForExit()
      let lines = child.lines
      #expect(lines.count(where: { $0 == "add ok" }) == count, "\(child.transcript)")
      renamed += lines.count(where: { $0 == "rename ok" })
      for line in lines where line.hasPrefix("rename refused") {
        #expect(line == "rename refused version_conflict", "\(child.transcript)")
      }
    }
    let after = try await fixture.store.userCount(matching: UserFilter())
    #expect(after == before + processes * count)
    for index in 0..<processes {
      for number in 0..<count {
        let key = Username.canonicalize("p\(index)-\(number)@example.com")
        #expect(try await fixture.store.profile(usernameKey: key) != nil, "\(key) is missing")
      }
    }
    let final = try await fixture.store.profile(id: shared.id)
    #expect(final?.version == shared.version + UInt64(renamed), "renames: \(renamed)")
    print("Shared renames: \(renamed) of \(processes * count) succeeded")
  }

  /// Several processes run random operations at once. Afterwards the rules hold, the test
  /// process's long-lived store agrees with a freshly opened one, and every user's and
  /// policy's version equals the number of audit events about it (one event per change,
  /// none lost, none duplicated).
  @Test func randomOperationsFromSeveralProcesses() async throws {
    let fixture = try await Fixture()
    try await fixture.directory.createPolicy(
      PolicyDocument(
        name: "seed-policy",
        permissions: [Permission(resourceType: "doc", allowed: ["read"], resourceIds: [.any])]),
      by: .user(fixture.admin.id))
    let processes = 3
    let children = try (0..<processes).map { index in
      try fixture.spawn([
        "random-ops", String(UInt64.random(in: 1...1_000_000) * 10 + UInt64(index)), "80",
      ])
    }
    for child in children { try await child.waitForLine { $0 == "ready" } }
    for child in children { try child.send("go") }
    let expected: Set<String> = [
      "last_active_administrator", "policy_in_use", "policy_not_found", "version_conflict",
      "invalid_operation",
    ]
    var outcomes: [String: Int] = [:]
    for child in children {
      try await child.waitForLine { $0 == "done" }
      try await child.waitForExit()
      for line in child.lines where line.hasPrefix("op ") {
        let words = line.split(separator: " ")
        let outcome = words.count > 3 ? "\(words[1]) \(words[3])" : "\(words[1]) ok"
        outcomes[outcome, default: 0] += 1
        if words.count > 3 {
          #expect(expected.contains(String(words[3])), "\(line)\n\(child.transcript)")
        }
      }
    }
    print("Random operations: \(outcomes.sorted { $0.key < $1.key })")

    let reopened = try FileDirectoryStore(directory: fixture.temporary.store)
    let query = UserQuery(limit: UserQuery.maximumLimit)
    let users = try await reopened.users(matching: query).users
    #expect(try await fixture.store.users(matching: query).users == users)
    let policies = try await reopened.policies()
    #expect(try await fixture.store.policies() == policies)

    #expect(users.contains { $0.isActiveAdmin })
    #expect(Set(users.map(\.username.canonical)).count == users.count)
    let policyIDs = Set(policies.map(\.id))
    for user in users {
      #expect(user.policies.isSubset(of: policyIDs), "\(user.username) holds a missing policy")
      #expect(user.role == .generalUser || user.policies.isEmpty)
    }
    let events = try await reopened.auditEvents(
      matching: AuditQuery(limit: 100_000, newestFirst: false))
    #expect(Set(events.map(\.id)).count == events.count, "repeated audit events")
    for user in users {
      let count = events.count { $0.target.userID == user.id }
      #expect(UInt64(count) == user.version, "\(user.username): \(count) events, \(user)")
    }
    for policy in policies {
      let count = events.count {
        if case .policy(let id, _) = $0.target { return id == policy.id }
        return false
      }
      #expect(UInt64(count) == policy.version, "\(policy.name): \(count) events")
    }
    reopened.close()
  }

  /// Several processes sign in with wrong passwords at once: each attempt reserves its
  /// failure with a commit pinned to the counter it was judged on, so the counter ends at
  /// exactly the number of attempts, across processes.
  @Test func failedSignInsFromSeveralProcessesAreAllCounted() async throws {
    let fixture = try await Fixture()
    let user = try await fixture.directory.addUser(
      Fixture.newUser("target@example.com"), by: .user(fixture.admin.id)
    ).user
    let processes = 3
    let count = 25
    let children = try (0..<processes).map { _ in
      try fixture.spawn(["wrong-passwords", "target@example.com", String(count)])
    }
    for child in children { try await child.waitForLine { $0 == "ready" } }
    for child in children { try child.send("go") }
    for child in children {
      try await child.waitForLine { $0 == "done" }
      try await child.waitForExit()
      let refusals = child.lines.filter { $0.hasPrefix("signin ") }
      #expect(
        refusals == Array(repeating: "signin refused invalid_credentials", count: count),
        "\(child.transcript)")
    }
    let state = try await fixture.store.loginThrottle(for: user.id, kind: .password)
    #expect(state.consecutiveFailures == processes * count)
  }

  /// One process deletes a policy while another assigns it: never both.
  @Test func deletingAPolicyWhileAnotherProcessAssignsIt() async throws {
    let fixture = try await Fixture()
    let admin = fixture.admin.id
    let user = try await fixture.directory.addUser(
      Fixture.newUser("holder@example.com"), by: .user(admin)
    ).user
    var winners: [String: Int] = [:]
    for round in 0..<8 {
      let policy = try await fixture.directory.createPolicy(
        PolicyDocument(
          name: "contested-\(round)",
          permissions: [Permission(resourceType: "doc", allowed: ["read"], resourceIds: [.any])]),
        by: .user(admin))
      let outcomes = try await fixture.race(
        [
          ["race-delete-policy", admin.description, policy.id.description],
          ["race-assign-policy", admin.description, user.id.description, policy.id.description],
        ], reversed: round.isMultiple(of: 2), gated: round % 4 >= 2)
      let exists = try await fixture.store.policy(id: policy.id) != nil
      let holds = try await fixture.store.profile(id: user.id)?.policies.contains(policy.id)
      try #require(outcomes.count == 2)
      switch (outcomes[0], outcomes[1]) {
      case ("ok", "refused policy_not_found"):
        winners["delete", default: 0] += 1
        #expect(!exists, "round \(round)")
        #expect(holds == false, "round \(round)")
      case ("refused policy_in_use", "ok"):
        winners["assign", default: 0] += 1
        #expect(exists, "round \(round)")
        #expect(holds == true, "round \(round)")
      default:
        Issue.record("round \(round): delete → \(outcomes[0]), assign → \(outcomes[1])")
      }
      if holds == true {
        try await fixture.directory.setPolicies([], of: user.id, by: .user(admin))
      }
    }
    print("Delete versus assign winners: \(winners)")
  }

  /// A process that opened the store before a commit sees it at its next read, without
  /// reopening, whether the test process or a third process committed.
  @Test func longLivedReaderSeesOtherProcessesCommits() async throws {
    let fixture = try await Fixture()
    let watcher = try fixture.spawn(["watch"])
    try await watcher.waitForLine { $0 == "ready" }
    for round in 0..<4 {
      let username = "seen-\(round)@example.com"
      let seen = watcher.lines.count
      try watcher.send(username)
      let before = try await watcher.waitForLine(after: seen) { $0.hasSuffix(" \(username)") }
      #expect(before == "missing \(username)", "round \(round)")
      if round.isMultiple(of: 2) {
        try await fixture.directory.addUser(
          Fixture.newUser(username), by: .user(fixture.admin.id))
      } else {
        let outcomes = try await fixture.race([
          ["race-add", fixture.admin.id.description, username]
        ])
        #expect(outcomes == ["ok"], "round \(round)")
      }
      let next = watcher.lines.count
      try watcher.send(username)
      let after = try await watcher.waitForLine(after: next) { $0.hasSuffix(" \(username)") }
      #expect(after == "found \(username)", "round \(round): \(watcher.transcript)")
    }
  }

  /// A process killed after its commit reached the disk but before it returned: the commit
  /// was never acknowledged, but it is durable, and every process that opens the store from
  /// now on sees it. Processes that already had the store open must see it too, or they
  /// disagree with the files (and with each other) until some later commit.
  @Test func commitOfAProcessKilledAfterItsSyncIsSeenByOpenStores() async throws {
    let fixture = try await Fixture()
    let username = "orphan@example.com"
    let key = Username.canonicalize(username)
    let watcher = try fixture.spawn(["watch"])
    try await watcher.waitForLine { $0 == "ready" }
    try watcher.send(username)
    try await watcher.waitForLine { $0 == "missing \(username)" }
    #expect(try await fixture.store.profile(usernameKey: key) == nil)

    let dying = try fixture.spawn([
      "die-after-log-sync", fixture.admin.id.description, "add", username,
    ])
    try await dying.waitForLine { $0 == "ready" }
    try dying.send("go")
    try await dying.waitForExit()
    #expect(dying.wasKilled, "\(dying.transcript)")
    #expect(dying.lines.last == "dying", "\(dying.transcript)")

    // Durable: a store opened now has it.
    let reopened = try FileDirectoryStore(directory: fixture.temporary.store)
    #expect(try await reopened.profile(usernameKey: key) != nil, "the commit is not durable")
    reopened.close()

    // Stores that were already open.
    let seen = watcher.lines.count
    try watcher.send(username)
    let answer = try await watcher.waitForLine(after: seen) { $0.hasSuffix(" \(username)") }
    #expect(answer == "found \(username)", "another process's open store does not see it")
    #expect(
      try await fixture.store.profile(usernameKey: key) != nil,
      "the test process's open store does not see it")
  }

  /// The same, where it matters: a process deactivates a user and is killed after the
  /// deactivation is durable. The user is inactive for every store opened since, but a
  /// store that was already open still lets them sign in.
  @Test func deactivationByAProcessKilledAfterItsSyncHoldsInOpenStores() async throws {
    let fixture = try await Fixture()
    let password = Secret("a perfectly fine passphrase")
    let user = try await fixture.directory.addUser(
      Fixture.newUser("leaver@example.com"), by: .user(fixture.admin.id)
    ).user
    _ = try await fixture.directory.signInWithPassword(
      username: "leaver@example.com", password: password)

    let dying = try fixture.spawn([
      "die-after-log-sync", "system", "deactivate", user.id.description,
    ])
    try await dying.waitForLine { $0 == "ready" }
    try dying.send("go")
    try await dying.waitForExit()
    #expect(dying.wasKilled, "\(dying.transcript)")
    #expect(dying.lines.last == "dying", "\(dying.transcript)")

    let reopened = try FileDirectoryStore(directory: fixture.temporary.store)
    #expect(try await reopened.profile(id: user.id)?.status == .inactive)
    reopened.close()

    await expectError(.accountInactive) {
      _ = try await fixture.directory.signInWithPassword(
        username: "leaver@example.com", password: password)
    }
  }
}
