import Dispatch

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// Audit queries and subscriptions.
extension StoreEngine {
  /// The events matching `query`. Like ``read(_:)``: when this process is up to date and has
  /// the sealed segments in memory, no system call is made and nothing hops; otherwise
  /// catching up and reading the segments run on `reader` while the caller is suspended.
  func auditEvents(matching query: AuditQuery) async throws(UserManagementError) -> [AuditEvent] {
    let current = counter.load()
    let cached = memory.withLock { memory -> (CompactAuditLog, CompactAuditLog)? in
      guard memory.known == current, !memory.closed, memory.failure == nil,
        let sealed = memory.sealedAudit
      else { return nil }
      return (sealed, memory.state.audit)
    }
    let (sealed, recent): (CompactAuditLog, CompactAuditLog)
    if let cached {
      (sealed, recent) = cached
    } else {
      (sealed, recent) = try await reader.runBlocking {
        () throws(UserManagementError) -> (CompactAuditLog, CompactAuditLog) in
        try self.auditLogs()
      }
    }
    var result: [AuditEvent] = []
    let limit = max(0, query.limit)
    if query.newestFirst {
      DirectoryState.collect(recent, query, limit: limit, into: &result)
      DirectoryState.collect(sealed, query, limit: limit, into: &result)
    } else {
      DirectoryState.collect(sealed, query, limit: limit, into: &result)
      DirectoryState.collect(recent, query, limit: limit, into: &result)
    }
    return result
  }

  /// The sealed segments' events (read on first use) and the current log's, after catching
  /// up. Blocks: runs on `reader`.
  private func auditLogs() throws(UserManagementError) -> (CompactAuditLog, CompactAuditLog) {
    _ = try readCatchingUp { _ in () }
    return try io.withLock {
      io throws(UserManagementError) -> (CompactAuditLog, CompactAuditLog) in
      guard !io.closed else { throw .storeClosed() }
      if let cached = memory.withLock({ $0.sealedAudit }) {
        return (cached, memory.withLock { $0.state.audit })
      }
      var log = CompactAuditLog()
      for segment in io.manifest.auditSegments {
        try files.readAuditSegment(segment.number, events: segment.events, into: &log)
      }
      let loaded = log
      return memory.withLock { memory in
        memory.sealedAudit = loaded
        return (loaded, memory.state.audit)
      }
    }
  }

  func subscribe() -> AsyncStream<AuditEvent> {
    let (stream, continuation) = AsyncStream<AuditEvent>.makeStream()
    let token = UUID()
    let closed = io.withLock { $0.closed }
    if closed {
      continuation.finish()
      return stream
    }
    memory.withLock { $0.subscribers[token] = continuation }
    continuation.onTermination = { [weak self] _ in
      _ = self?.memory.withLock { $0.subscribers.removeValue(forKey: token) }
    }
    return stream
  }

  /// Hands this process's committed events to its subscribers.
  func publish(events: [AuditEvent]) {
    guard !events.isEmpty else { return }
    memory.withLock { memory in
      for event in events {
        for continuation in memory.subscribers.values { continuation.yield(event) }
      }
    }
  }
}
