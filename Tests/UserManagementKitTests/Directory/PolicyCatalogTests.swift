import Testing
import UserManagementKit
import UserManagementKitTesting

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

@Suite("Policy catalog through the directory")
struct PolicyCatalogTests {
  let readers = PolicyDocument(
    name: "Readers", description: "Read everything",
    permissions: [Permission(resourceType: "doc", allowed: [.view], resourceIds: [.any])])

  @Test func createUpdateDeleteListGet() async throws {
    let h = try await Harness()
    let created = try await h.directory.createPolicy(readers, by: h.asAdmin)
    #expect(created.version == 1)
    await expectError(.policyNameTaken) {
      try await h.directory.createPolicy(
        PolicyDocument(name: "READERS", permissions: readers.permissions), by: h.asAdmin)
    }
    var changed = readers
    changed.name = "Viewers"
    let updated = try await h.directory.updatePolicy(
      created.id, with: changed, expectedVersion: 1, by: h.asAdmin)
    #expect(updated.version == 2)
    #expect(updated.name == "Viewers")
    await expectError(.versionConflict) {
      try await h.directory.updatePolicy(
        created.id, with: readers, expectedVersion: 1, by: h.asAdmin)
    }
    #expect(try await h.directory.policy(named: "viewers", by: h.asAdmin).id == created.id)
    #expect(try await h.directory.policy(created.id, by: h.asAdmin) == updated)
    await expectError(.policyNotFound) {
      _ = try await h.directory.policy(named: "Readers", by: h.asAdmin)
    }
    // Deleting a held policy is refused with the number of holders.
    let holders = [
      try await h.add("a@example.com", policies: [created.id]),
      try await h.add("b@example.com", policies: [created.id]),
    ]
    let inUse = await expectError(.policyInUse) {
      try await h.directory.deletePolicy(created.id, by: h.asAdmin)
    }
    #expect(inUse?.context["holders"] == "2")
    #expect(inUse?.message.contains("2 users") == true)
    for holder in holders { try await h.directory.setPolicies([], of: holder.id, by: h.asAdmin) }
    try await h.directory.deletePolicy(created.id, by: h.asAdmin)
    #expect(try await h.directory.policies(by: h.asAdmin).isEmpty)
    await expectError(.policyNotFound) {
      try await h.directory.deletePolicy(created.id, by: h.asAdmin)
    }
    let actions = try await h.directory.auditEvents(
      AuditQuery(targetPolicy: created.id, newestFirst: false), by: h.asAdmin
    ).map(\.action)
    #expect(actions == [.policyCreated, .policyUpdated, .policyDeleted])
  }

  @Test func importAndExportTheConsoleJSON() async throws {
    let h = try await Harness()
    let existing = try await h.directory.createPolicy(readers, by: h.asAdmin)
    let json = """
      [
        {"name": "readers", "description": "Now with edit",
         "permissions": [{"resourceType": "doc", "allowed": ["view", "edit"], "resourceIds": ["*"]}]},
        {"name": "Project 7", "description": "Children of project 7",
         "permissions": [{"resourceType": "task", "allowed": ["*"], "resourceIds": ["parent:7"]}]}
      ]
      """
    let imported = try await h.directory.importPolicies(
      try PolicyDocument.decodeList(from: Array(json.utf8)), by: h.asAdmin)
    try #require(imported.count == 2)
    #expect(imported[0].id == existing.id, "a name match updates")
    #expect(imported[0].version == 2, "a name match updates")
    #expect(imported[1].version == 1)
    let exported = try await h.directory.exportPolicies(by: h.asAdmin)
    let documents = try PolicyDocument.decodeList(from: PolicyDocument.encodeList(exported))
    #expect(documents.map(\.name) == ["Project 7", "readers"])
    // Round trip: importing the export changes nothing.
    let events = try await h.allEvents().count
    _ = try await h.directory.importPolicies(exported, by: h.asAdmin)
    #expect(try await h.allEvents().count == events)
    // All or nothing: one bad document and nothing is imported.
    let bad =
      #"[{"name":"New","permissions":[{"resourceType":"x","allowed":["view"],"resourceIds":["*"]}]}, {"name":"Broken"}]"#
    await expectError(.invalidPolicy) {
      _ = try await h.directory.importPolicies(
        try PolicyDocument.decodeList(from: Array(bad.utf8)), by: h.asAdmin)
    }
    await expectError(.policyNotFound) {
      _ = try await h.directory.policy(named: "New", by: h.asAdmin)
    }
    let twice =
      #"[{"name":"Dup","permissions":[{"resourceType":"x","allowed":["view"],"resourceIds":["*"]}]},{"name":"dup","permissions":[{"resourceType":"x","allowed":["view"],"resourceIds":["*"]}]}]"#
    await expectError(.policyNameTaken) {
      _ = try await h.directory.importPolicies(
        try PolicyDocument.decodeList(from: Array(twice.utf8)), by: h.asAdmin)
    }
  }

  @Test func authorizationThroughTheDirectory() async throws {
    let h = try await Harness()
    let policy = try await h.directory.createPolicy(
      PolicyDocument(
        name: "Project 7",
        permissions: [
          Permission(
            resourceType: "task", allowed: [.view, .edit], resourceIds: [.childrenOf("7")])
        ]),
      by: h.asAdmin)
    let user = try await h.add("worker@example.com", policies: [policy.id])
    let task = Resource(type: "task", id: "t1", parentID: "7")
    #expect(try await h.directory.isAllowed(user.id, to: .edit, on: task))
    #expect(try await !h.directory.isAllowed(user.id, to: .delete, on: task))
    let decision = try await h.directory.explain(user.id, to: .view, on: task)
    #expect(decision.reason == .policy(id: policy.id, name: "Project 7", permissionIndex: 0))
    #expect("\(decision)" == "allowed by policy \"Project 7\" (permission #1)")
    #expect(
      try await h.directory.explain(h.admin.id, to: .delete, on: task).reason == .administrator)
    let mine = Resource(type: "report", id: "r1", owner: user.id)
    #expect(try await h.directory.explain(user.id, to: .delete, on: mine).reason == .owner)
    let strict = try await Harness(ownersMayAct: false)
    let other = try await strict.add("o@example.com")
    #expect(
      try await !strict.directory.isAllowed(
        other.id, to: .delete, on: Resource(type: "report", id: "r", owner: other.id)))
    try await h.directory.setStatus(.inactive, of: user.id, by: h.asAdmin)
    #expect(try await h.directory.explain(user.id, to: .view, on: task).reason == .inactiveUser)
    #expect(
      try await h.directory.explain(UserID(rawValue: UUID()), to: .view, on: task).reason
        == .unknownUser)
  }
}
