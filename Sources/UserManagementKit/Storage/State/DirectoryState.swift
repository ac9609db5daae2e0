import Dispatch

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// One stored user. Immutable: an update stores a new entry, so readers only retain it.
final class DirectoryEntry: Sendable {
  let record: UserRecord
  /// The canonical username (shares storage with the username when it is already lowercase).
  let key: String

  init(_ record: consuming UserRecord) {
    self.key = record.usernameKey
    self.record = record
  }
}

/// A string key that carries its hash, so a hash table that grows rehashes its keys without
/// reading each key's characters (at a million users, each such read is a cache miss).
struct HashedKey: Hashable {
  let string: String
  let hash: Int

  init(_ string: String) {
    self.string = string
    self.hash = string.hashValue
  }

  static func == (lhs: HashedKey, rhs: HashedKey) -> Bool {
    lhs.hash == rhs.hash && lhs.string == rhs.string
  }

  func hash(into hasher: inout Hasher) {
    hasher.combine(hash)
  }

  /// The stored hash, mixed with the table's seed, without running a `Hasher` over it again:
  /// `hash` already is a seeded SipHash of the string, so it resists collisions chosen by
  /// whoever picks usernames, and at a million users the second hashing on every insert,
  /// lookup and resize is a measurable share of opening a file store.
  func _rawHashValue(seed: Int) -> Int {
    hash ^ seed
  }
}

struct ThrottleKey: Hashable {
  var user: UserID
  var kind: CredentialKind
}

/// A ``UserFilter`` prepared for matching many entries.
struct UserMatcher {
  let filter: UserFilter
  let needle: [UInt8]?
  let needleText: String
  let needleIsASCII: Bool

  init(_ filter: UserFilter) {
    self.filter = filter
    needleText = filter.normalizedSearch ?? ""
    needle = filter.normalizedSearch.map { Array($0.utf8) }
    needleIsASCII = needle?.allSatisfy { $0 < 0x80 } ?? true
  }

  var matchesAll: Bool {
    filter.status == nil && filter.role == nil && filter.policy == nil
      && filter.apiAccess == nil && needle == nil
  }

  func matches(_ entry: DirectoryEntry) -> Bool {
    let user = entry.record.user
    if let status = filter.status, user.status != status { return false }
    if let role = filter.role, user.role != role { return false }
    if let apiAccess = filter.apiAccess, user.apiAccessEnabled != apiAccess { return false }
    if let policy = filter.policy, !user.policies.contains(policy) { return false }
    guard let needle else { return true }
    guard needleIsASCII else { return filter.matches(user) }
    return contains(user.firstName, needle) || contains(user.lastName, needle)
      || contains(user.username.rawValue, needle)
  }

  private func contains(_ field: String, _ needle: [UInt8]) -> Bool {
    // A field with non-ASCII characters is compared exactly as the reference does.
    ByteSearch.containsASCIIFolded(field, needle) ?? field.lowercased().contains(needleText)
  }
}

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

/// The whole directory in memory: users with their indexes, policies, throttles and audit
/// events, and the rules a commit must check (see ``ChangeSet``).
///
/// Both stores keep their state in this value: ``InMemoryDirectoryStore`` as all there is,
/// ``FileDirectoryStore`` as the image of what its files hold.
struct DirectoryState {
  var byID: [UserID: DirectoryEntry] = [:]
  var byUsername: [HashedKey: DirectoryEntry] = [:]
  var ordered = OrderedEntries()
  var activeAdministrators = 0
  var policies: [PolicyID: Policy] = [:]
  var policyIDsByName: [String: PolicyID] = [:]
  var policyHolders: [PolicyID: Int] = [:]
  var audit = CompactAuditLog()
  var throttles: [ThrottleKey: LoginThrottleState] = [:]

  // MARK: Reading

  func page(_ query: UserQuery) -> UserPage {
    let matcher = UserMatcher(query.filter)
    let sort = query.sort
    var users: [User] = []
    users.reserveCapacity(min(query.limit, 64))
    var more = false
    if sort.field == .username {
      let visit: (DirectoryEntry) -> Bool = { entry in
        guard matcher.matches(entry) else { return true }
        if users.count == query.limit {
          more = true
          return false
        }
        users.append(entry.record.user)
        return true
      }
      let after = query.after?.position.usernameKey
      if sort.descending {
        ordered.forEachDescending(before: after, visit)
      } else {
        ordered.forEachAscending(after: after, visit)
      }
    } else {
      var candidates: [(UserCursor.Position, User)] = []
      for entry in byID.values where matcher.matches(entry) {
        let position = sort.position(of: entry.record.user)
        if let after = query.after?.position, !sort.orders(after, before: position) {
          continue
        }
        candidates.append((position, entry.record.user))
      }
      candidates.sort { sort.orders($0.0, before: $1.0) }
      more = candidates.count > query.limit
      users = candidates.prefix(query.limit).map(\.1)
    }
    let next =
      more ? users.last.map { UserCursor(sort: sort, position: sort.position(of: $0)) } : nil
    return UserPage(users: users, nextCursor: next)
  }

  func count(_ filter: UserFilter) -> Int {
    let matcher = UserMatcher(filter)
    if matcher.matchesAll { return byID.count }
    var count = 0
    for entry in byID.values where matcher.matches(entry) { count += 1 }
    return count
  }

  func policy(nameKey: String) -> Policy? {
    policyIDsByName[nameKey].flatMap { policies[$0] }
  }

  func sortedPolicies() -> [Policy] {
    policies.values.sorted { ($0.nameKey, $0.id) < ($1.nameKey, $1.id) }
  }

  func throttle(_ user: UserID, _ kind: CredentialKind) -> LoginThrottleState {
    throttles[ThrottleKey(user: user, kind: kind)] ?? .clear
  }

