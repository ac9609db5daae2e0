import Testing
import UserManagementKit

/// Where the file store's blocking calls run: `flock`, syncs, reads and writes must never run on
/// a cooperative-pool thread (one that is running a Swift task) once the store is open.
@Suite("File store: blocking I/O off the cooperative pool")
struct FileStoreBlockingIOTests {
  /// Commits (one alone, then a group), reads that catch up with another store's commits and
  /// compactions, audit queries that read sealed segments, and compaction make every
  /// file-system call on a Dispatch thread. The simulated disk checks each call's thread for a
  /// current task, so the test needs no timing.
  ///
  /// The time limit only turns a hang into a failure. It is generous because under
  /// ThreadSanitizer, beside the long synchronous crash-enumeration tests that occupy the
  /// cooperative pool's threads, this test can wait minutes for a thread (0.03 s alone).
  @Test(.tags(.concurrency), .timeLimit(.minutes(10)))
  func blockingCallsNeverRunOnTheCooperativePool() async throws {
    let disk = SimulatedDisk()
    let writer = try disk.openStore()
    // Opening is synchronous, so its calls run on this task's thread: the detector sees them.
    disk.recordCallsOnTasks()
    let reader = try disk.openStore()
    #expect(!disk.callsOnTasks.isEmpty, "the detector must see calls made on a task's thread")

    disk.recordCallsOnTasks()
    let workload = StoreWorkload(users: 20)
    try await writer.commit(workload.steps[0])
    try await writer.commit(workload.steps[1])
    try await withThrowingTaskGroup(of: Void.self) { group in
      for step in workload.steps[2..<22] {
        group.addTask { try await writer.commit(step) }
      }
      try await group.waitForAll()
    }
    // The reader's counter is behind: it catches up (on its reader queue).
    #expect(try await reader.policies().count == writer.policies().count)
    #expect(reader.statistics.sequence == writer.statistics.sequence)
    try await writer.compact()
    try await writer.commit(workload.steps[22])
    // Catching up after another store's compaction reloads the new generation; the audit
    // query then reads the sealed segment.
    let events = try await reader.auditEvents(matching: AuditQuery(limit: 1_000))
    #expect(
      events.count == (try await writer.auditEvents(matching: AuditQuery(limit: 1_000))).count)
    #expect(reader.statistics.generation == writer.statistics.generation)
    // A task on the writer executor runs on the store's writer thread, not on the pool: its
    // commits, written in place there, are not calls on the pool.
    try await withTaskExecutorPreference(writer.writerExecutor) {
      for step in workload.steps[23..<26] { try await writer.commit(step) }
    }
    #expect(writer.commitsWrittenInPlace == 3)
    writer.waitUntilIdle()
    #expect(disk.callsOnTasks == [])
  }
}
