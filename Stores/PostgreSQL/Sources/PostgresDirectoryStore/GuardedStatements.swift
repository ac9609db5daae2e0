import PostgresNIO
import Synchronization

/// Statements that cannot wait for ever on a connection that has closed.
///
/// postgres-nio 1.33.2 writes a statement to its channel without a promise
/// (`channel.write(task, promise: nil)`). On a channel that has already closed, the write
/// fails before it reaches the connection's handler, and nothing ever fails the statement: its
/// caller waits for ever. That happens whenever a statement is sent as the server closes the
/// connection (`pg_terminate_backend`, a restart, an idle-session timeout) — to a pooled
/// connection whose close the pool has not noticed yet, or as the next statement on a
/// connection that just failed. Every statement the store sends goes through these methods, which race it against
/// the connection's close: it either runs, or fails with ``ConnectionClosed`` (a connection
/// loss, which reads retry and commits resolve). A statement left waiting is abandoned; it
/// holds only memory.
extension PostgresConnection {
  /// Sends `query`; its rows are then read from the sequence returned.
  ///
  /// Once the handler has the query, a close fails its rows, so only sending needs the race.
  ///
  /// - Throws: `PSQLError` from the server or the connection, or ``ConnectionClosed``.
  @discardableResult
  package func guardedQuery(_ query: PostgresQuery, logger: Logger) async throws
    -> PostgresRowSequence
  {
    try await untilClosed { try await self.query(query, logger: logger) }
  }

  /// Sends a prepared statement (preparing it first if this connection has not) and reads
  /// every row it returns.
  ///
  /// - Throws: `PSQLError` from the server or the connection, or ``ConnectionClosed``.
  package func guardedRows<Statement: PostgresPreparedStatement>(
    _ statement: Statement, logger: Logger
  ) async throws -> [Statement.Row] where Statement.Row: Sendable {
    try await untilClosed {
      var rows: [Statement.Row] = []
      for try await row in try await self.execute(statement, logger: logger) { rows.append(row) }
      return rows
    }
  }

  /// Runs `body`, or throws ``ConnectionClosed`` as soon as this connection closes, whichever
  /// comes first. `body` runs in a task of its own, which is abandoned if the close wins.
  ///
  /// A close that comes just after the server answered may still win, so a statement that
  /// succeeded can be reported as ``ConnectionClosed``: reads retry, and commits learn their
  /// true outcome (see `resolveOutcome`).
  func untilClosed<T: Sendable>(_ body: @escaping @Sendable () async throws -> T)
    async throws -> T
  {
    // Known closed: fail at once, without a task that would wait for ever.
    if isClosed { throw ConnectionClosed() }
    let outcome = OneOutcome<T>()
    let token = ConnectionWatch.shared.watch(self) { outcome.resume(.failure(ConnectionClosed())) }
    defer { ConnectionWatch.shared.forget(self, token) }
    return try await withCheckedThrowingContinuation { continuation in
      outcome.install(continuation)
      Task {
        do {
          outcome.resume(.success(try await body()))
        } catch {
          outcome.resume(.failure(error))
        }
      }
    }
  }
}

/// The connection closed while a statement was outstanding.
package struct ConnectionClosed: Error {
  package init() {}
}

/// Calls back the statements waiting on a connection when it closes, with one close callback
/// per connection however many statements wait on it over its life (a pooled connection that
/// lives for days must not collect a callback per statement).
package final class ConnectionWatch: Sendable {
  package static let shared = ConnectionWatch()

  /// How many statements wait on `connection`'s close right now (for tests: zero once the
  /// statements sent on it are over, however many there were).
  package func waiting(on connection: PostgresConnection) -> Int {
    state.withLock { state in
      let entry = state.connections[ObjectIdentifier(connection)]
      return entry?.connection === connection ? entry?.waiting.count ?? 0 : 0
    }
  }

  private struct Watched {
    /// The connection watched (weakly: an identifier can name a new object once this one is
    /// gone, and the entry must not be taken for that one's).
    weak var connection: PostgresConnection?
    var waiting: [UInt64: @Sendable () -> Void] = [:]
  }

  private struct State {
    var connections: [ObjectIdentifier: Watched] = [:]
    var nextToken: UInt64 = 0
  }

  private let state = Mutex(State())

  /// Calls `onClose` when `connection` closes (at once if it has); returns a token for
  /// ``forget(_:_:)``.
  func watch(_ connection: PostgresConnection, _ onClose: @escaping @Sendable () -> Void)
    -> UInt64
  {
    let key = ObjectIdentifier(connection)
    let (token, first) = state.withLock { state in
      state.nextToken += 1
      var first = false
      if state.connections[key]?.connection !== connection {
        state.connections[key] = Watched(connection: connection)
        first = true
      }
      state.connections[key]?.waiting[state.nextToken] = onClose
      return (state.nextToken, first)
    }
    // A future already complete runs the callback at once.
    if first { connection.closeFuture.whenComplete { [self] _ in closed(key, connection) } }
    return token
  }

  /// Stops watching for the statement `token` named.
  func forget(_ connection: PostgresConnection, _ token: UInt64) {
    let key = ObjectIdentifier(connection)
    state.withLock { state in
      guard state.connections[key]?.connection === connection else { return }
      _ = state.connections[key]?.waiting.removeValue(forKey: token)
    }
  }

  private func closed(_ key: ObjectIdentifier, _ connection: PostgresConnection) {
    let waiting = state.withLock { state -> [@Sendable () -> Void] in
      guard state.connections[key]?.connection === connection else { return [] }
      return state.connections.removeValue(forKey: key).map { Array($0.waiting.values) } ?? []
    }
    for onClose in waiting { onClose() }
  }
}

/// A continuation resumed by whichever of several racers finishes first.
final class OneOutcome<T: Sendable>: Sendable {
  private let state = Mutex<(CheckedContinuation<T, any Error>?, Result<T, any Error>?)>(
    (nil, nil))

  func install(_ continuation: CheckedContinuation<T, any Error>) {
    let early: Result<T, any Error>? = state.withLock { state in
      if let result = state.1 { return result }
      state.0 = continuation
      return nil
    }
    if let early { continuation.resume(with: early) }
  }

  func resume(_ result: Result<T, any Error>) {
    let continuation: CheckedContinuation<T, any Error>? = state.withLock { state in
      guard state.1 == nil else { return nil }
      state.1 = result
      defer { state.0 = nil }
      return state.0
    }
    continuation?.resume(with: result)
  }
}
