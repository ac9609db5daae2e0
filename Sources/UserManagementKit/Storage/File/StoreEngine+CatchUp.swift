import Dispatch

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// Reads, and catching up with the commits and compactions of other processes.
extension StoreEngine {
  /// Runs `body` on the current state, first catching up with other processes' commits if
  /// the shared counter says there are any.
  ///
  /// Where it runs: when the counter says this process is up to date (every read of a store
  /// no other process writes, and most reads of one that others do), `body` runs right here,
  /// on the caller's thread, with no system call: a hop to another thread would cost more
  /// than the lookup. Catching up takes the shared `flock` (which waits while another process
  /// writes), syncs and reads the log, and may reload a whole generation, so it runs on
  /// `reader` while the calling task is suspended.
  ///
  /// `body` takes what it reads by (`argument`) instead of capturing it: a closure that
  /// captures nothing needs no context, so a read that finds this process current allocates
  /// nothing (a captured key cost a heap context a lookup, about a tenth of lookups' time).
  func read<Argument: Sendable, T: Sendable>(
    _ argument: Argument, _ body: @escaping @Sendable (DirectoryState, Argument) -> T
  ) async throws(UserManagementError) -> T {
    if let value = readIfCurrent({ body($0, argument) }) { return value }
    return try await reader.runBlocking { () throws(UserManagementError) -> T in
      try self.readCatchingUp { body($0, argument) }
    }
  }

  /// `body`'s result if this process is up to date with the files and serving; `nil` if it
  /// must catch up first (or throw). Makes no system call.
  func readIfCurrent<T>(_ body: (DirectoryState) -> T) -> T? {
    let current = counter.load()
    return memory.withLock { memory -> T? in
      memory.known == current && !memory.closed && memory.failure == nil
        ? body(memory.state) : nil
    }
  }

  /// Runs `body` on the current state after catching up. Blocks (see ``read(_:)``): runs on
  /// `reader`, or on the writer within a commit.
  func readCatchingUp<T>(_ body: (DirectoryState) -> T) throws(UserManagementError) -> T {
    // Another read may have caught up while this one waited for the queue.
    if let fast = readIfCurrent(body) { return fast }
    let (closed, failure) = memory.withLock { ($0.closed, $0.failure) }
    if closed { throw .storeClosed() }
    if let failure {
      throw UserManagementError(
        .storageFailure,
        "The store stopped serving after a sync failed (\(failure.message)); reopen it.",
        context: failure.context)
    }
    try catchUp()
    return memory.withLock { body($0.state) }
  }

  private func catchUp() throws(UserManagementError) {
    try io.withLock { io throws(UserManagementError) in
      guard !io.closed, let lockFile = io.lockFile else { throw .storeClosed() }
      try withIO { () throws(StoreIOError) in try lockFile.lock(exclusive: false) }
      defer { lockFile.unlock() }
      try checkLockFile(&io, lockFile)
      try refresh(&io, repair: false)
    }
  }

