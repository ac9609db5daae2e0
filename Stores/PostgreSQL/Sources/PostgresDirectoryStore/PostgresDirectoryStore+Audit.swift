import Foundation
import Logging
import PostgresNIO
import Synchronization
import UserManagementKit

extension PostgresDirectoryStore {
  /// The audit events matching the query, numbered in commit order.
  ///
  /// - Parameter query: The query.
  /// - Returns: The events.
  /// - Throws: `UserManagementError` with code `storage_failure`.
  public func auditEvents(matching query: AuditQuery) async throws -> [AuditEvent] {
    let limit = max(0, query.limit)
    if limit == 0 { return [] }
    var builder = SQLBuilder("SELECT event::text FROM umk_audit WHERE true")
    if let user = query.targetUser {
      builder.append(" AND target_user = ")
      try builder.bind(user.rawValue)
    }
    if let policy = query.targetPolicy {
      builder.append(" AND target_policy = ")
      try builder.bind(policy.rawValue)
    }
    if let actor = query.actor {
      builder.append(" AND actor = ")
      try builder.bind(Keys.principal(actor))
    }
    if let since = query.since {
      builder.append(" AND time >= ")
      try builder.bind(since.timeIntervalSinceReferenceDate)
    }
    if let until = query.until {
      builder.append(" AND time < ")
      try builder.bind(until.timeIntervalSinceReferenceDate)
    }
    builder.append(query.newestFirst ? " ORDER BY seq DESC LIMIT " : " ORDER BY seq LIMIT ")
    try builder.bind(Int64(limit))
    let sql = builder.query
    let texts = try await run("read the audit trail") { connection in
      try await Self.collect(
        try await connection.guardedQuery(sql, logger: logger).decode(String.self))
    }
    var events: [AuditEvent] = []
    for text in texts {
      let event = try JSONText.decode(AuditEvent.self, text)
      if query.matches(event) { events.append(event) }
    }
    return events
  }

  /// A stream of the events committed from now on, by this process or any other, in commit
  /// order.
  ///
  /// Each subscription holds one pooled connection that `LISTEN`s for a wake-up and then reads
  /// the events past the last sequence number it delivered, so a lost notification delays
  /// events but never drops them. If the connection fails, the subscription reconnects and
  /// carries on from the same sequence number; it gives up, ending the stream, when the
  /// database has been unreachable for about ten seconds.
  ///
  /// - Returns: The stream; it ends when the consumer stops, ``close()`` is called, or the
  ///   database stays unreachable.
  public func subscribeToAuditEvents() -> AsyncStream<AuditEvent> {
    let (stream, continuation) = AsyncStream<AuditEvent>.makeStream()
    let token = UUID()
    let start: Int64? = state.withLock { state in
      guard !state.closed else { return nil }
      state.subscribers[token] = continuation
      return state.lastKnownSequence
    }
    guard let start else {
      continuation.finish()
      return stream
    }
    let task = Task { [self] in
      await follow(from: start, into: continuation)
      continuation.finish()
    }
    continuation.onTermination = { [weak self] _ in
      task.cancel()
      _ = self?.state.withLock { $0.subscribers.removeValue(forKey: token) }
    }
    return stream
  }

  /// Delivers events past `start` until cancelled, the store is closed, or the database has
  /// been unreachable for about ten seconds.
  private func follow(from start: Int64, into continuation: AsyncStream<AuditEvent>.Continuation)
    async
  {
    var last = start
    var failures = 0
    while !Task.isCancelled, failures < 50, !state.withLock({ $0.closed }) {
      do {
        try await client.withConnection { connection in
          try await connection.listen(on: "umk_audit") { notifications in
            // Catch up once the channel is heard, then after every wake-up.
            last = try await deliver(after: last, on: connection, into: continuation)
            failures = 0
            for try await _ in notifications {
              if Task.isCancelled { return }
              last = try await deliver(after: last, on: connection, into: continuation)
            }
          }
        }
      } catch {
        if Task.isCancelled { return }
        failures += 1
        logger.debug("An audit subscription lost its connection; reconnecting.")
        try? await Task.sleep(for: .milliseconds(200))
      }
    }
  }

  /// Reads and yields the events after `sequence`; returns the last sequence delivered.
  private func deliver(
    after sequence: Int64, on connection: PostgresConnection,
    into continuation: AsyncStream<AuditEvent>.Continuation
  ) async throws -> Int64 {
    var last = sequence
    while true {
      var count = 0
      for try await (number, text) in try await connection.guardedQuery(
        "SELECT seq, event::text FROM umk_audit WHERE seq > \(last) ORDER BY seq LIMIT 500",
        logger: logger
      ).decode((Int64, String).self) {
        count += 1
        last = number
        continuation.yield(try JSONText.decode(AuditEvent.self, text))
      }
      if count < 500 { break }
    }
    noteCommitted(through: last)
    return last
  }
}
