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
    state.withLock { $0.entries[id]?.record }
  }

  /// The user with this canonical username.
  ///
  /// - Parameter usernameKey: A canonical username.
  /// - Returns: The record, or `nil`.
  public func user(usernameKey: String) async -> UserRecord? {
    state.withLock { state in
      state.idsByUsername[usernameKey].flatMap { state.entries[$0]?.record }
    }
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
      if matcher.matchesAll { return state.entries.count }
      var count = 0
      for entry in state.entries.values where matcher.matches(entry) { count += 1 }
      return count
    }
  }

  /// The failed sign-in counter of one credential of a user.
  ///
  /// - Parameters:
  ///   - user: The user.
  ///   - kind: The credential.
  /// - Returns: The counter.
  public func loginThrottle(for user: UserID, kind: CredentialKind) async
    -> LoginThrottleState
  {
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
      if query.newestFirst {
        for event in state.audit.reversed() where query.matches(event) {
          if result.count == limit { break }
          result.append(event)
        }
      } else {
        for event in state.audit where query.matches(event) {
          if result.count == limit { break }
          result.append(event)
        }
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

struct ThrottleKey: Hashable {
  var user: UserID
  var kind: CredentialKind
}

extension InMemoryDirectoryStore {
  struct Entry {
    var record: UserRecord
    /// Lowercased first name, last name and username, separated by NUL bytes.
    var searchText: [UInt8]

    init(_ record: UserRecord) {
      self.record = record
      let user = record.user
      var text = Array(user.firstName.lowercased().utf8)
      text.append(0)
      text.append(contentsOf: user.lastName.lowercased().utf8)
      text.append(0)
      text.append(contentsOf: user.username.rawValue.lowercased().utf8)
      searchText = text
    }
  }

  struct Matcher {
    let filter: UserFilter
    let needle: [UInt8]?
    let useReference: Bool

    init(_ filter: UserFilter) {
      self.filter = filter
      let normalized = filter.normalizedSearch
      needle = normalized.map { Array($0.utf8) }
      useReference = needle?.contains(0) ?? false
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
      if useReference { return filter.matches(user) }
      return ByteSearch.contains(entry.searchText, needle)
    }
  }

  struct State {
    var entries: [UserID: Entry] = [:]
    var idsByUsername: [String: UserID] = [:]
    /// Users sorted by canonical username (excluding `unsortedInserts`).
    var byUsername: [(key: String, id: UserID)] = []
    /// Users inserted since `byUsername` was last sorted.
    var unsortedInserts: [(key: String, id: UserID)] = []
    var activeAdministrators = 0
    var policies: [PolicyID: Policy] = [:]
    var policyIDsByName: [String: PolicyID] = [:]
    var policyHolders: [PolicyID: Int] = [:]
    var audit: [AuditEvent] = []
    var throttles: [ThrottleKey: LoginThrottleState] = [:]
    var subscribers: [UUID: AsyncStream<AuditEvent>.Continuation] = [:]

    mutating func sortIndexIfNeeded() {
      guard !unsortedInserts.isEmpty else { return }
      unsortedInserts.sort { $0.key < $1.key }
      if byUsername.isEmpty || byUsername[byUsername.count - 1].key < unsortedInserts[0].key {
        byUsername.append(contentsOf: unsortedInserts)
      } else {
        var merged: [(key: String, id: UserID)] = []
        merged.reserveCapacity(byUsername.count + unsortedInserts.count)
        var left = 0
        var right = 0
        while left < byUsername.count, right < unsortedInserts.count {
          if byUsername[left].key < unsortedInserts[right].key {
            merged.append(byUsername[left])
            left += 1
          } else {
            merged.append(unsortedInserts[right])
            right += 1
          }
        }
        merged.append(contentsOf: byUsername[left...])
        merged.append(contentsOf: unsortedInserts[right...])
        byUsername = merged
      }
      unsortedInserts.removeAll(keepingCapacity: true)
    }

    mutating func page(_ query: UserQuery) -> UserPage {
      let matcher = Matcher(query.filter)
      let sort = query.sort
      var users: [User] = []
      var more = false
      if sort.field == .username {
        sortIndexIfNeeded()
        // Find the first index strictly after the cursor in the requested direction.
        if sort.descending {
          var index = byUsername.count - 1
          if let after = query.after?.position.usernameKey {
            index = lowerBound(after) - 1
          }
          while index >= 0 {
            if let entry = entries[byUsername[index].id], matcher.matches(entry) {
              if users.count == query.limit {
                more = true
                break
              }
              users.append(entry.record.user)
            }
            index -= 1
          }
        } else {
          var index = 0
          if let after = query.after?.position.usernameKey {
            index = upperBound(after)
          }
          while index < byUsername.count {
            if let entry = entries[byUsername[index].id], matcher.matches(entry) {
              if users.count == query.limit {
                more = true
                break
              }
              users.append(entry.record.user)
            }
            index += 1
          }
        }
      } else {
        var candidates: [(UserCursor.Position, User)] = []
        for entry in entries.values where matcher.matches(entry) {
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

    /// The first index whose key is not less than `key`.
    private func lowerBound(_ key: String) -> Int {
      var low = 0
      var high = byUsername.count
      while low < high {
        let mid = (low + high) / 2
        if byUsername[mid].key < key { low = mid + 1 } else { high = mid }
      }
      return low
    }

    /// The first index whose key is greater than `key`.
    private func upperBound(_ key: String) -> Int {
      var low = 0
      var high = byUsername.count
      while low < high {
        let mid = (low + high) / 2
        if byUsername[mid].key <= key { low = mid + 1 } else { high = mid }
      }
      return low
    }

    mutating func commit(_ changes: ChangeSet) throws(UserManagementError) {
      // 1. Preconditions, against the state as it is now.
      for precondition in changes.preconditions {
        switch precondition {
        case .userVersion(let id, let version):
          guard entries[id]?.record.user.version == version else { throw .conflict() }
        case .policyVersion(let id, let version):
          guard policies[id]?.version == version else { throw .conflict() }
        case .directoryIsEmpty:
          guard entries.isEmpty else {
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

      // 3. Stage users.
      var stagedUsers: [UserID: UserRecord] = [:]
      var newUsernames: [String: UserID] = [:]
      var adminDelta = 0
      var holderDelta: [PolicyID: Int] = [:]
      for record in changes.users {
        let previous = stagedUsers[record.id] ?? entries[record.id]?.record
        if record.user.version == 1 {
          guard previous == nil else { throw .conflict() }
          let key = record.usernameKey
          if idsByUsername[key] != nil || newUsernames[key] != nil {
            throw UserManagementError(
              .usernameTaken, "A user named \(record.user.username) already exists.",
              context: ["field": "username"])
          }
          newUsernames[key] = record.id
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
        stagedUsers[record.id] = record
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
      let userCountAfter = entries.count + newUsernames.count
      if userCountAfter > 0 && activeAdministrators + adminDelta < 1 {
        throw UserManagementError(
          .lastActiveAdministrator,
          "The directory must keep at least one active administrator.")
      }

      // 5. Apply.
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
      for record in changes.users {
        guard let staged = stagedUsers.removeValue(forKey: record.id) else { continue }
        if entries[staged.id] == nil {
          idsByUsername[staged.usernameKey] = staged.id
          unsortedInserts.append((staged.usernameKey, staged.id))
        }
        entries[staged.id] = Entry(staged)
      }
      activeAdministrators += adminDelta
      for (id, delta) in holderDelta where delta != 0 {
        policyHolders[id, default: 0] += delta
      }
      for update in changes.throttleUpdates {
        let key = ThrottleKey(user: update.user, kind: update.kind)
        let next = update.applied(to: throttles[key] ?? .clear)
        if next == .clear {
          throttles.removeValue(forKey: key)
        } else {
          throttles[key] = next
        }
      }
      audit.append(contentsOf: changes.auditEvents)
      for event in changes.auditEvents {
        for continuation in subscribers.values { continuation.yield(event) }
      }
    }
  }
}

enum ByteSearch {
  /// Whether `needle` occurs in `haystack`.
  static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard let first = needle.first else { return true }
    let count = needle.count
    guard haystack.count >= count else { return false }
    return haystack.withUnsafeBufferPointer { hay in
      needle.withUnsafeBufferPointer { pin in
        var index = 0
        let last = hay.count - count
        while index <= last {
          if hay[index] == first {
            var offset = 1
            while offset < count, hay[index + offset] == pin[offset] { offset += 1 }
            if offset == count { return true }
          }
          index += 1
        }
        return false
      }
    }
  }
}
