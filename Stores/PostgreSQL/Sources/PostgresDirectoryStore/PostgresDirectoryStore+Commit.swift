import Foundation
import Logging
import PostgresNIO
import Synchronization
import UserManagementKit

extension PostgresDirectoryStore {
  /// Applies a change set in one transaction, or nothing.
  ///
  /// The transaction first locks the directory row (the serialization point), reads the rows
  /// the change set touches, checks the contract of ``UserManagementKit/ChangeSet`` in Swift,
  /// writes, and commits. Commits that arrive while another is in flight in this process are
  /// applied together in the next transaction (group commit): each is checked against the
  /// state its predecessors in the group left, one that fails its checks writes nothing and
  /// gets its own error, and all that pass become durable with one `COMMIT`. A connection lost
  /// before `COMMIT` was sent fails the commit with nothing applied; one lost after is resolved
  /// by looking the commit's id up once the old server process has gone, so the caller learns
  /// the true outcome.
  ///
  /// - Parameter changes: The change set.
  /// - Throws: `UserManagementError` naming the failed check, or `storage_failure`.
  public func commit(_ changes: ChangeSet) async throws {
    // Everything slow-ish (encoding) happens before the lock.
    let prepared = try PreparedCommit(changes)
    try await commitQueue.submit(prepared) { batch in await self.commit(batch) }
  }

  /// Commits a group of change sets: together in one transaction when there are several, and
  /// each alone again if the group's transaction fails for a reason other than a check.
  func commit(_ batch: [PreparedCommit]) async -> [Result<Void, any Error>] {
    if batch.count > 1 {
      do {
        return try await commitTogether(batch)
      } catch {
        // Nothing of the group was applied (the server refused a statement, or the connection
        // closed before `COMMIT`): give each its own transaction and its own outcome.
      }
    }
    var results: [Result<Void, any Error>] = []
    for member in batch {
      do {
        try await commitAlone(member)
        results.append(.success(()))
      } catch {
        results.append(.failure(error))
      }
    }
    return results
  }

  /// One change set on its own: in two round trips when it changes only users, sign-in
  /// counters and audit events and no other commit lands between its read and its write (the
  /// common case), else in a transaction that holds the directory row.
  private func commitAlone(_ prepared: PreparedCommit) async throws {
    for _ in 0..<3 {
      switch try await commitInOneStatement(prepared) {
      case .committed: return
      case .raced: continue
      case .needsTransaction: return try await commitInTransaction(prepared)
      }
    }
    try await commitInTransaction(prepared)
  }

  /// What came of a commit tried in one statement.
  private enum OneStatementOutcome {
    /// It committed.
    case committed
    /// Another commit landed between the read and the write, which wrote nothing.
    case raced
    /// It changes policies or policy holdings, which the one statement does not write.
    case needsTransaction
  }

  /// Reads what the change set touches (one snapshot, no lock), checks it, and writes in one
  /// statement that runs as its own transaction and writes only if the directory's commit
  /// count is still the one read: then no commit landed in between, so the checks hold.
  private func commitInOneStatement(_ prepared: PreparedCommit) async throws
    -> OneStatementOutcome
  {
    if !prepared.changes.policies.isEmpty { return .needsTransaction }
    var attempt = 0
    while true {
      attempt += 1
      let commitID = UUID()
      defer { forgetInFlight([commitID]) }
      let progress = CommitProgress()
      do {
        let outcome: (OneStatementOutcome, Int64) = try await client.withConnection {
          connection in
          var direct: PendingWrites? = nil
          do {
            let sequence = try await apply(
              prepared, commitID: commitID, pending: &direct, readOnly: true,
              on: connection, progress: progress)
            return (.committed, sequence)
          } catch is CommitRace {
            return (.raced, 0)
          } catch is NeedsTransaction {
            return (.needsTransaction, 0)
          } catch let failure as UserManagementError {
            // The reads may span snapshots (counters, policies): a check that failed against
            // them stands only if no commit landed since the first read.
            var now: Int64 = -1
            for try await commits in try await connection.guardedQuery(
              "SELECT commits FROM umk_directory WHERE id = 1", logger: logger
            ).decode(Int64.self) {
              now = commits
            }
            if now != progress.commitsRead { return (.raced, 0) }
            throw failure
          }
        }
        if case .committed = outcome.0 {
          if let hook = hooks.afterCommitLanded { await hook() }
          noteCommitted(through: outcome.1, events: prepared.auditRows.count)
        }
        return outcome.0
      } catch let error as UserManagementError {
        throw error
      } catch {
        // Reads are idempotent: a closed pooled connection before the write is tried again.
        if !progress.commitSent, attempt <= 2, Self.isConnectionLoss(error) { continue }
        // A session whose default isolation is stricter than READ COMMITTED reports a race as
        // a serialization failure (or a deadlock), after which nothing was applied: the same
        // as `CommitRace` (after three, the commit takes the locking transaction).
        if Self.isSerializationFailure(error) { return .raced }
        if progress.commitSent, !Self.serverAnswered(error) {
          try await resolveOutcome(of: commitID, backendPID: progress.backendPID, error: error)
          return .committed
        }
        throw Self.mapCommitError(error)
      }
    }
  }

