import Dispatch

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// A ``DirectoryStore`` that keeps users, policies and the audit trail in files in one
/// directory: durable, crash-safe, shared safely by several processes, and compacted
/// automatically.
///
/// ```swift
/// let store = try FileDirectoryStore(directory: "/var/lib/myapp/users")
/// let directory = UserDirectory(store: store)
/// ```
///
/// ### Guarantees
/// - **Acknowledged means durable.** ``commit(_:)`` returns only after the commit's bytes are
///   on stable storage (`fdatasync`; `F_FULLFSYNC` on Darwin), and every file the store creates
///   or renames is followed by a sync of the directory.
/// - **Crash-safe.** After a crash or power loss at any instant the store opens and holds
///   every acknowledged commit. A commit interrupted mid-write is discarded on open; any
///   other damage is reported as ``UserManagementError/Code/corruptStore`` naming the file
///   and offset, never guessed around.
/// - **Several processes.** Processes (and several stores in one process) may open the same
///   directory. Commits are serialized by an advisory lock (`flock`) and each one is checked
///   against every earlier commit of every process, so the directory's rules hold across
///   processes. Reads see other processes' commits too: a counter in shared memory tells a
///   reader, without a system call, when it must catch up.
/// - **Group commit.** Concurrent commits from one process share one write and one sync.
/// - **Bounded size.** When the log outgrows the live data, the store writes a new snapshot
///   and starts a fresh log, atomically; its files stay within about twice the live data, and
///   opening reads the snapshot and a short log. The audit trail moves into sealed segment
///   files that opening does not read.
/// - **Private.** The directory is created with mode 0700 and files with 0600. The directory's
///   permissions are the security boundary: anyone who can write it can become any user.
/// - **Fails closed.** If a write or sync fails, the commit fails with
///   ``UserManagementError/Code/storageFailure``, the in-memory state stays equal to what is on
///   disk, and the store refuses every further commit until it is reopened (a failed sync may
///   have lost data the kernel had accepted, so retrying could silently skip it).
///
/// The file format is specified in `Documentation/StoreFormat.md`. Network file systems,
/// whose `flock` and shared memory are not coherent between machines, are not supported.
public final class FileDirectoryStore: DirectoryStore {
  /// Tuning knobs.
  public struct Options: Sendable {
    /// The log is compacted into a new snapshot when it is larger than both the snapshot
    /// and this many bytes. Default 1 MiB.
    public var minimumCompactionLogSize: Int
    /// The most commits one write and sync carries. Default 512.
    public var maximumGroupCommit: Int

    /// Creates options.
    ///
    /// - Parameters:
    ///   - minimumCompactionLogSize: The log size below which the store never compacts.
    ///   - maximumGroupCommit: The most commits one write and sync carries.
    public init(minimumCompactionLogSize: Int = 1 << 20, maximumGroupCommit: Int = 512) {
      self.minimumCompactionLogSize = max(4096, minimumCompactionLogSize)
      self.maximumGroupCommit = max(1, maximumGroupCommit)
    }
  }

  /// Sizes and positions of the store's files.
  public struct Statistics: Hashable, Sendable {
    /// The generation of the current snapshot and log (incremented by each compaction).
    public var generation: UInt64
    /// The size of the current snapshot file in bytes.
    public var snapshotBytes: Int
    /// The size of the current log file in bytes.
    public var logBytes: Int
    /// The number of sealed audit segment files.
    public var auditSegments: Int
    /// The sequence number of the last commit.
    public var sequence: UInt64
  }

  /// The directory holding the store.
  public let directory: String
  private let engine: StoreEngine

  /// Opens the store in `directory`, creating the directory (mode 0700) and an empty store if
  /// they do not exist. When this returns, the store is loaded and ready to serve.
  ///
  /// - Parameters:
  ///   - directory: The directory's path.
  ///   - options: Tuning knobs.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/storageFailure``
  ///   (the directory or a file cannot be read or written),
  ///   ``UserManagementError/Code/corruptStore`` or
  ///   ``UserManagementError/Code/unsupportedStoreFormat``.
  public convenience init(directory: String, options: Options = Options())
    throws(UserManagementError)
  {
    try self.init(directory: directory, options: options, fileSystem: PosixFileSystem())
  }