  /// Brings this process up to date with the files. The caller holds `io` and the `flock`.
  func refresh(_ io: inout IO, repair: Bool) throws(UserManagementError) {
    let observed = counter.load()
    guard let log = io.logFile else { throw .storeClosed() }
    // The log's size and links, never its timestamps (see `cumk_size_and_links`): a stat that
    // reports them makes Linux 6.13 and later stamp the file's next write at full resolution,
    // and on ext4 that added about 50 µs to the sync after it, measured on these machines.
    let (size, linked) = try withIO { () throws(StoreIOError) in try log.status() }
    if observed == io.known && !io.tailUnverified && !io.stale && linked
      && size >= io.logCapacity
    {
      // Every process announces a write on the shared counter, under the exclusive lock,
      // before it touches the files; the counter is where this process left it, so the files
      // are too (every commit of a store no other process writes): no other stat, no read.
      // The log is still checked to be the one in the directory and not cut short, in case
      // someone replaced or truncated it outside the store: that is reloaded below.
      memory.withLock { $0.known = observed }
      return
    }
    // Another process wrote since this one last caught up: what follows this process's end
    // of the log must be read.
    if observed != io.known { io.tailUnverified = true }
    let next = files.path(StoreFormat.snapshotName(io.manifest.generation + 1))
    let fileSystem = files.fileSystem
    let superseded = !linked || fileSystem.fileExists(next)
    // A log cut short outside the store has less preallocated space than this process
    // thought: the next commit must grow it again, not write past its end.
    io.logCapacity = min(io.logCapacity, size)
    var events: [AuditEvent] = []
    if io.tailUnverified && size > io.logEnd && !io.stale {
      // Another process wrote over the log's preallocated zeros (also when superseded: the
      // events belong to subscribers).
      let start = io.logEnd
      let read = try Self.readLog(files, io: &io)
      if read.dirtyEnd > start {
        // Its writer may have died before its sync, so make the bytes durable before
        // believing them: this process must never serve a commit that a power loss could
        // still take back. (Synced after reading, before serving: the writer, which would
        // need the lock this process holds, cannot have changed them in between.)
        do {
          try log.sync()
        } catch {
          // The bytes may never reach the disk, and a second sync on this descriptor would
          // likely report success: stop serving anything until the store is reopened.
          poison(&io, .storage(error))
          throw .storage(error)
        }
      }
      memory.withLock { memory in
        for var record in read.records {
          events.append(contentsOf: record.auditEvents)
          record.apply(to: &memory.state)
        }
      }
      if case .tornTail(let offset) = read.end {
        if repair && !superseded {
          do {
            try Self.clearTornTail(log, from: offset, to: read.dirtyEnd)
          } catch {
            io.failure = .storage(error)
            throw .storage(error)
          }
          io.tailUnverified = false
        }
      } else {
        io.tailUnverified = false
      }
    } else if size <= io.logEnd {
      io.tailUnverified = false
    }
    if superseded || io.stale || size < io.logEnd {
      // Hand over what the old log held now, whatever the reload below does.
      publish(events: events)
      events = []
    }
    if superseded || io.stale || size < io.logEnd {
      // Another process compacted (or the log changed under us): load the newest generation
      // and swap it in whole.
      let previousSegments = Set(io.manifest.auditSegments.map(\.number))
      let (previousLogEvents, subscribed) = memory.withLock {
        ($0.state.audit.count, !$0.subscribers.isEmpty)
      }
      var reloaded = DirectoryState()
      do {
        try Self.load(files, into: &io, state: &reloaded, repair: repair)
      } catch {
        // Whatever this process holds may now lag the files: reload from scratch next time;
        // after a failed sync, not at all.
        io.stale = true
        if let failure = io.failure { poison(&io, failure) }
        throw error
      }
      if subscribed && !io.stale {
        // Subscribers also get what was committed after the compactions this process did
        // not see: the segments they sealed (except the one holding the old log's events,
        // delivered above) and the new log.
        var missed = io.manifest.auditSegments.filter { !previousSegments.contains($0.number) }
        if previousLogEvents > 0, missed.first?.events == UInt64(previousLogEvents) {
          missed.removeFirst()
        }
        // The state is already reloaded; a segment that cannot be read now costs the
        // subscribers its events (an audit query reports the damage), never the swap.
        for segment in missed {
          var log = CompactAuditLog()
          guard
            (try? files.readAuditSegment(segment.number, events: segment.events, into: &log))
              != nil
          else { continue }
          for index in 0..<log.count {
            if let event = log.event(at: index) { events.append(event) }
          }
        }
        // The reloaded state's audit log holds the new log's events and no others: a
        // compaction seals every event before it into a segment.
        for index in 0..<reloaded.audit.count {
          if let event = reloaded.audit.event(at: index) { events.append(event) }
        }
      }
      memory.withLock { memory in
        memory.state = reloaded
        memory.sealedAudit = nil
      }
    }
    io.known = observed
    memory.withLock { $0.known = observed }
    publish(events: events)
  }
}
