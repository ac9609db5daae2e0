import Foundation
import GRDB

/// The store benchmarks' second reference: GRDB 7.10 (SQLite underneath) used as an app
/// would use it — a `DatabasePool` (WAL), records fetched with `FetchableRecord`, every write
/// in its own `write` (its serialized writer), reads in `read`.
///
/// It runs as a serving child process, `umk-bench grdb-ref --serve DIR`, and speaks the same
/// line protocol as `reference/sqlite_ref.c` (see that file's header): a JSON header line
/// with `reference_name`, then one JSON answer per command, timed commands answering
/// `{"seconds": …}` measured around the operation only. The schema, the index on
/// `lower(username)`, `synchronous=FULL` and the updates are those of the SQLite reference.
enum GRDBReference {
  /// The version of GRDB the benchmarks package pins (`Benchmarks/Package.swift`).
  static let version = "7.10.0"

  /// The schema: the SQLite reference's.
  static let schema = """
    CREATE TABLE users (
      id BLOB PRIMARY KEY NOT NULL, username TEXT NOT NULL, first_name TEXT NOT NULL,
      last_name TEXT NOT NULL, status TEXT NOT NULL, role TEXT NOT NULL,
      policies TEXT NOT NULL, api_access INTEGER NOT NULL,
      must_change_password INTEGER NOT NULL, password_hash TEXT, api_password_hash TEXT,
      version INTEGER NOT NULL, security_stamp TEXT NOT NULL, created_at REAL NOT NULL,
      updated_at REAL NOT NULL, created_by TEXT NOT NULL);
    CREATE UNIQUE INDEX users_username_key ON users(lower(username));
    """

  /// Starts the reference for a database in `directory`.
  ///
  /// - Parameter directory: Where `users.db` and its WAL files go.
  /// - Returns: The running reference.
  /// - Throws: ``BenchmarkFailure`` if it cannot be started.
  static func start(directory: String) throws -> ReferenceProcess {
    guard let executable = Bundle.main.executableURL else {
      throw BenchmarkFailure("cannot find its own executable")
    }
    return try ReferenceProcess(
      executable: executable, arguments: ["grdb-ref", "--serve", directory])
  }

  /// The `grdb-ref --serve DIR` subcommand: serves commands from standard input until `quit`
  /// or its end.
  ///
  /// - Parameter arguments: `--serve DIR`.
  /// - Returns: The exit status.
  static func serveCommand(_ arguments: [String]) async -> Int32 {
    guard arguments.count == 2, arguments[0] == "--serve" else {
      Output.log("usage: umk-bench grdb-ref --serve DIR")
      return 2
    }
    let server = Server(directory: arguments[1])
    var sqliteVersion = "?"
    if let queue = try? DatabaseQueue(),
      let version = try? await queue.read({ db in
        try String.fetchOne(db, sql: "SELECT sqlite_version()")
      })
    {
      sqliteVersion = version
    }
    server.answer(
      "{\"reference_name\":\"GRDB \(version) (DatabasePool, SQLite \(sqliteVersion); WAL, "
        + "synchronous=FULL)\"}")
    while let line = readLine() {
      let words = line.split(separator: " ").map(String.init)
      guard let command = words.first else { continue }
      if command == "quit" { break }
      do {
        try await server.run(command, Array(words.dropFirst()))
      } catch {
        server.answer("{\"error\":\"\(command): \(String(describing: error).jsonEscaped)\"}")
      }
    }
    server.close()
    return 0
  }

  /// A user row, fetched as a GRDB record.
  struct UserRow: FetchableRecord, Sendable {
    var id: Data
    var username: String
    var firstName: String
    var lastName: String
    var status: String
    var role: String
    var policies: String
    var apiAccess: Bool
    var mustChangePassword: Bool
    var passwordHash: String?
    var apiPasswordHash: String?
    var version: Int64
    var securityStamp: String
    var createdAt: Double
    var updatedAt: Double
    var createdBy: String

    /// The columns, in the order `init(row:)` reads them.
    static let columns =
      "id, username, first_name, last_name, status, role, policies, api_access, "
      + "must_change_password, password_hash, api_password_hash, version, security_stamp, "
      + "created_at, updated_at, created_by"

