import Dispatch

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// Commits: checking, encoding, and group commit (one append and one sync per group).
extension StoreEngine {
  /// Queues `changes` for the writer and suspends the caller until they are durable (or
  /// refused).
  ///
  /// Every commit is written by `writer`, never on the caller's thread: writing takes the
  /// exclusive `flock` (which waits while another process writes), catches up with the files,
  /// appends and `fdatasync`s, none of which may run on the cooperative pool. The hop costs
  /// each commit two thread hand-offs, small beside its sync. Commits that arrive while the
  /// writer is busy queue up and are written together: one append and one sync per group.
  /// A caller already on the writer's thread (a task that prefers ``writerExecutor``) writes
  /// in place instead, without the hand-offs.
  func commit(_ changes: ChangeSet) async throws {
    if isOnWriter { return try commitOnWriter(changes) }
    try await withCheckedThrowingContinuation { continuation in
      let start = pending.withLock { pending in
        pending.items.append((changes, continuation))
        defer { pending.draining = true }
        return !pending.draining
      }
      if start {
        writer.async { self.drain() }
      }
    }
  }

  var pendingCommitCount: Int {
    pending.withLock { $0.items.count }
  }

  var commitsWrittenInPlace: (own: Int, joined: Int) {
    pending.withLock { ($0.writtenInPlace, $0.joinedInPlace) }
  }

  /// Waits until the writer has done what it was given: queued commits, a compaction. Returns
  /// at once on the writer queue of any store, where waiting could deadlock: on its own
  /// (waiting for itself), or on another's (a task on store A's writer closing store B while one
  /// on B's closes A). What it skips then still runs, after the store is closed, and fails as
  /// closed.
  func waitUntilIdle() {
    guard !Self.isOnAnyWriter else { return }
    writer.sync {}
  }

  /// Writes pending commits in groups until none are left. Runs on `writer`.
  ///
  /// After a group, its callers are resumed and usually commit again within microseconds; the
  /// writer gives them a moment (at most ``gatheringTime``) to queue up as many commits as the
  /// last group held, so that several callers share one write and sync instead of trickling
  /// into groups of one or two, and a caller committing alone finds the writer still running
  /// instead of waiting for a thread to wake up. No commit waits for this: the writer takes
  /// the group as soon as it is complete, and only the writer's thread lingers.
  private func drain() {
    var previousGroup = 0
    while true {
      if previousGroup > 0 { gather(previousGroup) }
      let batch = pending.withLock { pending in
        // At least one: the option is a public `var`, and a group of none would never end.
        let count = min(pending.items.count, max(1, options.maximumGroupCommit))
        defer { pending.items.removeFirst(count) }
        if count == 0 { pending.draining = false }
        return Array(pending.items.prefix(count))
      }
      if batch.isEmpty { return }
      previousGroup = batch.count
      let (results, compactionDue) = writeBatch(batch.map(\.changes))
      Self.resume(batch, with: results)
      // After the callers have their answers: compaction never delays an acknowledgement.
      if compactionDue { compactIfDue() }
    }
  }

  /// Writes `changes` on the calling thread, which is the writer's: the caller is a task that
  /// prefers ``writerExecutor``, so the write blocks the store's own thread, never the Swift
  /// concurrency pool, and no thread has to be woken on either side of it.
  ///
  /// Commits other tasks queued before this one go first: those that fit go in its group, and
  /// if more are queued than a group holds, the others are written first in groups of their
  /// own. (The drain scheduled for them runs only when this job's task suspends, which a task
  /// committing in a loop might not do for a long time.) A compaction a group makes due runs
  /// before this returns, after the commit is durable, for the same reason: queued behind this
  /// job, it would let the log grow without bound.
  private func commitOnWriter(_ changes: ChangeSet) throws {
    let limit = max(1, options.maximumGroupCommit)
    // Only the drain and this path take queued commits, and both run on the writer queue, so
    // at least this many stay queued until taken below.
    var ahead = pending.withLock { pending in
      pending.writtenInPlace += 1
      return pending.items.count
    }
    while true {
      let count = min(ahead, limit)
      let queued = pending.withLock { pending in
        pending.joinedInPlace += count
        defer { pending.items.removeFirst(count) }
        return Array(pending.items.prefix(count))
      }
      ahead -= count
      let own = count < limit
      let (results, compactionDue) = writeBatch(queued.map(\.changes) + (own ? [changes] : []))
      Self.resume(queued, with: results)
      if compactionDue { compactIfDue() }
      // `writeBatch` returns one outcome per change set, so the last one is this commit's.
      if own {
        if case .failure(let error)? = results.last { throw error }
        return
      }
    }
  }

