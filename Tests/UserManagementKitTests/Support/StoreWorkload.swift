import UserManagementKit

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// A fixed sequence of commits exercising every kind of record the file store writes
/// (inserts, updates, policies put and deleted, throttle counters, audit events), with ids and
/// times derived from the step number so that every run writes the same bytes.
struct StoreWorkload {
  let steps: [ChangeSet]

  /// Builds the workload.
  ///
  /// - Parameter users: How many users to insert after the administrator.
  init(users: Int = 12) {
    var steps: [ChangeSet] = []
    var records: [UserRecord] = []
    var serial: UInt64 = 0
    func nextID() -> UUID {
      serial += 1
      return UUID(
        uuid: (
          0x0A, 0, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, UInt8(serial >> 8),
          UInt8(serial & 0xFF)
        ))
    }
    let start = Date(timeIntervalSinceReferenceDate: 800_000_000.25)
    func time(_ step: Int) -> Date { start.addingTimeInterval(Double(step) * 1.5) }
    func event(_ record: UserRecord, _ action: AuditAction, step: Int) -> AuditEvent {
      AuditEvent(
        id: nextID(), time: time(step), actor: .system("workload"),
        target: .user(record.id, username: record.user.username.rawValue), action: action,
        changes: [FieldChange(field: "firstName", oldValue: "Old", newValue: "Ünïcode \(step)")])
    }
    func record(_ index: Int, role: Role) -> UserRecord {
      let username = (try? Username("User\(index)@Example.com")) ?? (try? Username("x@example.com"))
      guard let username else { preconditionFailure("the workload's usernames are valid") }
      let user = User(
        id: UserID(rawValue: nextID()), username: username, firstName: "First \(index)",
        lastName: "Last", status: .active, role: role, policies: [],
        apiAccessEnabled: index % 3 == 0,
        hasAPIPassword: false, hasPassword: true, mustChangePassword: index % 2 == 0, version: 1,
        securityStamp: SecurityStamp(rawValue: "stamp\(index)"), createdAt: time(index),
        updatedAt: time(index), createdBy: .system("workload"))
      return UserRecord(
        user: user,
        passwordHash: PasswordHash(encoded: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$\(index)"),
        apiPasswordHash: index % 3 == 0 ? PasswordHash(encoded: "$umk-api$\(index)") : nil)
    }

    let admin = record(0, role: .admin)
    records.append(admin)
    steps.append(
      ChangeSet(
        preconditions: [.directoryIsEmpty], users: [admin],
        auditEvents: [event(admin, .userBootstrapped, step: 0)]))
    let policy = Policy(
      id: PolicyID(rawValue: nextID()), name: "Readers", description: "Can read",
      permissions: [Permission(resourceType: "doc", allowed: [.view], resourceIds: [.any])],
      version: 1, createdAt: time(1), updatedAt: time(1))
    steps.append(ChangeSet(policies: [.put(policy)]))
    for index in 1...users {
      var user = record(index, role: .generalUser)
      if index % 4 == 1 { user.user.policies = [policy.id] }
      records.append(user)
      steps.append(
        ChangeSet(users: [user], auditEvents: [event(user, .userCreated, step: steps.count)]))
    }
    // Updates: every user once more, the last ones twice.
    for index in 1..<records.count {
      var user = records[index]
      user.user.version += 1
      user.user.lastName = "Updated \(index)"
      user.user.updatedAt = time(steps.count)
      records[index] = user
      steps.append(
        ChangeSet(
          preconditions: [.userVersion(user.id, user.user.version - 1)], users: [user],
          auditEvents: [event(user, .userUpdated, step: steps.count)],
          throttleUpdates: index % 2 == 0
            ? [
              ThrottleUpdate(
                user: user.id, kind: .password, operation: .recordFailure(at: time(steps.count)))
            ]
            : []))
    }
    // Take the policy away from its holders, then delete it.
    var release: [UserRecord] = []
    for index in records.indices where records[index].user.policies.contains(policy.id) {
      records[index].user.policies = []
      records[index].user.version += 1
      release.append(records[index])
    }
    steps.append(ChangeSet(users: release))
    steps.append(ChangeSet(policies: [.delete(policy.id, version: 1)]))
    steps.append(
      ChangeSet(throttleUpdates: [
        ThrottleUpdate(user: records[records.count - 1].id, kind: .password, operation: .reset)
      ]))
    self.steps = steps
  }
}

/// Everything a store holds, in a comparable form.
struct StoreFingerprint: Equatable, CustomStringConvertible {
  var users: [UserRecord]
  var policies: [Policy]
  var throttles: [String]
  var audit: [AuditEvent]

  init(_ store: any DirectoryStore) async throws {
    var users: [UserRecord] = []
    var query = UserQuery(limit: 1000)
    while true {
      let page = try await store.users(matching: query)
      for user in page.users {
        if let record = try await store.user(id: user.id) { users.append(record) }
      }
      guard let next = page.nextCursor else { break }
      query.after = next
    }
    self.users = users
    policies = try await store.policies()
    var throttles: [String] = []
    for user in users {
      for kind in CredentialKind.allCases {
        let state = try await store.loginThrottle(for: user.id, kind: kind)
        if state != .clear { throttles.append("\(user.id) \(kind) \(state.consecutiveFailures)") }
      }
    }
    self.throttles = throttles
    audit = try await store.auditEvents(matching: AuditQuery(limit: 100_000))
  }

  var description: String {
    "\(users.count) users (versions \(users.map(\.user.version))), \(policies.count) policies, "
      + "\(throttles.count) throttles, \(audit.count) audit events"
  }
}
