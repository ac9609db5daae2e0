import Foundation
import Logging
import PostgresNIO
import Synchronization
import UserManagementKit

/// A `DirectoryStore` on PostgreSQL: one directory shared by any number of app servers.
///
/// Every ``commit(_:)`` is serialized on the single row of `umk_directory` (which numbers the
/// audit events and counts commits), and the checks of the ``UserManagementKit/ChangeSet``
/// contract run in Swift, with the library's own definitions, against the latest committed
/// state. A change set of users, sign-in counters and audit events (almost every operation)
/// is read without a lock, checked, then written by one statement that takes the row only if
/// its commit count is still the one read, and starts over if another commit landed in
/// between; after three such races, and for policy changes, the commit runs in a transaction
/// that locks the row first. Either way no other commit can change the checked state before
/// this one commits (see the article "Running on PostgreSQL"). The database keeps the
/// rules as well: a unique index on canonical usernames and on policy names, a foreign key from
/// held policies, `CHECK`s on roles, statuses and versions, and a deferred trigger that refuses
/// to commit a directory without an active administrator.
///
/// The host owns the `PostgresClient` and runs it (`client.run()` in a task, or a service
/// group); ``open(client:logger:)`` then creates or upgrades the schema and returns the store.
/// ``withStore(url:logger:_:)`` does all of that for a closure.
public final class PostgresDirectoryStore: DirectoryStore {
  let client: PostgresClient
  let logger: Logger
  let hooks: TestHooks
  let state = Mutex(SharedState())
  let commitQueue = CommitQueue()

  struct SharedState {
    /// The highest audit sequence number this process has seen committed.
    var lastKnownSequence: Int64 = 0
    /// The audit subscriptions and the one connection that serves them all.
    var feed = AuditFeed()
    var closed = false
  }

  /// Points where tests interrupt a commit. Empty in production.
  package struct TestHooks: Sendable {
    /// Called inside a commit's transaction, after every write and before `COMMIT`, with the
    /// server process id of the connection.
    package var beforeCommit: (@Sendable (Int32) async throws -> Void)?
    /// Called by the audit feed each time before it connects and listens.
    package var beforeFeedListens: (@Sendable () async -> Void)?
    /// Called after a commit on its own landed, before the store notes it.
    package var afterCommitLanded: (@Sendable () async -> Void)?

    /// No hooks.
    package init(
      beforeCommit: (@Sendable (Int32) async throws -> Void)? = nil,
      beforeFeedListens: (@Sendable () async -> Void)? = nil,
      afterCommitLanded: (@Sendable () async -> Void)? = nil
    ) {
      self.beforeCommit = beforeCommit
      self.beforeFeedListens = beforeFeedListens
      self.afterCommitLanded = afterCommitLanded
    }
  }

  package init(client: PostgresClient, logger: Logger, hooks: TestHooks) {
    self.client = client
    self.logger = logger
    self.hooks = hooks
  }

  /// Creates or upgrades the schema in the client's database and returns the store.
  ///
  /// The client must be running (`client.run()`) or about to run.
  ///
  /// - Parameters:
  ///   - client: The client; the host owns it and keeps it running while it uses the store.
  ///   - logger: Where postgres-nio logs queries (never values); nothing by default.
  /// - Returns: The store.
  /// - Throws: `UserManagementError` with code `unsupported_store_format` when the database's
  ///   schema is newer than this build understands, or `storage_failure`.
  public static func open(client: PostgresClient, logger: Logger = quietLogger) async throws
    -> PostgresDirectoryStore
  {
    try await open(client: client, logger: logger, hooks: TestHooks())
  }

  package static func open(client: PostgresClient, logger: Logger, hooks: TestHooks)
    async throws -> PostgresDirectoryStore
  {
    _ = try await migrate(client: client, logger: logger)
    let store = PostgresDirectoryStore(client: client, logger: logger, hooks: hooks)
    let sequence = try await store.run("read the audit trail") { connection in
      let rows = try await connection.guardedQuery(
        "SELECT audit_seq FROM umk_directory WHERE id = 1", logger: logger)
      var value: Int64 = 0
      for try await (sequence) in rows.decode(Int64.self) { value = sequence }
      return value
    }
    store.state.withLock { $0.lastKnownSequence = sequence }
    return store
  }

