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
  /// All the subscriptions of a store share one pooled connection, which `LISTEN`s for
  /// wake-ups and reads the events past the last one it delivered, so a lost notification
  /// delays events but never drops them, and many subscribers never starve commits of
  /// connections. The connection is taken with the first subscription and given back when the
  /// last one ends. If it fails, the feed reconnects and carries on from the same sequence
  /// number; it gives up, ending every stream, when the database has been unreachable for
  /// about ten seconds.
  ///
  /// "From now on": this process's own commits count from the call; other processes' from the
  /// moment the feed is listening (a few milliseconds after the first subscription's call, at
  /// once for later ones). Events committed before, however long this process has been
  /// quiet, are never replayed.
  ///
  /// - Returns: The stream; it ends when the consumer stops, ``close()`` is called, or the
  ///   database stays unreachable.
  public func subscribeToAuditEvents() -> AsyncStream<AuditEvent> {
    let (stream, continuation) = AsyncStream<AuditEvent>.makeStream()
    let token = UUID()
    let started = state.withLock { state -> Bool in
      guard !state.closed else { return false }
      let after = state.lastKnownSequence
      var subscriber = AuditFeed.Subscriber(
        continuation: continuation, after: after, delivered: after)
      // A listening feed keeps the known sequence current: start at once.
      if state.feed.established { subscriber.start(after: after) }
      state.feed.subscribers[token] = subscriber
      if state.feed.listener == nil {
        let id = UUID()
        // A feed that was just stopped may still be unlistening on its connection: the new
        // one starts when it is done, so that two never listen or unlisten at once.
        let previous = state.feed.stopping
        state.feed.listener = (
          id,
          Task { [self] in
            await previous?.value
            await listen(as: id)
          }
        )
      }
      return true
    }
    guard started else {
      continuation.finish()
      return stream
    }
    continuation.onTermination = { [weak self] _ in
      let listener = self?.state.withLock { state -> Task<Void, Never>? in
        state.feed.subscribers.removeValue(forKey: token)
        guard state.feed.subscribers.isEmpty, let listener = state.feed.listener else { return nil }
        state.feed.listener = nil
        state.feed.established = false
        state.feed.stopping = listener.task
        return listener.task
      }
      listener?.cancel()
    }
    return stream
  }

  /// Serves the subscriptions from one connection until cancelled, the store is closed, or the
  /// database has been unreachable for about ten seconds.
  private func listen(as id: UUID) async {
    var failures = 0
    while !Task.isCancelled, failures < 50, isCurrent(id) {
      if let hook = hooks.beforeFeedListens { await hook() }
      do {
        try await client.withConnection { connection in
          try await connection.listen(on: "umk_audit") { notifications in
            // Listening now: what is committed from here on will be heard. Subscriptions
            // made before start here, plus their process's own commits since their call.
            let baseline = try await currentSequence(on: connection)
            establish(id, at: baseline)
            try await fanOut(id, on: connection)
            failures = 0
            for try await _ in notifications {
              if Task.isCancelled { return }
              try await fanOut(id, on: connection)
            }
          }
        }
      } catch {
        if Task.isCancelled { return }
        failures += 1
        state.withLock { state in
          if state.feed.listener?.id == id { state.feed.established = false }
        }
        logger.debug("The audit feed lost its connection; reconnecting.")
        try? await Task.sleep(for: .milliseconds(200))
      }
    }
    // Given up (or closed): end the streams this feed served.
    let ended = state.withLock { state -> [AsyncStream<AuditEvent>.Continuation] in
      guard state.feed.listener?.id == id else { return [] }
      defer { state.feed.reset() }
      return state.feed.subscribers.values.map(\.continuation)
    }
    for continuation in ended { continuation.finish() }
  }

  /// Whether an audit feed is running, and whether it is listening (for tests).
  package var auditFeedState: (running: Bool, listening: Bool) {
    state.withLock { ($0.feed.listener != nil, $0.feed.established) }
  }

  private func isCurrent(_ id: UUID) -> Bool {
    state.withLock { !$0.closed && $0.feed.listener?.id == id }
  }

  /// The audit sequence number of the last committed event.
  private func currentSequence(on connection: PostgresConnection) async throws -> Int64 {
    var value: Int64 = 0
    for try await sequence in try await connection.guardedQuery(
      "SELECT audit_seq FROM umk_directory WHERE id = 1", logger: logger
    ).decode(Int64.self) {
      value = sequence
    }
    return value
  }

  /// Starts the subscriptions made before the feed listened after `baseline`: events at or
  /// below it were committed before the feed could hear them (a backlog, if this process had
  /// been quiet), except their own process's commits since their call, which they keep. Those
  /// include commits still in flight: one may have landed below the baseline without this
  /// process knowing yet. (If it did not land, its numbers went to a commit made about then,
  /// which is delivered too.)
  private func establish(_ id: UUID, at baseline: Int64) {
    state.withLock { state in
      guard state.feed.listener?.id == id, !state.feed.established else { return }
      state.feed.established = true
      state.lastKnownSequence = max(state.lastKnownSequence, baseline)
      let inFlight = Array(state.feed.inFlight.values)
      for token in state.feed.subscribers.keys {
        state.feed.subscribers[token]?.start(after: baseline, inFlight: inFlight)
      }
    }
  }

  /// Reads the events some subscriber still needs and hands each to those that want it.
  private func fanOut(_ id: UUID, on connection: PostgresConnection) async throws {
    while true {
      guard let cursor = state.withLock({ $0.feed.cursor }) else { return }
      var count = 0
      var batch: [(Int64, AuditEvent)] = []
      for try await (number, text) in try await connection.guardedQuery(
        "SELECT seq, event::text FROM umk_audit WHERE seq > \(cursor) ORDER BY seq LIMIT 500",
        logger: logger
      ).decode((Int64, String).self) {
        count += 1
        batch.append((number, try JSONText.decode(AuditEvent.self, text)))
      }
      let deliveries = state.withLock {
        state -> [(AsyncStream<AuditEvent>.Continuation, AuditEvent)] in
        guard state.feed.listener?.id == id else { return [] }
        var deliveries: [(AsyncStream<AuditEvent>.Continuation, AuditEvent)] = []
        for (number, event) in batch {
          for token in state.feed.subscribers.keys
          where state.feed.subscribers[token]?.take(number) == true {
            if let continuation = state.feed.subscribers[token]?.continuation {
              deliveries.append((continuation, event))
            }
          }
          state.lastKnownSequence = max(state.lastKnownSequence, number)
        }
        // Every subscriber has now seen the whole batch, wanted or not.
        if let last = batch.last?.0 {
          for token in state.feed.subscribers.keys {
            state.feed.subscribers[token]?.passed(last)
          }
        }
        return deliveries
      }
      for (continuation, event) in deliveries { continuation.yield(event) }
      if count < 500 { return }
    }
  }
}