  /// One change set in a transaction that holds the directory row.
  private func commitInTransaction(_ prepared: PreparedCommit) async throws {
    var attempt = 0
    while true {
      attempt += 1
      let commitID = UUID()
      defer { forgetInFlight([commitID]) }
      let progress = CommitProgress()
      do {
        let sequence = try await inTransaction(progress) { connection in
          var direct: PendingWrites? = nil
          let sequence = try await apply(
            prepared, commitID: commitID, pending: &direct, readOnly: false, on: connection,
            progress: progress)
          return (sequence, commit: true)
        }
        noteCommitted(through: sequence, events: prepared.auditRows.count)
        return
      } catch let error as UserManagementError {
        throw error
      } catch {
        // A pooled connection the server had closed fails at `BEGIN`, before anything was
        // sent: try again on another connection.
        if !progress.begun, attempt <= 2, Self.isConnectionLoss(error) { continue }
        // The server rolled the transaction back (even at `COMMIT`): nothing was applied.
        if attempt <= Self.serializationRetries, Self.isSerializationFailure(error) { continue }
        if progress.commitSent, !Self.serverAnswered(error) {
          try await resolveOutcome(of: commitID, backendPID: progress.backendPID, error: error)
          return
        }
        throw Self.mapCommitError(error)
      }
    }
  }

  /// Several change sets in one transaction. A member whose checks fail has written nothing
  /// (checks come before writes) and gets its error; the others commit together.
  ///
  /// - Throws: Only when nothing of the group was applied and each member may be tried alone.
  ///   A group whose `COMMIT` was sent and whose outcome was then learned returns results.
  private func commitTogether(_ batch: [PreparedCommit]) async throws
    -> [Result<Void, any Error>]
  {
    let commitIDs = batch.map { _ in UUID() }
    defer { forgetInFlight(commitIDs) }
    let progress = CommitProgress()
    let checks = Mutex<[UserManagementError?]>([])
    do {
      let sequence = try await inTransaction(progress) { connection in
        var last: Int64 = 0
        var wroteEvents = false
        // The members' rows wait here and go to the database in one statement.
        var pending: PendingWrites? = PendingWrites()
        for (member, commitID) in zip(batch, commitIDs) {
          do {
            last = try await apply(
              member, commitID: commitID, pending: &pending, readOnly: false, on: connection,
              progress: progress)
            checks.withLock { $0.append(nil) }
            wroteEvents = wroteEvents || !member.auditRows.isEmpty
          } catch let failure as UserManagementError {
            checks.withLock { $0.append(failure) }
          }
        }
        if checks.withLock({ $0.allSatisfy { $0 != nil } }) { return (last, commit: false) }
        // The staged rows, and one wake-up for the group's events.
        if let staged = pending, !staged.isEmpty {
          try await staged.flush(on: connection, notify: wroteEvents, logger: logger)
        } else if wroteEvents {
          try await connection.guardedQuery(
            "SELECT pg_notify('umk_audit', \(String(last)))", logger: logger)
        }
        return (last, commit: true)
      }
      let written = zip(batch, checks.withLock { $0 }).filter { $0.1 == nil }
        .reduce(0) { $0 + $1.0.auditRows.count }
      noteCommitted(through: sequence, events: written)
    } catch {
      guard progress.commitSent, !Self.serverAnswered(error) else { throw error }
      // The group's fate is one: learn it from the id of a member that wrote.
      let checked = checks.withLock { $0 }
      guard let index = checked.firstIndex(where: { $0 == nil }) else { throw error }
      do {
        try await resolveOutcome(
          of: commitIDs[index], backendPID: progress.backendPID, error: error)
      } catch {
        return checked.map { _ in .failure(error) }
      }
    }
    return checks.withLock { $0 }.map { $0.map { .failure($0) } ?? .success(()) }
  }

