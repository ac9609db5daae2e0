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
///   on stable storage (on Linux one direct, synchronous write of the log's blocks, `O_DIRECT`
///   and `O_DSYNC`, where the file system allows it, else `fdatasync`; `F_FULLFSYNC` on
///   Darwin), and every file the store creates
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
/// ### Where blocking work runs
/// Waiting for the `flock`, `fdatasync` and reading the files can block a thread for
/// milliseconds, so the store's async methods never do them on the Swift concurrency pool
/// (whose few threads every task of the host shares): ``commit(_:)`` and ``compact()`` run on
/// the store's serial writer queue, a read that must first catch up with another process's
/// commits runs the catch-up on the store's reader queue, and the awaiting task is suspended
/// meanwhile. A read whose shared counter shows nothing new (every read of a store no other
/// process writes) makes no system call and answers on the caller's thread without a hop. The
/// initializer and ``close()`` are synchronous and do their I/O on the caller's thread: open
/// and close the store where blocking briefly is acceptable, such as at start-up. A task that
/// prefers ``writerExecutor`` runs on the writer's thread itself, and its commits are written
/// there without a hop.
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
    /// The size of the zero-filled chunks the log is preallocated in (1 MiB). Tests set it
    /// small to cross chunk boundaries often; any positive size reads back the same.
    package var logChunkSize = 1 << 20
    /// How much of a snapshot opening reads at once (4 MiB; more for a larger frame). Tests
    /// set it small to cut the snapshot's frames at every point.
    package var snapshotReadSize = 4 << 20

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
    public var auditSegmentCount: Int
    /// The sequence number of the last commit.
    public var sequence: UInt64
  }

  /// The directory holding the store.
  public let directory: String
  private let engine: StoreEngine

  /// Opens the store in `directory`, creating the directory (mode 0700; its parent must exist)
  /// and an empty store if they do not exist. When this returns, the store is loaded and ready
  /// to serve.
  ///
  /// - Parameters:
  ///   - directory: The directory's path.
  ///   - options: Tuning knobs.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/storageFailure``
  ///   (the directory or a file cannot be read or written),
  ///   ``UserManagementError/Code/insecureStore`` (the directory is a symbolic link, belongs to
  ///   another user or gives group or others any access; or a file of the store belongs to
  ///   another user or has another link), ``UserManagementError/Code/corruptStore`` or
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
    try await engine.read(id) { $0.byID[$1]?.record }
  }

  /// The user with this canonical username.
  ///
  /// - Parameter usernameKey: A canonical username.
  /// - Returns: The record, or `nil`.
  /// - Throws: ``UserManagementError`` if catching up with another process's commits fails.
  public func user(usernameKey: String) async throws -> UserRecord? {
    try await engine.read(usernameKey) { $0.byUsername[$1]?.record }
  }

  /// The user with this identifier, without hashes.
  ///
  /// - Parameter id: The identifier.
  /// - Returns: The user, or `nil`.
  /// - Throws: ``UserManagementError`` if catching up with another process's commits fails.
  public func profile(id: UserID) async throws -> User? {
    try await engine.read(id) { $0.byID[$1]?.record.user }
  }

  /// The user with this canonical username, without hashes.
  ///
  /// - Parameter usernameKey: A canonical username.
  /// - Returns: The user, or `nil`.
  /// - Throws: ``UserManagementError`` if catching up with another process's commits fails.
  public func profile(usernameKey: String) async throws -> User? {
    try await engine.read(usernameKey) { $0.byUsername[$1]?.record.user }
  }

  /// One page of users matching the query.
  ///
  /// - Parameter query: The query.
  /// - Returns: The page.
  /// - Throws: ``UserManagementError`` if catching up with another process's commits fails.
  public func users(matching query: UserQuery) async throws -> UserPage {
    try await engine.read(query) { $0.page($1) }
  }

  /// The number of users matching the filter.
  ///
  /// - Parameter filter: The filter.
  /// - Returns: The count.
  /// - Throws: ``UserManagementError`` if catching up with another process's commits fails.
  public func userCount(matching filter: UserFilter) async throws -> Int {
    try await engine.read(filter) { $0.count($1) }
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
    try await engine.read((user, kind)) { $0.throttle($1.0, $1.1) }
  }

  /// The policy with this identifier.
  ///
  /// - Parameter id: The identifier.
  /// - Returns: The policy, or `nil`.
  /// - Throws: ``UserManagementError`` if catching up with another process's commits fails.
  public func policy(id: PolicyID) async throws -> Policy? {
    try await engine.read(id) { $0.policies[$1] }
  }

  /// The policy with this name key.
  ///
  /// - Parameter nameKey: A lowercased name.
  /// - Returns: The policy, or `nil`.
  /// - Throws: ``UserManagementError`` if catching up with another process's commits fails.
  public func policy(nameKey: String) async throws -> Policy? {
    try await engine.read(nameKey) { $0.policy(nameKey: $1) }
  }

  /// Every policy, ordered by name key.
  ///
  /// - Returns: The policies.
  /// - Throws: ``UserManagementError`` if catching up with another process's commits fails.
  public func policies() async throws -> [Policy] {
    try await engine.read(()) { state, _ in state.sortedPolicies() }
  }

  /// The audit events matching the query. The first query reads the sealed audit segments,
  /// which opening skips, and keeps them in memory in their compact binary form.
  ///
  /// - Parameter query: The query.
  /// - Returns: The events.
  /// - Throws: ``UserManagementError`` if a segment cannot be read or is damaged.
  public func auditEvents(matching query: AuditQuery) async throws -> [AuditEvent] {
    try await engine.auditEvents(matching: query)
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
  /// Concurrent calls are grouped: the store's writer queue appends all pending change sets,
  /// each checked against the state left by the ones before it, with one write and one sync,
  /// while the calling tasks are suspended.
  ///
  /// - Parameter changes: The change set.
  /// - Throws: ``UserManagementError`` naming the failed check, or
  ///   ``UserManagementError/Code/storageFailure`` if the store could not write.
  public func commit(_ changes: ChangeSet) async throws {
    try await engine.commit(changes)
  }

  /// The store's writer thread as a task executor, for a task that commits to this store in a
  /// loop and wants each commit's latency to be the disk's alone.
  ///
  /// Every commit is written on the store's writer thread, because writing blocks (on the
  /// `flock`, and on the disk until the bytes are durable) and must not block the Swift
  /// concurrency pool. A commit from a task on the pool therefore costs two thread hand-offs:
  /// one to the writer, and one to resume the task when the commit is durable. A task that
  /// prefers this executor already runs on the writer's thread, so its ``commit(_:)`` writes
  /// in place and returns without a hop:
  ///
  /// ```swift
  /// try await withTaskExecutorPreference(store.writerExecutor) {
  ///   for changes in batches {
  ///     try await store.commit(changes)
  ///   }
  /// }
  /// ```
  ///
  /// `Documentation/Benchmarks.md` measures what that saves.
  ///
  /// Commits that other tasks queued before such a commit are written first, in its group (or,
  /// beyond ``Options/maximumGroupCommit``, in groups of their own just before it). But while
  /// the task runs, the writer is busy with it, so:
  /// - Keep to committing and the light work between commits (building the next change set,
  ///   say); suspend, or leave the preference, for anything else. Password hashing need not
  ///   be left: ``UserDirectory`` runs slow hashes on its own threads whatever the executor.
  /// - Never block the thread: no semaphores, no `DispatchGroup.wait`, no synchronous waiting
  ///   for other work (closing another store from it does not wait for that store's writer).
  /// - The preference is inherited: child tasks (`async let`, task groups) run on the same one
  ///   thread, one at a time, so concurrent commits from them are written one by one instead
  ///   of sharing a write. Commit concurrently from tasks on the pool instead.
  /// - The closure runs on the executor only if it is not isolated to an actor:
  ///   `withTaskExecutorPreference` keeps its caller's isolation, so called from the main actor
  ///   (or another actor) its body runs there, and each commit still hops to the writer and
  ///   back. Call it from a nonisolated function, or start the work with
  ///   `Task(executorPreference: store.writerExecutor) { … }`.
  /// - ``close()`` and ``compact()``, called from elsewhere meanwhile, wait until the task
  ///   suspends or ends.
  /// - A commit that makes a compaction due returns after the compaction (with its commit
  ///   already durable), where a commit from the pool returns before it.
  public var writerExecutor: any TaskExecutor {
    engine.writerExecutor
  }

  /// Writes a new snapshot and starts a fresh log now, instead of waiting for the log to
  /// outgrow the snapshot. Runs on the store's writer queue, after the commits queued before.
  ///
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/storageFailure``.
  public func compact() async throws(UserManagementError) {
    try await engine.compactNow()
  }

  /// The sizes of the store's files.
  public var statistics: Statistics {
    engine.statistics
  }

  /// How many commits wait for the writer (for tests of group commit).
  package var pendingCommitCount: Int {
    engine.pendingCommitCount
  }

  /// How many commits a task on ``writerExecutor`` wrote in place (for tests).
  package var commitsWrittenInPlace: Int {
    engine.commitsWrittenInPlace.own
  }

  /// How the store's files were last read into memory (for tests).
  package var loadPath: StoreLoadPath {
    engine.io.withLock { $0.loadPath }
  }

  /// How many commits of other tasks were written by in-place commits (for tests).
  package var queuedCommitsWrittenInPlace: Int {
    engine.commitsWrittenInPlace.joined
  }

  /// Whether the caller runs on the writer queue of any file store (for the test that checks
  /// where blocking calls run: a task on a ``writerExecutor`` is not on the concurrency pool).
  package static var isOnAnyWriter: Bool {
    StoreEngine.isOnAnyWriter
  }

  /// Waits until the writer queue has finished what it was given, such as a compaction that
  /// follows a commit (for tests that inspect the files). Returns at once on any store's
  /// writer queue.
  package func waitUntilIdle() {
    engine.waitUntilIdle()
  }

  /// Closes the store's files and finishes audit subscriptions. Later calls throw
  /// ``UserManagementError/Code/storageFailure``. Idempotent; also done when the store is
  /// released.
  ///
  /// Waits first for what the writer was given (queued commits, a compaction, a task running
  /// on ``writerExecutor`` until it suspends), except on the writer of any file store, where
  /// waiting could deadlock: there the store closes at once, and commits still queued fail as
  /// closed.
  public func close() {
    engine.close()
  }
}
