import PostgresDirectoryStore
import Testing
import UserManagementKit
import UserManagementKitTesting

/// The whole conformance suite, unchanged, each check on a fresh database of a real server.
@Suite("Conformance against PostgreSQL", .timeLimit(.minutes(2)))
struct ConformanceTests {
  @Test(arguments: DirectoryStoreConformance.Check.allCases)
  func conformance(_ check: DirectoryStoreConformance.Check) async throws {
    try await TestDatabase.with { database in
      try await DirectoryStoreConformance { try await database.openStore() }.run(check)
    }
  }
}
