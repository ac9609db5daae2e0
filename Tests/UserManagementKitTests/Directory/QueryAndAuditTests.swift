import Testing
import UserManagementKit
import UserManagementKitTesting

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

@Suite("Listing, search and audit through the directory")
struct QueryAndAuditTests {
  @Test func listingsFilterSearchSortAndPaginate() async throws {
    let h = try await Harness()
    let names = [
      ("Grace", "Hopper"), ("Alan", "Turing"), ("Barbara", "Liskov"), ("Edsger", "Dijkstra"),
      ("Ada", "Smith"),
    ]
    for (index, (first, last)) in names.enumerated() {
      let user = try await h.add(
        "\(first.lowercased())@example.com", status: index == 2 ? .inactive : .active,
        apiAccess: index.isMultiple(of: 2))
      try await h.directory.updateProfile(
        of: user.id, firstName: first, lastName: last, by: h.asAdmin)
    }
    let active = try await h.directory.users(
      UserQuery(filter: UserFilter(status: .active, role: .generalUser)), by: h.asAdmin)
    #expect(active.users.map(\.firstName) == ["Ada", "Alan", "Edsger", "Grace"])
    #expect(active.nextCursor == nil)
    let searched = try await h.directory.users(
      UserQuery(filter: UserFilter(search: "SMI")), by: h.asAdmin)
    #expect(searched.users.map(\.lastName) == ["Smith"])
    let byLast = try await h.directory.users(
      UserQuery(sort: UserSort(.lastName, descending: true), limit: 2), by: h.asAdmin)
    #expect(byLast.users.map(\.lastName) == ["Turing", "Smith"])
    let cursor = try #require(byLast.nextCursor)
    let parsed = try UserCursor(parsing: cursor.description)
    #expect(parsed == cursor)
    let next = try await h.directory.users(
      UserQuery(sort: UserSort(.lastName, descending: true), limit: 2, after: parsed), by: h.asAdmin
    )
    #expect(next.users.map(\.lastName) == ["Liskov", "Hopper"])
    await expectError(.invalidCursor) {
      _ = try await h.directory.users(
        UserQuery(sort: UserSort(.firstName), after: parsed), by: h.asAdmin)
    }
    await expectError(.invalidCursor) { _ = try UserCursor(parsing: "not-a-cursor!") }
    // A cursor holding a NUL was made by no store (no key holds one): refused before any store
    // sees it.
    let withNUL = UserCursor(
      sort: UserSort(.lastName), position: .init(primary: "smi\u{0}th", usernameKey: "a"))
    await expectError(.invalidCursor) { _ = try UserCursor(parsing: withNUL.description) }
    await expectError(.invalidField) {
      _ = try await h.directory.users(UserQuery(limit: 0), by: h.asAdmin)
    }
    await expectError(.invalidField) {
      _ = try await h.directory.users(UserQuery(limit: 1001), by: h.asAdmin)
    }
    #expect(
      try await h.directory.userCount(matching: UserFilter(apiAccess: true), by: h.asAdmin) == 3)
  }

  @Test(.timeLimit(.minutes(1)))
  func auditStreamsEndWhenTheSubscriberLosesAdminRights() async throws {
    let h = try await Harness()
    let second = try await h.add("second@example.com", role: .admin)
    let stream = try await h.directory.auditEventStream(by: .user(second.id))
    try await h.add("seen@example.com")
    try await h.directory.setRole(.generalUser, of: second.id, by: h.asAdmin)
    try await h.add("unseen@example.com")
    var received: [AuditEvent] = []
    // The loop ends by itself: the stream finishes once the subscriber is no admin.
    for await event in stream { received.append(event) }
    // Authority is checked when each event is delivered, so nothing committed after the
    // demotion reaches the former admin (whether the earlier ones did depends on timing).
    #expect(!received.contains { $0.target.description == "user:unseen@example.com" })
    #expect(!received.contains { $0.action == .roleChanged && $0.target.userID == second.id })
  }

  @Test func everyChangeHasOneAuditEventWithoutSecrets() async throws {
    let h = try await Harness()
    let stream = try await h.directory.auditEventStream(by: h.asAdmin)
    let user = try await h.add("audited@example.com")
    h.clock.advance(by: 60)
    try await h.directory.updateUser(
      user.id, with: UserUpdate(firstName: "Aud", apiAccessEnabled: true, apiPassword: .generated),
      by: h.asAdmin)
    try await h.directory.setStatus(.inactive, of: user.id, by: h.asAdmin)
    let events = try await h.directory.auditEvents(
      AuditQuery(targetUser: user.id, newestFirst: false), by: h.asAdmin)
    try #require(events.map(\.action) == [.userCreated, .userUpdated, .userDeactivated])
    #expect(events.allSatisfy { $0.actor == h.asAdmin })
    let update = events[1]
    #expect(
      update.changes.contains(FieldChange(field: "firstName", oldValue: "First", newValue: "Aud")))
    #expect(update.changes.contains(.secret("apiPassword")))
    #expect(
      update.changes.first { $0.field == "apiPassword" }?.description == "apiPassword changed")
    #expect(update.time == events[0].time.addingTimeInterval(60))
    let since = try await h.directory.auditEvents(
      AuditQuery(since: events[0].time.addingTimeInterval(1)), by: h.asAdmin)
    #expect(since.count == 2)
    var streamed: [AuditAction] = []
    for await event in stream {
      streamed.append(event.action)
      if streamed.count == 3 { break }
    }
    #expect(streamed == [.userCreated, .userUpdated, .userDeactivated])
  }
}
