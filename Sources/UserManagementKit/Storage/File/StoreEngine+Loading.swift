import Dispatch

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// Opening: reading the newest generation's snapshot and log into memory.
extension StoreEngine {
  /// Loads the newest generation into `io` and `state`, which change only if it succeeds:
  /// its log, then its snapshot, each snapshot user the log updates replaced as it is decoded
  /// (``readLogFirst(_:generation:into:)``); where that finds the files damaged or
  /// inconsistent, its snapshot, then its log, which says where. With `repair` (the caller
  /// holds the lock exclusively and may write next): creates the first generation of an
  /// empty directory or a missing log, syncs the directory (a compaction that died before its
  /// directory sync leaves entries that a power loss could still undo, and commits must not
  /// be appended to such a generation), and clears a torn frame off the log's end
  /// (overwrites it with zeros).
  static func load(
    _ files: StoreFiles, into io: inout IO, state: inout DirectoryState, repair: Bool
  ) throws(UserManagementError) {
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
    let logName = StoreFormat.logName(generation)
    if !names.contains(logName) {
      // A compaction renamed its snapshot into place but crashed before its log: check the
      // snapshot whole before writing anything.
      let snapshot = try files.readSnapshot(generation)
      var checked = snapshot.state
      try index(snapshot, into: &checked, generation: generation, log: [], creations: 0) { _ in 0 }
      guard repair else {
        throw UserManagementError(.storageFailure, "The store's log \(logName) is missing.")
      }
      try withIO { () throws(StoreIOError) in
        try files.writeAtomically(
          logName,
          StoreFiles.encodeNewLog(
            generation: generation, baseSequence: snapshot.manifest.sequence,
            chunkSize: files.logChunkSize))
      }
    }
    if repair {
      try withIO { () throws(StoreIOError) in try fileSystem.syncDirectory(files.directory) }
    }
    let log = try withIO { () throws(StoreIOError) in
      try fileSystem.open(files.path(logName), create: false, truncate: false)
    }
    // Whatever fails from here on leaves `io` as it was: the log opened here is closed.
    var handedOver = false
    defer { if !handedOver { log.close() } }
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
    let loaded: Loaded
    if let quick = try readLogFirst(files, generation: generation, into: &next) {
      loaded = quick
    } else {
      loaded = try readSnapshotFirst(files, generation: generation, into: &next)
    }
    let (nextState, read) = loaded
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
    handedOver = true
    io = next
    state = nextState
  }

  /// What reading a generation's files gives: the state (the log's commits applied, their
  /// audit events in its audit log), and how the log ended.
  typealias Loaded = (state: DirectoryState, read: LogRead)

  /// Reads the snapshot, then the log, and indexes their users together: the plain way,
  /// which reports exactly where the files are damaged or disagree.
  private static func readSnapshotFirst(
    _ files: StoreFiles, generation: UInt64, into next: inout IO
  ) throws(UserManagementError) -> Loaded {
    let snapshot = try files.readSnapshot(generation)
    next.manifest = snapshot.manifest
    next.snapshotBytes = snapshot.bytes
    next.snapshotVersion = snapshot.version
    var read = try readLog(files, io: &next, makingEntries: true)
    // Moved out, so that taking their users out leaves no other copy holding them.
    var records = read.records
    read.records = []
    let log = takeUsers(of: &records)
    var state = snapshot.state
    for index in records.indices { records[index].apply(to: &state) }
    try index(
      snapshot, into: &state, generation: generation, log: log.users, creations: log.creations
    ) {
      read.recordOffsets[log.records[$0]]
    }
    next.loadPath = .snapshotFirst
    return (state, read)
  }

