import Testing
import UserManagementKit
import UserManagementKitTesting

@Suite("InMemoryDirectoryStore conformance")
struct InMemoryConformanceTests {
  @Test(arguments: DirectoryStoreConformance.Check.allCases)
  func conformance(_ check: DirectoryStoreConformance.Check) async throws {
    try await DirectoryStoreConformance { InMemoryDirectoryStore() }.run(check)
  }

  /// The suite must be able to fail: a store that ignores preconditions is caught.
  @Test func suiteCatchesABrokenStore() async throws {
    let suite = DirectoryStoreConformance { PreconditionIgnoringStore() }
    await #expect(throws: ConformanceFailure.self) {
      try await suite.run(.failedCommitsApplyNothing)
    }
    await #expect(throws: ConformanceFailure.self) {
      try await suite.run(.directoryIsEmptyPrecondition)
    }
  }
}
