import Testing
import UserManagementKit
import UserManagementKitTesting

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// The real LOCK file must stay the one the processes lock.
@Suite("FileDirectoryStore lock file")
struct FileStoreLockFileTests {
  @Test func aRemovedLockFileStopsWritesUntilReopened() async throws {
    let temporary = try TemporaryDirectory()
    let store = try FileDirectoryStore(directory: temporary.store)
    let workload = StoreWorkload(users: 2)
    try await store.commit(workload.steps[0])
    try FileManager.default.removeItem(atPath: temporary.store + "/LOCK")
    let error = await #expect(throws: UserManagementError.self) {
      try await store.commit(workload.steps[1])
    }
    #expect(error?.code == .storageFailure)
    let reopened = try FileDirectoryStore(directory: temporary.store)
    try await reopened.commit(workload.steps[1])
    #expect(try await reopened.policies().count == 1)
  }
}