  /// Reads the log, then the snapshot; if the log updates users, each snapshot user it holds
  /// is replaced by the log's last version of it as soon as it is decoded (see ``LogUsers``).
  /// A version the log supersedes is freed when the log's users are taken out of its
  /// commits, or as soon as the snapshot's is decoded; only the version 1 of a user the log
  /// both creates and updates stays until the users are indexed. Opening a store whose log
  /// updated every user takes no more memory than its state.
  ///
  /// - Returns: What was read, or `nil` for ``readSnapshotFirst(_:generation:into:)`` to read
  ///   the files again and say exactly what is wrong, and where: the log is damaged, the
  ///   snapshot's header frame cannot be read alone or names another manifest than the
  ///   snapshot, the log contradicts itself (``LogUsers/contradictsItself``), or the users of
  ///   the log and the snapshot are inconsistent.
  private static func readLogFirst(
    _ files: StoreFiles, generation: UInt64, into next: inout IO
  ) throws(UserManagementError) -> Loaded? {
    guard let manifest = files.readManifest(generation) else { return nil }
    var quick = next
    quick.manifest = manifest
    // A damaged log is reported after a damaged snapshot: the plain way reads both.
    guard var read = try? readLog(files, io: &quick, makingEntries: true) else { return nil }
    // Moved out, so that the versions the log supersedes go as soon as they are taken out.
    var records = read.records
    read.records = []
    let log = LogUsers(takingUsersOf: &records)
    guard !log.contradictsItself else { return nil }
    let replacing = log.updatesUsers
    // What is wrong with the snapshot itself is found and reported as the plain way would.
    let snapshot = try files.readSnapshot(generation, replacing: replacing ? log : nil)
    let replacements = snapshot.replacements
    let snapshotPolicies = Set(snapshot.state.policies.keys)
    guard snapshot.manifest == manifest, replacements.allowed,
      replacements.replacedPolicies.isSubset(of: snapshotPolicies)
    else { return nil }
    var state = snapshot.state
    for index in records.indices { records[index].apply(to: &state) }
    let creations = log.created.count
    let additions = log.remaining(after: replacements.users)
    guard
      state.loadUsers(
        snapshot: snapshot.users, log: additions, logCreations: creations,
        snapshotPolicies: snapshotPolicies, replacedHolders: replacements.holders) == nil
    else { return nil }
    quick.loadPath = replacing ? .logFirstReplacing : .logFirst
    quick.snapshotBytes = snapshot.bytes
    quick.snapshotVersion = snapshot.version
    next = quick
    return (state, read)
  }

  /// Takes the users out of `records` (their ``CommitRecord/entries``): in commit order, the
  /// index of the record each came from, and how many are new (at version 1).
  private static func takeUsers(of records: inout [CommitRecord])
    -> (users: [DirectoryEntry], records: [Int], creations: Int)
  {
    var users: [DirectoryEntry] = []
    users.reserveCapacity(records.reduce(0) { $0 + $1.entries.count })
    var userRecords: [Int] = []
    userRecords.reserveCapacity(users.capacity)
    var creations = 0
    for index in records.indices {
      creations += records[index].entries.count(where: { $0.record.user.version == 1 })
      users.append(contentsOf: records[index].entries)
      userRecords.append(contentsOf: repeatElement(index, count: records[index].entries.count))
      records[index].entries = []
    }
    return (users, userRecords, creations)
  }

  /// Indexes a snapshot's users with the log's (`logUsers`, each made by the commit
  /// `logRecordOffsets` gives the frame of), checking that they are consistent.
  private static func index(
    _ snapshot: StoreFiles.Snapshot, into state: inout DirectoryState, generation: UInt64,
    log logUsers: [DirectoryEntry], creations: Int, logRecordOffsets: (Int) -> Int
  ) throws(UserManagementError) {
    switch state.loadUsers(
      snapshot: snapshot.users, log: logUsers, logCreations: creations,
      snapshotPolicies: Set(snapshot.state.policies.keys))
    {
    case nil:
      break
    case .snapshotFrame(let frame)?:
      throw .corruptStore(
        file: StoreFormat.snapshotName(generation), offset: snapshot.userFrameOffsets[frame],
        "users are out of order or appear twice")
    case .missingPolicy?:
      throw .corruptStore(
        file: StoreFormat.snapshotName(generation), offset: StoreFormat.fileHeaderSize,
        "a user holds a policy it lacks")
    case .logUser(let user)?:
      throw .corruptStore(
        file: StoreFormat.logName(generation), offset: logRecordOffsets(user),
        "a commit changes a user's username or takes another user's")
    }
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
    /// The file offset of the frame of each record.
    var recordOffsets: [Int]
    /// How the log ended (a torn frame's offset is a file offset).
    var end: StoreFormat.ScanEnd
    /// The file offset where the zeros that end the file begin: past the last complete
    /// record unless a torn frame (or damage) lies there.
    var dirtyEnd: Int
  }