  /// Connects to `url`, runs a client for the duration of `body`, opens the store and hands it
  /// to `body`.
  ///
  /// - Parameters:
  ///   - url: Where the database is.
  ///   - logger: Where postgres-nio logs; nothing by default.
  ///   - body: What to do with the store.
  /// - Returns: What `body` returns.
  /// - Throws: What ``open(client:logger:)`` or `body` throws.
  public static func withStore<Result: Sendable>(
    url: PostgresStoreURL, logger: Logger = quietLogger,
    _ body: @Sendable (PostgresDirectoryStore) async throws -> Result
  ) async throws -> Result {
    let client = PostgresClient(configuration: url.clientConfiguration)
    // The client stops within a few seconds of `body` even if a connection never reports its
    // close.
    return try await ClientLifetime.with(client) {
      let store = try await open(client: client, logger: logger)
      defer { store.close() }
      return try await body(store)
    }
  }

  /// A logger that discards everything: the default, so that the library logs nothing unless
  /// the host asks.
  public static let quietLogger = Logger(
    label: "UserManagementKit.PostgresDirectoryStore", factory: { _ in SwiftLogNoOpLogHandler() })

  /// Ends every audit subscription of this store. The client is the host's to shut down.
  public func close() {
    let (subscribers, listener) = state.withLock { state in
      state.closed = true
      defer { state.feed.reset() }
      return (state.feed.subscribers.values.map(\.continuation), state.feed.listener?.task)
    }
    listener?.cancel()
    for continuation in subscribers { continuation.finish() }
  }

  // MARK: Running queries

  /// Runs `body` on a pooled connection, reporting anything but the library's own errors as
  /// `storage_failure`.
  ///
  /// Reads are idempotent, so one that meets a pooled connection the server has closed (after a
  /// restart, say) is tried again on another connection, up to twice.
  func run<T: Sendable>(
    _ what: String, _ body: (PostgresConnection) async throws -> sending T
  ) async throws(UserManagementError) -> T {
    var attempt = 0
    while true {
      do {
        return try await client.withConnection { connection in try await body(connection) }
      } catch {
        attempt += 1
        if attempt <= 2 && Self.isConnectionLoss(error) { continue }
        throw Self.failure(error, what)
      }
    }
  }

  /// Whether `error` says the connection was lost (closed, reset, or the server process
  /// terminated) rather than the server refusing a statement.
  package static func isConnectionLoss(_ error: any Error) -> Bool {
    if error is ConnectionClosed { return true }
    guard let error = error as? PSQLError else { return false }
    if let state = error.serverInfo?[.sqlState] {
      // admin_shutdown, crash_shutdown, cannot_connect_now; connection exceptions.
      return state.hasPrefix("57P") || state.hasPrefix("08")
    }
    switch error.code {
    case .serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown:
      return true
    default:
      return false
    }
  }

  /// The library's error for `error`: itself when it already is one, else `storage_failure`
  /// naming what failed and the SQLSTATE, never the server's message (it may quote values).
  static func failure(_ error: any Error, _ what: String) -> UserManagementError {
    if let error = error as? UserManagementError { return error }
    var context: [String: String] = [:]
    var underlying = error
    if let psql = error as? PSQLError {
      if let state = psql.serverInfo?[.sqlState] { context["sqlState"] = state }
      underlying = PostgresServerError(psql)
    }
    return UserManagementError(
      .storageFailure, "The PostgreSQL store could not \(what).", context: context,
      underlyingError: underlying)
  }

  // MARK: Users

  /// The user with this identifier, with credential hashes.
  ///
  /// - Parameter id: The identifier.
  /// - Returns: The record, or `nil`.
  /// - Throws: `UserManagementError` with code `storage_failure`.
  public func user(id: UserID) async throws -> UserRecord? {
    let rows = try await run("read a user") { connection in
      try await connection.guardedRows(
        RecordByID(id: id.rawValue), logger: logger)
    }
    return try rows.first.map { row throws(UserManagementError) in
      try JSONText.record(row.0, credentials: row.1)
    }
  }

