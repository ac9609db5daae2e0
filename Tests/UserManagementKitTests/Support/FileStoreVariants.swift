import UserManagementKit
import UserManagementKitTesting

/// Small compaction thresholds, so that tests compact often.
let compactingOptions = FileDirectoryStore.Options(minimumCompactionLogSize: 4096)

/// Writes through one store instance and reads through another.
final class SplitStore: ForwardingDirectoryStore {
  let writer: FileDirectoryStore
  let reader: FileDirectoryStore

  init(directory: String) throws {
    writer = try FileDirectoryStore(directory: directory, options: compactingOptions)
    reader = try FileDirectoryStore(directory: directory, options: compactingOptions)
  }

  var base: any DirectoryStore { reader }
  func subscribeToAuditEvents() -> AsyncStream<AuditEvent> { writer.subscribeToAuditEvents() }
  func commit(_ changes: ChangeSet) async throws { try await writer.commit(changes) }
}

/// Opens the store anew from its files after every commit.
final class ReopeningStore: ForwardingDirectoryStore {
  let directory: String
  let current: Locked<FileDirectoryStore>

  init(directory: String) throws {
    self.directory = directory
    current = Locked(try FileDirectoryStore(directory: directory, options: compactingOptions))
  }

  var base: any DirectoryStore { current.withLock { $0 } }

  func commit(_ changes: ChangeSet) async throws {
    var thrown: (any Error)?
    do {
      try await base.commit(changes)
    } catch {
      thrown = error
    }
    let reopened = try FileDirectoryStore(directory: directory, options: compactingOptions)
    current.withLock { $0 = reopened }
    if let thrown { throw thrown }
  }
}
