import Testing
import UserManagementKit
import UserManagementKitTesting

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

@Suite("FileDirectoryStore conformance")
struct FileStoreConformanceTests {
  /// The store as an application uses it.
  @Test(arguments: DirectoryStoreConformance.Check.allCases)
  func conformance(_ check: DirectoryStoreConformance.Check) async throws {
    let temporary = try TemporaryDirectory()
    try await DirectoryStoreConformance {
      try FileDirectoryStore(directory: temporary.store)
    }.run(check)
  }

  /// Commits through one instance, reads through another on the same directory (as two
  /// processes would), compacting often: every read must see every commit.
  @Test(arguments: DirectoryStoreConformance.Check.allCases)
  func conformanceAcrossInstances(_ check: DirectoryStoreConformance.Check) async throws {
    let temporary = try TemporaryDirectory()
    try await DirectoryStoreConformance {
      try SplitStore(directory: temporary.store)
    }.run(check)
  }

  /// Reopens the store from its files after every commit: everything must survive the trip
  /// through the disk.
  @Test(arguments: DirectoryStoreConformance.Check.allCases.filter { $0 != .auditSubscription })
  func conformanceAfterReopening(_ check: DirectoryStoreConformance.Check) async throws {
    let temporary = try TemporaryDirectory()
    try await DirectoryStoreConformance {
      try ReopeningStore(directory: temporary.store)
    }.run(check)
  }
}
