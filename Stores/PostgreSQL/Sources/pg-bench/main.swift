// The PostgreSQL store's benchmarks, against hand-written SQL over postgres-nio on the same
// server, interleaved (ours, reference, ours, …), median of the pairs. One JSON object per
// line, in the format of BENCHMARKS.md.
//
//   Stores/PostgreSQL/Scripts/bench [--quick] [NAME…]   (a durable server from with-postgres)
//   pg-bench run URL [--quick] [NAME…]
//   pg-bench run-env [--quick] [NAME…]                 (the URL from UMK_POSTGRES_URL)
//   pg-bench writer URL ours|reference TASKS COMMITS START   (a child of the 16-writer test)
import Foundation
import Logging
import PostgresDirectoryStore
import PostgresNIO
import UserManagementKit

let logger = PostgresDirectoryStore.quietLogger

struct BenchFailure: Error, CustomStringConvertible {
  var description: String
}

func now() -> Double {
  Double(DispatchTime.now().uptimeNanoseconds) / 1e9
}

func median(_ values: [Double]) -> Double {
  let sorted = values.sorted()
  guard !sorted.isEmpty else { return 0 }
  return sorted.count % 2 == 1
    ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func makeUser(_ number: Int, role: Role = .generalUser) throws -> UserRecord {
  let names = ["Smith", "Jones", "Brown", "Nguyen", "Garcia", "Müller", "Okafor", "Kowalski"]
  let date = Date(timeIntervalSince1970: 1_767_225_600 + Double(number))
  let user = User(
    id: UserID(rawValue: UUID()), username: try Username("member\(number)@example.com"),
    firstName: "First\(number % 977)", lastName: names[number % names.count] + "\(number % 101)",
    status: number % 7 == 3 ? .inactive : .active, role: role, policies: [],
    apiAccessEnabled: number % 3 == 0, hasAPIPassword: false, hasPassword: true,
    mustChangePassword: false, version: 1, securityStamp: SecurityStamp(rawValue: "stamp"),
    createdAt: date, updatedAt: date, createdBy: .system("bench"))
  return UserRecord(
    user: user,
    passwordHash: PasswordHash(
      encoded: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNo"),
    apiPasswordHash: nil)
}

func event(for user: User, _ action: AuditAction = .userUpdated) -> AuditEvent {
  AuditEvent(
    id: UUID(), time: Date(), actor: .system("bench"),
    target: .user(user.id, username: user.username.rawValue), action: action,
    changes: [FieldChange(field: "lastName", oldValue: "a", newValue: "b")])
}

/// The references: what a host writing its own tables would do, with no rule checks.
///
/// `SameRows` (the reference the targets are judged against) makes the same row changes as the
/// store, in tables of the same shape (`LIKE umk_users INCLUDING ALL`: the same columns,
/// indexes and checks, no triggers): the user row's changed columns and one audit row.
/// `Reference` (reported beside it as `json_row`) writes a lighter row: a JSON profile in a
/// table with two indexes, which an update never re-indexes.
enum SameRows {
  /// Created after the store's schema, whose tables it copies.
  static let schema = [
    "DROP TABLE IF EXISTS ref_users_same, ref_audit_same",
    "DROP SEQUENCE IF EXISTS ref_audit_same_seq",
    "CREATE TABLE ref_users_same (LIKE umk_users INCLUDING ALL)",
    "CREATE TABLE ref_audit_same (LIKE umk_audit INCLUDING ALL)",
    "CREATE SEQUENCE ref_audit_same_seq",
  ]

  static func create(_ client: PostgresClient) async throws {
    for statement in schema { try await client.query(PostgresQuery(unsafeSQL: statement)) }
    try await client.query("INSERT INTO ref_users_same SELECT * FROM umk_users")
  }

  /// One user update and its audit row: BEGIN, UPDATE, INSERT, COMMIT. With `lastName`, the
  /// name and the columns derived from it change too (as the store's update does).
  static func commit(
    _ client: PostgresClient, id: UUID, username: String, lastName: String?, audit: String
  ) async throws {
    let now = Date().timeIntervalSinceReferenceDate
    try await client.withConnection { connection in
      try await connection.query("BEGIN", logger: logger)
      if let lastName {
        let key = lastName.lowercased()
        let search = "first\n" + key + "\n" + username.lowercased()
        try await connection.query(
          """
          UPDATE ref_users_same SET last_name = \(lastName), last_key = \(key), search = \(search),
            version = version + 1, updated_at = \(now) WHERE id = \(id)
          """, logger: logger)
      } else {
        try await connection.query(
          "UPDATE ref_users_same SET version = version + 1, updated_at = \(now) WHERE id = \(id)",
          logger: logger)
      }
      let actor = "system:bench"
      try await connection.query(
        """
        INSERT INTO ref_audit_same (seq, time, actor, target_user, event)
        VALUES (nextval('ref_audit_same_seq'), \(now), \(actor), \(id), \(audit)::json)
        """, logger: logger)
      try await connection.query("COMMIT", logger: logger)
    }
  }
}

enum Reference {
  static let schema = [
    "DROP TABLE IF EXISTS ref_users, ref_audit",
    """
    CREATE TABLE ref_users (id uuid PRIMARY KEY, username_key text NOT NULL UNIQUE,
      version bigint NOT NULL, profile json NOT NULL)
    """,
    "CREATE TABLE ref_audit (seq bigserial PRIMARY KEY, event json NOT NULL)",
  ]

  /// One update and its audit row in a transaction: BEGIN, UPDATE, INSERT, COMMIT.
  static func commit(_ client: PostgresClient, id: UUID, profile: String, audit: String)
    async throws
  {
    try await client.withConnection { connection in
      try await connection.query("BEGIN", logger: logger)
      try await connection.query(
        "UPDATE ref_users SET profile = \(profile)::json, version = version + 1 WHERE id = \(id)",
        logger: logger)
      try await connection.query(
        "INSERT INTO ref_audit (event) VALUES (\(audit)::json)", logger: logger)
      try await connection.query("COMMIT", logger: logger)
    }
  }
}

/// The columns of a user row, as a host reading the table by hand would decode them.
typealias UserTuple = (
  UUID, String, String, String, String, String, [UUID], Bool, Bool, Bool, Bool, Bool, Bool, Int64,
  String, Double, Double, UUID?, String?
)

let userColumns = """
  id, username, first_name, last_name, status, role, policies, api_access, has_api_password, \
  has_password, must_change_password, email_verified, has_second_factor, version, \
  security_stamp, created_at, updated_at, created_by_user, created_by_system
  """

struct LookupByUsername: PostgresPreparedStatement {
  static let sql = "SELECT \(userColumns) FROM umk_users WHERE username_key = $1"
  typealias Row = UserTuple
  var key: String
  func makeBindings() throws -> PostgresBindings {
    var bindings = PostgresBindings()
    bindings.append(key)
    return bindings
  }
  func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(UserTuple.self) }
}

struct SearchPage: PostgresPreparedStatement {
  static let sql =
    "SELECT \(userColumns) FROM umk_users WHERE search LIKE $1 ORDER BY username_key LIMIT 51"
  typealias Row = UserTuple
  var pattern: String
  func makeBindings() throws -> PostgresBindings {
    var bindings = PostgresBindings()
    bindings.append(pattern)
    return bindings
  }
  func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(UserTuple.self) }
}