  /// Gives each queued caller its commit's outcome.
  private static func resume(
    _ items: [(changes: ChangeSet, continuation: CheckedContinuation<Void, any Error>)],
    with results: [Result<Void, UserManagementError>]
  ) {
    for (item, result) in zip(items, results) {
      switch result {
      case .success: item.continuation.resume()
      case .failure(let error): item.continuation.resume(throwing: error)
      }
    }
  }

  /// The longest the writer waits for the callers of the last group to commit again.
  static let gatheringTime: UInt64 = 100_000  // nanoseconds

  /// Waits, yielding the core, until `count` commits are pending or ``gatheringTime`` has
  /// passed. Runs on `writer`.
  private func gather(_ count: Int) {
    let deadline = DispatchTime.now().uptimeNanoseconds + Self.gatheringTime
    while pending.withLock({ $0.items.count }) < count,
      DispatchTime.now().uptimeNanoseconds < deadline
    {
      Platform.yieldThread()
    }
  }

  /// Checks, applies and durably writes a group of change sets; returns each one's outcome.
  /// - Returns: Each change set's outcome, and whether the log has outgrown the snapshot.
  private func writeBatch(_ batch: [ChangeSet]) -> ([Result<Void, UserManagementError>], Bool) {
    let results = io.withLock { io -> [Result<Void, UserManagementError>] in
      let locked = Result { () throws(UserManagementError) in try lockForWriting(&io) }
      guard case .success(let lockFile) = locked else {
        return batch.map { _ in locked.map { _ in () } }
      }
      defer { lockFile.unlock() }
      announceWrite(&io)
      let refreshed = Result { () throws(UserManagementError) in
        try refresh(&io, repair: true)
        // Never write into a log of an older format: migrate first (opening normally has).
        if io.needsMigration { try compact(&io) }
      }
      if case .failure(let error) = refreshed { return batch.map { _ in .failure(error) } }
      guard let log = io.logFile else { return batch.map { _ in .failure(.storeClosed()) } }
      var results: [Result<Void, UserManagementError>] = []
      let start = io.logEnd
      let capacity = io.logCapacity
      let chunkSize = files.logChunkSize
      let firstSequence = io.manifest.sequence
      let outcome = memory.withLock { memory -> (Int, Int, [AuditEvent])? in
        var applied: [AppliedChange] = []
        var commits = ByteWriter()
        var count = 0
        var sequence = firstSequence
        for changes in batch {
          switch Result(catching: { () throws(UserManagementError) in
            try memory.state.commit(changes)
          }) {
          case .success(let change):
            let record = CommitRecord(sequence: sequence + 1, changes: changes, applied: change)
            // A commit must read back exactly as it will on open; one that cannot (a value
            // beyond the format's bounds) fails alone, before anything is written.
            let encoded = Self.encodeChecked(record, sizeSoFar: commits.bytes.count)
            guard case .success(let bytes) = encoded else {
              memory.state.rollBack(change)
              results.append(encoded.map { _ in () })
              continue
            }
            commits.bytes.append(contentsOf: bytes)
            sequence += 1
            count += 1
            applied.append(change)
            results.append(.success(()))
          case .failure(let error):
            results.append(.failure(error))
          }
        }
        guard count > 0 else { return nil }
        // The whole group is one frame, so an interrupted append damages only the last frame.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(commits.bytes.count + 32)
        StoreFormat.appendFrame(to: &bytes) { writer in
          writer.byte(StoreFormat.Tag.commit.rawValue)
          writer.varint(UInt64(count))
          writer.bytes.append(contentsOf: commits.bytes)
        }
        // Written over the preallocated zeros, so the sync has no size to make durable. A
        // frame that does not fit takes the next chunks of zeros along in the same write.
        let frameLength = bytes.count
        if start + frameLength > capacity {
          let end = StoreFormat.roundUp(start + frameLength, to: chunkSize)
          bytes += [UInt8](repeating: 0, count: end - start - frameLength)
        }
        let written = Result { () throws(StoreIOError) in
          try bytes.withBytes { raw throws(StoreIOError) in
            try log.writeDurably(raw, at: start, fileSize: capacity)
          }
        }
        if case .failure(let error) = written {
          for change in applied.reversed() { memory.state.rollBack(change) }
          // Best effort: the record was not acknowledged, so put the zeros back. Were this to
          // fail too, the bytes are unsynced and would be dropped as a torn frame after a
          // crash, or cleared by the next writer (which reads past the end first) if they
          // are incomplete.
          let zeros = [UInt8](repeating: 0, count: frameLength)
          try? zeros.withBytes { raw throws(StoreIOError) in try log.writeAll(raw, at: start) }
          io.tailUnverified = true
          let failure = UserManagementError.storage(error)
          io.failure = failure
          results = results.map { result in result.flatMap { .failure(failure) } }
          return nil
        }
        let events = batch.indices.filter { results[$0].isSuccess }.flatMap {
          batch[$0].auditEvents
        }
        return (frameLength, bytes.count, events)
      }
      guard let (written, total, events) = outcome else { return results }
      io.logEnd = start + written
      io.logCapacity = max(io.logCapacity, start + total)
      io.manifest.sequence = firstSequence + UInt64(results.count(where: \.isSuccess))
      publish(events: events)
      return results
    }
    return (results, io.withLock { isCompactionDue($0) })
  }

