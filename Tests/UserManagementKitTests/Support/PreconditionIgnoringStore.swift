import UserManagementKit
import UserManagementKitTesting

/// A deliberately broken store: it drops preconditions before committing.
final class PreconditionIgnoringStore: ForwardingDirectoryStore {
  let base: any DirectoryStore = InMemoryDirectoryStore()
  func commit(_ changes: ChangeSet) async throws {
    var copy = changes
    copy.preconditions = []
    try await base.commit(copy)
  }
}
