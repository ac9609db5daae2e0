import Foundation
import Logging
import PostgresNIO
import Synchronization
import UserManagementKit

extension PostgresDirectoryStore {
  /// Applies a change set in one transaction, or nothing.
  ///
  /// The transaction first updates the directory row (the serialization point), then reads the
  /// rows the change set touches, checks the contract of ``UserManagementKit/ChangeSet`` in
  /// Swift, writes, and commits. A connection lost before `COMMIT` was sent fails the commit
  /// with nothing applied; one lost after is resolved by looking the commit's id up once the
  /// old server process has gone, so the caller learns the true outcome.
  ///
  /// - Parameter changes: The change set.
  /// - Throws: `UserManagementError` naming the failed check, or `storage_failure`.
  public func commit(_ changes: ChangeSet) async throws {
    // Everything slow-ish (encoding) happens before the lock.
    var rows: [UserRow] = []
    for record in changes.users { rows.append(try UserRow(record)) }
    var auditRows: [AuditRow] = []
    for event in changes.auditEvents { auditRows.append(try AuditRow(event)) }
    var policyDocuments: [(Policy, String)] = []
    for change in changes.policies {
      guard case .put(let policy) = change else { continue }
      guard Int64(exactly: policy.version) != nil else {
        throw UserManagementError(.invalidOperation, "The policy's version is out of range.")
      }
      policyDocuments.append((policy, try JSONText.encode(policy)))
    }
    var attempt = 0
    while true {
      attempt += 1
      let commitID = UUID()
      let progress = CommitProgress()
      do {
        let sequence = try await client.withConnection { connection in
          try await connection.query("BEGIN", logger: logger)
          progress.begun = true
          let sequence: Int64
          do {
            sequence = try await apply(
              changes, rows: rows, auditRows: auditRows, policyDocuments: policyDocuments,
              commitID: commitID, on: connection, progress: progress)
            if let hook = hooks.beforeCommit { try await hook(progress.backendPID) }
          } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
          }
          progress.commitSent = true
          try await Self.untilClosed(connection) { [logger] in
            try await connection.query("COMMIT", logger: logger)
          }
          return sequence
        }
        noteCommitted(through: sequence)
        return
      } catch let error as UserManagementError {
        throw error
      } catch {
        // A pooled connection the server had closed fails at `BEGIN`, before anything was
        // sent: try again on another connection.
        if !progress.begun, attempt <= 2, Self.isConnectionLoss(error) { continue }
        if progress.commitSent, !Self.serverAnswered(error) {
          try await resolveOutcome(of: commitID, backendPID: progress.backendPID, error: error)
          return
        }
        throw Self.mapCommitError(error)
      }
    }
  }

  /// Runs `body`, or throws as soon as the connection closes, whichever comes first.
  ///
  /// postgres-nio 1.33.2 can leave a query sent as the server terminates the connection
  /// waiting for ever; watching the connection's close turns that into a connection loss the
  /// commit resolves. A query left waiting is abandoned (it holds nothing but memory).
  static func untilClosed(
    _ connection: PostgresConnection, _ body: @escaping @Sendable () async throws -> Void
  ) async throws {
    let outcome = OneOutcome()
    try await withCheckedThrowingContinuation {
      (continuation: CheckedContinuation<Void, any Error>) in
      outcome.install(continuation)
      connection.closeFuture.whenComplete { _ in outcome.resume(.failure(ConnectionClosed())) }
      Task {
        do {
          try await body()
          outcome.resume(.success(()))
        } catch {
          outcome.resume(.failure(error))
        }
      }
    }
  }

  /// Whether the server itself reported `error` (so the transaction's outcome is known: it
  /// failed), rather than the connection failing.
  static func serverAnswered(_ error: any Error) -> Bool {
    (error as? PSQLError)?.serverInfo != nil && !isConnectionLoss(error)
  }

  /// The library's error for a failure the database reported inside a commit: a constraint of
  /// the schema that the Swift checks would have caught first unless something bypassed them.
  static func mapCommitError(_ error: any Error) -> UserManagementError {
    guard let psql = error as? PSQLError, let state = psql.serverInfo?[.sqlState] else {
      return failure(error, "commit the change")
    }
    let constraint = psql.serverInfo?[.constraintName] ?? ""
    switch state {
    case "23505" where constraint.contains("username"):
      return UserManagementError(
        .usernameTaken, "A user with this username already exists.",
        context: ["field": "username"], underlyingError: error)
    case "23505" where constraint.contains("name_key"):
      return UserManagementError(
        .policyNameTaken, "Another policy already has this name.", underlyingError: error)
    case "23503":
      return UserManagementError(
        .policyInUse, "The policy is still assigned to users.", underlyingError: error)
    case "23514" where constraint == "umk_last_active_administrator":
      return UserManagementError(
        .lastActiveAdministrator, "The directory must keep at least one active administrator.",
        underlyingError: error)
    case "40001", "40P01":
      return UserManagementError(
        .versionConflict, "The record changed; reload it and try again.", underlyingError: error)
    default:
      return failure(error, "commit the change")
    }
  }

  /// Learns whether a commit whose connection was lost after `COMMIT` was sent took effect:
  /// waits (briefly) for the old server process to end, then looks the commit's id up.
  private func resolveOutcome(of commitID: UUID, backendPID: Int32, error: any Error)
    async throws
  {
    for attempt in 0..<100 {
      do {
        let (stillRunning, committed) = try await client.withConnection { connection in
          var running = false
          for try await count in try await connection.query(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = \(backendPID)", logger: logger
          ).decode(Int64.self) {
            running = count > 0
          }
          var found = false
          for try await count in try await connection.query(
            "SELECT count(*) FROM umk_commits WHERE commit_id = \(commitID)", logger: logger
          ).decode(Int64.self) {
            found = count > 0
          }
          return (running, found)
        }
        if committed { return }
        if !stillRunning {
          throw UserManagementError(
            .storageFailure,
            "The connection to PostgreSQL was lost while committing; the change was not applied.",
            context: ["outcome": "not_applied"], underlyingError: error)
        }
      } catch let failure as UserManagementError {
        throw failure
      } catch {
        if attempt >= 20 { break }
      }
      try? await Task.sleep(for: .milliseconds(50))
    }
    throw UserManagementError(
      .storageFailure,
      "The connection to PostgreSQL was lost while committing, and whether the change was "
        + "applied could not be learned; read the state before retrying.",
      context: ["outcome": "unknown"], underlyingError: error)
  }

  /// Checks and writes, inside the open transaction. Returns the audit sequence number of the
  /// last event written (or the current one when there is none).
  private func apply(
    _ changes: ChangeSet, rows: [UserRow], auditRows: [AuditRow],
    policyDocuments: [(Policy, String)], commitID: UUID, on connection: PostgresConnection,
    progress: CommitProgress
  ) async throws -> Int64 {
    // 1. The serialization point: the directory row, which also reserves the audit numbers and
    // records the commit's id in the ring of recent commits.
    let eventCount = Int64(auditRows.count)
    let slots = Int64(Schema.commitSlots)
    var firstSequence: Int64 = 0
    var userCount: Int64 = 0
    var activeAdmins: Int64 = 0
    for try await (sequence, users, admins, pid) in try await connection.query(
      """
      WITH d AS (
        UPDATE umk_directory SET audit_seq = audit_seq + \(eventCount), commits = commits + 1
        WHERE id = 1 RETURNING audit_seq, commits, user_count, active_admins),
      c AS (
        INSERT INTO umk_commits (slot, commit_id) SELECT (commits % \(slots))::int, \(commitID)
        FROM d ON CONFLICT (slot) DO UPDATE SET commit_id = EXCLUDED.commit_id)
      SELECT audit_seq - \(eventCount) + 1, user_count, active_admins, pg_backend_pid() FROM d
      """, logger: logger
    ).decode((Int64, Int64, Int64, Int32).self) {
      firstSequence = sequence
      userCount = users
      activeAdmins = admins
      progress.backendPID = pid
    }

    // 2. Read what the change set touches.
    var userIDs = Set(changes.users.map(\.id.rawValue))
    var throttleKeys: [(UUID, String)] = []
    var policyIDs = Set<UUID>()
    for precondition in changes.preconditions {
      switch precondition {
      case .userVersion(let id, _): userIDs.insert(id.rawValue)
      case .policyVersion(let id, _): policyIDs.insert(id.rawValue)
      case .throttleFailures(let id, let kind, _): throttleKeys.append((id.rawValue, kind.rawValue))
      case .directoryIsEmpty: break
      }
    }
    for update in changes.throttleUpdates {
      throttleKeys.append((update.user.rawValue, update.kind.rawValue))
    }
    for change in changes.policies {
      switch change {
      case .put(let policy): policyIDs.insert(policy.id.rawValue)
      case .delete(let id, _): policyIDs.insert(id.rawValue)
      }
    }
    for record in changes.users { policyIDs.formUnion(record.user.policies.map(\.rawValue)) }
    let newKeys = zip(changes.users, rows).filter { $0.0.user.version == 1 }.map(\.1.usernameKey)

    var existing: [UUID: User] = [:]
    var takenKeys = Set<String>()
    if !userIDs.isEmpty {
      let ids = Array(userIDs)
      for try await (key, profile) in try await connection.query(
        """
        SELECT username_key, profile::text FROM umk_users
        WHERE id = ANY(\(ids)) OR username_key = ANY(\(newKeys))
        """, logger: logger
      ).decode((String, String).self) {
        let user = try JSONText.decode(User.self, profile)
        takenKeys.insert(key)
        existing[user.id.rawValue] = user
      }
    }

    var storedPolicies: [UUID: Policy] = [:]
    var policyIDsByName: [String: UUID] = [:]
    let putNameKeys = policyDocuments.map { Keys.normalized($0.0.nameKey) }
    if !policyIDs.isEmpty || !putNameKeys.isEmpty {
      let ids = Array(policyIDs)
      for try await (id, key, document) in try await connection.query(
        """
        SELECT id, name_key, document::text FROM umk_policies
        WHERE id = ANY(\(ids)) OR name_key = ANY(\(putNameKeys))
        """, logger: logger
      ).decode((UUID, String, String).self) {
        storedPolicies[id] = try JSONText.decode(Policy.self, document)
        policyIDsByName[key] = id
      }
    }

    var throttles: [ThrottleKeyPair: LoginThrottleState] = [:]
    if !throttleKeys.isEmpty {
      let users = throttleKeys.map(\.0)
      let kinds = throttleKeys.map(\.1)
      for try await (user, kind, failures, last) in try await connection.query(
        """
        SELECT t.user_id, t.kind, t.failures, t.last_failure FROM umk_throttles t
        JOIN unnest(\(users)::uuid[], \(kinds)::text[]) AS k(user_id, kind)
          ON t.user_id = k.user_id AND t.kind = k.kind
        """, logger: logger
      ).decode((UUID, String, Int64, Double?).self) {
        throttles[ThrottleKeyPair(user: user, kind: kind)] = LoginThrottleState(
          consecutiveFailures: Int(clamping: failures),
          lastFailure: last.map(Date.init(timeIntervalSinceReferenceDate:)))
      }
    }

    // 3. The checks of the contract, in the order the reference store makes them.
    var check = CommitCheck(
      existing: existing, takenKeys: takenKeys, policies: storedPolicies,
      policyIDsByName: policyIDsByName, throttles: throttles, userCount: userCount,
      activeAdmins: activeAdmins)
    try check.preconditions(changes.preconditions)
    try check.stagePolicies(changes.policies)
    try check.stageUsers(changes.users, rows: rows)
    let deletedPolicies = check.deletedPolicies
    if !deletedPolicies.isEmpty {
      var holders: [UUID: Int64] = [:]
      for try await (id, count) in try await connection.query(
        """
        SELECT policy_id, count(*) FROM umk_user_policies WHERE policy_id = ANY(\(deletedPolicies))
        GROUP BY policy_id
        """, logger: logger
      ).decode((UUID, Int64).self) {
        holders[id] = count
      }
      try check.checkDeletions(holders: holders)
    }
    try check.checkAdministrators()

    // 4. Writes: released policy holdings, deleted policies, policies, users, new holdings,
    // counters, audit.
    let (released, granted) = check.holdingChanges()
    if !released.isEmpty {
      let users = released.map(\.0)
      let policies = released.map(\.1)
      try await connection.query(
        """
        DELETE FROM umk_user_policies p USING unnest(\(users)::uuid[], \(policies)::uuid[]) AS d(u, q)
        WHERE p.user_id = d.u AND p.policy_id = d.q
        """, logger: logger)
    }
    if !deletedPolicies.isEmpty {
      try await connection.query(
        "DELETE FROM umk_policies WHERE id = ANY(\(deletedPolicies))", logger: logger)
    }
    let finalPolicies = check.stagedPolicyPuts
    if !finalPolicies.isEmpty {
      let documents = Dictionary(
        policyDocuments.map { ($0.0.id, $0.1) }, uniquingKeysWith: { _, last in last })
      let ids = finalPolicies.map(\.id.rawValue)
      let keys = finalPolicies.map { Keys.normalized($0.nameKey) }
      let versions = finalPolicies.map { Int64(clamping: $0.version) }
      let texts = finalPolicies.map { documents[$0.id] ?? "" }
      try await connection.query(
        """
        INSERT INTO umk_policies (id, name_key, version, document)
        SELECT i, k, v, d::json FROM unnest(\(ids)::uuid[], \(keys)::text[], \(versions)::int8[], \(texts)::text[]) AS x(i, k, v, d)
        ON CONFLICT (id) DO UPDATE SET name_key = EXCLUDED.name_key, version = EXCLUDED.version,
          document = EXCLUDED.document
        """, logger: logger)
    }
    let finalRows = check.finalRows(rows)
    var auditWritten = false
    if !finalRows.isEmpty, !auditRows.isEmpty {
      // The common case, users and their audit events, in one statement.
      try await Self.writeUsersAndAudit(
        finalRows, auditRows, firstSequence: firstSequence, on: connection, logger: logger)
      auditWritten = true
    } else if !finalRows.isEmpty {
      try await Self.writeUsers(finalRows, on: connection, logger: logger)
    }
    if !granted.isEmpty {
      let users = granted.map(\.0)
      let policies = granted.map(\.1)
      try await connection.query(
        """
        INSERT INTO umk_user_policies (user_id, policy_id)
        SELECT * FROM unnest(\(users)::uuid[], \(policies)::uuid[])
        """, logger: logger)
    }
    if !changes.throttleUpdates.isEmpty {
      var results: [ThrottleKeyPair: LoginThrottleState] = [:]
      var order: [ThrottleKeyPair] = []
      for update in changes.throttleUpdates {
        let key = ThrottleKeyPair(user: update.user.rawValue, kind: update.kind.rawValue)
        if results[key] == nil { order.append(key) }
        results[key] = update.applied(to: results[key] ?? throttles[key] ?? .clear)
      }
      let users = order.map(\.user)
      let kinds = order.map(\.kind)
      let failures = order.map { Int64(results[$0]?.consecutiveFailures ?? 0) }
      let hasTime = order.map { results[$0]?.lastFailure != nil }
      let times = order.map { results[$0]?.lastFailure?.timeIntervalSinceReferenceDate ?? 0 }
      try await connection.query(
        """
        INSERT INTO umk_throttles (user_id, kind, failures, last_failure)
        SELECT u, k, f, CASE WHEN h THEN t END
        FROM unnest(\(users)::uuid[], \(kinds)::text[], \(failures)::int8[], \(hasTime)::bool[], \(times)::float8[]) AS x(u, k, f, h, t)
        ON CONFLICT (user_id, kind) DO UPDATE SET failures = EXCLUDED.failures,
          last_failure = EXCLUDED.last_failure
        """, logger: logger)
    }
    if !auditRows.isEmpty, !auditWritten {
      let sequences = auditRows.indices.map { firstSequence + Int64($0) }
      let times = auditRows.map(\.time)
      let actors = auditRows.map(\.actor)
      let targetUsers = auditRows.map(\.targetUser)
      let targetPolicies = auditRows.map(\.targetPolicy)
      let events = auditRows.map(\.event)
      let last = String(firstSequence + eventCount - 1)
      try await connection.query(
        """
        WITH a AS (
          INSERT INTO umk_audit (seq, time, actor, target_user, target_policy, event)
          SELECT s, t, a, NULLIF(u, '')::uuid, NULLIF(p, '')::uuid, e::json
          FROM unnest(\(sequences)::int8[], \(times)::float8[], \(actors)::text[], \(targetUsers)::text[], \(targetPolicies)::text[], \(events)::text[]) AS x(s, t, a, u, p, e))
        SELECT pg_notify('umk_audit', \(last))
        """, logger: logger)
    }
    return firstSequence + eventCount - 1
  }

  /// Upserts users and inserts audit events (and wakes subscribers) in one statement.
  static func writeUsersAndAudit(
    _ rows: [UserRow], _ auditRows: [AuditRow], firstSequence: Int64,
    on connection: PostgresConnection, logger: Logger
  ) async throws {
    let ids = rows.map(\.id)
    let keys = rows.map(\.usernameKey)
    let statuses = rows.map(\.status)
    let roles = rows.map(\.role)
    let versions = rows.map(\.version)
    let access = rows.map(\.apiAccess)
    let firsts = rows.map(\.firstKey)
    let lasts = rows.map(\.lastKey)
    let created = rows.map(\.createdKey)
    let search = rows.map(\.search)
    let profiles = rows.map(\.profile)
    let credentials = rows.map(\.credentials)
    let sequences = auditRows.indices.map { firstSequence + Int64($0) }
    let times = auditRows.map(\.time)
    let actors = auditRows.map(\.actor)
    let targetUsers = auditRows.map(\.targetUser)
    let targetPolicies = auditRows.map(\.targetPolicy)
    let events = auditRows.map(\.event)
    let last = String(firstSequence + Int64(auditRows.count) - 1)
    try await connection.query(
      """
      WITH u AS (
        INSERT INTO umk_users (id, username_key, status, role, version, api_access, first_key,
          last_key, created_key, search, profile, credentials)
        SELECT i, k, s, r, v, a, f, l, c, q, p::json, d::json
        FROM unnest(\(ids)::uuid[], \(keys)::text[], \(statuses)::text[], \(roles)::text[], \(versions)::int8[], \(access)::bool[], \(firsts)::text[], \(lasts)::text[], \(created)::text[], \(search)::text[], \(profiles)::text[], \(credentials)::text[])
          AS x(i, k, s, r, v, a, f, l, c, q, p, d)
        ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, role = EXCLUDED.role,
          version = EXCLUDED.version, api_access = EXCLUDED.api_access,
          first_key = EXCLUDED.first_key, last_key = EXCLUDED.last_key,
          created_key = EXCLUDED.created_key, search = EXCLUDED.search,
          profile = EXCLUDED.profile, credentials = EXCLUDED.credentials),
      a AS (
        INSERT INTO umk_audit (seq, time, actor, target_user, target_policy, event)
        SELECT s, t, a, NULLIF(u, '')::uuid, NULLIF(p, '')::uuid, e::json
        FROM unnest(\(sequences)::int8[], \(times)::float8[], \(actors)::text[], \(targetUsers)::text[], \(targetPolicies)::text[], \(events)::text[]) AS x(s, t, a, u, p, e))
      SELECT pg_notify('umk_audit', \(last))
      """, logger: logger)
  }

  static func writeUsers(_ rows: [UserRow], on connection: PostgresConnection, logger: Logger)
    async throws
  {
    let ids = rows.map(\.id)
    let keys = rows.map(\.usernameKey)
    let statuses = rows.map(\.status)
    let roles = rows.map(\.role)
    let versions = rows.map(\.version)
    let access = rows.map(\.apiAccess)
    let firsts = rows.map(\.firstKey)
    let lasts = rows.map(\.lastKey)
    let created = rows.map(\.createdKey)
    let search = rows.map(\.search)
    let profiles = rows.map(\.profile)
    let credentials = rows.map(\.credentials)
    try await connection.query(
      """
      INSERT INTO umk_users (id, username_key, status, role, version, api_access, first_key,
        last_key, created_key, search, profile, credentials)
      SELECT i, k, s, r, v, a, f, l, c, q, p::json, d::json
      FROM unnest(\(ids)::uuid[], \(keys)::text[], \(statuses)::text[], \(roles)::text[], \(versions)::int8[], \(access)::bool[], \(firsts)::text[], \(lasts)::text[], \(created)::text[], \(search)::text[], \(profiles)::text[], \(credentials)::text[])
        AS x(i, k, s, r, v, a, f, l, c, q, p, d)
      ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, role = EXCLUDED.role,
        version = EXCLUDED.version, api_access = EXCLUDED.api_access,
        first_key = EXCLUDED.first_key, last_key = EXCLUDED.last_key,
        created_key = EXCLUDED.created_key, search = EXCLUDED.search,
        profile = EXCLUDED.profile, credentials = EXCLUDED.credentials
      """, logger: logger)
  }

  /// Remembers that this process has seen the audit trail up to `sequence`.
  func noteCommitted(through sequence: Int64) {
    state.withLock { $0.lastKnownSequence = max($0.lastKnownSequence, sequence) }
  }
}