  /// The encoding of `record`, or why it cannot be stored: it must decode to itself, hold no
  /// long run of zeros, and keep the group frame within the format's size limit.
  private static func encodeChecked(_ record: CommitRecord, sizeSoFar: Int)
    -> Result<[UInt8], UserManagementError>
  {
    var writer = ByteWriter()
    record.encode(into: &writer)
    guard sizeSoFar + writer.bytes.count + 16 <= StoreFormat.maximumPayload else {
      return .failure(
        UserManagementError(
          .invalidOperation,
          "The change is too large to store in one commit; split it into smaller ones.",
          context: ["bytes": String(writer.bytes.count)]))
    }
    // A long run of zero bytes would look like a sector the disk lost (see the torn-tail rule);
    // no name, hash or event the library makes holds one.
    var run = 0
    for byte in writer.bytes {
      run = byte == 0 ? run + 1 : 0
      if run > StoreFormat.maximumZeroRun {
        return .failure(
          UserManagementError(
            .invalidOperation,
            "The change holds a long run of NUL characters, which the store does not accept."))
      }
    }
    let decoded = writer.bytes.withUnsafeBytes { raw -> CommitRecord? in
      var reader = ByteReader(raw)
      guard let decoded = CommitRecord(decoding: &reader), reader.isAtEnd else { return nil }
      return decoded
    }
    guard let decoded, decoded.matches(record) else {
      return .failure(
        UserManagementError(
          .invalidOperation,
          "The change holds a value the store cannot represent exactly, so it was not stored."))
    }
    return .success(writer.bytes)
  }
}

extension Result {
  fileprivate var isSuccess: Bool {
    if case .success = self { return true }
    return false
  }
}
