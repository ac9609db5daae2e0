import Foundation
import UserManagementKit

/// Records for the tests.
enum Fixtures {
  static let now = Date(timeIntervalSince1970: 1_767_225_600)

  static func record(
    _ username: String, role: Role = .generalUser, status: UserStatus = .active,
    policies: Set<PolicyID> = [], version: UInt64 = 1
  ) throws -> UserRecord {
    let user = User(
      id: UserID(rawValue: UUID()), username: try Username(username), firstName: "First",
      lastName: "Last", status: status, role: role, policies: policies, apiAccessEnabled: false,
      hasAPIPassword: false, hasPassword: true, mustChangePassword: false, version: version,
      securityStamp: SecurityStamp(rawValue: "stamp"), createdAt: now, updatedAt: now,
      createdBy: .system("tests"))
    return UserRecord(
      user: user, passwordHash: PasswordHash(encoded: "$test$hash"), apiPasswordHash: nil)
  }

  static func event(_ record: UserRecord, _ action: AuditAction = .userUpdated) -> AuditEvent {
    AuditEvent(
      id: UUID(), time: now, actor: .system("tests"),
      target: .user(record.id, username: record.user.username.rawValue), action: action,
      changes: [])
  }

  static func policy(_ name: String) -> Policy {
    Policy(
      id: PolicyID(rawValue: UUID()), name: name, description: "",
      permissions: [Permission(resourceType: "doc", allowed: [.view], resourceIds: [.any])],
      version: 1, createdAt: now, updatedAt: now)
  }
}