  /// Opens the store through another file-system layer (tests inject faults with it).
  package init(directory: String, options: Options, fileSystem: any StoreFileSystem)
    throws(UserManagementError)
  {
    self.directory = directory
    self.engine = try StoreEngine(directory: directory, options: options, fileSystem: fileSystem)
  }

  deinit { engine.close() }

  /// The user with this identifier.
  ///
  /// - Parameter id: The identifier.
  /// - Returns: The record, or `nil`.
  /// - Throws: ``UserManagementError`` if catching up with another process's commits fails.
  public func user(id: UserID) async throws -> UserRecord? {
    try engine.read { $0.byID[id]?.record }
  }

  /// The user with this canonical username.
  ///
  /// - Parameter usernameKey: A canonical username.
  /// - Returns: The record, or `nil`.
  /// - Throws: ``UserManagementError`` if catching up with another process's commits fails.
  public func user(usernameKey: String) async throws -> UserRecord? {
    try engine.read { $0.byUsername[HashedKey(usernameKey)]?.record }
  }

  /// The user with this identifier, without hashes.
  ///
  /// - Parameter id: The identifier.
  /// - Returns: The user, or `nil`.
  /// - Throws: ``UserManagementError`` if catching up with another process's commits fails.
  public func profile(id: UserID) async throws -> User? {
    try engine.read { $0.byID[id]?.record.user }
  }

  /// The user with this canonical username, without hashes.
  ///
  /// - Parameter usernameKey: A canonical username.
  /// - Returns: The user, or `nil`.
  /// - Throws: ``UserManagementError`` if catching up with another process's commits fails.
  public func profile(usernameKey: String) async throws -> User? {
    try engine.read { $0.byUsername[HashedKey(usernameKey)]?.record.user }
  }

  /// One page of users matching the query.
  ///
  /// - Parameter query: The query.
  /// - Returns: The page.
  /// - Throws: ``UserManagementError`` if catching up with another process's commits fails.
  public func users(matching query: UserQuery) async throws -> UserPage {
    try engine.read { $0.page(query) }
  }

  /// The number of users matching the filter.
  ///
  /// - Parameter filter: The filter.
  /// - Returns: The count.
  /// - Throws: ``UserManagementError`` if catching up with another process's commits fails.
  public func userCount(matching filter: UserFilter) async throws -> Int {
    try engine.read { $0.count(filter) }
  }

  /// The failed sign-in counter of one credential of a user.
  ///
  /// - Parameters:
  ///   - user: The user.
  ///   - kind: The credential.
  /// - Returns: The counter.
  /// - Throws: ``UserManagementError`` if catching up with another process's commits fails.
  public func loginThrottle(for user: UserID, kind: CredentialKind) async throws
    -> LoginThrottleState
  {
    try engine.read { $0.throttle(user, kind) }
  }

  /// The policy with this identifier.
  ///
  /// - Parameter id: The identifier.
  /// - Returns: The policy, or `nil`.
  /// - Throws: ``UserManagementError`` if catching up with another process's commits fails.
  public func policy(id: PolicyID) async throws -> Policy? {
    try engine.read { $0.policies[id] }
  }

  /// The policy with this name key.
  ///
  /// - Parameter nameKey: A lowercased name.
  /// - Returns: The policy, or `nil`.
  /// - Throws: ``UserManagementError`` if catching up with another process's commits fails.
  public func policy(nameKey: String) async throws -> Policy? {
    try engine.read { $0.policy(nameKey: nameKey) }
  }

  /// Every policy, ordered by name key.
  ///
  /// - Returns: The policies.
  /// - Throws: ``UserManagementError`` if catching up with another process's commits fails.
  public func policies() async throws -> [Policy] {
    try engine.read { $0.sortedPolicies() }
  }

  /// The audit events matching the query. The first query reads the sealed audit segments,
  /// which opening skips, and keeps them in memory in their compact binary form.
  ///
  /// - Parameter query: The query.
  /// - Returns: The events.
  /// - Throws: ``UserManagementError`` if a segment cannot be read or is damaged.
  public func auditEvents(matching query: AuditQuery) async throws -> [AuditEvent] {
    try engine.auditEvents(matching: query)
  }