func report(
  _ name: String, unit: String, ours: Double, reference: Double, target: Double, pairs: Int,
  extra: String = "", referenceName: String = "hand-written SQL over postgres-nio"
) {
  let speedup = unit == "s" ? reference / ours : ours / reference
  let line =
    "{\"benchmark\":\"\(name)\",\"unit\":\"\(unit)\",\"ours\":\(String(format: "%.6g", ours)),"
    + "\"reference\":\(String(format: "%.6g", reference)),"
    + "\"reference_name\":\"\(referenceName)\","
    + "\"speedup\":\(String(format: "%.3f", speedup)),\"target\":\(target),\"pairs\":\(pairs),"
    + "\"ok\":\(speedup >= target)\(extra)}"
  print(line)
}

func withClient<T: Sendable>(
  _ url: PostgresStoreURL, connections: Int = 20,
  _ body: @Sendable (PostgresClient) async throws -> T
) async throws -> T {
  var configuration = url.clientConfiguration
  configuration.options.maximumConnections = connections
  let client = PostgresClient(configuration: configuration)
  return try await ClientLifetime.with(client) { try await body(client) }
}

/// The second reference of a commit benchmark, as extra JSON fields.
func jsonRowFields(ours: Double, jsonRow: Double, unit: String) -> String {
  let speedup = unit == "s" ? jsonRow / ours : ours / jsonRow
  return ",\"reference_json_row\":\(String(format: "%.6g", jsonRow)),"
    + "\"speedup_json_row\":\(String(format: "%.3f", speedup))"
}

