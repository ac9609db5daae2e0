#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// What one applied change set replaced, so that it can be taken back if the commit does not
/// reach the disk.
struct AppliedChange {
  fileprivate var users: [(id: UserID, previous: DirectoryEntry?)] = []
  fileprivate var policies: [(id: PolicyID, previous: Policy?)] = []
  fileprivate var holderDelta: [PolicyID: Int] = [:]
  fileprivate var adminDelta = 0
  fileprivate var throttles: [(key: ThrottleKey, previous: LoginThrottleState?)] = []
  fileprivate var auditCountBefore = 0
  /// The throttle states after the change, for stores that persist results, not operations.
  var throttleResults: [(key: ThrottleKey, state: LoginThrottleState)] = []
}

/// The commit contract: checking and applying a ``ChangeSet``, and taking it back.
extension DirectoryState {
  /// Checks `changes` against the state and applies them, or throws and changes nothing.
  ///
  /// - Returns: What the change replaced, for ``rollBack(_:)``.
  @discardableResult
  mutating func commit(_ changes: ChangeSet) throws(UserManagementError) -> AppliedChange {
    // 1. Preconditions, against the state as it is now.
    for precondition in changes.preconditions {
      switch precondition {
      case .userVersion(let id, let version):
        guard byID[id]?.record.user.version == version else { throw .conflict() }
      case .policyVersion(let id, let version):
        guard policies[id]?.version == version else { throw .conflict() }
      case .throttleFailures(let id, let kind, let count):
        guard throttle(id, kind).consecutiveFailures == count else { throw .conflict() }
      case .directoryIsEmpty:
        guard byID.isEmpty else {
          throw UserManagementError(
            .alreadyBootstrapped,
            "The directory already has users; bootstrap is only for an empty directory.")
        }
      }
    }

    // 2. Stage policy changes.
    var stagedPolicies: [PolicyID: Policy?] = [:]
    var nameKeys = policyIDsByName
    for change in changes.policies {
      switch change {
      case .put(let policy):
        let current = stagedPolicies[policy.id] ?? policies[policy.id]
        if policy.version == 1 {
          guard current == nil else { throw .conflict() }
        } else {
          guard let current, current.version + 1 == policy.version else { throw .conflict() }
          nameKeys.removeValue(forKey: current.nameKey)
        }
        if let holder = nameKeys[policy.nameKey], holder != policy.id {
          throw UserManagementError(
            .policyNameTaken, "Another policy is already named \"\(policy.name)\".")
        }
        nameKeys[policy.nameKey] = policy.id
        stagedPolicies[policy.id] = .some(policy)
      case .delete(let id, let version):
        guard let current = stagedPolicies[id] ?? policies[id], current.version == version
        else { throw .conflict() }
        nameKeys.removeValue(forKey: current.nameKey)
        stagedPolicies[id] = .some(nil)
      }
    }
    func policyExists(_ id: PolicyID) -> Bool {
      if let staged = stagedPolicies[id] { return staged != nil }
      return policies[id] != nil
    }

    // 3. Stage users. Most change sets hold one or two users; an import holds thousands, so
    // the staging index switches from a linear scan to hash tables when the set is large.
    var staged = StagedUsers(expectedCount: changes.users.count)
    var adminDelta = 0
    var holderDelta: [PolicyID: Int] = [:]
    for record in changes.users {
      let stagedIndex = staged.index(of: record.id)
      let previous = stagedIndex.map { staged.records[$0] } ?? byID[record.id]?.record
      if record.user.version == 1 {
        guard previous == nil else { throw .conflict() }
        let key = record.usernameKey
        if byUsername[key] != nil || staged.hasNewUsername(key) {
          throw UserManagementError(
            .usernameTaken, "A user named \(record.user.username) already exists.",
            context: ["field": "username"])
        }
        staged.addNewUsername(key)
      } else {
        guard let previous, previous.user.version + 1 == record.user.version else {
          throw .conflict()
        }
        guard previous.user.username.rawValue == record.user.username.rawValue else {
          throw UserManagementError(.invalidOperation, "Usernames never change.")
        }
      }
      for id in record.user.policies where !policyExists(id) {
        throw UserManagementError(
          .policyNotFound, "A policy assigned to \(record.user.username) does not exist.",
          context: ["policy": id.description])
      }
      if let previous {
        adminDelta -= previous.user.isActiveAdmin ? 1 : 0
        for id in previous.user.policies { holderDelta[id, default: 0] -= 1 }
      }
      adminDelta += record.user.isActiveAdmin ? 1 : 0
      for id in record.user.policies { holderDelta[id, default: 0] += 1 }
      staged.put(record, at: stagedIndex)
    }

    // 4. Invariants of the state after the change.
    for case (let id, nil) in stagedPolicies where policies[id] != nil {
      let holders = (policyHolders[id] ?? 0) + (holderDelta[id] ?? 0)
      if holders > 0 {
        let name = policies[id]?.name ?? id.description
        throw UserManagementError(
          .policyInUse,
          "The policy \"\(name)\" is assigned to \(holders) user\(holders == 1 ? "" : "s"); "
            + "remove it from them first.",
          context: ["holders": String(holders)])
      }
    }
    let userCountAfter = byID.count + staged.newUsernameCount
    if userCountAfter > 0 && activeAdministrators + adminDelta < 1 {
      throw UserManagementError(
        .lastActiveAdministrator, "The directory must keep at least one active administrator.")
    }

    // 5. Apply, remembering what was replaced.
    var applied = AppliedChange()
    applied.auditCountBefore = audit.count
    applied.adminDelta = adminDelta
    applied.holderDelta = holderDelta
    for (id, delta) in holderDelta where delta != 0 {
      policyHolders[id, default: 0] += delta
    }
    for (id, policy) in stagedPolicies {
      let old = policies[id]
      applied.policies.append((id, old))
      if let old { policyIDsByName.removeValue(forKey: old.nameKey) }
      if let policy {
        policies[id] = policy
      } else {
        policies.removeValue(forKey: id)
        policyHolders.removeValue(forKey: id)
      }
    }
    for (id, policy) in stagedPolicies {
      if let policy { policyIDsByName[policy.nameKey] = id }
    }
    for record in staged.records {
      let entry = DirectoryEntry(record)
      let previous = byID.put(entry)
      applied.users.append((record.id, previous))
      if previous == nil {
        ordered.insert(entry)
      } else {
        ordered.replace(entry)
      }
      byUsername.put(entry)
    }
    activeAdministrators += adminDelta
    for update in changes.throttleUpdates {
      let key = ThrottleKey(user: update.user, kind: update.kind)
      let previous = throttles[key]
      applied.throttles.append((key, previous))
      let next = update.applied(to: previous ?? .clear)
      setThrottle(key, next)
      applied.throttleResults.append((key, next))
    }
    for event in changes.auditEvents { audit.append(event) }
    return applied
  }