  /// A stream of the events committed from now on, by this process or (once this store
  /// catches up with them, at its next read or commit) by others. The stream buffers without
  /// bound, so consume it promptly; it finishes when the store is closed.
  ///
  /// - Returns: The stream.
  public func subscribeToAuditEvents() -> AsyncStream<AuditEvent> {
    engine.subscribe()
  }

  /// Applies a change set atomically and durably, or nothing.
  ///
  /// Concurrent calls are grouped: one writer appends all pending change sets, each checked
  /// against the state left by the ones before it, with one write and one sync.
  ///
  /// - Parameter changes: The change set.
  /// - Throws: ``UserManagementError`` naming the failed check, or
  ///   ``UserManagementError/Code/storageFailure`` if the store could not write.
  public func commit(_ changes: ChangeSet) async throws {
    try await engine.commit(changes)
  }

  /// Writes a new snapshot and starts a fresh log now, instead of waiting for the log to
  /// outgrow the snapshot.
  ///
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/storageFailure``.
  public func compact() async throws(UserManagementError) {
    try engine.compactNow()
  }

  /// The sizes of the store's files.
  public var statistics: Statistics {
    engine.statistics
  }

  /// How many commits wait for the writer (for tests of group commit).
  package var pendingCommitCount: Int {
    engine.pendingCommitCount
  }

  /// Waits until the writer queue has finished what it was given, such as a compaction that
  /// follows a commit (for tests that inspect the files).
  package func waitUntilIdle() {
    engine.waitUntilIdle()
  }

  /// Closes the store's files and finishes audit subscriptions. Later calls throw
  /// ``UserManagementError/Code/storageFailure``. Idempotent; also done when the store is
  /// released.
  public func close() {
    engine.close()
  }
}

// MARK: - Engine

/// The state and the file I/O behind ``FileDirectoryStore``.
///
/// Three locks, always taken in this order when nested: `io` (the files, and this process's
/// place in them), then the store's `flock` (other processes), then `memory` (the directory
/// state readers use). `pending` is never held with another.
final class StoreEngine: Sendable {
  private struct IO {
    var lockFile: (any StoreFile)?
    var logFile: (any StoreFile)?
    var manifest: StoreFiles.Manifest
    /// The end of the last complete record in the log.
    var logEnd: Int
    var snapshotBytes: Int
    /// The shared counter's value when this process last caught up.
    var known: UInt64 = 0
    /// Set after a failed write or sync: no more commits until the store is reopened.
    var failure: UserManagementError?
    /// Set when catching up failed midway: the next catch-up reloads everything.
    var stale = false
    var closed = false
  }

  private struct Memory {
    var state = DirectoryState()
    /// Events of sealed segments, loaded on the first audit query.
    var sealedAudit: CompactAuditLog?
    var known: UInt64 = 0
    var subscribers: [UUID: AsyncStream<AuditEvent>.Continuation] = [:]
    var closed = false
    /// Set after a failed sync of what this process was about to serve: reads throw.
    var failure: UserManagementError?
  }

  private struct Pending {
    var items: [(changes: ChangeSet, continuation: CheckedContinuation<Void, any Error>)] = []
    var draining = false
  }

  private let files: StoreFiles
  private let options: FileDirectoryStore.Options
  private let counter: any SharedCounter
  private let io: Locked<IO>
  private let memory = Locked(Memory())
  private let pending = Locked(Pending())
  private let writer = DispatchQueue(label: "UserManagementKit.FileDirectoryStore.writer")

