import FoundationEssentials

/// A ``DirectoryStore`` that keeps everything in memory.
///
/// Use it in tests, in previews, and in hosts that persist elsewhere. All state sits behind one
/// lock; a commit checks and applies a ``ChangeSet`` while holding it, so commits are
/// serializable. Reads return snapshots. Lookups by id and username are hash-table lookups;
/// listings in username order walk a sorted index from the cursor and stop when the page is
/// full.
public final class InMemoryDirectoryStore: DirectoryStore {
  private let state = Locked(State())

  /// Creates an empty store.
  public init() {}

  /// The user with this identifier.
  ///
  /// - Parameter id: The identifier.
  /// - Returns: The record, or `nil`.
  public func user(id: UserID) async -> UserRecord? {
    state.withLock { $0.byID[id] }?.record
  }

  /// The user with this canonical username.
  ///
  /// - Parameter usernameKey: A canonical username.
  /// - Returns: The record, or `nil`.
  public func user(usernameKey: String) async -> UserRecord? {
    state.withLock { $0.byUsername[HashedKey(usernameKey)] }?.record
  }

  /// The user with this identifier, without hashes (no copy of the credential fields).
  ///
  /// - Parameter id: The identifier.
  /// - Returns: The user, or `nil`.
  public func profile(id: UserID) async -> User? {
    state.withLock { $0.byID[id] }?.record.user
  }

  /// The user with this canonical username, without hashes.
  ///
  /// - Parameter usernameKey: A canonical username.
  /// - Returns: The user, or `nil`.
  public func profile(usernameKey: String) async -> User? {
    state.withLock { $0.byUsername[HashedKey(usernameKey)] }?.record.user
  }

  /// One page of users matching the query.
  ///
  /// - Parameter query: The query.
  /// - Returns: The page.
  public func users(matching query: UserQuery) async -> UserPage {
    state.withLock { $0.page(query) }
  }

  /// The number of users matching the filter.
  ///
  /// - Parameter filter: The filter.
  /// - Returns: The count.
  public func countUsers(matching filter: UserFilter) async -> Int {
    state.withLock { state in
      let matcher = Matcher(filter)
      if matcher.matchesAll { return state.byID.count }
      var count = 0
      for entry in state.byID.values where matcher.matches(entry) { count += 1 }
      return count
    }
  }

  /// The failed sign-in counter of one credential of a user.
  ///
  /// - Parameters:
  ///   - user: The user.
  ///   - kind: The credential.
  /// - Returns: The counter.
  public func loginThrottle(for user: UserID, kind: CredentialKind) async -> LoginThrottleState {
    state.withLock { $0.throttles[ThrottleKey(user: user, kind: kind)] ?? .clear }
  }

  /// The policy with this identifier.
  ///
  /// - Parameter id: The identifier.
  /// - Returns: The policy, or `nil`.
  public func policy(id: PolicyID) async -> Policy? {
    state.withLock { $0.policies[id] }
  }

  /// The policy with this name key.
  ///
  /// - Parameter nameKey: A lowercased name.
  /// - Returns: The policy, or `nil`.
  public func policy(nameKey: String) async -> Policy? {
    state.withLock { state in state.policyIDsByName[nameKey].flatMap { state.policies[$0] } }
  }

  /// Every policy, ordered by name key.
  ///
  /// - Returns: The policies.
  public func policies() async -> [Policy] {
    state.withLock { Array($0.policies.values) }.sorted {
      ($0.nameKey, $0.id) < ($1.nameKey, $1.id)
    }
  }

  /// The audit events matching the query.
  ///
  /// - Parameter query: The query.
  /// - Returns: The events.
  public func auditEvents(matching query: AuditQuery) async -> [AuditEvent] {
    state.withLock { state in
      var result: [AuditEvent] = []
      let limit = max(0, query.limit)
      let count = state.audit.count
      let indices: any Sequence<Int> =
        query.newestFirst ? AnySequence(stride(from: count - 1, through: 0, by: -1)) : 0..<count
      for index in indices {
        if result.count == limit { break }
        guard let event = state.audit.event(at: index), query.matches(event) else { continue }
        result.append(event)
      }
      return result
    }
  }

  /// A stream of the events committed from now on.
  ///
  /// The stream buffers without bound, so consume it promptly.
  ///
  /// - Returns: The stream.
  public func subscribeToAuditEvents() -> AsyncStream<AuditEvent> {
    let (stream, continuation) = AsyncStream<AuditEvent>.makeStream()
    let token = UUID()
    state.withLock { $0.subscribers[token] = continuation }
    continuation.onTermination = { [weak self] _ in
      _ = self?.state.withLock { $0.subscribers.removeValue(forKey: token) }
    }
    return stream
  }

  /// Applies a change set atomically, or nothing.
  ///
  /// - Parameter changes: The change set.
  /// - Throws: ``UserManagementError`` naming the failed check.
  public func commit(_ changes: ChangeSet) async throws {
    try state.withLock { state throws(UserManagementError) in
      try state.commit(changes)
    }
  }

  deinit {
    let subscribers = state.withLock { state in
      defer { state.subscribers.removeAll() }
      return Array(state.subscribers.values)
    }
    for continuation in subscribers { continuation.finish() }
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
}

struct ThrottleKey: Hashable {
  var user: UserID
  var kind: CredentialKind
}

extension InMemoryDirectoryStore {
  /// One stored user. Immutable: an update stores a new entry, so readers only retain it.
  final class Entry: Sendable {
    let record: UserRecord
    /// The canonical username (shares storage with the username when it is already
    /// lowercase).
    let key: String