/// The name of the commit benchmarks' reference.
let sameRowsName = "hand-written SQL over postgres-nio, the same row changes in same-shape tables"

/// Resets the database: the store's tables and the reference's.
func reset(_ client: PostgresClient) async throws {
  try await client.query(
    """
    DROP TABLE IF EXISTS umk_audit, umk_throttles, umk_user_policies, umk_policies, umk_users,
      umk_commits, umk_directory, umk_schema CASCADE
    """)
  try await client.query(
    "DROP FUNCTION IF EXISTS umk_count_users, umk_forbid_delete, umk_check_admins CASCADE")
  for statement in Reference.schema { try await client.query(PostgresQuery(unsafeSQL: statement)) }
}

/// Single-writer commit latency: an update of one user and its audit event.
func singleWriter(_ url: PostgresStoreURL, pairs: Int, batch: Int) async throws {
  try await withClient(url) { client in
    try await reset(client)
    let store = try await PostgresDirectoryStore.open(client: client)
    let admin = try makeUser(0, role: .admin)
    var current = try makeUser(1)
    try await store.commit(ChangeSet(users: [admin, current]))
    let profile = String(decoding: try JSONEncoder().encode(current.user), as: UTF8.self)
    try await client.query(
      "INSERT INTO ref_users VALUES (\(current.id.rawValue), 'ref', 1, \(profile)::json)")
    let audit = String(decoding: try JSONEncoder().encode(event(for: current.user)), as: UTF8.self)
    try await SameRows.create(client)
    var ours: [Double] = []
    var reference: [Double] = []
    var jsonRow: [Double] = []
    var sameVersion = 0
    for pair in 0...pairs {
      var start = now()
      for _ in 0..<batch {
        var next = current
        next.user.lastName = "Last\(next.user.version)"
        next.user.version += 1
        try await store.commit(
          ChangeSet(
            preconditions: [.userVersion(admin.id, 1)], users: [next],
            auditEvents: [event(for: next.user)]))
        current = next
      }
      let oursTime = (now() - start) / Double(batch)
      start = now()
      for _ in 0..<batch {
        sameVersion += 1
        try await SameRows.commit(
          client, id: current.id.rawValue, username: current.user.username.rawValue,
          lastName: "Last\(sameVersion)", audit: audit)
      }
      let referenceTime = (now() - start) / Double(batch)
      start = now()
      for _ in 0..<batch {
        try await Reference.commit(
          client, id: current.id.rawValue, profile: profile, audit: audit)
      }
      let jsonRowTime = (now() - start) / Double(batch)
      if pair > 0 {  // the first round warms up
        ours.append(oursTime)
        reference.append(referenceTime)
        jsonRow.append(jsonRowTime)
      }
    }
    report(
      "postgres.commit.single-writer", unit: "s", ours: median(ours),
      reference: median(reference), target: 1 / 1.5, pairs: pairs,
      extra: jsonRowFields(ours: median(ours), jsonRow: median(jsonRow), unit: "s"),
      referenceName: sameRowsName)
  }
}

