import Dispatch

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// The state and the file I/O behind ``FileDirectoryStore``.
///
/// Three locks, always taken in this order when nested: `io` (the files, and this process's
/// place in them), then the store's `flock` (other processes), then `memory` (the directory
/// state readers use). `pending` is never held with another.
///
/// Blocking work — `flock` waits, `fdatasync`, reads and writes of the files — never runs on
/// the Swift concurrency pool once the store is open: commits and compactions run on `writer`,
/// catching up for a read on `reader`, and the awaiting task is suspended meanwhile
/// (`DispatchQueue.runBlocking`). A read that finds the shared counter unchanged makes no
/// system call and runs on the caller's thread. Opening (`init`) and `close()` are synchronous
/// and run on the caller's thread. A task that prefers `writerExecutor` runs on `writer`
/// itself, and its commits are written in place (`commitOnWriter`).
///
/// This file holds the state, opening, locking and closing; the rest is split by concern:
/// `StoreEngine+Loading.swift` (reading a generation from the files),
/// `StoreEngine+CatchUp.swift` (reads, and other processes' commits),
/// `StoreEngine+Commit.swift` (checking, writing and group commit),
/// `StoreEngine+Compaction.swift` (new generations) and `StoreEngine+Audit.swift`.
final class StoreEngine: Sendable {
  /// The files, and this process's place in them; guarded by `io`.
  struct IO {
    var lockFile: (any StoreFile)?
    var logFile: (any StoreFile)?
    var manifest: StoreFiles.Manifest
    /// The end of the last complete record in the log: where the next commit is written.
    var logEnd: Int
    /// The log file's size as last seen: the preallocated space ends here.
    var logCapacity = 0
    /// The format versions of the current generation's log and snapshot (older ones are
    /// migrated by a compaction before anything is written).
    var logVersion = StoreFormat.currentVersion
    var snapshotVersion = StoreFormat.currentVersion
    /// Set when the log past `logEnd` may hold something other than zeros — another process
    /// wrote (and may have died midway), or a read found a torn frame it could not clear — so
    /// that a writer reads and clears it before writing over it.
    var tailUnverified = false
    var snapshotBytes: Int
    /// The shared counter's value when this process last caught up.
    var known: UInt64 = 0
    /// The identity of the `LOCK` file this process holds, once looked up.
    var lockIdentity: UInt64?
    /// Set after a failed write or sync: no more commits until the store is reopened.
    var failure: UserManagementError?
    /// Set when catching up failed midway: the next catch-up reloads everything.
    var stale = false
    var closed = false
    /// How the files were last read into memory (for tests).
    var loadPath = StoreLoadPath.snapshotFirst

    /// Whether the current generation is of an older format version.
    var needsMigration: Bool {
      min(logVersion, snapshotVersion) < StoreFormat.currentVersion
    }
  }

  /// The state readers use; guarded by `memory`.
  struct Memory {
    var state = DirectoryState()
    /// Events of sealed segments, loaded on the first audit query.
    var sealedAudit: CompactAuditLog?
    var known: UInt64 = 0
    var subscribers: [UUID: AsyncStream<AuditEvent>.Continuation] = [:]
    var closed = false
    /// Set after a failed sync of what this process was about to serve: reads throw.
    var failure: UserManagementError?
  }

  /// Commits waiting for the writer; guarded by `pending`.
  struct Pending {
    var items: [(changes: ChangeSet, continuation: CheckedContinuation<Void, any Error>)] = []
    var draining = false
    /// Commits written in place by a task on the writer, and queued commits written with them
    /// (for tests).
    var writtenInPlace = 0
    var joinedInPlace = 0
  }

  let files: StoreFiles
  /// The path of the `LOCK` file.
  let lockPath: String
  let options: FileDirectoryStore.Options
  let counter: any SharedCounter
  let io: Locked<IO>
  let memory = Locked(Memory())
  let pending = Locked(Pending())
  /// The writer as a task executor (``FileDirectoryStore/writerExecutor``): a task that
  /// prefers it runs on the writer's thread, and its commits are written without a hop.
  let writerExecutor = QueueExecutor(label: "UserManagementKit.FileDirectoryStore.writer")
  /// Writes commits (in groups) and compactions; every `flock` taken to write, every append
  /// and every sync of a running store happens here.
  var writer: DispatchQueue { writerExecutor.queue }
  /// Catches up with other processes' commits for reads, and reads sealed audit segments:
  /// the shared `flock`, the sync and the reads that takes happen here, apart from `writer`
  /// so that a read does not wait for every queued group commit.
  let reader = DispatchQueue(label: "UserManagementKit.FileDirectoryStore.reader")

