import Dispatch

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// Opening: reading the newest generation's snapshot and log into memory.
extension StoreEngine {
  /// Loads the newest generation — its snapshot, then its log — into `io` and `state`, which
  /// change only if it succeeds. With `repair` (the caller holds the lock exclusively and may
  /// write next): creates the first generation of an empty directory or a missing log, syncs
  /// the directory (a compaction that died before its directory sync leaves entries that a
  /// power loss could still undo, and commits must not be appended to such a generation),
  /// and clears a torn frame off the log's end (overwrites it with zeros).
  ///
  /// - Returns: The commits read from the log.
  @discardableResult
  static func load(
    _ files: StoreFiles, into io: inout IO, state: inout DirectoryState, repair: Bool
  ) throws(UserManagementError) -> [CommitRecord] {
    let fileSystem = files.fileSystem
    let names = try withIO { () throws(StoreIOError) in
      try fileSystem.contentsOfDirectory(files.directory)
    }
    let generations = names.compactMap { StoreFormat.parseNumber($0, prefix: "snapshot-") }
    guard let generation = generations.max() else {
      // Temporary files are what an interrupted first open leaves; they are overwritten.
      let stray = names.first {
        ($0.hasPrefix("log-") || $0.hasPrefix("audit-")) && !$0.hasSuffix(".tmp")
      }
      if let stray {
        throw .corruptStore(
          file: stray, offset: 0, "the store has a log or audit file but no snapshot")
      }
      guard repair else {
        throw UserManagementError(.storageFailure, "The store has no snapshot.")
      }
      try initialize(files)
      return try load(files, into: &io, state: &state, repair: repair)
    }
    var next = io
    let (loaded, manifest, snapshotBytes, snapshotVersion) = try files.readSnapshot(generation)
    var nextState = loaded
    next.manifest = manifest
    next.snapshotBytes = snapshotBytes
    next.snapshotVersion = snapshotVersion
    let logName = StoreFormat.logName(generation)
    if !names.contains(logName) {
      // A compaction renamed its snapshot into place but crashed before its log.
      guard repair else {
        throw UserManagementError(.storageFailure, "The store's log \(logName) is missing.")
      }
      try withIO { () throws(StoreIOError) in
        try files.writeAtomically(
          logName,
          StoreFiles.encodeNewLog(
            generation: generation, baseSequence: manifest.sequence,
            chunkSize: files.logChunkSize))
      }
    }
    if repair {
      try withIO { () throws(StoreIOError) in try fileSystem.syncDirectory(files.directory) }
    }
    let log = try withIO { () throws(StoreIOError) in
      try fileSystem.open(files.path(logName), create: false, truncate: false)
    }
    do {
      // Its last writer may have died between its write and its sync: make what is there
      // durable before serving it, so no power loss can take back what this process saw.
      try log.sync()
    } catch {
      // A second sync would likely report success without the data: no retrying.
      io.failure = .storage(error)
      throw .storage(error)
    }
    next.logFile = log
    next.logEnd = 0
    let read = try readLog(files, io: &next)
    let records = read.records
    for record in records { record.apply(to: &nextState) }
    next.tailUnverified = false
    if case .tornTail(let offset) = read.end {
      if repair {
        do {
          try clearTornTail(log, from: offset, to: read.dirtyEnd)
        } catch {
          // A failed write or sync is a failed write: no more writes until reopened.
          io.failure = .storage(error)
          throw .storage(error)
        }
      } else {
        next.tailUnverified = true
      }
    }
    if let previous = io.logFile, previous !== log { previous.close() }
    next.stale = false
    io = next
    state = nextState
    return records
  }

  /// Creates generation 1 of an empty store: the snapshot first, so that a crash at any
  /// point leaves either nothing but temporary files or a snapshot (whose missing log the
  /// next open creates).
  private static func initialize(_ files: StoreFiles) throws(UserManagementError) {
    let manifest = StoreFiles.Manifest(
      generation: 1, sequence: 0, auditSegments: [], nextAuditSegment: 1)
    try withIO { () throws(StoreIOError) in
      try files.writeAtomically(
        StoreFormat.snapshotName(1), StoreFiles.encodeSnapshot(DirectoryState(), manifest: manifest)
      )
      try files.fileSystem.syncDirectory(files.directory)
      try files.writeAtomically(
        StoreFormat.logName(1),
        StoreFiles.encodeNewLog(generation: 1, baseSequence: 0, chunkSize: files.logChunkSize))
      try files.fileSystem.syncDirectory(files.directory)
    }
  }