/// Lookup by username and a searched page of 50, at `count` users.
func reads(_ url: PostgresStoreURL, count: Int, pairs: Int, batch: Int) async throws {
  try await withClient(url) { client in
    try await reset(client)
    let store = try await PostgresDirectoryStore.open(client: client)
    var records = [try makeUser(0, role: .admin)]
    for number in 1..<count {
      records.append(try makeUser(number))
      if records.count == 2000 {
        try await store.commit(ChangeSet(users: records))
        records = []
      }
    }
    if !records.isEmpty { try await store.commit(ChangeSet(users: records)) }
    try await client.query("ANALYZE umk_users")
    var ours: [Double] = []
    var reference: [Double] = []
    for pair in 0...pairs {
      var start = now()
      for index in 0..<batch {
        let key = "member\((index * 7919) % count)@example.com"
        guard try await store.profile(usernameKey: key) != nil else {
          throw BenchFailure(description: "missing \(key)")
        }
      }
      let oursTime = (now() - start) / Double(batch)
      start = now()
      for index in 0..<batch {
        let key = "member\((index * 7919) % count)@example.com"
        var found = 0
        for try await _ in try await client.execute(LookupByUsername(key: key), logger: logger) {
          found += 1
        }
        guard found == 1 else { throw BenchFailure(description: "missing \(key)") }
      }
      let referenceTime = (now() - start) / Double(batch)
      if pair > 0 {
        ours.append(oursTime)
        reference.append(referenceTime)
      }
    }
    report(
      "postgres.lookup.username.\(count / 1000)k", unit: "s", ours: median(ours),
      reference: median(reference), target: 0.8, pairs: pairs)

    ours = []
    reference = []
    let needles = ["smith1", "jones2", "brown3", "garcia4", "okafor5"]
    for pair in 0...pairs {
      var start = now()
      for index in 0..<(batch / 10) {
        let page = try await store.users(
          matching: UserQuery(filter: UserFilter(search: needles[index % needles.count]), limit: 50)
        )
        guard page.users.count == 50 else { throw BenchFailure(description: "short page") }
      }
      let oursTime = (now() - start) / Double(batch / 10)
      start = now()
      for index in 0..<(batch / 10) {
        var rows = 0
        for try await _ in try await client.execute(
          SearchPage(pattern: "%\(needles[index % needles.count])%"), logger: logger)
        {
          rows += 1
        }
        guard rows == 51 else { throw BenchFailure(description: "short reference page") }
      }
      let referenceTime = (now() - start) / Double(batch / 10)
      if pair > 0 {
        ours.append(oursTime)
        reference.append(referenceTime)
      }
    }
    report(
      "postgres.search.page50.\(count / 1000)k", unit: "s", ours: median(ours),
      reference: median(reference), target: 0.8, pairs: pairs)
  }
}

/// 16 writers from 2 processes (8 tasks each), each updating a user of its own.
func concurrentWriters(_ url: PostgresStoreURL, pairs: Int, commits: Int) async throws {
  let executable = URL(fileURLWithPath: CommandLine.arguments[0])
  try await withClient(url) { client in
    try await reset(client)
    let store = try await PostgresDirectoryStore.open(client: client)
    var records = [try makeUser(0, role: .admin)]
    for number in 1...16 { records.append(try makeUser(number)) }
    try await store.commit(ChangeSet(users: records))
    try await SameRows.create(client)
    for record in records {
      let profile = String(decoding: try JSONEncoder().encode(record.user), as: UTF8.self)
      try await client.query(
        "INSERT INTO ref_users VALUES (\(record.id.rawValue), \(record.usernameKey), 1, \(profile)::json)"
      )
    }
  }
  func runPair(_ mode: String) async throws -> Double {
    let start = Date().timeIntervalSince1970 + 1
    var processes: [(Process, Pipe)] = []
    for half in 0..<2 {
      let process = Process()
      process.executableURL = executable
      process.arguments = [
        "writer", "postgres://\(url.username)@\(url.host):\(url.port)/\(url.database)", mode,
        String(half), String(commits), String(start),
      ]
      let pipe = Pipe()
      process.standardOutput = pipe
      try process.run()
      processes.append((process, pipe))
    }
    var elapsed = 0.0
    var total = 0
    for (process, pipe) in processes {
      let data = pipe.fileHandleForReading.readDataToEndOfFile()
      process.waitUntilExit()
      let parts = String(decoding: data, as: UTF8.self).split(separator: " ")
      guard process.terminationStatus == 0, parts.count == 2, let count = Int(parts[0]),
        let seconds = Double(parts[1].trimmingCharacters(in: .whitespacesAndNewlines))
      else { throw BenchFailure(description: "a writer failed") }
      total += count
      elapsed = max(elapsed, seconds)
    }
    return Double(total) / elapsed
  }
  var ours: [Double] = []
  var reference: [Double] = []
  var jsonRow: [Double] = []
  for _ in 0..<pairs {
    ours.append(try await runPair("ours"))
    reference.append(try await runPair("same-rows"))
    jsonRow.append(try await runPair("reference"))
  }
  report(
    "postgres.commit.16-writers-2-processes", unit: "ops/s", ours: median(ours),
    reference: median(reference), target: 0.5, pairs: pairs,
    extra: jsonRowFields(ours: median(ours), jsonRow: median(jsonRow), unit: "ops/s"),
    referenceName: sameRowsName)
}