    init(row: Row) throws {
      id = row[0]
      username = row[1]
      firstName = row[2]
      lastName = row[3]
      status = row[4]
      role = row[5]
      policies = row[6]
      apiAccess = row[7]
      mustChangePassword = row[8]
      passwordHash = row[9]
      apiPasswordHash = row[10]
      version = row[11]
      securityStamp = row[12]
      createdAt = row[13]
      updatedAt = row[14]
      createdBy = row[15]
    }
  }

  /// The state of the serving process.
  final class Server {
    let path: String
    var pool: DatabasePool?
    /// Every user's id and current version, by insertion number.
    var users: [(id: Data, version: Int64)] = []
    var keys: [String] = []
    var writers = 1

    init(directory: String) {
      try? FileManager.default.createDirectory(
        atPath: directory, withIntermediateDirectories: true)
      path = directory + "/users.db"
    }

    func answer(_ line: String) {
      Output.result(line)
    }

    func close() {
      try? pool?.close()
      pool = nil
    }

    /// Opens the pool: WAL (a `DatabasePool`'s mode) with `synchronous=FULL` on its writer.
    /// A pool sets its writer to `synchronous=NORMAL` after `prepareDatabase` runs, which
    /// does not sync the WAL at each commit (a power loss may take the last ones back), so the
    /// writer is set to FULL afterwards, as durable as the other two stores.
    func openPool() throws -> DatabasePool {
      let pool = try DatabasePool(path: path)
      let synchronous = try pool.writeWithoutTransaction { db in
        try db.execute(sql: "PRAGMA synchronous = FULL")
        return try Int.fetchOne(db, sql: "PRAGMA synchronous")
      }
      guard synchronous == 2 else { throw BenchmarkFailure("synchronous is not FULL") }
      return pool
    }

    func run(_ command: String, _ arguments: [String]) async throws {
      switch (command, arguments.count) {
      case ("populate", 1): try populate(arguments[0])
      case ("close", _):
        close()
        answer("{\"ok\":true}")
      case ("open", _): try open()
      case ("keys", 1): try loadKeys(arguments[0])
      case ("lookup", 1): try lookup(Int(arguments[0]) ?? 0)
      case ("seq", 2):
        try await sequential(base: UInt64(arguments[0]) ?? 0, count: Int(arguments[1]) ?? 0)
      case ("group-open", 1):
        writers = max(1, Int(arguments[0]) ?? 1)
        answer("{\"connections\":\(writers)}")
      case ("group", 2):
        try await group(base: UInt64(arguments[0]) ?? 0, perTask: Int(arguments[1]) ?? 0)
      default:
        throw BenchmarkFailure("unknown command")
      }
    }

