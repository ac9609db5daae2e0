import Foundation
import NIOSSL
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
  /// Whether and how the connection uses TLS (the URL's `sslmode`).
  public var tlsMode: TLSMode

  /// How a connection uses TLS, as libpq's `sslmode` names it (the modes that do not fall back
  /// to plain text silently).
  public enum TLSMode: String, Sendable, Hashable, CaseIterable {
    /// No TLS: for a server on loopback, or on a network that is trusted as a whole.
    case disable
    /// TLS, without checking the server's certificate: encrypted, but open to an active
    /// attacker in the middle.
    case require
    /// TLS, with the certificate checked against the system's trusted roots and the host name.
    case verifyFull = "verify-full"
  }

  /// Parses `postgres://user[:password]@host[:port]/database[?sslmode=MODE]` (also
  /// `postgresql://`).
  ///
  /// `sslmode` is `disable`, `require` or `verify-full`. Without it, a loopback host
  /// (`localhost`, `127.0.0.0/8`, `::1`) is `disable` and any other host `verify-full`: a
  /// URL never sends password hashes across a network in plain text unless it says so. Any
  /// other query item is refused rather than ignored.
  ///
  /// - Parameter string: The URL.
  /// - Throws: ``UserManagementKit/UserManagementError`` with code `invalid_field` when the URL
  ///   is malformed, or names an unknown `sslmode` or query item.
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
    var mode: TLSMode?
    for item in components.queryItems ?? [] {
      guard item.name == "sslmode", mode == nil, let value = item.value,
        let parsed = TLSMode(rawValue: value)
      else {
        throw UserManagementError(
          .invalidField,
          "The PostgreSQL URL may only carry sslmode=disable, require or verify-full.",
          context: ["field": "url", "reason": "unsupported_parameter"])
      }
      mode = parsed
    }
    self.tlsMode = mode ?? (Self.isLoopback(host) ? .disable : .verifyFull)
  }

  /// Whether `host` names this machine: `localhost`, an IPv4 address in `127.0.0.0/8`, `::1`.
  static func isLoopback(_ host: String) -> Bool {
    let bare =
      host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    if bare.lowercased() == "localhost" || bare == "::1" { return true }
    let octets = bare.split(separator: ".", omittingEmptySubsequences: false)
    return octets.count == 4 && octets[0] == "127"
      && octets.allSatisfy { octet in
        !octet.isEmpty && octet.count <= 3 && octet.utf8.allSatisfy { (0x30...0x39).contains($0) }
          && (octet == "0" || !octet.hasPrefix("0")) && UInt8(octet) != nil
      }
  }

  /// The URL without its password.
  public var description: String {
    "postgres://\(username)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)"
      + "?sslmode=\(tlsMode.rawValue)"
  }

  /// What `dump` and debuggers show: every part but the password, which is masked.
  public var customMirror: Mirror {
    Mirror(
      self,
      children: [
        "host": host, "port": port, "username": username,
        "password": password == nil ? "nil" : "***", "database": database,
        "tlsMode": tlsMode.rawValue,
      ], displayStyle: .struct)
  }

  /// The TLS settings of ``clientConfiguration``: `nil` for ``TLSMode/disable``; for
  /// ``TLSMode/require``, no certificate check; for ``TLSMode/verifyFull``, the certificate
  /// checked against the system's trusted roots and the host name. A server without TLS then
  /// fails the connection: there is no fallback to plain text.
  public var tlsConfiguration: TLSConfiguration? {
    switch tlsMode {
    case .disable:
      return nil
    case .require:
      var unverified = TLSConfiguration.makeClientConfiguration()
      unverified.certificateVerification = .none
      return unverified
    case .verifyFull:
      return .makeClientConfiguration()
    }
  }

  /// A client configuration for this URL, with TLS as ``tlsMode`` says (for client
  /// certificates or a private root, build your own `PostgresClient.Configuration`).
  ///
  /// Its sessions end a transaction left idle for 60 seconds
  /// (`idle_in_transaction_session_timeout`), so that an app server that stalls or loses the
  /// network while committing cannot hold the directory row, and with it every commit, until
  /// TCP gives up. Set the same on a configuration of your own.
  public var clientConfiguration: PostgresClient.Configuration {
    var configuration = PostgresClient.Configuration(
      host: host, port: port, username: username, password: password, database: database,
      tls: tlsConfiguration.map { .require($0) } ?? .disable)
    configuration.options.additionalStartupParameters = [
      ("idle_in_transaction_session_timeout", "60s")
    ]
    return configuration
  }
}
