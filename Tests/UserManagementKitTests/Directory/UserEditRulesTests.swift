import Foundation
import Testing

@testable import UserManagementKit

/// The edit rules on values alone: no store, clock or randomness. The directory applies this
/// very function to the state each commit pins; `DirectoryRulesTests` checks the same rules
/// end to end.
@Suite("Edit rules, without a store")
struct UserEditRulesTests {
  static let rules = UserEditRules(requirePasswordChangeAfterAdminReset: true)
  static let someHash = PasswordHash(encoded: "$pbkdf2-sha256$600000$c2FsdA$aGFzaA")

  static func record(
    _ name: String, role: Role = .generalUser, status: UserStatus = .active,
    policies: Set<PolicyID> = [], apiAccess: Bool = false, apiPasswordHash: PasswordHash? = nil
  ) -> UserRecord {
    let time = Date(timeIntervalSince1970: 1_700_000_000)
    guard let username = try? Username("\(name)@example.com") else {
      fatalError("The fixture's username \(name)@example.com is valid.")
    }
    let user = User(
      id: UserID(rawValue: UUID()), username: username,
      firstName: name, lastName: "Test", status: status, role: role, policies: policies,
      apiAccessEnabled: apiAccess, hasAPIPassword: apiPasswordHash != nil, hasPassword: true,
      mustChangePassword: false, version: 3, securityStamp: SecurityStamp(rawValue: "stamp"),
      createdAt: time, updatedAt: time, createdBy: .system("test"))
    return UserRecord(user: user, passwordHash: someHash, apiPasswordHash: apiPasswordHash)
  }

  static let admin = record("admin", role: .admin)
  static let adminWithAPIAccess = record("api-admin", role: .admin, apiAccess: true)
  static let general = record("general")
  static let other = record("other")

  struct Refused: Sendable, CustomTestStringConvertible {
    var name: String
    var actor: UserRecord?
    var target: UserRecord
    var update: UserUpdate
    var code: UserManagementError.Code
    var field: String?
    var testDescription: String { name }
  }