  /// What reading the log found.
  struct LogRead {
    /// The commits read, in order.
    var records: [CommitRecord]
    /// How the log ended (a torn frame's offset is a file offset).
    var end: StoreFormat.ScanEnd
    /// The file offset where the zeros that end the file begin: past the last complete
    /// record unless a torn frame (or damage) lies there.
    var dirtyEnd: Int
  }

  /// Reads and checks the log from `io.logEnd` to its end, advancing `io.logEnd` past the
  /// last complete record and `io.manifest.sequence` to its commit, and noting the log's
  /// size (and, reading from its start, its format version).
  static func readLog(_ files: StoreFiles, io: inout IO) throws(UserManagementError) -> LogRead {
    guard let log = io.logFile else { throw .storeClosed() }
    let start = io.logEnd
    let bytes = try withIO { () throws(StoreIOError) in try files.readAll(log, from: start) }
    io.logCapacity = start + bytes.count
    let dirtyEnd = start + bytes.withUnsafeBytes { StoreFormat.startOfTrailingZeros($0) }
    var version = io.logVersion
    let name = StoreFormat.logName(io.manifest.generation)
    let manifest = io.manifest
    var sequence = io.manifest.sequence
    var validEnd = start
    var records: [CommitRecord] = []
    let end = try bytes.withBytes { raw throws(UserManagementError) -> StoreFormat.ScanEnd in
      var from = 0
      if start == 0 {
        version = try StoreFormat.checkHeader(raw, kind: .log, file: name)
        from = StoreFormat.fileHeaderSize
      }
      var sawHeader = start != 0
      return try StoreFormat.scanFrames(
        raw, from: from, file: name, allowTornTail: true, fileOffset: start
      ) {
        payload, offset throws(UserManagementError) in
        var reader = ByteReader(payload)
        let bad = UserManagementError.corruptStore(
          file: name, offset: start + offset, "a record does not decode")
        guard let tag = reader.byte().flatMap(StoreFormat.Tag.init(rawValue:)) else { throw bad }
        switch tag {
        case .header where !sawHeader:
          guard reader.varint() == manifest.generation, reader.varint() == manifest.sequence,
            reader.isAtEnd
          else { throw bad }
          sawHeader = true
        case .commit where sawHeader:
          guard let count = reader.varint(), count >= 1, count <= UInt64(payload.count) else {
            throw bad
          }
          for _ in 0..<count {
            guard let record = CommitRecord(decoding: &reader), record.sequence == sequence + 1
            else { throw bad }
            records.append(record)
            sequence = record.sequence
          }
          guard reader.isAtEnd else { throw bad }
        default:
          throw bad
        }
        validEnd = start + offset + payload.count + StoreFormat.frameOverhead
      }
    }
    if start == 0 && validEnd == 0 {
      throw .corruptStore(file: name, offset: 0, "the log has no header")
    }
    io.logEnd = validEnd
    io.manifest.sequence = sequence
    io.logVersion = version
    if case .tornTail(let offset) = end {
      return LogRead(records: records, end: .tornTail(at: start + offset), dirtyEnd: dirtyEnd)
    }
    return LogRead(records: records, end: end, dirtyEnd: dirtyEnd)
  }

  /// Overwrites a torn frame — from `offset` to `end`, where the log's zeros begin — with
  /// zeros and syncs, so that the next commit is written over zeros only.
  static func clearTornTail(_ log: any StoreFile, from offset: Int, to end: Int)
    throws(StoreIOError)
  {
    if end > offset {
      let zeros = [UInt8](repeating: 0, count: end - offset)
      try zeros.withBytes { raw throws(StoreIOError) in try log.writeAll(raw, at: offset) }
    }
    try log.sync()
  }
}
