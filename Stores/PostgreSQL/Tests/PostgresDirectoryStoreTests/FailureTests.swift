import Foundation
import NIOSSL
import PostgresDirectoryStore
import PostgresNIO
import Testing
import UserManagementKit

/// Lost connections, and what the schema refuses on its own.
@Suite("Failures and schema", .timeLimit(.minutes(2)))
struct FailureTests {
  /// The connection killed just before a commit's last step: the commit fails as a storage
  /// failure, nothing of it is applied, and the next commit works and takes the next audit
  /// number. A change set of users and events is written by one statement (killed before it is
  /// sent); one that also writes a policy runs in a transaction (killed after every write,
  /// before `COMMIT`).
  @Test(.timeLimit(.minutes(1)), arguments: [false, true])
  func connectionKilledMidCommitAppliesNothing(withPolicy: Bool) async throws {
    try await TestDatabase.with { database in
      // The store has a client of its own; the test kills and inspects through another.
      try await database.withClient { storeClient in
        let killer = database
        let store = try await PostgresDirectoryStore.open(
          client: storeClient, logger: database.logger,
          hooks: .init(beforeCommit: { pid in
            try await killer.execute("SELECT pg_terminate_backend(\(pid))")
          }))
        let admin = try Fixtures.record("admin@example.com", role: .admin)
        let policies: [PolicyChange] = withPolicy ? [.put(Fixtures.policy("Killed"))] : []
        do {
          try await store.commit(
            ChangeSet(users: [admin], policies: policies, auditEvents: [Fixtures.event(admin)]))
          Issue.record("the commit should have failed")
        } catch let error as UserManagementError {
          #expect(error.code == .storageFailure)
        }
        #expect(try await database.value(Int64.self, "SELECT count(*) FROM umk_users") == 0)
        #expect(try await database.value(Int64.self, "SELECT count(*) FROM umk_policies") == 0)
        #expect(try await database.value(Int64.self, "SELECT count(*) FROM umk_audit") == 0)
        #expect(try await database.value(Int64.self, "SELECT audit_seq FROM umk_directory") == 0)

        let healthy = try await PostgresDirectoryStore.open(client: storeClient)
        try await healthy.commit(ChangeSet(users: [admin], auditEvents: [Fixtures.event(admin)]))
        #expect(try await healthy.user(id: admin.id) == admin)
        #expect(try await database.values(Int64.self, "SELECT seq FROM umk_audit") == [1])
      }
    }
  }

