import Logging
import PostgresNIO
import UserManagementKit

extension PostgresDirectoryStore {
  /// The schema version this build creates and understands.
  public static var schemaVersion: Int { Schema.currentVersion }

  /// Creates the schema in an empty database, or upgrades an older one, in one transaction
  /// under an advisory lock (so that servers starting together migrate once).
  ///
  /// ``open(client:logger:)`` calls it; `umk-postgres migrate` runs it from the command line.
  ///
  /// - Parameters:
  ///   - client: A running client.
  ///   - logger: Where postgres-nio logs.
  /// - Returns: The schema version before the migration (0 for an empty database).
  /// - Throws: `UserManagementError` with code `unsupported_store_format` when the database's
  ///   schema is newer than ``schemaVersion``, or `storage_failure`.
  @discardableResult
  public static func migrate(client: PostgresClient, logger: Logger = quietLogger) async throws
    -> Int
  {
    var attempt = 0
    while true {
      attempt += 1
      do {
        return try await client.withConnection { connection in
          try await connection.guardedQuery("BEGIN", logger: logger)
          do {
            let version = try await migrate(connection, logger: logger)
            try await connection.guardedQuery("COMMIT", logger: logger)
            return version
          } catch {
            _ = try? await connection.guardedQuery("ROLLBACK", logger: logger)
            throw error
          }
        }
      } catch {
        // A migration is one transaction: one lost with its connection can run again.
        if attempt <= 2, isConnectionLoss(error) { continue }
        throw failure(error, "create or upgrade its schema")
      }
    }
  }

  private static func migrate(_ connection: PostgresConnection, logger: Logger) async throws
    -> Int
  {
    try await connection.guardedQuery(
      "SELECT pg_advisory_xact_lock(\(Schema.migrationLockKey))", logger: logger)
    try await connection.guardedQuery(
      """
      CREATE TABLE IF NOT EXISTS umk_schema (
        id int PRIMARY KEY CHECK (id = 1), version int NOT NULL CHECK (version >= 0))
      """, logger: logger)
    var found: Int?
    for try await version in try await connection.guardedQuery(
      "SELECT version FROM umk_schema WHERE id = 1", logger: logger
    ).decode(Int.self) {
      found = version
    }
    let before = found ?? 0
    if before > Schema.currentVersion {
      throw UserManagementError(
        .unsupportedStoreFormat,
        "The database's schema is at version \(before); this build of the PostgreSQL store "
          + "understands up to version \(Schema.currentVersion). Upgrade the library.",
        context: ["schemaVersion": String(before)])
    }
    for migration in Schema.migrations[before..<Schema.currentVersion] {
      for statement in migration {
        try await connection.guardedQuery(PostgresQuery(unsafeSQL: statement), logger: logger)
      }
    }
    if before < Schema.currentVersion {
      let version = Schema.currentVersion
      try await connection.guardedQuery(
        """
        INSERT INTO umk_schema (id, version) VALUES (1, \(version))
        ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version
        """, logger: logger)
    }
    return before
  }
}
