import Foundation
import PostgresDirectoryStore
import Testing
import UserManagementKit

/// The file store's time-of-check/time-of-use races, run from separate processes, each with
/// its own `PostgresClient`, against one database.
@Suite("Races across processes", .serialized, .timeLimit(.minutes(2)))
struct CrossProcessRaceTests {
  /// Admins that deactivate or demote each other at once never leave zero active admins, and
  /// the audit trail stays numbered without gaps.
  @Test(arguments: [2, 4])
  func adminsDemotingEachOtherKeepOne(admins: Int) async throws {
    try await TestDatabase.with { database in
      let store = try await database.openStore()
      let records = try (0..<admins).map {
        try Fixtures.record("admin\($0)@example.com", role: .admin)
      }
      try await store.commit(ChangeSet(users: records))
      let outputs = try await Workers.race(
        "admins", url: database.url, workers: Array(repeating: [String(admins)], count: admins))
      let outcomes: [String] = outputs.flatMap { $0 }
      let successes = outcomes.filter { $0 == "ok" }.count
      #expect(outcomes.count == admins)
      let remaining = try await store.userCount(
        matching: UserFilter(status: .active, role: .admin))
      #expect(remaining >= 1)
      #expect(successes == admins - remaining)
      let sequences = try await database.values(
        Int64.self, "SELECT seq FROM umk_audit ORDER BY seq")
      #expect(sequences == Array(1...Int64(sequences.count)))
      #expect(sequences.count == admins - remaining)
    }
  }

  /// One username inserted by several writers in several processes: exactly one wins.
  @Test func oneUsernameFromManyWriters() async throws {
    try await TestDatabase.with { database in
      let store = try await database.openStore()
      try await store.commit(
        ChangeSet(users: [try Fixtures.record("admin0@example.com", role: .admin)]))
      let outputs = try await Workers.race(
        "username", url: database.url, workers: Array(repeating: ["5"], count: 3))
      let outcomes: [String] = outputs.flatMap { $0 }
      let successes = outcomes.filter { $0 == "ok" }.count
      let refusals = Set(outcomes.filter { $0 != "ok" })
      #expect(outcomes.count == 15)
      #expect(successes == 1)
      #expect(refusals == ["username_taken"])
      #expect(try await store.userCount(matching: UserFilter()) == 2)
      #expect(try await database.value(Int64.self, "SELECT count(*) FROM umk_audit") == 1)
    }
  }

  /// A policy deleted while other processes assign it: either the deletion loses (the policy is
  /// held) or the assignments that follow it fail; no user ever holds a deleted policy.
  @Test func policyDeletedWhileBeingAssigned() async throws {
    try await TestDatabase.with { database in
      let store = try await database.openStore()
      let policy = Fixtures.policy("Contested")
      var users = [try Fixtures.record("admin0@example.com", role: .admin)]
      for worker in 1...3 {
        for number in 0..<4 {
          users.append(try Fixtures.record("holder-\(worker)-\(number)@example.com"))
        }
      }
      try await store.commit(ChangeSet(users: users, policies: [.put(policy)]))
      let outputs = try await Workers.race(
        url: database.url,
        [("delete-policy", [])] + Array(repeating: ("assign", ["4"]), count: 3))
      let deleteOutcome = outputs[0]
      let assignments: [String] = outputs.dropFirst().flatMap { $0 }
      let outcomes = Set(assignments)
      #expect(assignments.count == 12)
      #expect(outcomes.isSubset(of: ["ok", "policy_not_found"]))
      let stillThere = try await store.policy(id: policy.id)
      let holders = try await store.userCount(matching: UserFilter(policy: policy.id))
      if stillThere == nil {
        #expect(holders == 0)
        #expect(deleteOutcome == ["ok"])
      } else {
        #expect(deleteOutcome == ["policy_in_use"])
        #expect(holders > 0)
      }
      // Every policy any user holds exists.
      let page = try await store.users(matching: UserQuery(limit: 100))
      let held = Set(page.users.flatMap(\.policies))
      for id in held {
        #expect(try await store.policy(id: id) != nil)
      }
      #expect(
        try await database.value(Int64.self, "SELECT count(*) FROM umk_user_policies")
          == Int64(page.users.reduce(0) { $0 + $1.policies.count }))
    }
  }

  /// One user updated by read-modify-write from 3 processes of 4 tasks each (so commits race
  /// both across processes and inside each process's group commit): no update is lost. A
  /// commit that checked a stale read would write a version another commit already wrote, and
  /// the final version would fall short of the number of successful updates.
  @Test func readModifyWriteLosesNoUpdate() async throws {
    try await TestDatabase.with { database in
      let store = try await database.openStore()
      let target = try Fixtures.record("target@example.com")
      try await store.commit(
        ChangeSet(users: [try Fixtures.record("admin0@example.com", role: .admin), target]))
      let outputs = try await Workers.race(
        "bump", url: database.url, workers: Array(repeating: ["4", "10"], count: 3))
      let outcomes: [String] = outputs.flatMap { $0 }
      #expect(outcomes.count == 120)
      #expect(outcomes.allSatisfy { $0 == "ok" })
      #expect(try await store.user(id: target.id)?.user.version == 121)
      let sequences = try await database.values(
        Int64.self, "SELECT seq FROM umk_audit ORDER BY seq")
      #expect(sequences == Array(1...120))
    }
  }

  /// Failed sign-ins recorded by several processes at once are all counted, and none fails,
  /// whatever the database's default isolation: with a stricter one the races surface as
  /// serialization failures, which the store tries again (the workers do not).
  @Test(arguments: ["read committed", "repeatable read", "serializable"])
  func failedSignInsAllCounted(_ isolation: String) async throws {
    try await TestDatabase.with { database in
      // The workers' new connections take the database's default.
      try await database.execute(
        "ALTER DATABASE \(database.url.database) SET default_transaction_isolation = "
          + "'\(isolation)'")
      let store = try await database.openStore()
      let admin = try Fixtures.record("admin0@example.com", role: .admin)
      try await store.commit(ChangeSet(users: [admin]))
      let outputs = try await Workers.race(
        "fail", url: database.url, workers: Array(repeating: ["25"], count: 4))
      let outcomes: [String] = outputs.flatMap { $0 }
      let successes = outcomes.filter { $0 == "ok" }.count
      #expect(successes == 100)
      let state = try await store.loginThrottle(for: admin.id, kind: .password)
      #expect(state.consecutiveFailures == 100)
    }
  }

  /// A subscriber in this process hears the events another process commits.
  @Test func auditSubscriptionHearsOtherProcesses() async throws {
    try await TestDatabase.with { database in
      let store = try await database.openStore()
      try await store.commit(
        ChangeSet(users: [try Fixtures.record("admin0@example.com", role: .admin)]))
      let stream = store.subscribeToAuditEvents()
      _ = try await Workers.race("event", url: database.url, workers: [[], []])
      var actors: [String] = []
      for await event in stream {
        actors.append(event.actor.description)
        if actors.count == 2 { break }
      }
      #expect(Set(actors) == ["system:worker-0", "system:worker-1"])
    }
  }
}
