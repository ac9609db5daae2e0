import Foundation
import PostgresNIO
import UserManagementKit

// The lookups `UserDirectory` makes on every operation, prepared once per connection.

struct ProfileByID: PostgresPreparedStatement {
  static let sql = "SELECT \(UserColumns.list) FROM umk_users WHERE id = $1"
  typealias Row = User
  var id: UUID

  func makeBindings() throws -> PostgresBindings {
    var bindings = PostgresBindings()
    bindings.append(id)
    return bindings
  }

  func decodeRow(_ row: PostgresRow) throws -> Row {
    try UserColumns.user(row.makeRandomAccess(), at: 0)
  }
}

struct ProfileByUsername: PostgresPreparedStatement {
  static let sql = "SELECT \(UserColumns.list) FROM umk_users WHERE username_key = $1"
  typealias Row = User
  var key: String

  func makeBindings() throws -> PostgresBindings {
    var bindings = PostgresBindings()
    bindings.append(key)
    return bindings
  }

  func decodeRow(_ row: PostgresRow) throws -> Row {
    try UserColumns.user(row.makeRandomAccess(), at: 0)
  }
}

struct RecordByID: PostgresPreparedStatement {
  static let sql =
    "SELECT \(UserColumns.list), credentials::text FROM umk_users WHERE id = $1"
  typealias Row = (User, String)
  var id: UUID

  func makeBindings() throws -> PostgresBindings {
    var bindings = PostgresBindings()
    bindings.append(id)
    return bindings
  }

  func decodeRow(_ row: PostgresRow) throws -> Row {
    let cells = row.makeRandomAccess()
    return (
      try UserColumns.user(cells, at: 0), try cells[UserColumns.count].decode(String.self)
    )
  }
}

struct RecordByUsername: PostgresPreparedStatement {
  static let sql =
    "SELECT \(UserColumns.list), credentials::text FROM umk_users WHERE username_key = $1"
  typealias Row = (User, String)
  var key: String

  func makeBindings() throws -> PostgresBindings {
    var bindings = PostgresBindings()
    bindings.append(key)
    return bindings
  }

  func decodeRow(_ row: PostgresRow) throws -> Row {
    let cells = row.makeRandomAccess()
    return (
      try UserColumns.user(cells, at: 0), try cells[UserColumns.count].decode(String.self)
    )
  }
}

// The two statements of every commit.

/// Locks the directory row and reads the users a commit touches, in one round trip.
///
/// The row of `umk_directory` comes back locked and as last committed (a row lock waits for
/// the holder and then reads the latest version); the users come from the statement's
/// snapshot, taken before the lock was granted. `commitsSinceSnapshot` is zero exactly when no
/// commit updated the directory row in between, that is, when the users read are current.
struct LockAndReadUsers: PostgresPreparedStatement {
  static let sql = """
    WITH d AS (
      SELECT audit_seq, commits, user_count, active_admins FROM umk_directory WHERE id = 1
      FOR UPDATE)
    SELECT audit_seq, user_count, active_admins,
      commits - (SELECT commits FROM umk_directory WHERE id = 1), pg_backend_pid()::int8,
      commits, u.*
    FROM d LEFT JOIN (
      SELECT username_key AS key, \(UserColumns.list) FROM umk_users
      WHERE id = ANY($1::uuid[]) OR username_key = ANY($2::text[])) u ON true
    """

  struct Row {
    var auditSequence: Int64
    var userCount: Int64
    var activeAdmins: Int64
    var commitsSinceSnapshot: Int64
    var backendPID: Int64
    /// The directory's commit count.
    var commits: Int64
    /// The canonical username and the user, when the row has one.
    var user: (key: String, user: User)?
  }

  var ids: [UUID]
  var keys: [String]

  func makeBindings() throws -> PostgresBindings {
    var bindings = PostgresBindings()
    bindings.append(ids)
    bindings.append(keys)
    return bindings
  }

  func decodeRow(_ row: PostgresRow) throws -> Row {
    try Self.decode(row)
  }