  /// Reads and checks the log from `io.logEnd` to its end, advancing `io.logEnd` past the
  /// last complete record and `io.manifest.sequence` to its commit, and noting the log's
  /// size (and, reading from its start, its format version). With `makingEntries` (opening),
  /// the records' users are decoded as the state's entries (``CommitRecord/entries``), and
  /// their audit events are checked and kept encoded (``CommitRecord/encodedAuditEvents``).
  static func readLog(_ files: StoreFiles, io: inout IO, makingEntries: Bool = false)
    throws(UserManagementError) -> LogRead
  {
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
    var recordOffsets: [Int] = []
    let end = try bytes.withBytes { raw throws(UserManagementError) -> StoreFormat.ScanEnd in
      var from = 0
      if start == 0 {
        version = try StoreFormat.checkHeader(raw, kind: .log, file: name)
        from = StoreFormat.fileHeaderSize
      }
      var sawHeader = start != 0
      // Groups of commits are decoded after the scan (on two threads for a long log), then
      // checked in order; the first damage in file order is what is reported.
      var groups: [CommitFrame] = []
      let scanned = Result { () throws(UserManagementError) -> StoreFormat.ScanEnd in
        try StoreFormat.scanFrames(
          raw, from: from, file: name, allowTornTail: true, fileOffset: start
        ) {
          payload, offset throws(UserManagementError) in
          var reader = ByteReader(payload)
          // Made only if thrown: made for every frame, it cost more than the frame's reading.
          func bad() -> UserManagementError {
            .corruptStore(
              file: name, offset: start + offset, "a record does not decode")
          }
          guard let tag = reader.byte().flatMap(StoreFormat.Tag.init(rawValue:)) else {
            throw bad()
          }
          switch tag {
          case .header where !sawHeader:
            guard reader.varint() == manifest.generation, reader.varint() == manifest.sequence,
              reader.isAtEnd
            else { throw bad() }
            sawHeader = true
          case .commit where sawHeader:
            guard let count = reader.varint(), count >= 1, count <= UInt64(payload.count) else {
              throw bad()
            }
            let payloadStart = offset + 8
            groups.append(
              CommitFrame(
                offset: offset, payload: payloadStart..<payloadStart + payload.count,
                count: Int(count)))
          default:
            throw bad()
          }
          validEnd = start + offset + payload.count + StoreFormat.frameOverhead
        }
      }
      let decoded = decodeCommitFrames(raw, groups, makingEntries: makingEntries)
      for (group, commits) in zip(groups, decoded) {
        func bad() -> UserManagementError {
          .corruptStore(
            file: name, offset: start + group.offset, "a record does not decode")
        }
        guard let commits else { throw bad() }
        for record in commits {
          guard record.sequence == sequence + 1 else { throw bad() }
          sequence = record.sequence
        }
        records.append(contentsOf: commits)
        recordOffsets.append(contentsOf: repeatElement(start + group.offset, count: commits.count))
      }
      return try scanned.get()
    }
    if start == 0 && validEnd == 0 {
      throw .corruptStore(file: name, offset: 0, "the log has no header")
    }
    io.logEnd = validEnd
    io.manifest.sequence = sequence
    io.logVersion = version
    if case .tornTail(let offset) = end {
      return LogRead(
        records: records, recordOffsets: recordOffsets, end: .tornTail(at: start + offset),
        dirtyEnd: dirtyEnd)
    }
    return LogRead(records: records, recordOffsets: recordOffsets, end: end, dirtyEnd: dirtyEnd)
  }

