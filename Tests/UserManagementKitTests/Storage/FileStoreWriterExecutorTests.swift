import Dispatch
import Testing
import UserManagementKit

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// A task that prefers a file store's `writerExecutor` runs on the store's writer thread, and
/// its commits are written there in place, without a hop: they must keep every guarantee a
/// commit from the concurrency pool has.
@Suite("File store: commits from the writer executor")
struct FileStoreWriterExecutorTests {
  /// A commit carrying one audit event, numbered so that tests can tell commits apart.
  static func event(_ index: Int, _ tag: String) -> ChangeSet {
    ChangeSet(auditEvents: [
      AuditEvent(
        id: UUID(), time: Date(timeIntervalSinceReferenceDate: 800_000_000 + Double(index)),
        actor: .system(tag), target: .policy(PolicyID(rawValue: UUID()), name: "p\(index)"),
        action: .policyUpdated, changes: [])
    ])
  }

  @Test func commitsOnTheWriterAreWrittenInPlaceAndDurable() async throws {
    let temporary = try TemporaryDirectory()
    let store = try FileDirectoryStore(directory: temporary.store)
    let workload = StoreWorkload(users: 8)
    try await withTaskExecutorPreference(store.writerExecutor) {
      for (index, step) in workload.steps.enumerated() {
        try await store.commit(step)
        // Visible as soon as the commit returns, like any other.
        #expect(store.statistics.sequence == UInt64(index + 1))
      }
    }
    #expect(store.commitsWrittenInPlace == workload.steps.count)
    // From the pool, the same store hops as before.
    try await store.commit(Self.event(0, "pool"))
    #expect(store.commitsWrittenInPlace == workload.steps.count)
    let reopened = try FileDirectoryStore(directory: temporary.store)
    #expect(try await StoreFingerprint(reopened) == StoreFingerprint(store))
  }

  /// The writer queue is marked with its own store: on one store's writer, a commit to
  /// another store must go to that store's writer, not be written in place on the wrong
  /// thread (beside that store's own writer).
  @Test func aCommitToAnotherStoreGoesToItsOwnWriter() async throws {
    let temporary = try TemporaryDirectory()
    let first = try FileDirectoryStore(directory: temporary.path + "/first")
    let second = try FileDirectoryStore(directory: temporary.path + "/second")
    try await withTaskExecutorPreference(first.writerExecutor) {
      try await second.commit(Self.event(1, "second"))
      try await first.commit(Self.event(2, "first"))
    }
    #expect(second.commitsWrittenInPlace == 0)
    #expect(first.commitsWrittenInPlace == 1)
    #expect(second.statistics.sequence == 1)
  }

