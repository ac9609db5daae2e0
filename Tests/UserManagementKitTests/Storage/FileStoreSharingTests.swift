import Testing
import UserManagementKit

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// Two stores on one directory in one process, which the store treats exactly like two
/// processes: what one commits, the other's audit subscribers must receive.
@Suite("FileDirectoryStore: audit subscriptions across stores")
struct FileStoreSharingTests {
  private func event(_ name: String) -> AuditEvent {
    AuditEvent(
      id: UUID(), time: Date(), actor: .system("sharing-test"),
      target: .policy(PolicyID(rawValue: UUID()), name: name),
      action: AuditAction(rawValue: "test.\(name)"), changes: [])
  }

  /// The other store compacts, then commits; this store catches up with both at its next
  /// read. The event committed into the new generation's log must reach its subscribers too.
  @Test func subscriberReceivesEventsCommittedAfterAnotherStoreCompacted() async throws {
    let temporary = try TemporaryDirectory()
    let writer = try FileDirectoryStore(directory: temporary.store)
    let reader = try FileDirectoryStore(directory: temporary.store)
    let stream = reader.subscribeToAuditEvents()
    try await writer.commit(ChangeSet(auditEvents: [event("before")]))
    try await writer.compact()
    try await writer.commit(ChangeSet(auditEvents: [event("after")]))
    _ = try await reader.userCount(matching: UserFilter())  // Catches up.
    reader.close()  // Finishes the stream.
    var received: [String] = []
    for await event in stream { received.append(event.action.rawValue) }
    #expect(received == ["test.before", "test.after"])
  }
}