    private func populate(_ file: String) throws {
      close()
      for suffix in ["", "-wal", "-shm"] {
        try? FileManager.default.removeItem(atPath: path + suffix)
      }
      let text = try String(contentsOfFile: file, encoding: .utf8)
      let start = Measure.clock.now
      let pool = try openPool()
      self.pool = pool
      try pool.write { db in try db.execute(sql: GRDBReference.schema) }
      users = []
      let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
      var index = 0
      while index < lines.count {
        let batch = lines[index..<min(index + 1_000, lines.count)]
        var loaded: [(Data, Int64)] = []
        try pool.write { db in
          let insert = try db.cachedStatement(
            sql: "INSERT INTO users (\(UserRow.columns)) VALUES "
              + "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
          for line in batch {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 16, let uuid = UUID(uuidString: f[0]) else {
              throw BenchmarkFailure("a line does not have 16 tab-separated fields")
            }
            let id = withUnsafeBytes(of: uuid.uuid) { Data($0) }
            let version = Int64(f[11]) ?? 1
            try insert.execute(arguments: [
              id, f[1], f[2], f[3], f[4], f[5], f[6], Int(f[7]) ?? 0, Int(f[8]) ?? 0,
              f[9].isEmpty ? nil : f[9], f[10].isEmpty ? nil : f[10], version, f[12],
              Double(f[13]) ?? 0, Double(f[14]) ?? 0, f[15],
            ])
            loaded.append((id, version))
          }
        }
        users.append(contentsOf: loaded.map { (id: $0.0, version: $0.1) })
        index += 1_000
      }
      let seconds = Measure.seconds(Measure.clock.now - start)
      answer("{\"seconds\":\(seconds),\"rows\":\(users.count)}")
    }

    /// Opens the database and fetches every user as a record, as an app loading its users.
    private func open() throws {
      close()
      let start = Measure.clock.now
      let pool = try openPool()
      let rows = try pool.read { db in
        try UserRow.fetchAll(db, sql: "SELECT \(UserRow.columns) FROM users")
      }
      let seconds = Measure.seconds(Measure.clock.now - start)
      self.pool = pool
      let checksum = rows.reduce(0) { $0 &+ $1.version }
      answer("{\"seconds\":\(seconds),\"rows\":\(rows.count),\"checksum\":\(checksum)}")
    }

    private func loadKeys(_ file: String) throws {
      keys = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map(
        String.init)
      answer("{\"keys\":\(keys.count)}")
    }

    /// Point queries by canonical username, each its own read, each row a record.
    private func lookup(_ count: Int) throws {
      guard let pool, !keys.isEmpty else { throw BenchmarkFailure("open and load keys first") }
      let sql = "SELECT \(UserRow.columns) FROM users WHERE lower(username) = ?"
      var found = 0
      var checksum: Int64 = 0
      let start = Measure.clock.now
      for index in 0..<count {
        let key = keys[index % keys.count]
        let row = try pool.read { db in
          try UserRow.fetchOne(db.cachedStatement(sql: sql), arguments: [key])
        }
        if let row {
          found += 1
          checksum &+= row.version
        }
      }
      let seconds = Measure.seconds(Measure.clock.now - start)
      answer("{\"seconds\":\(seconds),\"found\":\(found),\"checksum\":\(checksum)}")
    }

    /// The `k`-th update, as its own write: the SQLite reference's optimistic update.
    private static func update(
      _ pool: DatabasePool, id: Data, version: Int64, k: UInt64
    ) async throws {
      let name = "Name\(k)"
      let now = Date().timeIntervalSince1970
      try await pool.write { db in
        try db.execute(
          sql: "UPDATE users SET first_name = ?, version = ?, updated_at = ? "
            + "WHERE id = ? AND version = ?",
          arguments: [name, version + 1, now, id, version])
        guard db.changesCount == 1 else { throw BenchmarkFailure("an UPDATE matched no row") }
      }
    }

    private func userIndex(_ k: UInt64) -> Int {
      let count = UInt64(users.count)
      return Int((k % count) &* 48_271 % count)
    }

    private func sequential(base: UInt64, count: Int) async throws {
      guard let pool, !users.isEmpty else { throw BenchmarkFailure("the database is not open") }
      let start = Measure.clock.now
      for offset in 0..<count {
        let k = base + UInt64(offset)
        let index = userIndex(k)
        try await Self.update(pool, id: users[index].id, version: users[index].version, k: k)
        users[index].version += 1
      }
      let seconds = Measure.seconds(Measure.clock.now - start)
      answer("{\"seconds\":\(seconds),\"busy_retries\":0}")
    }

    /// `writers` concurrent tasks, task t making `perTask` updates of users
    /// `userIndex(base + j * writers + t)`, each its own write.
    private func group(base: UInt64, perTask: Int) async throws {
      guard let pool, !users.isEmpty else { throw BenchmarkFailure("the database is not open") }
      let writers = self.writers
      var work: [[(id: Data, version: Int64, k: UInt64)]] = Array(repeating: [], count: writers)
      for step in 0..<perTask {
        for task in 0..<writers {
          let k = base + UInt64(step * writers + task)
          let index = userIndex(k)
          work[task].append((users[index].id, users[index].version, k))
          users[index].version += 1
        }
      }
      let start = Measure.clock.now
      try await withThrowingTaskGroup(of: Void.self) { group in
        for updates in work {
          group.addTask {
            for update in updates {
              try await Self.update(pool, id: update.id, version: update.version, k: update.k)
            }
          }
        }
        try await group.waitForAll()
      }
      let seconds = Measure.seconds(Measure.clock.now - start)
      answer("{\"seconds\":\(seconds),\"busy_retries\":0}")
    }
  }
}

extension String {
  /// The string with the characters JSON cannot hold as they are replaced.
  fileprivate var jsonEscaped: String {
    String(map { $0 == "\"" || $0 == "\\" ? "'" : ($0.isNewline ? " " : $0) })
  }
}
