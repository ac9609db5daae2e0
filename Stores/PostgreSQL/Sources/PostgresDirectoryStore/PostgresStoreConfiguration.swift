import Foundation
import PostgresNIO
import UserManagementKit

/// Where a ``PostgresDirectoryStore`` connects, parsed from a `postgres://` URL.
public struct PostgresStoreURL: Sendable, Hashable, CustomStringConvertible, CustomReflectable {
  /// The server's host name or address.
  public var host: String
  /// The server's port.
  public var port: Int
  /// The role to connect as.
  public var username: String
  /// The role's password, if the URL has one. Never shown by ``description``.
  public var password: String?
  /// The database.
  public var database: String

  /// Parses `postgres://user[:password]@host[:port]/database` (also `postgresql://`).
  ///
  /// - Parameter string: The URL.
  /// - Throws: ``UserManagementKit/UserManagementError`` with code `invalid_field` when the URL
  ///   is malformed.
  public init(_ string: String) throws(UserManagementError) {
    guard let components = URLComponents(string: string),
      components.scheme == "postgres" || components.scheme == "postgresql",
      let host = components.host, !host.isEmpty
    else {
      throw UserManagementError(
        .invalidField, "The PostgreSQL URL must look like postgres://user@host:port/database.",
        context: ["field": "url", "reason": "malformed"])
    }
    self.host = host
    self.port = components.port ?? 5432
    self.username = components.user.flatMap { $0.isEmpty ? nil : $0 } ?? "postgres"
    self.password = components.password
    let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : ""
    self.database = path.isEmpty ? self.username : path
  }

  /// The URL without its password.
  public var description: String {
    "postgres://\(username)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)"
  }

  /// What `dump` and debuggers show: every part but the password, which is masked.
  public var customMirror: Mirror {
    Mirror(
      self,
      children: [
        "host": host, "port": port, "username": username,
        "password": password == nil ? "nil" : "***", "database": database,
      ], displayStyle: .struct)
  }

  /// A client configuration for this URL, without TLS (for servers on loopback or a trusted
  /// network; build your own `PostgresClient.Configuration` for TLS).
  ///
  /// Its sessions end a transaction left idle for 60 seconds
  /// (`idle_in_transaction_session_timeout`), so that an app server that stalls or loses the
  /// network while committing cannot hold the directory row, and with it every commit, until
  /// TCP gives up. Set the same on a configuration of your own.
  public var clientConfiguration: PostgresClient.Configuration {
    var configuration = PostgresClient.Configuration(
      host: host, port: port, username: username, password: password, database: database,
      tls: .disable)
    configuration.options.additionalStartupParameters = [
      ("idle_in_transaction_session_timeout", "60s")
    ]
    return configuration
  }
}
