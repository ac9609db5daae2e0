#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// One stored user. Immutable: an update stores a new entry, so readers only retain it.
///
/// The key's hash and prefix are computed once, when the entry is made (opening a file store
/// makes its entries on the threads that decode the snapshot and the log, while each user's
/// bytes are in the cache), so that the
/// indexes built from a million entries read them from the entry's first cache line instead
/// of hashing and reading each key's characters again, a cache miss apiece. They come first,
/// so that they share that line with the object's header and the key.
final class DirectoryEntry: Sendable {
  /// The canonical username (shares storage with the username when it is already lowercase).
  let key: String
  /// `key.hashValue`, for the username index (``UsernameIndex``).
  let keyHash: Int
  /// The first 16 bytes of the key, for the ordered index.
  let keyPrefix: KeyPrefix
  let record: UserRecord

  init(_ record: consuming UserRecord) {
    // Moved in first, then read in place: reading the key off the parameter first made a
    // copy of the whole record (a retain and a release of each of its strings and sets).
    self.record = record
    let key = self.record.usernameKey
    self.key = key
    self.keyHash = key.hashValue
    self.keyPrefix = KeyPrefix(key)
  }
}

/// The key of one credential's failed sign-in counter.
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

/// The whole directory in memory: users with their indexes, policies, throttles and audit
/// events, and the rules a commit must check (see ``ChangeSet``).
///
/// Both stores keep their state in this value: ``InMemoryDirectoryStore`` as all there is,
/// ``FileDirectoryStore`` as the image of what its files hold.
///
/// Reads and indexes are here; checking and applying a change set (and taking it back) in
/// `DirectoryState+Commit.swift`; loading from the file store in `DirectoryState+Loading.swift`.
struct DirectoryState {
  var byID = IDIndex()
  var byUsername = UsernameIndex()
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
      for entry in byID.entries where matcher.matches(entry) {
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
    for entry in byID.entries where matcher.matches(entry) { count += 1 }
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

  // MARK: Throttles

  /// Sets a throttle, dropping a cleared one (for commits and for loading).
  mutating func setThrottle(_ key: ThrottleKey, _ state: LoginThrottleState) {
    if state == .clear {
      throttles.removeValue(forKey: key)
    } else {
      throttles[key] = state
    }
  }
}