  /// Appends the events of `log` matching `query` to `result`, in the query's direction, until
  /// `result` holds `limit` events.
  static func collect(
    _ log: CompactAuditLog, _ query: AuditQuery, limit: Int, into result: inout [AuditEvent]
  ) {
    let count = log.count
    let indices: any Sequence<Int> =
      query.newestFirst ? AnySequence(stride(from: count - 1, through: 0, by: -1)) : 0..<count
    for index in indices {
      if result.count >= limit { return }
      guard let event = log.event(at: index), query.matches(event) else { continue }
      result.append(event)
    }
  }

  // MARK: Committing

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
        if byUsername[HashedKey(key)] != nil || staged.hasNewUsername(key) {
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
      let previous = byID.updateValue(entry, forKey: record.id)
      applied.users.append((record.id, previous))
      if previous == nil {
        ordered.insert(entry)
      } else {
        ordered.replace(entry)
      }
      byUsername[HashedKey(entry.key)] = entry
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
        byID[id] = previous
        byUsername[HashedKey(previous.key)] = previous
        ordered.replace(previous)
      } else {
        byID.removeValue(forKey: id)
        byUsername.removeValue(forKey: HashedKey(current.key))
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

  mutating func setThrottle(_ key: ThrottleKey, _ state: LoginThrottleState) {
    if state == .clear {
      throttles.removeValue(forKey: key)
    } else {
      throttles[key] = state
    }
  }

  // MARK: Loading

  /// Stores a user read from disk, without checks: the files hold only committed states.
  mutating func load(_ record: consuming UserRecord) {
    let id = record.id
    let entry = DirectoryEntry(record)
    if let previous = byID.updateValue(entry, forKey: id) {
      if previous.record.user.isActiveAdmin { activeAdministrators -= 1 }
      for id in previous.record.user.policies { policyHolders[id, default: 0] -= 1 }
      ordered.replace(entry)
    } else {
      ordered.insert(entry)
    }
    byUsername[HashedKey(entry.key)] = entry
    if entry.record.user.isActiveAdmin { activeAdministrators += 1 }
    if !entry.record.user.policies.isEmpty {
      for id in entry.record.user.policies { policyHolders[id, default: 0] += 1 }
    }
  }

  /// Loads the users of a snapshot, given frame by frame in strictly ascending username order,
  /// into a state that has none yet; builds the id index on one thread while another builds
  /// the username indexes.
  ///
  /// - Returns: `nil`, or the index of the first frame whose users are out of order or repeat
  ///   an id or username (the snapshot is then damaged, and the state must be discarded).
  mutating func loadSorted(_ frames: [[DirectoryEntry]], spareCapacity: Int) -> Int? {
    let total = frames.reduce(0) { $0 + $1.count }
    let capacity = total + spareCapacity
    // Two halves of similar cost: the id index with the ordered index (and the order
    // check), and the username index.
    let ids = Locked<(index: [UserID: DirectoryEntry], ordered: OrderedEntries, bad: Int?)>(
      ([:], OrderedEntries(), nil))
    let names = Locked<
      (index: [HashedKey: DirectoryEntry], admins: Int, holders: [PolicyID: Int], bad: Int?)
    >(([:], 0, [:], nil))
    let build: @Sendable (Int) -> Void = { part in
      if part == 0 {
        var index = [UserID: DirectoryEntry](minimumCapacity: capacity)
        var ordered = OrderedEntries()
        var bad: Int?
        var previous: DirectoryEntry?
        outer: for (number, frame) in frames.enumerated() {
          for entry in frame {
            if let previous, !(previous.key < entry.key) {
              bad = number
              break outer
            }
            if index.updateValue(entry, forKey: entry.record.id) != nil {
              bad = number
              break outer
            }
            ordered.insert(entry)
            previous = entry
          }
        }
        let built = (index, ordered, bad)
        ids.withLock { $0 = built }
      } else {
        var index = [HashedKey: DirectoryEntry](minimumCapacity: capacity)
        var admins = 0
        var holders: [PolicyID: Int] = [:]
        var bad: Int?
        outer: for (number, frame) in frames.enumerated() {
          for entry in frame {
            if index.updateValue(entry, forKey: HashedKey(entry.key)) != nil {
              bad = number
              break outer
            }
            if entry.record.user.isActiveAdmin { admins += 1 }
            if !entry.record.user.policies.isEmpty {
              for id in entry.record.user.policies { holders[id, default: 0] += 1 }
            }
          }
        }
        let built = (index, admins, holders, bad)
        names.withLock { $0 = built }
      }
    }
    if total >= 20_000 && Platform.activeProcessorCount > 1 {
      DispatchQueue.concurrentPerform(iterations: 2, execute: build)
    } else {
      build(0)
      build(1)
    }
    let (byID, ordered, badID) = ids.withLock { ($0.index, $0.ordered, $0.bad) }
    let (byUsername, admins, holders, badName) = names.withLock {
      ($0.index, $0.admins, $0.holders, $0.bad)
    }
    if let bad = [badID, badName].compactMap({ $0 }).min() { return bad }
    self.byID = byID
    self.byUsername = byUsername
    self.ordered = ordered
    activeAdministrators += admins
    for (id, count) in holders { policyHolders[id, default: 0] += count }
    return nil
  }

  /// Stores a policy read from disk, or removes one (`nil` for a deleted `id`).
  mutating func load(policy: Policy?, id: PolicyID) {
    if let old = policies[id] { policyIDsByName.removeValue(forKey: old.nameKey) }
    if let policy {
      policies[id] = policy
      policyIDsByName[policy.nameKey] = id
    } else {
      policies.removeValue(forKey: id)
      policyHolders.removeValue(forKey: id)
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