  /// A group of commits in the log: where its frame is in the bytes read, where its payload
  /// is, and how many commits it says it holds.
  struct CommitFrame {
    var offset: Int
    var payload: Range<Int>
    var count: Int
  }

  /// Decodes groups of commits, on two threads when there is much to decode; with
  /// `makingEntries`, their users as the state's entries, each thread sharing policy sets
  /// among the users it decodes.
  ///
  /// - Returns: For each group, its commits, or `nil` if it does not decode.
  static func decodeCommitFrames(
    _ raw: UnsafeRawBufferPointer, _ frames: [CommitFrame], makingEntries: Bool = false
  ) -> [[CommitRecord]?] {
    let bytes = frames.reduce(0) { $0 + $1.payload.count }
    let workers = bytes >= 1 << 20 && frames.count > 1 ? min(2, Platform.activeProcessorCount) : 1
    guard workers > 1 else {
      var policySets = PolicySetCache()
      return frames.map { decodeOne(raw, $0, makingEntries: makingEntries, &policySets) }
    }
    let results = Locked([[CommitRecord]?](repeating: nil, count: frames.count))
    // The buffer outlives this call (`concurrentPerform` returns when every worker is done);
    // workers read disjoint frames of it.
    let base = UInt(bitPattern: raw.baseAddress)
    let length = raw.count
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
      let bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: base), count: length)
      var decoded: [(Int, [CommitRecord]?)] = []
      var index = worker
      var encoded = 0
      for frame in stride(from: worker, to: frames.count, by: workers) {
        encoded += frames[frame].payload.count
      }
      var policySets = PolicySetCache()
      // Decoded commits take about twice their encoding; as entries, about what a snapshot's
      // decoded users take (see `StoreFiles.decodeUsers`), and their audit events, kept
      // encoded, about their encoding (so this overestimates a log of many events).
      Platform.withPreparedAllocations(bytes: makingEntries ? encoded * 5 / 2 : encoded * 2) {
        while index < frames.count {
          decoded.append(
            (index, decodeOne(bytes, frames[index], makingEntries: makingEntries, &policySets)))
          index += workers
        }
      }
      results.withLock { results in
        for (index, commits) in decoded { results[index] = commits }
      }
    }
    return results.withLock { $0 }
  }

  /// The commits of one group, or `nil` if it does not decode.
  private static func decodeOne(
    _ bytes: UnsafeRawBufferPointer, _ frame: CommitFrame, makingEntries: Bool,
    _ policySets: inout PolicySetCache
  ) -> [CommitRecord]? {
    var reader = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[frame.payload]))
    _ = reader.byte()
    _ = reader.varint()
    var commits: [CommitRecord] = []
    // A commit takes at least 5 bytes, so a damaged count cannot reserve much.
    commits.reserveCapacity(min(frame.count, frame.payload.count / 5))
    for _ in 0..<frame.count {
      guard
        let record = makingEntries
          ? CommitRecord(decodingEntries: &reader, policySets: &policySets)
          : CommitRecord(decoding: &reader)
      else { return nil }
      commits.append(record)
    }
    return reader.isAtEnd ? commits : nil
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

/// How a store's files were last read into memory (for tests).
package enum StoreLoadPath: Equatable, Sendable {
  /// The snapshot, then the log (`StoreEngine.readSnapshotFirst`).
  case snapshotFirst
  /// The log, then the snapshot (`StoreEngine.readLogFirst`): a log that updates no user.
  case logFirst
  /// The log, then the snapshot, each user the log holds replacing the snapshot's version
  /// of it as the snapshot was decoded.
  case logFirstReplacing
}
