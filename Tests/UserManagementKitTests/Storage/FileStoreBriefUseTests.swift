import Testing
import UserManagementKit
import UserManagementKitTesting

/// Processes that open, commit and close (as `umk` does) keep the files bounded too.
@Suite("FileDirectoryStore used briefly")
struct FileStoreBriefUseTests {
  @Test func openCommitCloseKeepsTheLogBounded() async throws {
    let temporary = try TemporaryDirectory()
    let options = FileDirectoryStore.Options(minimumCompactionLogSize: 4096)
    let workload = StoreWorkload(users: 2)
    var user = workload.steps[2].users[0]
    do {
      let store = try FileDirectoryStore(directory: temporary.store, options: options)
      for step in workload.steps.prefix(3) { try await store.commit(step) }
      store.close()
    }
    for round in 0..<150 {
      let store = try FileDirectoryStore(directory: temporary.store, options: options)
      let statistics = store.statistics
      #expect(
        statistics.logBytes <= max(statistics.snapshotBytes, 4096) + 1024,
        "round \(round): log \(statistics.logBytes), snapshot \(statistics.snapshotBytes)")
      user.user.version += 1
      user.user.firstName = "Round \(round)"
      try await store.commit(ChangeSet(users: [user]))
      store.close()
    }
    let reopened = try FileDirectoryStore(directory: temporary.store, options: options)
    #expect(try await reopened.user(id: user.id) == user)
    #expect(reopened.statistics.generation > 1)
  }
}