    init(_ record: UserRecord) {
      self.record = record
      self.key = record.usernameKey
    }
  }

  struct Matcher {
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

    func matches(_ entry: Entry) -> Bool {
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

  struct State {
    var byID: [UserID: Entry] = [:]
    var byUsername: [HashedKey: Entry] = [:]
    var ordered = OrderedEntries()
    var activeAdministrators = 0
    var policies: [PolicyID: Policy] = [:]
    var policyIDsByName: [String: PolicyID] = [:]
    var policyHolders: [PolicyID: Int] = [:]
    var audit = CompactAuditLog()
    var throttles: [ThrottleKey: LoginThrottleState] = [:]
    var subscribers: [UUID: AsyncStream<AuditEvent>.Continuation] = [:]

    func page(_ query: UserQuery) -> UserPage {
      let matcher = Matcher(query.filter)
      let sort = query.sort
      var users: [User] = []
      users.reserveCapacity(min(query.limit, 64))
      var more = false
      if sort.field == .username {
        let visit: (Entry) -> Bool = { entry in
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
    mutating func commit(_ changes: ChangeSet) throws(UserManagementError) {
      // 1. Preconditions, against the state as it is now.
      for precondition in changes.preconditions {
        switch precondition {
        case .userVersion(let id, let version):
          guard byID[id]?.record.user.version == version else { throw .conflict() }
        case .policyVersion(let id, let version):
          guard policies[id]?.version == version else { throw .conflict() }
        case .throttleFailures(let id, let kind, let count):
          let current = throttles[ThrottleKey(user: id, kind: kind)]?.consecutiveFailures ?? 0
          guard current == count else { throw .conflict() }
        case .directoryIsEmpty:
          guard byID.isEmpty else {
            throw UserManagementError(
              .alreadyBootstrapped,
              "The directory already has users; bootstrap is only for "
                + "an empty directory.")
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

      // 3. Stage users. Change sets are small, so small arrays beat dictionaries here.
      var stagedUsers: [UserRecord] = []
      var newUsernames: [String] = []
      var adminDelta = 0
      var holderDelta: [(id: PolicyID, delta: Int)] = []
      func addHolders(_ ids: Set<PolicyID>, _ delta: Int) {
        for id in ids {
          if let index = holderDelta.firstIndex(where: { $0.id == id }) {
            holderDelta[index].delta += delta
          } else {
            holderDelta.append((id, delta))
          }
        }
      }
      for record in changes.users {
        let stagedIndex = stagedUsers.lastIndex { $0.id == record.id }
        let previous = stagedIndex.map { stagedUsers[$0] } ?? byID[record.id]?.record
        if record.user.version == 1 {
          guard previous == nil else { throw .conflict() }
          let key = record.usernameKey
          if byUsername[HashedKey(key)] != nil || newUsernames.contains(key) {
            throw UserManagementError(
              .usernameTaken, "A user named \(record.user.username) already exists.",
              context: ["field": "username"])
          }
          newUsernames.append(key)
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
          addHolders(previous.user.policies, -1)
        }
        adminDelta += record.user.isActiveAdmin ? 1 : 0
        addHolders(record.user.policies, 1)
        if let stagedIndex {
          stagedUsers[stagedIndex] = record
        } else {
          stagedUsers.append(record)
        }
      }

      // 4. Invariants of the state after the change.
      for case (let id, nil) in stagedPolicies where policies[id] != nil {
        let delta = holderDelta.first { $0.id == id }?.delta ?? 0
        let holders = (policyHolders[id] ?? 0) + delta
        if holders > 0 {
          let name = policies[id]?.name ?? id.description
          throw UserManagementError(
            .policyInUse,
            "The policy \"\(name)\" is assigned to \(holders) user\(holders == 1 ? "" : "s"); "
              + "remove it from them first.",
            context: ["holders": String(holders)])
        }
      }
      let userCountAfter = byID.count + newUsernames.count
      if userCountAfter > 0 && activeAdministrators + adminDelta < 1 {
        throw UserManagementError(
          .lastActiveAdministrator,
          "The directory must keep at least one active administrator.")
      }

      // 5. Apply.
      for (id, delta) in holderDelta where delta != 0 {
        policyHolders[id, default: 0] += delta
      }
      for (id, policy) in stagedPolicies {
        if let old = policies[id] { policyIDsByName.removeValue(forKey: old.nameKey) }
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
      for staged in stagedUsers {
        let entry = Entry(staged)
        if byID.updateValue(entry, forKey: entry.record.id) == nil {
          ordered.insert(entry)
        } else {
          ordered.replace(entry)
        }
        byUsername[HashedKey(entry.key)] = entry
      }
      activeAdministrators += adminDelta
      for update in changes.throttleUpdates {
        let key = ThrottleKey(user: update.user, kind: update.kind)
        let next = update.applied(to: throttles[key] ?? .clear)
        if next == .clear {
          throttles.removeValue(forKey: key)
        } else {
          throttles[key] = next
        }
      }
      for event in changes.auditEvents {
        audit.append(event)
        for continuation in subscribers.values { continuation.yield(event) }
      }
    }
  }
}
