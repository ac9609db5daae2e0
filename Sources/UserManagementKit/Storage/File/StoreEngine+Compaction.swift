import Dispatch

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// Compaction: a new snapshot and a fresh log, and removing what they replace.
extension StoreEngine {
  /// Compacts now. Runs on `writer` (after the commits queued before it) while the caller is
  /// suspended: it takes the exclusive `flock` and writes and syncs whole files.
  func compactNow() async throws(UserManagementError) {
    try await writer.runBlocking { () throws(UserManagementError) in
      try self.io.withLock { io throws(UserManagementError) in
        let lockFile = try self.lockForWriting(&io)
        defer { lockFile.unlock() }
        self.announceWrite(&io)
        try self.refresh(&io, repair: true)
        try self.compact(&io)
      }
    }
  }

  /// Seals the log's audit events into a segment, writes a snapshot of the state as
  /// generation *g* + 1 with a fresh log, and removes generation *g*. Every step is atomic
  /// (write a temporary file, sync it, rename it, sync the directory), so a crash leaves
  /// either generation complete. The caller holds `io` and the exclusive `flock`.
  func compact(_ io: inout IO) throws(UserManagementError) {
    let state = memory.withLock { $0.state }
    var manifest = io.manifest
    let generation = manifest.generation + 1
    manifest.generation = generation
    let fileSystem = files.fileSystem
    let snapshot: [UInt8]
    let newLog: [UInt8]
    do {
      if state.audit.count > 0 {
        let number = manifest.nextAuditSegment
        try files.writeAtomically(
          StoreFormat.auditName(number),
          StoreFiles.encodeAuditSegment(state.audit, number: number))
        try fileSystem.syncDirectory(files.directory)
        manifest.auditSegments.append((number, UInt64(state.audit.count)))
        manifest.nextAuditSegment = number + 1
      }
      snapshot = StoreFiles.encodeSnapshot(state, manifest: manifest)
      newLog = StoreFiles.encodeNewLog(
        generation: generation, baseSequence: manifest.sequence, chunkSize: files.logChunkSize)
      try files.writeAtomically(StoreFormat.logName(generation), newLog)
      try files.writeAtomically(StoreFormat.snapshotName(generation), snapshot)
      try fileSystem.syncDirectory(files.directory)
    } catch {
      let failure = UserManagementError.storage(error)
      io.failure = failure
      throw failure
    }
    // Generation g + 1 is durable. Switch to it, then remove what it replaced.
    do {
      let log = try fileSystem.open(
        files.path(StoreFormat.logName(generation)), create: false, truncate: false)
      io.logFile?.close()
      io.logFile = log
    } catch {
      let failure = UserManagementError.storage(error)
      io.failure = failure
      throw failure
    }
    io.manifest = manifest
    io.logEnd =
      StoreFiles.encodeLogHeader(generation: generation, baseSequence: manifest.sequence)
      .count
    io.logCapacity = newLog.count
    io.logVersion = StoreFormat.currentVersion
    io.snapshotVersion = StoreFormat.currentVersion
    io.tailUnverified = false
    io.snapshotBytes = snapshot.count
    let sealedEvents = state.audit
    memory.withLock { memory in
      if memory.sealedAudit != nil {
        for index in 0..<sealedEvents.count {
          if let event = sealedEvents.event(at: index) { memory.sealedAudit?.append(event) }
        }
      }
      memory.state.audit = CompactAuditLog()
    }
    removeGarbage(keeping: manifest)
  }

  /// Removes files no generation needs: older snapshots and logs, temporary files, and audit
  /// segments the manifest does not list (left by a compaction that crashed). Failures are
  /// ignored: the files are unreferenced, and the next compaction tries again.
  private func removeGarbage(keeping manifest: StoreFiles.Manifest) {
    guard let names = try? files.fileSystem.contentsOfDirectory(files.directory) else { return }
    let segments = Set(manifest.auditSegments.map(\.number))
    for name in names {
      let garbage: Bool
      if name.hasSuffix(".tmp") {
        garbage = true
      } else if let number = StoreFormat.parseNumber(name, prefix: "snapshot-") {
        garbage = number < manifest.generation
      } else if let number = StoreFormat.parseNumber(name, prefix: "log-") {
        garbage = number < manifest.generation
      } else if let number = StoreFormat.parseNumber(name, prefix: "audit-") {
        garbage = !segments.contains(number)
      } else {
        garbage = false
      }
      if garbage { try? files.fileSystem.remove(files.path(name)) }
    }
    try? files.fileSystem.syncDirectory(files.directory)
  }

  /// Compacts if the log has outgrown the snapshot. Runs on `writer`, between groups. A
  /// failure leaves the current generation in place and stops further writes (see `compact`).
  func compactIfDue() {
    io.withLock { io in
      guard isCompactionDue(io), let lockFile = try? lockForWriting(&io) else { return }
      defer { lockFile.unlock() }
      guard (try? refresh(&io, repair: true)) != nil, isCompactionDue(io) else { return }
      announceWrite(&io)
      try? compact(&io)
    }
  }

  func isCompactionDue(_ io: IO) -> Bool {
    io.logEnd - StoreFormat.fileHeaderSize > max(options.minimumCompactionLogSize, io.snapshotBytes)
  }
}