  /// Takes back a change applied by ``commit(_:)``. Changes must be rolled back newest first.
  mutating func rollBack(_ applied: AppliedChange) {
    audit.truncate(to: applied.auditCountBefore)
    for (key, previous) in applied.throttles.reversed() {
      setThrottle(key, previous ?? .clear)
    }
    activeAdministrators -= applied.adminDelta
    for (id, previous) in applied.users.reversed() {
      guard let current = byID[id] else { continue }
      if let previous {
        byID.put(previous)
        byUsername.put(previous)
        ordered.replace(previous)
      } else {
        byID.remove(key: id)
        byUsername.remove(key: current.key)
        ordered.remove(key: current.key)
      }
    }
    for (id, _) in applied.policies {
      if let current = policies[id] { policyIDsByName.removeValue(forKey: current.nameKey) }
    }
    for (id, previous) in applied.policies {
      if let previous {
        policies[id] = previous
        policyIDsByName[previous.nameKey] = id
      } else {
        policies.removeValue(forKey: id)
      }
    }
    for (id, delta) in applied.holderDelta where delta != 0 {
      let holders = (policyHolders[id] ?? 0) - delta
      if holders == 0 && policies[id] == nil {
        policyHolders.removeValue(forKey: id)
      } else {
        policyHolders[id] = holders
      }
    }
  }
}

/// The users of one change set, indexed for the checks of ``DirectoryState/commit(_:)``.
private struct StagedUsers {
  private static let scanLimit = 8
  private(set) var records: [UserRecord] = []
  private var indexByID: [UserID: Int]?
  private var newUsernames: [String] = []
  private var newUsernameSet: Set<String>?

  init(expectedCount: Int) {
    records.reserveCapacity(expectedCount)
    if expectedCount > Self.scanLimit {
      indexByID = Dictionary(minimumCapacity: expectedCount)
      newUsernameSet = Set(minimumCapacity: expectedCount)
    }
  }

  var newUsernameCount: Int { newUsernameSet?.count ?? newUsernames.count }

  func index(of id: UserID) -> Int? {
    if let indexByID { return indexByID[id] }
    return records.lastIndex { $0.id == id }
  }

  func hasNewUsername(_ key: String) -> Bool {
    newUsernameSet?.contains(key) ?? newUsernames.contains(key)
  }

  mutating func addNewUsername(_ key: String) {
    if newUsernameSet != nil {
      newUsernameSet?.insert(key)
    } else {
      newUsernames.append(key)
    }
  }

  mutating func put(_ record: UserRecord, at index: Int?) {
    if let index {
      records[index] = record
    } else {
      indexByID?[record.id] = records.count
      records.append(record)
    }
  }
}