  /// Commits made at once through one store are committed in groups; a member that fails its
  /// checks gets its own error and writes nothing (not even an audit number), and the others
  /// commit.
  @Test func groupCommitKeepsEachOutcomeApart() async throws {
    try await TestDatabase.with { database in
      let store = try await database.openStore()
      let taken = try Fixtures.record("taken0@example.com")
      try await store.commit(
        ChangeSet(users: [try Fixtures.record("admin@example.com", role: .admin), taken]))
      let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
        for number in 0..<40 {
          // Every fourth change set names a username that is already taken.
          let record = try Fixtures.record(
            number % 4 == 0 ? "TAKEN0@example.com" : "new\(number)@example.com")
          group.addTask {
            do {
              try await store.commit(
                ChangeSet(users: [record], auditEvents: [Fixtures.event(record)]))
              return "ok"
            } catch let error as UserManagementError {
              return error.code.rawValue
            }
          }
        }
        var outcomes: [String] = []
        for try await outcome in group { outcomes.append(outcome) }
        return outcomes
      }
      #expect(outcomes.filter { $0 == "ok" }.count == 30)
      #expect(outcomes.filter { $0 == "username_taken" }.count == 10)
      #expect(try await store.userCount(matching: UserFilter()) == 32)
      #expect(
        try await database.values(Int64.self, "SELECT seq FROM umk_audit ORDER BY seq")
          == Array(1...30))
      #expect(try await database.value(Int64.self, "SELECT audit_seq FROM umk_directory") == 30)
    }
  }

  /// Groups that mix change sets the group stages (users, counters, events) with ones that
  /// write at once (policy holdings): everything lands, in order, and the directory's counters
  /// and audit numbers agree with the rows.
  @Test func groupsMixingStagedAndImmediateWritesKeepTheCounts() async throws {
    try await TestDatabase.with { database in
      let store = try await database.openStore()
      let admin = try Fixtures.record("admin@example.com", role: .admin)
      let policy = Fixtures.policy("Shared")
      try await store.commit(ChangeSet(users: [admin], policies: [.put(policy)]))
      let failures = try await withThrowingTaskGroup(of: Int.self) { group in
        for number in 0..<60 {
          group.addTask {
            if number % 2 == 1 {
              try await store.commit(
                ChangeSet(
                  auditEvents: [Fixtures.event(admin)],
                  throttleUpdates: [
                    ThrottleUpdate(
                      user: admin.id, kind: .password, operation: .recordFailure(at: Fixtures.now))
                  ]))
              return 1
            }
            // Every fifth new user holds the policy (a holding: written at once).
            let record = try Fixtures.record(
              "member\(number)@example.com", role: number % 9 == 0 ? .admin : .generalUser,
              policies: number % 5 == 0 ? [policy.id] : [])
            try await store.commit(
              ChangeSet(users: [record], auditEvents: [Fixtures.event(record, .userCreated)]))
            // And is renamed right after (an update of the row just written).
            var renamed = record
            renamed.user.lastName = "Renamed"
            renamed.user.version = 2
            try await store.commit(
              ChangeSet(users: [renamed], auditEvents: [Fixtures.event(renamed)]))
            return 0
          }
        }
        var failures = 0
        for try await failure in group { failures += failure }
        return failures
      }
      let created = 60 - failures
      let events = Int64(failures + 2 * created)
      #expect(
        try await database.values(Int64.self, "SELECT seq FROM umk_audit ORDER BY seq")
          == Array(1...events))
      #expect(try await database.value(Int64.self, "SELECT audit_seq FROM umk_directory") == events)
      #expect(
        try await store.loginThrottle(for: admin.id, kind: .password).consecutiveFailures
          == failures)
      #expect(
        try await database.value(Int64.self, "SELECT user_count FROM umk_directory")
          == Int64(created + 1))
      #expect(
        try await database.value(Int64.self, "SELECT active_admins FROM umk_directory")
          == (try await database.value(
            Int64.self,
            "SELECT count(*) FROM umk_users WHERE status = 'active' AND role = 'admin'")))
      #expect(
        try await database.value(Int64.self, "SELECT count(*) FROM umk_user_policies")
          == (try await database.value(
            Int64.self, "SELECT count(*) FROM umk_users WHERE cardinality(policies) > 0")))
      #expect(
        try await database.value(
          Int64.self, "SELECT count(*) FROM umk_users WHERE last_name = 'Renamed' AND version = 2")
          == Int64(created))
    }
  }

  /// Callers whose tasks are cancelled while their commits are in flight (a request that went
  /// away) fail nobody's commit: every commit lands and reports it, whichever caller happened
  /// to lead the group.
  @Test func cancelledCallersFailNoCommit() async throws {
    try await TestDatabase.with { database in
      let store = try await database.openStore()
      try await store.commit(
        ChangeSet(users: [try Fixtures.record("admin@example.com", role: .admin)]))
      let records = try (0..<20).map { try Fixtures.record("member\($0)@example.com") }
      let tasks = records.map { record in
        Task {
          try await store.commit(
            ChangeSet(users: [record], auditEvents: [Fixtures.event(record, .userCreated)]))
        }
      }
      for task in tasks { task.cancel() }
      var failures: [String] = []
      for task in tasks {
        do {
          try await task.value
        } catch {
          failures.append(String(describing: error))
        }
      }
      #expect(failures.isEmpty, "\(failures)")
      #expect(try await store.userCount(matching: UserFilter()) == 21)
    }
  }

  /// A statement sent on a connection the server has already closed fails as a lost
  /// connection instead of waiting for ever: postgres-nio 1.33.2 never fails a statement
  /// written to a channel that has closed, which left a commit's outcome check, a `ROLLBACK` or
  /// a read after a terminated connection hanging. Fails (by its time limit) if the store's
  /// statements are sent without watching the connection.
  @Test(.timeLimit(.minutes(1)))
  func statementsOnAClosedConnectionFailAsALostConnection() async throws {
    try await TestDatabase.with { database in
      try await database.withClient { client in
        try await client.withConnection { connection in
          let logger = database.logger
          var pid: Int32 = 0
          for try await value in try await connection.guardedQuery(
            "SELECT pg_backend_pid()", logger: logger
          ).decode(Int32.self) {
            pid = value
          }
          #expect(try await connection.guardedRows(SelectOne(), logger: logger) == [1])
          try await database.execute("SELECT pg_terminate_backend(\(pid))")
          // Closed, and known to be: the next statement's write fails before the handler.
          try await connection.closeFuture.get()
          for _ in 0..<3 {
            let query = await Self.outcome(within: .seconds(10)) {
              try await connection.guardedQuery("SELECT 1", logger: logger)
            }
            #expect(query == .failed(closed: true))
            let rows = await Self.outcome(within: .seconds(10)) {
              try await connection.guardedRows(SelectOne(), logger: logger)
            }
            #expect(rows == .failed(closed: true))
          }
          #expect(PostgresDirectoryStore.isConnectionLoss(ConnectionClosed()))
        }
      }
    }
  }

  /// The store sends no statement that could wait for ever: outside the guard itself, its
  /// sources never call postgres-nio's `query` or `execute` directly.
  @Test func everyStatementTheStoreSendsIsGuarded() throws {
    let sources = URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Sources/PostgresDirectoryStore")
    let files = try FileManager.default.contentsOfDirectory(atPath: sources.path)
      .filter { $0.hasSuffix(".swift") && $0 != "GuardedStatements.swift" }
    #expect(files.count >= 5)
    for file in files {
      let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
      for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false)
        .enumerated()
      where line.contains(".query(") || line.contains(".execute(") {
        Issue.record("\(file):\(number + 1) sends a statement without the guard: \(line)")
      }
    }
  }

  /// How a statement sent in ``outcome(within:_:)`` ended.
  enum StatementOutcome: Equatable {
    case returned
    case failed(closed: Bool)
    /// Still waiting at the deadline: the hang the guard exists to prevent.
    case stillWaiting
  }

  /// Runs `body` in a task of its own and reports how it ended, or that it was still waiting
  /// after `limit` (the task is then abandoned), so that a hang fails the test instead of
  /// stalling the run.
  static func outcome<T: Sendable>(
    within limit: Duration, _ body: @escaping @Sendable () async throws -> T
  ) async -> StatementOutcome {
    let result = AsyncStream<StatementOutcome>.makeStream()
    Task {
      do {
        _ = try await body()
        result.continuation.yield(.returned)
      } catch {
        result.continuation.yield(.failed(closed: error is ConnectionClosed))
      }
    }
    let timer = Task {
      try? await Task.sleep(for: limit)
      result.continuation.yield(.stillWaiting)
    }
    defer { timer.cancel() }
    for await first in result.stream { return first }
    return .stillWaiting
  }

  /// Watching a connection for its close costs nothing once a commit is over: a pooled
  /// connection that serves many commits does not collect a callback per commit.
  @Test func commitsLeaveNothingWatchingTheirConnection() async throws {
    try await TestDatabase.with { database in
      let store = try await database.openStore()
      let admin = try Fixtures.record("admin@example.com", role: .admin)
      try await store.commit(ChangeSet(users: [admin]))
      for round in 0..<50 {
        try await store.commit(
          ChangeSet(
            auditEvents: [Fixtures.event(admin)],
            throttleUpdates: [
              ThrottleUpdate(
                user: admin.id, kind: .password,
                operation: round % 2 == 0 ? .recordFailure(at: Fixtures.now) : .reset)
            ]))
      }
      // Every connection of the store's client has served some of those commits; none keeps
      // a statement watched once they are over. (Other tests run at once in this process, with
      // clients of their own.)
      for _ in 0..<4 {
        try await database.client.withConnection { connection in
          #expect(ConnectionWatch.shared.waiting(on: connection) == 0)
        }
      }
    }
  }

  /// A URL's password never shows: not in its description, not in `dump`.
  @Test func urlsNeverShowTheirPassword() throws {
    let url = try PostgresStoreURL("postgres://app:s3cret-pw@db.internal:5433/users")
    #expect(url.password == "s3cret-pw")
    #expect(!url.description.contains("s3cret"))
    var dumped = ""
    dump(url, to: &dumped)
    #expect(!dumped.contains("s3cret"))
    #expect(dumped.contains("db.internal"))
    #expect(!String(reflecting: url).contains("s3cret"))
  }

  /// A URL says how it uses TLS, and never sends data to another host in plain text unless it
  /// says so; a parameter it does not understand is refused rather than silently ignored.
  @Test func urlsChooseTLSAndRefuseWhatTheyDoNotUnderstand() throws {
    for (text, mode) in [
      ("postgres://app@127.0.0.1:5432/users", PostgresStoreURL.TLSMode.disable),
      ("postgres://app@localhost/users", .disable),
      ("postgres://app@[::1]:5432/users", .disable),
      ("postgres://app@db.internal/users", .verifyFull),
      ("postgres://app@10.0.0.5/users", .verifyFull),
      ("postgres://app@127.0.0.1.evil.example/users", .verifyFull),
      ("postgres://app@db.internal/users?sslmode=disable", .disable),
      ("postgres://app@db.internal/users?sslmode=require", .require),
      ("postgresql://app@localhost/users?sslmode=verify-full", .verifyFull),
    ] {
      let url = try PostgresStoreURL(text)
      #expect(url.tlsMode == mode, "\(text)")
      #expect(url.description.hasSuffix("?sslmode=\(mode.rawValue)"))
      switch mode {
      case .disable: #expect(url.tlsConfiguration == nil, "\(text)")
      case .require:
        #expect(url.tlsConfiguration?.certificateVerification == CertificateVerification.none)
      case .verifyFull:
        #expect(url.tlsConfiguration?.certificateVerification == .fullVerification, "\(text)")
      }
    }
    for text in [
      "postgres://app@db.internal/users?sslmode=prefer",
      "postgres://app@db.internal/users?sslmode=allow",
      "postgres://app@db.internal/users?sslmode",
      "postgres://app@db.internal/users?connect_timeout=5",
      "postgres://app@db.internal/users?sslmode=require&sslmode=disable",
    ] {
      #expect(throws: UserManagementError.self, "\(text)") { try PostgresStoreURL(text) }
    }
  }

  /// A database whose schema is newer than this build is refused, and says so.
  @Test func newerSchemaIsRefused() async throws {
    try await TestDatabase.with { database in
      _ = try await database.openStore()
      try await database.execute(
        "UPDATE umk_schema SET version = \(PostgresDirectoryStore.schemaVersion + 1)")
      do {
        _ = try await database.openStore()
        Issue.record("a newer schema should be refused")
      } catch let error as UserManagementError {
        #expect(error.code == .unsupportedStoreFormat)
        #expect(error.context["schemaVersion"] == String(PostgresDirectoryStore.schemaVersion + 1))
      }
    }
  }

  /// Servers opening one empty database at once migrate it once, and all open.
  @Test func concurrentOpensMigrateOnce() async throws {
    try await TestDatabase.with { database in
      try await withThrowingTaskGroup(of: Int.self) { group in
        for _ in 0..<4 {
          group.addTask { try await PostgresDirectoryStore.migrate(client: database.client) }
        }
        var before: [Int] = []
        for try await version in group { before.append(version) }
        #expect(before.sorted() == [0, 1, 1, 1])
      }
      #expect(
        try await database.value(Int.self, "SELECT version FROM umk_schema")
          == PostgresDirectoryStore.schemaVersion)
    }
  }

  /// The rules hold in the database too: SQL that bypasses the store is refused.
  @Test(arguments: [
    (
      "duplicate canonical username",
      "INSERT INTO umk_users SELECT gen_random_uuid(), username_key, username, first_name, last_name, status, role, policies, api_access, has_api_password, has_password, must_change_password, email_verified, has_second_factor, version, security_stamp, created_at, updated_at, created_by_user, created_by_system, first_key, last_key, created_key, search, credentials FROM umk_users LIMIT 1",
      "23505"
    ),
    ("unknown role", "UPDATE umk_users SET role = 'root'", "23514"),
    ("version zero", "UPDATE umk_users SET version = 0", "23514"),
    ("deleting a held policy", "DELETE FROM umk_policies", "23503"),
    ("deleting a user", "DELETE FROM umk_users", "23P01"),
    ("no active administrator left", "UPDATE umk_users SET status = 'inactive'", "23514"),
  ])
  func databaseKeepsTheRules(_ rule: String, _ sql: String, _ state: String) async throws {
    try await TestDatabase.with { database in
      let store = try await database.openStore()
      let policy = Fixtures.policy("Held")
      try await store.commit(
        ChangeSet(
          users: [
            try Fixtures.record("admin@example.com", role: .admin),
            try Fixtures.record("holder@example.com", policies: [policy.id]),
          ], policies: [.put(policy)]))
      do {
        try await database.transaction([sql])
        Issue.record("\(rule) should be refused")
      } catch let error as PSQLError {
        #expect(error.serverInfo?[.sqlState] == state, "\(rule)")
      }
    }
  }
}

/// `SELECT 1` as a prepared statement.
private struct SelectOne: PostgresPreparedStatement {
  static let sql = "SELECT 1::int8"
  typealias Row = Int64
  func makeBindings() throws -> PostgresBindings { PostgresBindings() }
  func decodeRow(_ row: PostgresRow) throws -> Int64 { try row.decode(Int64.self) }
}