  @Test(arguments: [
    Refused(
      name: "a General User edits another user's name", actor: general, target: other,
      update: UserUpdate(firstName: "X"), code: .notAuthorized, field: nil),
    Refused(
      name: "a General User changes their own status", actor: general, target: general,
      update: UserUpdate(status: .inactive), code: .notAuthorized, field: nil),
    Refused(
      name: "a General User grants themselves a policy", actor: general, target: general,
      update: UserUpdate(policies: [PolicyID(rawValue: UUID())]), code: .notAuthorized,
      field: nil),
    Refused(
      name: "an admin deactivates themselves", actor: admin, target: admin,
      update: UserUpdate(status: .inactive), code: .selfModificationForbidden, field: "status"),
    Refused(
      name: "an admin demotes themselves", actor: admin, target: admin,
      update: UserUpdate(role: .generalUser), code: .selfModificationForbidden, field: "role"),
    Refused(
      name: "an admin resets their own password without the current one", actor: admin,
      target: admin, update: UserUpdate(password: .generated), code: .invalidOperation,
      field: "password"),
    Refused(
      name: "an admin types their own API password", actor: adminWithAPIAccess,
      target: adminWithAPIAccess,
      update: UserUpdate(apiPassword: .typed(Secret("a typed own api phrase"))),
      code: .invalidOperation, field: "apiPassword"),
    Refused(
      name: "an administrator is given policies", actor: admin, target: other,
      update: UserUpdate(role: .admin, policies: [PolicyID(rawValue: UUID())]),
      code: .invalidOperation, field: "policies"),
    Refused(
      name: "an API password without API access", actor: admin, target: other,
      update: UserUpdate(apiPassword: .generated), code: .invalidOperation, field: "apiPassword"),
    Refused(
      name: "an empty first name", actor: admin, target: other, update: UserUpdate(firstName: " "),
      code: .invalidField, field: "firstName"),
  ])
  func refused(_ example: Refused) {
    #expect {
      _ = try Self.rules.apply(
        example.update, to: example.target, actor: example.actor?.user, passwordHash: nil,
        apiPasswordHash: nil)
    } throws: { error in
      guard let error = error as? UserManagementError else { return false }
      return error.code == example.code && error.field == example.field
    }
  }

  /// The refusal is the rule's own, not API access's: the same administrator may generate one.
  @Test func anAdministratorsOwnAPIPasswordIsGeneratedOnly() throws {
    let admin = Self.adminWithAPIAccess
    #expect {
      _ = try Self.rules.apply(
        UserUpdate(apiPassword: .typed(Secret("a typed own api phrase"))), to: admin,
        actor: admin.user, passwordHash: nil, apiPasswordHash: nil)
    } throws: { error in
      (error as? UserManagementError)?.context["reason"] == "typed_own_api_password"
    }
    let generated = try Self.rules.apply(
      UserUpdate(apiPassword: .generated), to: admin, actor: admin.user, passwordHash: nil,
      apiPasswordHash: Self.someHash)
    #expect(generated?.record.apiPasswordHash == Self.someHash)
  }

  @Test func aGeneralUserRenamesThemselves() throws {
    let outcome = try #require(
      try Self.rules.apply(
        UserUpdate(firstName: "Grace"), to: Self.general, actor: Self.general.user,
        passwordHash: nil, apiPasswordHash: nil))
    #expect(outcome.record.user.firstName == "Grace")
    #expect(outcome.action == .userUpdated)
    #expect(!outcome.credentialsChanged)
    #expect(
      outcome.changes == [FieldChange(field: "firstName", oldValue: "general", newValue: "Grace")])
  }

  @Test func aSystemPrincipalMayEditAnyone() throws {
    let outcome = try #require(
      try Self.rules.apply(
        UserUpdate(status: .inactive), to: Self.admin, actor: nil, passwordHash: nil,
        apiPasswordHash: nil))
    #expect(outcome.record.user.status == .inactive)
    #expect(outcome.action == .userDeactivated)
    #expect(outcome.credentialsChanged)
  }

  @Test func anEditThatChangesNothingIsNil() throws {
    let outcome = try Self.rules.apply(
      UserUpdate(firstName: "other", status: .active), to: Self.other, actor: Self.admin.user,
      passwordHash: nil, apiPasswordHash: nil)
    #expect(outcome == nil)
  }

  @Test func promotionToAdministratorDropsPolicies() throws {
    let target = Self.record("holder", policies: [PolicyID(rawValue: UUID())])
    let outcome = try #require(
      try Self.rules.apply(
        UserUpdate(role: .admin), to: target, actor: Self.admin.user, passwordHash: nil,
        apiPasswordHash: nil))
    #expect(outcome.record.user.role == .admin)
    #expect(outcome.record.user.policies.isEmpty)
    #expect(outcome.action == .roleChanged)
  }

  @Test func disablingAPIAccessRemovesTheAPIPassword() throws {
    let target = Self.record("api", apiAccess: true, apiPasswordHash: Self.someHash)
    let outcome = try #require(
      try Self.rules.apply(
        UserUpdate(apiAccessEnabled: false), to: target, actor: Self.admin.user,
        passwordHash: nil, apiPasswordHash: nil))
    #expect(outcome.record.apiPasswordHash == nil)
    #expect(!outcome.record.user.hasAPIPassword)
    #expect(outcome.changes.contains(.secret("apiPassword")))
    #expect(outcome.action == .apiAccessDisabled)
  }

  @Test(arguments: [true, false])
  func anAdminResetSetsMustChangePasswordAsConfigured(_ required: Bool) throws {
    let rules = UserEditRules(requirePasswordChangeAfterAdminReset: required)
    let outcome = try #require(
      try rules.apply(
        UserUpdate(password: .generated), to: Self.other, actor: Self.admin.user,
        passwordHash: Self.someHash, apiPasswordHash: nil))
    #expect(outcome.record.user.mustChangePassword == required)
    #expect(outcome.action == .passwordReset)
    #expect(outcome.changes == [.secret("password")])
    #expect(outcome.throttleUpdates.map(\.kind) == [.password])
  }

  @Test func checkingWithoutSecretsAppliesNoCredential() throws {
    // The first pass checks the rules before any hashing: nothing secret is applied.
    let outcome = try Self.rules.apply(
      UserUpdate(password: .generated), to: Self.other, actor: Self.admin.user,
      passwordHash: nil, apiPasswordHash: nil)
    #expect(outcome == nil)
  }
}