/// How far a commit got, for deciding what a lost connection means.
final class CommitProgress: Sendable {
  private let storage = Mutex((pid: Int32(0), begun: false, sent: false))

  var begun: Bool {
    get { storage.withLock { $0.begun } }
    set { storage.withLock { $0.begun = newValue } }
  }

  var backendPID: Int32 {
    get { storage.withLock { $0.pid } }
    set { storage.withLock { $0.pid = newValue } }
  }

  var commitSent: Bool {
    get { storage.withLock { $0.sent } }
    set { storage.withLock { $0.sent = newValue } }
  }
}

/// The connection closed while a statement was outstanding.
struct ConnectionClosed: Error {}

/// A continuation resumed by whichever of several racers finishes first.
final class OneOutcome: Sendable {
  private let state = Mutex<(CheckedContinuation<Void, any Error>?, Result<Void, any Error>?)>(
    (nil, nil))

  func install(_ continuation: CheckedContinuation<Void, any Error>) {
    let early: Result<Void, any Error>? = state.withLock { state in
      if let result = state.1 { return result }
      state.0 = continuation
      return nil
    }
    if let early { continuation.resume(with: early) }
  }

  func resume(_ result: Result<Void, any Error>) {
    let continuation: CheckedContinuation<Void, any Error>? = state.withLock { state in
      guard state.1 == nil else { return nil }
      state.1 = result
      defer { state.0 = nil }
      return state.0
    }
    continuation?.resume(with: result)
  }
}

/// The key of a sign-in counter as stored.
struct ThrottleKeyPair: Hashable {
  var user: UUID
  var kind: String
}

/// The columns of one audit event.
struct AuditRow {
  var time: Double
  var actor: String
  var targetUser: String
  var targetPolicy: String
  var event: String

  init(_ event: AuditEvent) throws(UserManagementError) {
    time = event.time.timeIntervalSinceReferenceDate
    actor = Keys.principal(event.actor)
    switch event.target {
    case .user(let id, _):
      targetUser = id.rawValue.uuidString
      targetPolicy = ""
    case .policy(let id, _):
      targetUser = ""
      targetPolicy = id.rawValue.uuidString
    }
    self.event = try JSONText.encode(event)
  }
}