/// The race of two admins deactivating each other, run against the reference's kind of SQL:
/// each checks "another active admin remains" and then updates, in READ COMMITTED, as a host
/// writing its own tables would. Prints how many active admins are left (the rule wants ≥ 1).
func referenceRace(_ url: PostgresStoreURL, rounds: Int) async throws {
  try await withClient(url, connections: 4) { client in
    var broken = 0
    for _ in 0..<rounds {
      try await client.query("DROP TABLE IF EXISTS ref_people")
      try await client.query(
        "CREATE TABLE ref_people (id int PRIMARY KEY, role text NOT NULL, status text NOT NULL)")
      try await client.query(
        "INSERT INTO ref_people VALUES (1, 'admin', 'active'), (2, 'admin', 'active')")
      try await withThrowingTaskGroup(of: Void.self) { group in
        for (actor, target) in [(1, 2), (2, 1)] {
          group.addTask {
            try await client.withConnection { connection in
              try await connection.query("BEGIN", logger: logger)
              var others: Int64 = 0
              for try await count in try await connection.query(
                """
                SELECT count(*) FROM ref_people
                WHERE role = 'admin' AND status = 'active' AND id <> \(actor)
                """, logger: logger
              ).decode(Int64.self) {
                others = count
              }
              try await connection.query("SELECT pg_sleep(0.2)", logger: logger)
              if others >= 1 {
                try await connection.query(
                  "UPDATE ref_people SET status = 'inactive' WHERE id = \(target)", logger: logger)
              }
              try await connection.query("COMMIT", logger: logger)
            }
          }
        }
        try await group.waitForAll()
      }
      var left: Int64 = 0
      for try await count in try await client.query(
        "SELECT count(*) FROM ref_people WHERE role = 'admin' AND status = 'active'"
      ).decode(Int64.self) {
        left = count
      }
      if left == 0 { broken += 1 }
    }
    print(
      "{\"benchmark\":\"postgres.race.reference-sql\",\"rounds\":\(rounds),"
        + "\"rounds_leaving_no_active_admin\":\(broken),"
        + "\"note\":\"the same race against PostgresDirectoryStore: CrossProcessRaceTests, never 0\"}"
    )
  }
}