  /// Runs `body` in a transaction on a pooled connection: `BEGIN`, `body`, the test hook, then
  /// `COMMIT`, watched for the connection closing. Rolls back when `body` or the hook throws,
  /// or when `body` asks not to commit. Notes in `progress` how far it got, for deciding what a
  /// lost connection means.
  private func inTransaction<T: Sendable>(
    _ progress: CommitProgress,
    _ body: (PostgresConnection) async throws -> (value: T, commit: Bool)
  ) async throws -> T {
    try await client.withConnection { connection in
      // Pinned, whatever the session's default: the commit's checks rely on READ COMMITTED's
      // re-check of the locked directory row.
      try await connection.guardedQuery("BEGIN ISOLATION LEVEL READ COMMITTED", logger: logger)
      progress.begun = true
      let result: (value: T, commit: Bool)
      do {
        result = try await body(connection)
        if result.commit, let hook = hooks.beforeCommit { try await hook(progress.backendPID) }
      } catch {
        _ = try? await connection.guardedQuery("ROLLBACK", logger: logger)
        throw error
      }
      guard result.commit else {
        _ = try? await connection.guardedQuery("ROLLBACK", logger: logger)
        return result.value
      }
      progress.commitSent = true
      try await connection.guardedQuery("COMMIT", logger: logger)
      return result.value
    }
  }

  /// How many times a commit that failed with a serialization failure or a deadlock is tried
  /// again before the failure goes to the caller as a version conflict.
  static let serializationRetries = 8