  static func decode(_ row: PostgresRow) throws -> Row {
    let cells = row.makeRandomAccess()
    var result = Row(
      auditSequence: try cells[0].decode(Int64.self), userCount: try cells[1].decode(Int64.self),
      activeAdmins: try cells[2].decode(Int64.self),
      commitsSinceSnapshot: try cells[3].decode(Int64.self),
      backendPID: try cells[4].decode(Int64.self), commits: try cells[5].decode(Int64.self),
      user: nil)
    if let key = try cells[6].decode(String?.self) {
      result.user = (key, try UserColumns.user(cells, at: 7))
    }
    return result
  }
}

/// Reads the directory row and the users a commit touches in one snapshot, without a lock:
/// the first step of a commit that writes in one statement, which then checks that the
/// directory's commit count is still the one read here.
struct ReadUsers: PostgresPreparedStatement {
  static let sql = """
    SELECT d.audit_seq, d.user_count, d.active_admins, 0::int8, pg_backend_pid()::int8,
      d.commits, u.*
    FROM umk_directory d LEFT JOIN (
      SELECT username_key AS key, \(UserColumns.list) FROM umk_users
      WHERE id = ANY($1::uuid[]) OR username_key = ANY($2::text[])) u ON true
    WHERE d.id = 1
    """

  typealias Row = LockAndReadUsers.Row
  var ids: [UUID]
  var keys: [String]

  func makeBindings() throws -> PostgresBindings {
    var bindings = PostgresBindings()
    bindings.append(ids)
    bindings.append(keys)
    return bindings
  }

  func decodeRow(_ row: PostgresRow) throws -> Row {
    try LockAndReadUsers.decode(row)
  }
}

/// Writes a commit's users, sign-in counters and audit events, advances the directory row
/// (audit numbers, commit count, the ring of recent commit ids) and wakes audit subscribers,
/// in one statement. Empty arrays write nothing.
struct WriteCommit: PostgresPreparedStatement {
  static let sql = """
    WITH g AS (
      SELECT 1 FROM umk_directory WHERE id = 1 AND ($41::int8 IS NULL OR commits = $41::int8)
      FOR UPDATE),
    u AS (
      INSERT INTO umk_users (id, username_key, username, first_name, last_name, status, role,
        policies, api_access, has_api_password, has_password, must_change_password,
        email_verified, has_second_factor, version, security_stamp, created_at, updated_at,
        created_by_user, created_by_system, first_key, last_key, created_key, search,
        credentials)
      SELECT i, k, n, fn, ln, s, r, string_to_array(p, ',')::uuid[], a, ha, hp, mc, ev, sf, v,
        st, ca, ua, CASE WHEN ck = 'user' THEN cb::uuid END,
        CASE WHEN ck = 'system' THEN cb END, f, l, c, q, d::json
      FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
        $7::text[], $8::text[], $9::bool[], $10::bool[], $11::bool[], $12::bool[], $13::bool[],
        $14::bool[], $15::int8[], $16::text[], $17::float8[], $18::float8[], $19::text[],
        $20::text[], $21::text[], $22::text[], $23::text[], $24::text[], $25::text[])
        AS x(i, k, n, fn, ln, s, r, p, a, ha, hp, mc, ev, sf, v, st, ca, ua, ck, cb, f, l, c, q, d)
      WHERE EXISTS (SELECT 1 FROM g)
      ON CONFLICT (id) DO UPDATE SET first_name = EXCLUDED.first_name,
        last_name = EXCLUDED.last_name, status = EXCLUDED.status, role = EXCLUDED.role,
        policies = EXCLUDED.policies, api_access = EXCLUDED.api_access,
        has_api_password = EXCLUDED.has_api_password, has_password = EXCLUDED.has_password,
        must_change_password = EXCLUDED.must_change_password,
        email_verified = EXCLUDED.email_verified, has_second_factor = EXCLUDED.has_second_factor,
        version = EXCLUDED.version, security_stamp = EXCLUDED.security_stamp,
        updated_at = EXCLUDED.updated_at, first_key = EXCLUDED.first_key,
        last_key = EXCLUDED.last_key, created_key = EXCLUDED.created_key,
        search = EXCLUDED.search, credentials = EXCLUDED.credentials),
    t AS (
      INSERT INTO umk_throttles (user_id, kind, failures, last_failure)
      SELECT u, k, f, CASE WHEN h THEN t END
      FROM unnest($26::uuid[], $27::text[], $28::int8[], $29::bool[], $30::float8[])
        AS x(u, k, f, h, t)
      WHERE EXISTS (SELECT 1 FROM g)
      ON CONFLICT (user_id, kind) DO UPDATE SET failures = EXCLUDED.failures,
        last_failure = EXCLUDED.last_failure),
    a AS (
      INSERT INTO umk_audit (seq, time, actor, target_user, target_policy, event)
      SELECT s, t, a, NULLIF(u, '')::uuid, NULLIF(p, '')::uuid, e::json
      FROM unnest($31::int8[], $32::float8[], $33::text[], $34::text[], $35::text[], $36::text[])
        AS x(s, t, a, u, p, e)
      WHERE EXISTS (SELECT 1 FROM g)),
    d AS (
      UPDATE umk_directory SET audit_seq = $37::int8,
        commits = commits + cardinality($39::uuid[])
      WHERE id = 1 AND EXISTS (SELECT 1 FROM g)
      RETURNING commits),
    c AS (
      UPDATE umk_commits SET commit_id = x.id
      FROM d, unnest($39::uuid[]) WITH ORDINALITY AS x(id, n)
      WHERE slot = ((d.commits - cardinality($39::uuid[]) + x.n) % $38::int8)::int),
    n AS (SELECT pg_notify('umk_audit', $37::int8::text) WHERE $40::bool AND EXISTS (SELECT 1 FROM g))
    SELECT (SELECT count(*) FROM g), (SELECT count(*) FROM n)
    """

