import Testing
import UserManagementKit
import UserManagementKitTesting

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// The check-then-act race: many tasks at once where administrators demote and deactivate each
/// other and create the same usernames. Afterwards the invariants must hold and the audit
/// trail must describe exactly the changes that were applied.
@Suite("Concurrency", .tags(.concurrency))
struct ConcurrencyTests {
  @Test(arguments: 0..<25)
  func adminsRacingEachOtherNeverBreakTheInvariants(round: Int) async throws {
    let h = try await Harness(interleaving: true)
    var admins = [h.admin]
    for index in 0..<4 {
      admins.append(try await h.add("admin\(index)@example.com", role: .admin))
    }
    let eventsBefore = try await h.allEvents().count
    let directory = h.directory
    let ids = admins.map(\.id)
    let outcomes = await withTaskGroup(of: Bool.self) { group in
      for (actorIndex, actor) in ids.enumerated() {
        for (targetIndex, target) in ids.enumerated() where actorIndex != targetIndex {
          let demote = (actorIndex + targetIndex + round).isMultiple(of: 2)
          group.addTask {
            do {
              if demote {
                try await directory.setRole(.generalUser, of: target, by: .user(actor))
              } else {
                try await directory.setStatus(.inactive, of: target, by: .user(actor))
              }
              return true
            } catch {
              return false
            }
          }
        }
        for copy in 0..<3 {
          group.addTask {
            do {
              try await directory.addUser(
                NewUser(
                  username: ["dup@example.com", "Dup@Example.com", "dUP@example.COM"][copy],
                  firstName: "D", lastName: "D", password: .generated),
                by: .user(actor))
              return true
            } catch {
              return false
            }
          }
        }
      }
      var successes = 0
      for await success in group where success { successes += 1 }
      return successes
    }
    let everyone = try await directory.users(UserQuery(limit: 1000), by: .system("check")).users
    let activeAdmins = everyone.filter(\.isActiveAdmin)
    #expect(!activeAdmins.isEmpty, "at least one active administrator remains")
    let keys = everyone.map(\.username.canonical)
    #expect(Set(keys).count == keys.count, "no username is duplicated")
    #expect(keys.filter { $0 == "dup@example.com" }.count == 1, "exactly one dup@ was created")
    let events = try await h.allEvents().dropFirst(eventsBefore)
    // A success may be a no-op (the target was already in the requested state), which commits
    // nothing and records nothing; refusals record nothing either.
    #expect(events.count <= outcomes, "no audit event without a successful operation")
    #expect(events.filter { $0.action == .userCreated }.count == 1, "one creation recorded")
    // Replaying the audit trail reproduces the final state of every administrator.
    for admin in admins {
      let final = try #require(everyone.first { $0.id == admin.id })
      let mine = events.filter { $0.target.userID == admin.id }
      #expect(
        final.status == (mine.contains { $0.action == .userDeactivated } ? .inactive : .active))
      #expect(final.role == (mine.contains { $0.action == .roleChanged } ? .generalUser : .admin))
      #expect(final.version == 1 + UInt64(mine.count))
    }
    // In commit order, nobody acts after losing their admin access or their active status:
    // each change was authorized against the state it committed on.
    var disqualified = Set<UserID>()
    for event in events {
      if let actor = event.actor.userID {
        #expect(!disqualified.contains(actor), "\(actor) acted after being demoted or deactivated")
      }
      if event.action == .userDeactivated || event.action == .roleChanged,
        let target = event.target.userID
      {
        disqualified.insert(target)
      }
    }
  }
}