  init(directory: String, options: FileDirectoryStore.Options, fileSystem: any StoreFileSystem)
    throws(UserManagementError)
  {
    self.files = StoreFiles(
      fileSystem: fileSystem, directory: directory, logChunkSize: max(1, options.logChunkSize),
      snapshotReadSize: options.snapshotReadSize)
    self.options = options
    lockPath = files.path(StoreFormat.lockFileName)
    let lockFile: any StoreFile
    do {
      try fileSystem.createDirectory(directory)
      lockFile = try fileSystem.open(
        lockPath, create: true, truncate: false)
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
    // A store of an older format is rewritten as a new generation in the current one (the
    // same compaction), so that nothing is ever written in an older format.
    let compactionDue = io.withLock { isCompactionDue($0) || $0.needsMigration }
    let known = loaded.known
    memory.withLock {
      $0.state = state
      $0.known = known
    }
    writer.setSpecific(key: Self.writerKey, value: writerMark)
    if compactionDue {
      // Under the exclusive lock taken above. A failure leaves the current generation and
      // stops writes, as it does after a commit (a store that cannot be migrated opens for
      // reading only).
      io.withLock { io in
        announceWrite(&io)
        try? compact(&io)
      }
    }
  }

  /// Marks each store's writer queue with its ``writerMark``, so that the store can tell when
  /// it runs there: closing from it must not wait for itself, and a commit made there is
  /// written in place.
  static let writerKey = DispatchSpecificKey<WriterMark>()

  /// The mark of this engine's writer queue. An object, not the engine's address: the queue
  /// keeps it alive, so no later engine (a store reopened after this one was released, while
  /// a host still holds the old ``writerExecutor``) can be given the same identity.
  let writerMark = WriterMark()

  /// An identity for one engine's writer queue.
  final class WriterMark: Sendable {}

  /// Whether the calling code runs on this store's writer queue (a task that prefers
  /// ``writerExecutor``, or the writer's own work).
  var isOnWriter: Bool {
    DispatchQueue.getSpecific(key: Self.writerKey) === writerMark
  }

  /// Whether the calling code runs on the writer queue of any file store of this process.
  static var isOnAnyWriter: Bool {
    DispatchQueue.getSpecific(key: writerKey) != nil
  }

  // MARK: Locking

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
  func poison(_ io: inout IO, _ error: UserManagementError) {
    io.failure = error
    memory.withLock { $0.failure = error }
  }

  /// Tells other processes that the files may change: called right after taking the lock
  /// exclusively, *before* writing. A process that then sees the new value waits for the lock
  /// and reads the files, so even a commit whose writer is killed between its sync and its
  /// return is seen by every process, not just by those that open the store later.
  ///
  /// If the counter had moved since this process last caught up, another process wrote: the
  /// log past `logEnd` must be read (and any torn frame cleared) before writing over it, and
  /// `refresh` sees that from `io.known`. If it had not, this process is still up to date
  /// after its own increment.
  func announceWrite(_ io: inout IO) {
    let current = counter.load()
    // A counter at zero is new or was reset (say, the file was recreated): start it at a
    // random value, so that a process still holding an old value cannot see it come round
    // again and think itself up to date.
    let next = current == 0 ? UInt64.random(in: 1...UInt64.max) : current &+ 1
    counter.store(next)
    if current == io.known {
      io.known = next
    } else {
      io.tailUnverified = true
    }
  }

  /// Takes the store's lock exclusively for a write, after checking that writes are still
  /// allowed, and checks that the `LOCK` file is still the one in the directory (stopping
  /// writes if not). The caller unlocks it.
  func lockForWriting(_ io: inout IO) throws(UserManagementError) -> any StoreFile {
    if let refusal = writeRefusal(io) { throw refusal }
    guard let lockFile = io.lockFile else { throw .storeClosed() }
    try withIO { () throws(StoreIOError) in try lockFile.lock(exclusive: true) }
    if case .failure(let error) = Result(catching: { () throws(UserManagementError) in
      try checkLockFile(&io, lockFile)
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
  func checkLockFile(_ io: inout IO, _ lockFile: any StoreFile) throws(UserManagementError) {
    let path = lockPath
    // The held file's identity never changes: one `fstat`, then one `stat` of the name a check.
    let held: UInt64
    if let known = io.lockIdentity {
      held = known
    } else {
      held = try withIO { () throws(StoreIOError) in try lockFile.identity() }
      io.lockIdentity = held
    }
    guard files.fileSystem.fileIdentity(path) == held else {
      throw UserManagementError(
        .storageFailure,
        "The store's LOCK file was removed or replaced while the store was open, so its lock "
          + "no longer keeps other processes out; reopen the store.",
        context: ["file": path])
    }
  }

  // MARK: Lifecycle

  var statistics: FileDirectoryStore.Statistics {
    io.withLock { io in
      FileDirectoryStore.Statistics(
        generation: io.manifest.generation, snapshotBytes: io.snapshotBytes,
        logBytes: io.logEnd, auditSegmentCount: io.manifest.auditSegments.count,
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
func withIO<T>(_ body: () throws(StoreIOError) -> T) throws(UserManagementError) -> T {
  do {
    return try body()
  } catch {
    throw .storage(error)
  }
}

extension UserManagementError {
  static func storeClosed() -> UserManagementError {
    UserManagementError(.storageFailure, "The store is closed.")
  }
}