  /// Whether the statement wrote (1) or found the directory changed and wrote nothing (0).
  typealias Row = Int64

  var users: [UserRow]
  var throttles: [(ThrottleKeyPair, LoginThrottleState)]
  var audit: [AuditRow]
  var firstSequence: Int64
  /// The ids of the commits the statement completes, in order: one slot of the ring each.
  var commitIDs: [UUID]
  /// Whether to wake audit subscribers.
  var notify: Bool
  /// The directory's commit count the writes were checked against, when the statement is
  /// not inside a transaction that holds the directory row: the statement then writes only if
  /// no commit came in between. `nil` inside such a transaction.
  var expectedCommits: Int64? = nil

  func makeBindings() throws -> PostgresBindings {
    var bindings = PostgresBindings()
    bindings.append(users.map(\.id))
    bindings.append(users.map(\.usernameKey))
    bindings.append(users.map(\.username))
    bindings.append(users.map(\.firstName))
    bindings.append(users.map(\.lastName))
    bindings.append(users.map(\.status))
    bindings.append(users.map(\.role))
    bindings.append(users.map(\.policies))
    bindings.append(users.map(\.apiAccess))
    bindings.append(users.map(\.hasAPIPassword))
    bindings.append(users.map(\.hasPassword))
    bindings.append(users.map(\.mustChangePassword))
    bindings.append(users.map(\.emailVerified))
    bindings.append(users.map(\.hasSecondFactor))
    bindings.append(users.map(\.version))
    bindings.append(users.map(\.securityStamp))
    bindings.append(users.map(\.createdAt))
    bindings.append(users.map(\.updatedAt))
    bindings.append(users.map(\.createdByKind))
    bindings.append(users.map(\.createdBy))
    bindings.append(users.map(\.firstKey))
    bindings.append(users.map(\.lastKey))
    bindings.append(users.map(\.createdKey))
    bindings.append(users.map(\.search))
    bindings.append(users.map(\.credentials))
    bindings.append(throttles.map(\.0.user))
    bindings.append(throttles.map(\.0.kind))
    bindings.append(throttles.map { Int64($0.1.consecutiveFailures) })
    bindings.append(throttles.map { $0.1.lastFailure != nil })
    bindings.append(throttles.map { $0.1.lastFailure?.timeIntervalSinceReferenceDate ?? 0 })
    bindings.append(audit.indices.map { firstSequence + Int64($0) })
    bindings.append(audit.map(\.time))
    bindings.append(audit.map(\.actor))
    bindings.append(audit.map(\.targetUser))
    bindings.append(audit.map(\.targetPolicy))
    bindings.append(audit.map(\.event))
    bindings.append(firstSequence + Int64(audit.count) - 1)
    bindings.append(Int64(Schema.commitSlots))
    bindings.append(commitIDs)
    bindings.append(notify)
    bindings.append(expectedCommits)
    return bindings
  }

  func decodeRow(_ row: PostgresRow) throws -> Row {
    try row.decode((Int64, Int64).self).0
  }
}