  init(directory: String, options: FileDirectoryStore.Options, fileSystem: any StoreFileSystem)
    throws(UserManagementError)
  {
    self.files = StoreFiles(fileSystem: fileSystem, directory: directory)
    self.options = options
    let lockFile: any StoreFile
    do {
      try fileSystem.createDirectory(directory)
      lockFile = try fileSystem.open(
        files.path(StoreFormat.lockFileName), create: true, truncate: false)
    } catch {
      throw .storage(error)
    }
    do {
      // Opening may repair a torn log tail or create the first generation, so it takes the
      // lock exclusively — before it maps the counter, whose page a new LOCK file gets filled
      // with zeros, which must not race another process's first commit.
      try lockFile.lock(exclusive: true)
      counter = try lockFile.sharedCounter()
    } catch {
      lockFile.close()
      throw .storage(error)
    }
    defer { lockFile.unlock() }
    var loaded = IO(
      lockFile: lockFile, logFile: nil,
      manifest: .init(generation: 0, sequence: 0, auditSegments: [], nextAuditSegment: 1),
      logEnd: 0, snapshotBytes: 0)
    var state = DirectoryState()
    do {
      try Self.load(files, into: &loaded, state: &state, repair: true)
    } catch {
      lockFile.close()
      loaded.logFile?.close()
      throw error
    }
    loaded.known = counter.load()
    io = Locked(loaded)
    // A process that opens, commits and closes may never have reached its compaction: the
    // next open does it, so the files stay bounded however the store is used.
    let compactionDue = io.withLock { isCompactionDue($0) }
    let known = loaded.known
    memory.withLock {
      $0.state = state
      $0.known = known
    }
    writer.setSpecific(key: Self.writerKey, value: ())
    if compactionDue {
      announceWrite()
      // Under the exclusive lock taken above. A failure leaves the current generation and
      // stops writes, as it does after a commit.
      io.withLock { io in try? compact(&io) }
    }
  }

  /// Marks the writer queue, so that closing from it does not wait for itself.
  private static let writerKey = DispatchSpecificKey<Void>()

  // MARK: Loading