  /// Tasks on the pool commit while a task on the writer commits in a loop: every commit is
  /// written once, each caller gets its own outcome, and the store reopens with all of them.
  @Test(.tags(.concurrency), .timeLimit(.minutes(5)))
  func poolCommitsInterleaveWithAWriterLoop() async throws {
    let temporary = try TemporaryDirectory()
    let store = try FileDirectoryStore(directory: temporary.store)
    let refused = ChangeSet(preconditions: [.userVersion(UserID(rawValue: UUID()), 1)])
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask {
        try await withTaskExecutorPreference(store.writerExecutor) {
          for index in 0..<200 {
            if index % 50 == 7 {
              // A refused commit fails alone, in place.
              await #expect(throws: UserManagementError.self) { try await store.commit(refused) }
            } else {
              try await store.commit(Self.event(index, "writer"))
            }
          }
        }
      }
      for task in 0..<4 {
        group.addTask {
          for index in 0..<50 { try await store.commit(Self.event(1_000 * task + index, "pool")) }
        }
      }
      try await group.waitForAll()
    }
    #expect(store.commitsWrittenInPlace == 200)
    let events = try await store.auditEvents(matching: AuditQuery(limit: 10_000))
    #expect(events.count == 196 + 200)
    let reopened = try FileDirectoryStore(directory: temporary.store)
    #expect(try await StoreFingerprint(reopened) == StoreFingerprint(store))
  }

  /// A commit from the pool, queued while a task holds the writer, is written by that task's
  /// next commit (before it; with groups of one, in a group of its own): it does not wait for
  /// the task to suspend, which a loop might not do for a long time.
  @Test(.timeLimit(.minutes(5)), arguments: [1, 512])
  func aCommitQueuedBehindTheWriterIsWrittenByItsNextCommit(groupLimit: Int) async throws {
    let temporary = try TemporaryDirectory()
    let store = try FileDirectoryStore(
      directory: temporary.store, options: .init(maximumGroupCommit: groupLimit))
    let holding = Locked(false)
    let loop = Task(executorPreference: store.writerExecutor) { () async throws -> Int in
      try await store.commit(Self.event(0, "writer"))
      // Hold the writer (this is test code: a host must never block it) until the pool's
      // commit is queued behind it.
      holding.withLock { $0 = true }
      let pause = DispatchSemaphore(value: 0)
      let deadline = DispatchTime.now() + .seconds(120)
      while store.pendingCommitCount == 0 && DispatchTime.now() < deadline {
        _ = pause.wait(timeout: .now() + .microseconds(200))
      }
      try await store.commit(Self.event(1, "writer"))
      return store.queuedCommitsWrittenInPlace
    }
    while !holding.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(1)) }
    try await store.commit(Self.event(2, "pool"))
    #expect(try await loop.value == 1)
    #expect(store.statistics.sequence == 3)
  }

  /// A pool commit queued behind a task on the writer shares the task's next write, and so its
  /// fate: with a fault injected at each call of that write in turn, both commits fail alike
  /// or both succeed, the store's view equals what is durable, and it reopens so.
  @Test(.timeLimit(.minutes(5))) func aQueuedCommitSharesTheInPlaceWritesFate() async throws {
    let workload = StoreWorkload(users: 4)
    // The state with both commits: the queued one (step 1) is written first.
    let reference = InMemoryDirectoryStore()
    for step in workload.steps[0...2] { try await reference.commit(step) }
    let after = try await StoreFingerprint(reference)
    var outcomes = (failed: 0, succeeded: 0)
    for offset in 0..<12 {
      let disk = SimulatedDisk()
      let store = try disk.openStore()
      try await store.commit(workload.steps[0])
      let before = try await StoreFingerprint(store)
      let holding = Locked(false)
      let loop = Task(executorPreference: store.writerExecutor) { () async -> (any Error)? in
        holding.withLock { $0 = true }
        // Test code holding the writer until the pool's commit is queued behind it.
        let pause = DispatchSemaphore(value: 0)
        let deadline = DispatchTime.now() + .seconds(120)
        while store.pendingCommitCount == 0 && DispatchTime.now() < deadline {
          _ = pause.wait(timeout: .now() + .microseconds(200))
        }
        disk.inject(SimulatedDisk.Fault(atCall: disk.calls + offset, persistent: true))
        do {
          try await store.commit(workload.steps[2])
          return nil
        } catch {
          return error
        }
      }
      while !holding.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(1)) }
      var queuedFailure: (any Error)?
      do { try await store.commit(workload.steps[1]) } catch { queuedFailure = error }
      let ownFailure = await loop.value
      disk.inject(nil)
      let context = "fault at call \(offset) of the in-place write"
      #expect(store.queuedCommitsWrittenInPlace == 1, "\(context)")
      if queuedFailure == nil && ownFailure == nil {
        outcomes.succeeded += 1
        #expect(try await StoreFingerprint(store) == after, "\(context)")
      } else if let queued = queuedFailure as? UserManagementError,
        let own = ownFailure as? UserManagementError
      {
        outcomes.failed += 1
        #expect(queued.code == .storageFailure && own.code == .storageFailure, "\(context)")
        #expect(try await StoreFingerprint(store) == before, "\(context): rolled back")
        // After a crash now, exactly what was acknowledged; without one, that or the whole
        // group (a failed sync may still have written it), never one commit of it alone.
        let crashed = try disk.afterCrash(.drop).openStore()
        #expect(try await StoreFingerprint(crashed) == before, "\(context): durable")
        let intact = try await StoreFingerprint(disk.copy().openStore())
        #expect(intact == before || intact == after, "\(context): the group is all or nothing")
      } else {
        Issue.record("\(context): the group's commits did not share one outcome")
      }
    }
    // The offsets cover the whole write: its first calls fail it, the last ones come after it.
    #expect(outcomes.failed >= 3 && outcomes.succeeded >= 1, "\(outcomes)")
  }

  /// The task keeps the writer's queue until it suspends, so a compaction queued behind it
  /// would wait for the whole loop: the commit that makes one due runs it in place.
  @Test func aLoopOnTheWriterCompactsAsItGoes() async throws {
    let temporary = try TemporaryDirectory()
    let store = try FileDirectoryStore(
      directory: temporary.store, options: .init(minimumCompactionLogSize: 4096))
    let generation = store.statistics.generation
    let compacted = try await withTaskExecutorPreference(store.writerExecutor) {
      for index in 0..<200 {
        try await store.commit(Self.event(index, "loop \(String(repeating: "x", count: 100))"))
      }
      // Still inside the loop's task: nothing queued behind it has run.
      return store.statistics.generation
    }
    #expect(compacted > generation + 1)
    #expect(store.statistics.logBytes < 4096 + 4096)
  }

  /// The store's other async calls, made from the writer executor, hop where they must and come
  /// back: a compaction (queued on the writer behind the task, which suspends for it), a read
  /// that catches up with another store's commit (on the reader queue), and an audit
  /// subscription fed by in-place commits.
  @Test(.timeLimit(.minutes(2))) func theStoresOtherCallsWorkFromTheWriter() async throws {
    let temporary = try TemporaryDirectory()
    let store = try FileDirectoryStore(directory: temporary.store)
    let other = try FileDirectoryStore(directory: temporary.store)
    let events = store.subscribeToAuditEvents()
    try await withTaskExecutorPreference(store.writerExecutor) {
      try await store.commit(Self.event(1, "first"))
      let generation = store.statistics.generation
      try await store.compact()
      #expect(store.statistics.generation == generation + 1)
      try await other.commit(Self.event(2, "other"))
      let seen = try await store.auditEvents(matching: AuditQuery(limit: 10))
      #expect(seen.count == 2)
      try await store.commit(Self.event(3, "third"))
    }
    var received: [String] = []
    for await event in events {
      if case .system(let name) = event.actor { received.append(name) }
      if received.count == 3 { break }
    }
    #expect(received == ["first", "other", "third"])
    #expect(store.commitsWrittenInPlace == 2)
  }

  /// Closing from the writer does not wait for itself; later commits fail as closed.
  @Test(.timeLimit(.minutes(1))) func closingOnTheWriterDoesNotDeadlock() async throws {
    let temporary = try TemporaryDirectory()
    let store = try FileDirectoryStore(directory: temporary.store)
    try await withTaskExecutorPreference(store.writerExecutor) {
      try await store.commit(Self.event(1, "before"))
      store.close()
      await #expect(throws: UserManagementError.self) {
        try await store.commit(Self.event(2, "after"))
      }
    }
  }
}