  /// Whether the server rolled the statement or transaction back because of a concurrent one
  /// (SQLSTATE 40001 or 40P01), so that nothing of it was applied and it may be tried again.
  static func isSerializationFailure(_ error: any Error) -> Bool {
    guard let state = (error as? PSQLError)?.serverInfo?[.sqlState] else { return false }
    return state == "40001" || state == "40P01"
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
    let error = PostgresServerError(psql)
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
      return failure(psql, "commit the change")
    }
  }

  /// Learns whether a commit whose connection was lost after `COMMIT` was sent took effect:
  /// waits (briefly) for the old server process to end, then looks the commit's id up.
  private func resolveOutcome(of commitID: UUID, backendPID: Int32, error: any Error)
    async throws
  {
    let error: any Error = (error as? PSQLError).map(PostgresServerError.init) ?? error
    for attempt in 0..<100 {
      do {
        let (stillRunning, committed) = try await client.withConnection { connection in
          var running = false
          for try await count in try await connection.guardedQuery(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = \(backendPID)", logger: logger
          ).decode(Int64.self) {
            running = count > 0
          }
          var found = false
          for try await count in try await connection.guardedQuery(
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
  ///
  /// Checks come before any write, so a change set that fails them (a `UserManagementError`)
  /// leaves the transaction as it found it.
  ///
  /// - Parameters:
  ///   - prepared: The change set, encoded.
  ///   - commitID: Its id, for the ring of recent commits.
  ///   - pending: `nil` for a commit of its own, which writes at once and wakes audit
  ///     subscribers. In a group, the rows earlier members staged: this member sees them over
  ///     what it reads, and stages its own users, counters and events there too, unless it
  ///     changes policies or holdings, whose statements need the database to hold everything
  ///     before them (then the staged rows are written first, and this member's at once).
  ///   - readOnly: Whether the connection is outside a transaction: then nothing is locked, the
  ///     reads share one snapshot, and the change set is written by one statement that writes
  ///     only if no commit landed since the reads (else it throws `CommitRace`); a change set
  ///     with policy or holding statements throws `NeedsTransaction` before writing anything.
  ///   - connection: The connection of the open transaction.
  ///   - progress: Where the server process id is noted, and whether the write was sent.
  /// - Returns: The audit sequence number of the member's last event.
  /// - Throws: `UserManagementError` when a check fails (nothing written), or what the
  ///   database reports.
  private func apply(
    _ prepared: PreparedCommit, commitID: UUID, pending: inout PendingWrites?, readOnly: Bool,
    on connection: PostgresConnection, progress: CommitProgress
  ) async throws -> Int64 {
    let changes = prepared.changes
    let rows = prepared.rows
    let auditRows = prepared.auditRows

    // What the change set touches.
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
    let ids = Array(userIDs)
    let newKeys = zip(changes.users, rows).filter { $0.0.user.version == 1 }.map(\.1.usernameKey)

    // 1. The serialization point: the directory row, locked, read in the same statement as the
    // users. The users come from the statement's snapshot, which may predate the lock; they
    // are current exactly when no commit updated the directory row in between, which the
    // statement tells (a commit always updates that row). Otherwise they are read again.
    var auditSequence: Int64 = 0
    var userCount: Int64 = 0
    var activeAdmins: Int64 = 0
    var fresh = false
    var commitsRead: Int64 = 0
    var existing: [UUID: User] = [:]
    var takenKeys = Set<String>()
    let read: [LockAndReadUsers.Row]
    if readOnly {
      read = try await connection.guardedRows(
        ReadUsers(ids: ids, keys: newKeys), logger: logger)
    } else {
      read = try await connection.guardedRows(
        LockAndReadUsers(ids: ids, keys: newKeys), logger: logger)
    }
    for row in read {
      auditSequence = row.auditSequence
      userCount = row.userCount
      activeAdmins = row.activeAdmins
      commitsRead = row.commits
      progress.commitsRead = row.commits
      fresh = readOnly || row.commitsSinceSnapshot == 0
      progress.backendPID = Int32(clamping: row.backendPID)
      if let (key, user) = row.user {
        takenKeys.insert(key)
        existing[user.id.rawValue] = user
      }
    }
    if !fresh, !(ids.isEmpty && newKeys.isEmpty) {
      existing = [:]
      takenKeys = []
      for try await row in try await connection.guardedQuery(
        """
        SELECT username_key, \(unescaped: UserColumns.list) FROM umk_users
        WHERE id = ANY(\(ids)) OR username_key = ANY(\(newKeys))
        """, logger: logger
      ) {
        let cells = row.makeRandomAccess()
        let user = try UserColumns.user(cells, at: 1)
        takenKeys.insert(try cells[0].decode(String.self))
        existing[user.id.rawValue] = user
      }
    }

    // What earlier members of the group staged, over what the database holds.
    if let staged = pending {
      auditSequence += Int64(staged.audit.count)
      userCount += staged.insertedUsers
      activeAdmins += staged.adminDelta
      for id in userIDs {
        if let user = staged.users[id]?.user { existing[id] = user }
      }
      for key in newKeys where staged.insertedKeys.contains(key) { takenKeys.insert(key) }
    }

    // 2. Policies and sign-in counters, when the change set touches any.
    var storedPolicies: [UUID: Policy] = [:]
    var policyIDsByName: [String: UUID] = [:]
    let putNameKeys = prepared.policyDocuments.map { Keys.normalized($0.0.nameKey) }
    if !policyIDs.isEmpty || !putNameKeys.isEmpty {
      let ids = Array(policyIDs)
      for try await (id, key, document) in try await connection.guardedQuery(
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
      for try await (user, kind, failures, last) in try await connection.guardedQuery(
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

    if let staged = pending {
      for (user, kind) in throttleKeys {
        let key = ThrottleKeyPair(user: user, kind: kind)
        if let state = staged.throttles[key] { throttles[key] = state }
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
      for try await (id, count) in try await connection.guardedQuery(
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

    // 4. Writes: released policy holdings, deleted policies, policies; then users, counters,
    // audit events and the directory row in one statement; then new holdings (which need the
    // users).
    let (released, granted) = check.holdingChanges()
    let finalPolicies = check.stagedPolicyPuts
    var throttleResults: [ThrottleKeyPair: LoginThrottleState] = [:]
    var throttleOrder: [ThrottleKeyPair] = []
    for update in changes.throttleUpdates {
      let key = ThrottleKeyPair(user: update.user.rawValue, kind: update.kind.rawValue)
      if throttleResults[key] == nil { throttleOrder.append(key) }
      throttleResults[key] = update.applied(to: throttleResults[key] ?? throttles[key] ?? .clear)
    }
    let lastSequence = auditSequence + Int64(auditRows.count)
    // From here the events may land as these numbers: a subscription whose feed starts
    // listening before this process learns the outcome must still hear them.
    if !auditRows.isEmpty { registerInFlight(commitID, (auditSequence + 1)...lastSequence) }
    let onlyRows =
      released.isEmpty && granted.isEmpty && deletedPolicies.isEmpty && finalPolicies.isEmpty
    if var staged = pending {
      if onlyRows {
        staged.stage(
          check.finalUsers(rows), newKeys: check.newKeys, adminDelta: check.adminDelta,
          throttles: throttleOrder.map { ($0, throttleResults[$0] ?? .clear) },
          audit: auditRows, commitID: commitID, auditSequence: auditSequence)
        pending = staged
        return lastSequence
      }
      if !staged.isEmpty {
        try await staged.flush(on: connection, notify: false, logger: logger)
        pending = PendingWrites()
      }
    }
    if readOnly {
      guard onlyRows else { throw NeedsTransaction() }
      if let hook = hooks.beforeCommit { try await hook(progress.backendPID) }
      let write = WriteCommit(
        users: check.finalRows(rows),
        throttles: throttleOrder.map { ($0, throttleResults[$0] ?? .clear) },
        audit: auditRows, firstSequence: auditSequence + 1, commitIDs: [commitID],
        notify: !auditRows.isEmpty, expectedCommits: commitsRead)
      progress.commitSent = true
      let applied = try await connection.guardedRows(write, logger: logger)
      guard applied.last == 1 else { throw CommitRace() }
      return lastSequence
    }
    if !released.isEmpty {
      let users = released.map(\.0)
      let policies = released.map(\.1)
      try await connection.guardedQuery(
        """
        DELETE FROM umk_user_policies p USING unnest(\(users)::uuid[], \(policies)::uuid[]) AS d(u, q)
        WHERE p.user_id = d.u AND p.policy_id = d.q
        """, logger: logger)
    }
    if !deletedPolicies.isEmpty {
      try await connection.guardedQuery(
        "DELETE FROM umk_policies WHERE id = ANY(\(deletedPolicies))", logger: logger)
    }
    if !finalPolicies.isEmpty {
      let documents = Dictionary(
        prepared.policyDocuments.map { ($0.0.id, $0.1) }, uniquingKeysWith: { _, last in last })
      let ids = finalPolicies.map(\.id.rawValue)
      let keys = finalPolicies.map { Keys.normalized($0.nameKey) }
      let versions = finalPolicies.map { Int64(clamping: $0.version) }
      let texts = finalPolicies.map { documents[$0.id] ?? "" }
      try await connection.guardedQuery(
        """
        INSERT INTO umk_policies (id, name_key, version, document)
        SELECT i, k, v, d::json FROM unnest(\(ids)::uuid[], \(keys)::text[], \(versions)::int8[], \(texts)::text[]) AS x(i, k, v, d)
        ON CONFLICT (id) DO UPDATE SET name_key = EXCLUDED.name_key, version = EXCLUDED.version,
          document = EXCLUDED.document
        """, logger: logger)
    }

    _ = try await connection.guardedRows(
      WriteCommit(
        users: check.finalRows(rows),
        throttles: throttleOrder.map { ($0, throttleResults[$0] ?? .clear) },
        audit: auditRows, firstSequence: auditSequence + 1, commitIDs: [commitID],
        notify: pending == nil && !auditRows.isEmpty),
      logger: logger)
    if !granted.isEmpty {
      let users = granted.map(\.0)
      let policies = granted.map(\.1)
      try await connection.guardedQuery(
        """
        INSERT INTO umk_user_policies (user_id, policy_id)
        SELECT * FROM unnest(\(users)::uuid[], \(policies)::uuid[])
        """, logger: logger)
    }
    return lastSequence
  }

  /// Notes that a commit of this process may land its audit events as `numbers`.
  func registerInFlight(_ commitID: UUID, _ numbers: ClosedRange<Int64>) {
    state.withLock { $0.feed.inFlight[commitID] = numbers }
  }

  /// Forgets commits whose outcome this process knows (or gave up learning).
  func forgetInFlight(_ commitIDs: [UUID]) {
    state.withLock { state in
      for id in commitIDs { state.feed.inFlight.removeValue(forKey: id) }
    }
  }

  /// Remembers that this process committed audit events up to `sequence` (`events` of them,
  /// numbered consecutively): the audit trail is known up to there, and a subscription not
  /// yet established must still hear them (see ``subscribeToAuditEvents()``).
  func noteCommitted(through sequence: Int64, events: Int) {
    state.withLock { state in
      state.lastKnownSequence = max(state.lastKnownSequence, sequence)
      guard events > 0, !state.feed.established else { return }
      let own = (sequence - Int64(events) + 1)...sequence
      for token in state.feed.subscribers.keys { state.feed.subscribers[token]?.own.append(own) }
    }
  }
}

/// The rows the members of a group commit have staged and not yet written: users (the last
/// record of each), sign-in counters (the last state of each), audit events in order, and the
/// members' commit ids.
struct PendingWrites {
  private(set) var users: [UUID: (row: UserRow, user: User)] = [:]
  private var userOrder: [UUID] = []
  private(set) var throttles: [ThrottleKeyPair: LoginThrottleState] = [:]
  private var throttleOrder: [ThrottleKeyPair] = []
  private(set) var audit: [AuditRow] = []
  private var commitIDs: [UUID] = []
  /// The directory's audit sequence before the first staged event.
  private var baseSequence: Int64 = 0
  /// Users the staged rows add, and their canonical usernames.
  private(set) var insertedUsers: Int64 = 0
  private(set) var insertedKeys = Set<String>()
  /// The change in active administrators the staged rows make.
  private(set) var adminDelta: Int64 = 0

  var isEmpty: Bool { commitIDs.isEmpty }

  /// Stages one member's writes; `auditSequence` is the sequence before its first event.
  mutating func stage(
    _ finalUsers: [(UserRow, User)], newKeys: Set<String>, adminDelta: Int64,
    throttles: [(ThrottleKeyPair, LoginThrottleState)], audit: [AuditRow], commitID: UUID,
    auditSequence: Int64
  ) {
    if commitIDs.isEmpty { baseSequence = auditSequence }
    for (row, user) in finalUsers {
      if users[row.id] == nil { userOrder.append(row.id) }
      users[row.id] = (row, user)
    }
    for (key, state) in throttles {
      if self.throttles[key] == nil { throttleOrder.append(key) }
      self.throttles[key] = state
    }
    self.audit += audit
    commitIDs.append(commitID)
    insertedUsers += Int64(newKeys.count)
    insertedKeys.formUnion(newKeys)
    self.adminDelta += adminDelta
  }

  /// Writes everything staged in one statement.
  func flush(on connection: PostgresConnection, notify: Bool, logger: Logger) async throws {
    _ = try await connection.guardedRows(
      WriteCommit(
        users: userOrder.compactMap { users[$0]?.row },
        throttles: throttleOrder.compactMap { key in throttles[key].map { (key, $0) } },
        audit: audit, firstSequence: baseSequence + 1, commitIDs: commitIDs, notify: notify),
      logger: logger)
  }
}

/// A change set with its rows encoded, ready to commit.
struct PreparedCommit: Sendable {
  let changes: ChangeSet
  let rows: [UserRow]
  let auditRows: [AuditRow]
  let policyDocuments: [(Policy, String)]

  init(_ changes: ChangeSet) throws(UserManagementError) {
    self.changes = changes
    var rows: [UserRow] = []
    for record in changes.users { rows.append(try UserRow(record)) }
    self.rows = rows
    var auditRows: [AuditRow] = []
    for event in changes.auditEvents { auditRows.append(try AuditRow(event)) }
    self.auditRows = auditRows
    var policyDocuments: [(Policy, String)] = []
    for change in changes.policies {
      guard case .put(let policy) = change else { continue }
      guard Int64(exactly: policy.version) != nil else {
        throw UserManagementError(.invalidOperation, "The policy's version is out of range.")
      }
      policyDocuments.append((policy, try JSONText.encode(policy)))
    }
    self.policyDocuments = policyDocuments
  }
}

/// How far a commit got, for deciding what a lost connection means.
final class CommitProgress: Sendable {
  private let storage = Mutex((pid: Int32(0), begun: false, sent: false, commits: Int64(-1)))

  /// The directory's commit count as first read.
  var commitsRead: Int64 {
    get { storage.withLock { $0.commits } }
    set { storage.withLock { $0.commits = newValue } }
  }

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

/// A commit written in one statement found that another commit landed after its reads; it
/// wrote nothing.
struct CommitRace: Error {}

/// A change set with policy or holding statements, which a commit in one statement does not
/// write; nothing was written.
struct NeedsTransaction: Error {}

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