/// The audit subscriptions of one store, and the connection task that serves them.
struct AuditFeed {
  /// One subscription.
  struct Subscriber {
    let continuation: AsyncStream<AuditEvent>.Continuation
    /// Every event after this number is delivered.
    var after: Int64
    /// The last number handled: nothing at or below it is delivered (again).
    var delivered: Int64
    /// This process's own commits since the call, kept while the feed was not yet listening.
    var own: [ClosedRange<Int64>] = []
    /// Whether the feed has started it (see ``start(after:)``).
    var started = false

    /// Starts after `baseline`, keeping its own commits since the call (those known, and those
    /// `inFlight` above its call), unless started already. Nothing older is read again.
    mutating func start(after baseline: Int64, inFlight: [ClosedRange<Int64>] = []) {
      guard !started else { return }
      started = true
      own += inFlight.filter { $0.lowerBound > after }
      after = max(after, baseline)
      delivered = max(delivered, min(after, (own.map(\.lowerBound).min() ?? .max) - 1))
    }

    /// Whether event `number` is for this subscriber; notes it as handled if so.
    mutating func take(_ number: Int64) -> Bool {
      guard started, number > delivered else { return false }
      guard number > after || own.contains(where: { $0.contains(number) }) else { return false }
      delivered = number
      return true
    }

    /// Notes that every event up to `number` has been handled.
    mutating func passed(_ number: Int64) {
      guard started else { return }
      delivered = max(delivered, number)
      own.removeAll { $0.upperBound <= delivered }
    }
  }

  var subscribers: [UUID: Subscriber] = [:]
  /// The audit numbers this process's commits in flight may land as, by commit id.
  var inFlight: [UUID: ClosedRange<Int64>] = [:]
  /// The task serving the subscriptions, and its id (a cancelled one may still be finishing).
  var listener: (id: UUID, task: Task<Void, Never>)?
  /// The last listener stopped, which the next one waits for.
  var stopping: Task<Void, Never>?
  /// Whether the listener is listening and has started the subscriptions.
  var established = false

  /// Ends the subscriptions and the listener, keeping what is in flight.
  mutating func reset() {
    subscribers = [:]
    listener = nil
    established = false
  }

  /// The number after which some started subscriber still needs events, or `nil` for none.
  var cursor: Int64? {
    subscribers.values.filter(\.started).map { subscriber in
      min(subscriber.delivered, (subscriber.own.map(\.lowerBound).min() ?? Int64.max) - 1)
    }.min()
  }
}