  /// Loads the newest generation — its snapshot, then its log — into `io` and `state`, which
  /// change only if it succeeds. With `repair` (the caller holds the lock exclusively and may
  /// write next): creates the first generation of an empty directory or a missing log, syncs
  /// the directory (a compaction that died before its directory sync leaves entries that a
  /// power loss could still undo, and commits must not be appended to such a generation),
  /// and cuts a torn tail off the log.
  ///
  /// - Returns: The commits read from the log.
  @discardableResult
  private static func load(
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
    let (loaded, manifest, snapshotBytes) = try files.readSnapshot(generation)
    var nextState = loaded
    next.manifest = manifest
    next.snapshotBytes = snapshotBytes
    let logName = StoreFormat.logName(generation)
    if !names.contains(logName) {
      // A compaction renamed its snapshot into place but crashed before its log.
      guard repair else {
        throw UserManagementError(.storageFailure, "The store's log \(logName) is missing.")
      }
      try withIO { () throws(StoreIOError) in
        try files.writeAtomically(
          logName,
          StoreFiles.encodeLogHeader(generation: generation, baseSequence: manifest.sequence))
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
    let (records, end) = try readLog(files, io: &next)
    for record in records { record.apply(to: &nextState) }
    if case .tornTail(let offset) = end, repair {
      do {
        try cutTornTail(log, at: offset)
      } catch {
        // A failed truncate or sync is a failed write: no more writes until reopened.
        io.failure = .storage(error)
        throw .storage(error)
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
        StoreFormat.logName(1), StoreFiles.encodeLogHeader(generation: 1, baseSequence: 0))
      try files.fileSystem.syncDirectory(files.directory)
    }
  }

  /// Reads and checks the log from `io.logEnd` to its end, advancing `io.logEnd` past the
  /// last complete record and `io.manifest.sequence` to its commit.
  private static func readLog(_ files: StoreFiles, io: inout IO) throws(UserManagementError)
    -> (records: [CommitRecord], end: StoreFormat.ScanEnd)
  {
    guard let log = io.logFile else { throw .storeClosed() }
    let start = io.logEnd
    let bytes = try withIO { () throws(StoreIOError) in try files.readAll(log, from: start) }
    let name = StoreFormat.logName(io.manifest.generation)
    let manifest = io.manifest
    var sequence = io.manifest.sequence
    var validEnd = start
    var records: [CommitRecord] = []
    let end = try bytes.withBytes { raw throws(UserManagementError) -> StoreFormat.ScanEnd in
      var from = 0
      if start == 0 {
        try StoreFormat.checkHeader(raw, kind: .log, file: name)
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
    if case .tornTail(let offset) = end { return (records, .tornTail(at: start + offset)) }
    return (records, end)
  }

  private static func cutTornTail(_ log: any StoreFile, at offset: Int) throws(StoreIOError) {
    try log.truncate(to: offset)
    try log.sync()
  }

  // MARK: Reading

  /// Runs `body` on the current state, first catching up with other processes' commits if
  /// the shared counter says there are any.
  func read<T>(_ body: (DirectoryState) -> T) throws(UserManagementError) -> T {
    let current = counter.load()
    let fast = memory.withLock { memory -> T? in
      memory.known == current && !memory.closed && memory.failure == nil
        ? body(memory.state) : nil
    }
    if let fast { return fast }
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
      try checkLockFile(lockFile)
      try refresh(&io, repair: false)
    }
  }

  /// Brings this process up to date with the files. The caller holds `io` and the `flock`.
  private func refresh(_ io: inout IO, repair: Bool) throws(UserManagementError) {
    let observed = counter.load()
    guard let log = io.logFile else { throw .storeClosed() }
    let next = files.path(StoreFormat.snapshotName(io.manifest.generation + 1))
    let fileSystem = files.fileSystem
    let (superseded, size) = try withIO { () throws(StoreIOError) in
      (try !log.isLinked() || fileSystem.fileExists(next), try log.size())
    }
    var events: [AuditEvent] = []
    if size > io.logEnd && !io.stale {
      // Another process appended. Its writer may have died before its sync, so make the
      // bytes durable before believing them: this process must never serve a commit that a
      // power loss could still take back.
      do {
        try log.sync()
      } catch {
        // The bytes may never reach the disk, and a second sync on this descriptor would
        // likely report success: stop serving anything until the store is reopened.
        poison(&io, .storage(error))
        throw .storage(error)
      }
      // Read what was appended (also when superseded: the events belong to subscribers).
      let (records, end) = try Self.readLog(files, io: &io)
      memory.withLock { memory in
        for record in records {
          record.apply(to: &memory.state)
          events.append(contentsOf: record.auditEvents)
        }
      }
      if case .tornTail(let offset) = end, repair, !superseded {
        do {
          try Self.cutTornTail(log, at: offset)
        } catch {
          io.failure = .storage(error)
          throw .storage(error)
        }
      }
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
      let records: [CommitRecord]
      do {
        records = try Self.load(files, into: &io, state: &reloaded, repair: repair)
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
        for record in records { events.append(contentsOf: record.auditEvents) }
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

  // MARK: Audit

  func auditEvents(matching query: AuditQuery) throws(UserManagementError) -> [AuditEvent] {
    _ = try read { _ in () }
    let (sealed, recent) = try io.withLock {
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

  // MARK: Committing

  func commit(_ changes: ChangeSet) async throws {
    // When no one is writing, the caller writes its own commit on its own thread: a commit
    // that does not wait behind others costs no thread hand-offs. Commits that arrive while
    // someone writes queue up and are written together by the writer queue.
    let leads = pending.withLock { pending -> Bool in
      guard !pending.draining else { return false }
      pending.draining = true
      return true
    }
    if leads {
      let (results, compactionDue) = writeBatch([changes])
      let handOff = pending.withLock { pending -> Bool in
        guard pending.items.isEmpty && !compactionDue else { return true }
        pending.draining = false
        return false
      }
      if handOff {
        writer.async { self.drain(compactFirst: compactionDue) }
      }
      try results[0].get()
      return
    }
    try await withCheckedThrowingContinuation { continuation in
      let start = pending.withLock { pending in
        pending.items.append((changes, continuation))
        defer { pending.draining = true }
        return !pending.draining
      }
      if start {
        writer.async { self.drain(compactFirst: false) }
      }
    }
  }

  var pendingCommitCount: Int {
    pending.withLock { $0.items.count }
  }

  func waitUntilIdle() {
    guard DispatchQueue.getSpecific(key: Self.writerKey) == nil else { return }
    writer.sync {}
  }

  /// Writes pending commits in groups until none are left. Runs on `writer`.
  private func drain(compactFirst: Bool) {
    // Queued commits first (their callers are waiting), the compaction after them.
    defer { if compactFirst { compactIfDue() } }
    while true {
      let batch = pending.withLock { pending in
        let count = min(pending.items.count, options.maximumGroupCommit)
        defer { pending.items.removeFirst(count) }
        if count == 0 { pending.draining = false }
        return Array(pending.items.prefix(count))
      }
      if batch.isEmpty { return }
      let (results, compactionDue) = writeBatch(batch.map(\.changes))
      for (item, result) in zip(batch, results) {
        switch result {
        case .success: item.continuation.resume()
        case .failure(let error): item.continuation.resume(throwing: error)
        }
      }
      // After the callers have their answers: compaction never delays an acknowledgement.
      if compactionDue { compactIfDue() }
    }
  }

  /// Compacts if the log has outgrown the snapshot. Runs on `writer`, between groups. A
  /// failure leaves the current generation in place and stops further writes (see `compact`).
  private func compactIfDue() {
    io.withLock { io in
      guard isCompactionDue(io), let lockFile = try? lockForWriting(&io) else { return }
      defer { lockFile.unlock() }
      guard (try? refresh(&io, repair: true)) != nil, isCompactionDue(io) else { return }
      announceWrite()
      try? compact(&io)
    }
  }

  private func isCompactionDue(_ io: IO) -> Bool {
    io.logEnd - StoreFormat.fileHeaderSize > max(options.minimumCompactionLogSize, io.snapshotBytes)
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
      announceWrite()
      let refreshed = Result { () throws(UserManagementError) in try refresh(&io, repair: true) }
      if case .failure(let error) = refreshed { return batch.map { _ in .failure(error) } }
      guard let log = io.logFile else { return batch.map { _ in .failure(.storeClosed()) } }
      var results: [Result<Void, UserManagementError>] = []
      let start = io.logEnd
      let firstSequence = io.manifest.sequence
      let outcome = memory.withLock { memory -> (Int, [AuditEvent])? in
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
        let written = Result { () throws(StoreIOError) in
          try bytes.withBytes { raw throws(StoreIOError) in try log.writeAll(raw, at: start) }
          try log.sync()
        }
        if case .failure(let error) = written {
          for change in applied.reversed() { memory.state.rollBack(change) }
          // Best effort: the record was not acknowledged, so cut it off. Were this to fail
          // too, the bytes are unsynced and would be cut as a torn tail after a crash, or by
          // the next writer if they are incomplete.
          try? log.truncate(to: start)
          let failure = UserManagementError.storage(error)
          io.failure = failure
          results = results.map { result in result.flatMap { .failure(failure) } }
          return nil
        }
        let events = batch.indices.filter { results[$0].isSuccess }.flatMap {
          batch[$0].auditEvents
        }
        return (bytes.count, events)
      }
      guard let (written, events) = outcome else { return results }
      io.logEnd = start + written
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

  private func writeRefusal(_ io: IO) -> UserManagementError? {
    if io.closed { return .storeClosed() }
    if let failure = io.failure {
      return UserManagementError(
        .storageFailure,
        "The store stopped accepting writes after an earlier write or sync failed "
          + "(\(failure.message)); reopen it.",
        context: failure.context)
    }
    return nil
  }

  /// Stops reads and writes after an I/O error that may have lost data this process holds.
  private func poison(_ io: inout IO, _ error: UserManagementError) {
    io.failure = error
    memory.withLock { $0.failure = error }
  }

  /// Tells other processes that the files may change: called right after taking the lock
  /// exclusively, *before* writing. A process that then sees the new value waits for the lock
  /// and reads the files, so even a commit whose writer is killed between its sync and its
  /// return is seen by every process, not just by those that open the store later.
  private func announceWrite() {
    let current = counter.load()
    // A counter at zero is new or was reset (say, the file was recreated): start it at a
    // random value, so that a process still holding an old value cannot see it come round
    // again and think itself up to date.
    counter.store(current == 0 ? UInt64.random(in: 1...UInt64.max) : current &+ 1)
  }

  /// Takes the store's lock exclusively for a write, after checking that writes are still
  /// allowed, and checks that the `LOCK` file is still the one in the directory (stopping
  /// writes if not). The caller unlocks it.
  private func lockForWriting(_ io: inout IO) throws(UserManagementError) -> any StoreFile {
    if let refusal = writeRefusal(io) { throw refusal }
    guard let lockFile = io.lockFile else { throw .storeClosed() }
    try withIO { () throws(StoreIOError) in try lockFile.lock(exclusive: true) }
    if case .failure(let error) = Result(catching: { () throws(UserManagementError) in
      try checkLockFile(lockFile)
    }) {
      lockFile.unlock()
      io.failure = error
      throw error
    }
    return lockFile
  }

  /// Checks that the `LOCK` file this process holds is still the one in the directory. If an
  /// operator removed or replaced it, processes would lock different files and no longer
  /// exclude each other, so the store stops rather than risk two writers.
  private func checkLockFile(_ lockFile: any StoreFile) throws(UserManagementError) {
    let path = files.path(StoreFormat.lockFileName)
    let held = try withIO { () throws(StoreIOError) in try lockFile.identity() }
    guard files.fileSystem.fileIdentity(path) == held else {
      throw UserManagementError(
        .storageFailure,
        "The store's LOCK file was removed or replaced while the store was open, so its lock "
          + "no longer keeps other processes out; reopen the store.",
        context: ["file": path])
    }
  }

  /// Hands this process's committed events to its subscribers.
  private func publish(events: [AuditEvent]) {
    guard !events.isEmpty else { return }
    memory.withLock { memory in
      for event in events {
        for continuation in memory.subscribers.values { continuation.yield(event) }
      }
    }
  }

  // MARK: Compaction

  func compactNow() throws(UserManagementError) {
    try io.withLock { io throws(UserManagementError) in
      let lockFile = try lockForWriting(&io)
      defer { lockFile.unlock() }
      announceWrite()
      try refresh(&io, repair: true)
      try compact(&io)
    }
  }

  /// Seals the log's audit events into a segment, writes a snapshot of the state as
  /// generation *g* + 1 with a fresh log, and removes generation *g*. Every step is atomic
  /// (write a temporary file, sync it, rename it, sync the directory), so a crash leaves
  /// either generation complete. The caller holds `io` and the exclusive `flock`.
  private func compact(_ io: inout IO) throws(UserManagementError) {
    let state = memory.withLock { $0.state }
    var manifest = io.manifest
    let generation = manifest.generation + 1
    manifest.generation = generation
    let fileSystem = files.fileSystem
    let snapshot: [UInt8]
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
      try files.writeAtomically(
        StoreFormat.logName(generation),
        StoreFiles.encodeLogHeader(generation: generation, baseSequence: manifest.sequence))
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

  // MARK: Lifecycle

  var statistics: FileDirectoryStore.Statistics {
    io.withLock { io in
      FileDirectoryStore.Statistics(
        generation: io.manifest.generation, snapshotBytes: io.snapshotBytes,
        logBytes: io.logEnd, auditSegments: io.manifest.auditSegments.count,
        sequence: io.manifest.sequence)
    }
  }

  func close() {
    // Let the writer finish what it was given (a compaction after the last commit, say).
    waitUntilIdle()
    let wasOpen = io.withLock { io in
      defer {
        io.closed = true
        io.logFile?.close()
        io.lockFile?.close()
        io.logFile = nil
        io.lockFile = nil
      }
      return !io.closed
    }
    guard wasOpen else { return }
    let subscribers = memory.withLock { memory in
      defer {
        memory.subscribers.removeAll()
        memory.closed = true
      }
      return Array(memory.subscribers.values)
    }
    for continuation in subscribers { continuation.finish() }
  }
}

/// Runs file-system calls, reporting their failure as the store's error.
private func withIO<T>(_ body: () throws(StoreIOError) -> T) throws(UserManagementError) -> T {
  do {
    return try body()
  } catch {
    throw .storage(error)
  }
}

extension Result {
  fileprivate var isSuccess: Bool {
    if case .success = self { return true }
    return false
  }
}

extension UserManagementError {
  static func storeClosed() -> UserManagementError {
    UserManagementError(.storageFailure, "The store is closed.")
  }
}
