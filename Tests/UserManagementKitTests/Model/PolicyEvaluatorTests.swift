import Testing
import UserManagementKit

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

@Suite("Policy evaluation")
struct PolicyEvaluatorTests {
  let now = Date(timeIntervalSince1970: 0)

  func user(_ role: Role, _ status: UserStatus = .active, policies: Set<PolicyID> = []) throws
    -> User
  {
    User(
      id: UserID(rawValue: UUID()), username: try Username("u@example.com"), firstName: "U",
      lastName: "U", status: status, role: role, policies: policies, apiAccessEnabled: false,
      hasAPIPassword: false, hasPassword: true, mustChangePassword: false, version: 1,
      securityStamp: SecurityStamp(rawValue: "s"), createdAt: now, updatedAt: now,
      createdBy: .system("t"))
  }

  func policy(_ name: String, _ permissions: [Permission]) -> Policy {
    Policy(
      id: PolicyID(rawValue: UUID()), name: name, description: "", permissions: permissions,
      version: 1, createdAt: now, updatedAt: now)
  }

  @Test func rules() throws {
    let viewDashboards = policy(
      "Dashboard viewers",
      [Permission(resourceType: "dashboard", allowed: [.view], resourceIds: [.any])])
    let editOne = policy(
      "Editor of 42",
      [
        Permission(resourceType: "dataset", allowed: [.edit], resourceIds: [.id("42")]),
        Permission(resourceType: "dataset", allowed: [.all], resourceIds: [.childrenOf("7")]),
      ])
    let all = [viewDashboards, editOne]
    let general = try user(.generalUser, policies: [viewDashboards.id, editOne.id])
    func decide(_ user: User?, _ action: Action, _ resource: Resource, owners: Bool = true)
      -> AuthorizationDecision
    {
      PolicyEvaluator.decide(
        user: user, action: action, resource: resource, policies: all, ownersAllowed: owners)
    }
    let dashboard = Resource(type: "dashboard", id: "d1")
    #expect(decide(try user(.admin), .delete, dashboard).reason == .administrator)
    #expect(!decide(try user(.admin, .inactive), .view, dashboard).isAllowed)
    #expect(decide(try user(.admin, .inactive), .view, dashboard).reason == .inactiveUser)
    #expect(decide(nil, .view, dashboard).reason == .unknownUser)
    #expect(
      decide(general, .view, dashboard).reason
        == .policy(id: viewDashboards.id, name: "Dashboard viewers", permissionIndex: 0))
    #expect(!decide(general, .edit, dashboard).isAllowed)
    #expect(decide(general, .edit, dashboard).reason == .defaultDeny)
    #expect(decide(general, .edit, Resource(type: "dataset", id: "42")).isAllowed)
    #expect(!decide(general, .delete, Resource(type: "dataset", id: "42")).isAllowed)
    #expect(!decide(general, .edit, Resource(type: "dataset", id: "43")).isAllowed)
    // parent:7 grants the children of 7 with every action, but not 7 itself.
    #expect(
      decide(general, .delete, Resource(type: "dataset", id: "c", parentID: "7")).reason
        == .policy(id: editOne.id, name: "Editor of 42", permissionIndex: 1))
    #expect(!decide(general, .view, Resource(type: "dataset", id: "7")).isAllowed)
    // Owners.
    let owned = Resource(type: "report", id: "r", owner: general.id)
    #expect(decide(general, .delete, owned).reason == .owner)
    #expect(!decide(general, .delete, owned, owners: false).isAllowed)
    // Unknown policy ids grant nothing.
    let dangling = try user(.generalUser, policies: [PolicyID(rawValue: UUID())])
    #expect(decide(dangling, .view, dashboard).reason == .defaultDeny)
    // An inactive General User holding a granting policy is still denied.
    let inactive = try user(.generalUser, .inactive, policies: [viewDashboards.id])
    #expect(!decide(inactive, .view, dashboard).isAllowed)
  }
}
