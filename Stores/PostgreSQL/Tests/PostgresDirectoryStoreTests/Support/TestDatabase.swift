import Foundation
import Logging
import PostgresDirectoryStore
import PostgresNIO
import Testing
import UserManagementKit

/// A database of its own for one test, on the server `Scripts/with-postgres` started.
struct TestDatabase: Sendable {
  let url: PostgresStoreURL
  let client: PostgresClient
  let logger = PostgresDirectoryStore.quietLogger

  /// The server's URL from `UMK_POSTGRES_URL`.
  static func serverURL() throws -> PostgresStoreURL {
    guard let value = ProcessInfo.processInfo.environment["UMK_POSTGRES_URL"], !value.isEmpty
    else {
      throw TestSetupError(
        "UMK_POSTGRES_URL is not set: run the tests under Scripts/with-postgres, e.g. "
          + "Scripts/with-postgres swift test --package-path Stores/PostgreSQL")
    }
    return try PostgresStoreURL(value)
  }

  static func configuration(_ url: PostgresStoreURL) -> PostgresClient.Configuration {
    var configuration = url.clientConfiguration
    configuration.options.maximumConnections = 8
    return configuration
  }

  /// Runs `body` with a new, empty database and a running client connected to it; drops the
  /// database afterwards.
  static func with<T: Sendable>(_ body: @Sendable (TestDatabase) async throws -> T) async throws
    -> T
  {
    let server = try serverURL()
    let name = "umk_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    try await admin(server, "CREATE DATABASE \(name)")
    var url = server
    url.database = name
    let client = PostgresClient(configuration: configuration(url))
    let result: Result<T, any Error>
    do {
      result = .success(
        try await ClientLifetime.with(client) {
          try await body(TestDatabase(url: url, client: client))
        })
    } catch {
      result = .failure(error)
    }
    try? await admin(server, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    return try result.get()
  }

  /// Runs one statement on the server's own database, with a client of its own.
  static func admin(_ server: PostgresStoreURL, _ sql: String) async throws {
    let client = PostgresClient(configuration: server.clientConfiguration)
    try await ClientLifetime.with(client) {
      try await client.query(PostgresQuery(unsafeSQL: sql))
    }
  }

  /// Runs `body` with another running client of this database.
  func withClient<T: Sendable>(_ body: @Sendable (PostgresClient) async throws -> T)
    async throws -> T
  {
    let client = PostgresClient(configuration: Self.configuration(url))
    return try await ClientLifetime.with(client) { try await body(client) }
  }

  /// Opens a store on this database.
  func openStore() async throws -> PostgresDirectoryStore {
    try await PostgresDirectoryStore.open(client: client)
  }

  /// The single value of a query's first row and column.
  func value<T: PostgresDecodable & Sendable>(_ type: T.Type, _ sql: String) async throws -> T? {
    var found: T?
    for try await value in try await client.query(PostgresQuery(unsafeSQL: sql)).decode(T.self) {
      found = value
    }
    return found
  }

  /// Every value of a query's first column.
  func values<T: PostgresDecodable & Sendable>(_ type: T.Type, _ sql: String) async throws -> [T] {
    var found: [T] = []
    for try await value in try await client.query(PostgresQuery(unsafeSQL: sql)).decode(T.self) {
      found.append(value)
    }
    return found
  }

  /// Runs statements in one transaction on one connection, rolling back if one fails.
  func transaction(_ statements: [String]) async throws {
    let logger = self.logger
    try await client.withConnection { connection in
      do {
        try await connection.query("BEGIN", logger: logger)
        for statement in statements {
          try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
        }
        try await connection.query("COMMIT", logger: logger)
      } catch {
        _ = try? await connection.query("ROLLBACK", logger: logger)
        throw error
      }
    }
  }

  /// Runs a statement.
  func execute(_ sql: String) async throws {
    try await client.query(PostgresQuery(unsafeSQL: sql))
  }
}

struct TestSetupError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