/// A child of ``concurrentWriters``: 8 tasks, each committing updates of its own user.
func writer(_ arguments: [String]) async throws {
  guard arguments.count == 5, let half = Int(arguments[2]), let commits = Int(arguments[3]),
    let start = Double(arguments[4])
  else { throw BenchFailure(description: "usage: pg-bench writer URL MODE HALF COMMITS START") }
  let url = try PostgresStoreURL(arguments[0])
  let mode = arguments[1]
  try await withClient(url, connections: 8) { client in
    let store = try await PostgresDirectoryStore.open(client: client)
    let users = try await (1...8).asyncMap { offset in
      try await store.user(usernameKey: "member\(half * 8 + offset)@example.com")
    }
    let delay = start - Date().timeIntervalSince1970
    if delay > 0 { try await Task.sleep(for: .milliseconds(Int(delay * 1000))) }
    let began = now()
    try await withThrowingTaskGroup(of: Void.self) { group in
      for case let user? in users {
        group.addTask {
          var record = user
          let profile = String(decoding: try JSONEncoder().encode(record.user), as: UTF8.self)
          let audit = String(
            decoding: try JSONEncoder().encode(event(for: record.user)), as: UTF8.self)
          for _ in 0..<commits {
            if mode == "ours" {
              var next = record
              next.user.version += 1
              try await store.commit(
                ChangeSet(users: [next], auditEvents: [event(for: next.user)]))
              record = next
            } else if mode == "same-rows" {
              try await SameRows.commit(
                client, id: record.id.rawValue, username: record.user.username.rawValue,
                lastName: nil, audit: audit)
            } else {
              try await Reference.commit(
                client, id: record.id.rawValue, profile: profile, audit: audit)
            }
          }
        }
      }
      try await group.waitForAll()
    }
    print("\(8 * commits) \(now() - began)")
  }
}

extension Sequence where Element: Sendable {
  func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
    var result: [T] = []
    for element in self { result.append(try await transform(element)) }
    return result
  }
}

/// The server settings that decide durability, as one JSON line.
func printSettings(_ url: PostgresStoreURL) async throws {
  try await withClient(url, connections: 1) { client in
    var fields: [String] = []
    for try await (name, value) in try await client.query(
      """
      SELECT name, setting FROM pg_settings
      WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'server_version')
      ORDER BY name
      """
    ).decode((String, String).self) {
      fields.append("\"\(name)\":\"\(value)\"")
    }
    print("{\"settings\":{\(fields.joined(separator: ","))}}")
  }
}

func main() async throws {
  let arguments = Array(CommandLine.arguments.dropFirst())
  guard let command = arguments.first else {
    throw BenchFailure(description: "usage: pg-bench run URL [--quick] [NAME…]")
  }
  switch command {
  case "writer":
    try await writer(Array(arguments.dropFirst()))
  case "run", "run-env":
    // `run-env` takes the URL from UMK_POSTGRES_URL (as Scripts/with-postgres sets it).
    let rest: ArraySlice<String>
    let url: PostgresStoreURL
    if command == "run-env" {
      guard let value = ProcessInfo.processInfo.environment["UMK_POSTGRES_URL"] else {
        throw BenchFailure(description: "UMK_POSTGRES_URL is not set")
      }
      url = try PostgresStoreURL(value)
      rest = arguments.dropFirst(1)
    } else {
      guard arguments.count >= 2 else { throw BenchFailure(description: "pg-bench run URL") }
      url = try PostgresStoreURL(arguments[1])
      rest = arguments.dropFirst(2)
    }
    let quick = rest.contains("--quick")
    let names = rest.filter { $0 != "--quick" }
    try await printSettings(url)
    func wanted(_ name: String) -> Bool {
      names.isEmpty || names.contains { name.hasPrefix($0) }
    }
    let pairs = quick ? 5 : 7
    if wanted("postgres.commit.single-writer") {
      try await singleWriter(url, pairs: pairs, batch: quick ? 100 : 300)
    }
    if wanted("postgres.lookup") || wanted("postgres.search") {
      try await reads(url, count: quick ? 20_000 : 100_000, pairs: pairs, batch: quick ? 500 : 2000)
    }
    if wanted("postgres.commit.16-writers") {
      try await concurrentWriters(url, pairs: pairs, commits: quick ? 25 : 100)
    }
    if wanted("postgres.race") {
      try await referenceRace(url, rounds: 5)
    }
  default:
    throw BenchFailure(description: "unknown command \(command)")
  }
}

do {
  try await main()
} catch {
  FileHandle.standardError.write(Data("pg-bench: \(error)\n".utf8))
  exit(1)
}