  /// The user with this canonical username, with credential hashes.
  ///
  /// - Parameter usernameKey: A canonical username.
  /// - Returns: The record, or `nil`.
  /// - Throws: `UserManagementError` with code `storage_failure`.
  public func user(usernameKey: String) async throws -> UserRecord? {
    let key = Keys.normalized(usernameKey)
    let rows = try await run("read a user") { connection in
      try await connection.guardedRows(
        RecordByUsername(key: key), logger: logger)
    }
    return try rows.first.map { row throws(UserManagementError) in
      try JSONText.record(row.0, credentials: row.1)
    }
  }

  /// The user with this identifier, read without the credential column.
  ///
  /// - Parameter id: The identifier.
  /// - Returns: The user, or `nil`.
  /// - Throws: `UserManagementError` with code `storage_failure`.
  public func profile(id: UserID) async throws -> User? {
    let rows = try await run("read a user") { connection in
      try await connection.guardedRows(
        ProfileByID(id: id.rawValue), logger: logger)
    }
    return rows.first
  }

  /// The user with this canonical username, read without the credential column.
  ///
  /// - Parameter usernameKey: A canonical username.
  /// - Returns: The user, or `nil`.
  /// - Throws: `UserManagementError` with code `storage_failure`.
  public func profile(usernameKey: String) async throws -> User? {
    let key = Keys.normalized(usernameKey)
    let rows = try await run("read a user") { connection in
      try await connection.guardedRows(
        ProfileByUsername(key: key), logger: logger)
    }
    return rows.first
  }

  /// The failed sign-in counter of one credential of a user.
  ///
  /// - Parameters:
  ///   - user: The user.
  ///   - kind: The credential.
  /// - Returns: The counter.
  /// - Throws: `UserManagementError` with code `storage_failure`.
  public func loginThrottle(for user: UserID, kind: CredentialKind) async throws
    -> LoginThrottleState
  {
    let id = user.rawValue
    let rows = try await run("read a sign-in counter") { connection in
      var result: [(Int64, Double?)] = []
      let sequence = try await connection.guardedQuery(
        """
        SELECT failures, last_failure FROM umk_throttles WHERE user_id = \(id) AND kind = \(kind.rawValue)
        """, logger: logger)
      for try await row in sequence.decode((Int64, Double?).self) { result.append(row) }
      return result
    }
    guard let (failures, last) = rows.first else { return .clear }
    return LoginThrottleState(
      consecutiveFailures: Int(clamping: failures),
      lastFailure: last.map(Date.init(timeIntervalSinceReferenceDate:)))
  }

  // MARK: Policies

  /// The policy with this identifier.
  ///
  /// - Parameter id: The identifier.
  /// - Returns: The policy, or `nil`.
  /// - Throws: `UserManagementError` with code `storage_failure`.
  public func policy(id: PolicyID) async throws -> Policy? {
    try await policies(where: "id", id.rawValue).first
  }

  /// The policy with this name key.
  ///
  /// - Parameter nameKey: A lowercased policy name.
  /// - Returns: The policy, or `nil`.
  /// - Throws: `UserManagementError` with code `storage_failure`.
  public func policy(nameKey: String) async throws -> Policy? {
    try await policies(where: "name_key", Keys.normalized(nameKey)).first
  }

  /// Every policy, ordered by name key.
  ///
  /// - Returns: The policies.
  /// - Throws: `UserManagementError` with code `storage_failure`.
  public func policies() async throws -> [Policy] {
    try await policies(where: nil, "")
  }

  private func policies(where column: String?, _ value: some PostgresEncodable & Sendable)
    async throws(UserManagementError) -> [Policy]
  {
    var builder = SQLBuilder("SELECT document::text FROM umk_policies")
    if let column {
      builder.append(" WHERE \(column) = ")
      try builder.bind(value)
    }
    builder.append(" ORDER BY name_key, id")
    let query = builder.query
    let texts = try await run("read policies") { connection in
      var texts: [String] = []
      for try await text in try await connection.guardedQuery(query, logger: logger).decode(
        String.self)
      {
        texts.append(text)
      }
      return texts
    }
    var result: [Policy] = []
    for text in texts { result.append(try JSONText.decode(Policy.self, text)) }
    return result
  }

  // MARK: Helpers

  static func collect<S: AsyncSequence>(_ sequence: S) async throws -> [S.Element]
  where S.Element: Sendable {
    var result: [S.Element] = []
    for try await element in sequence { result.append(element) }
    return result
  }
}
