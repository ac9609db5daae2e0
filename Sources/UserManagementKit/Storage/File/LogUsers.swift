/// The users a store's log holds, each at the last version it logged: what opening puts in
/// place of the snapshot's versions of them as the snapshot is decoded
/// (``StoreFiles/readSnapshot(_:replacing:)``), so that no version the log supersedes is kept
/// in memory beside the version that supersedes it.
///
/// Only the log's contradictions that replacing could hide are noted here; whatever else is
/// wrong, the bulk load of the snapshot and the log's remaining users finds. Opening reads a
/// store whose log contradicts itself or its snapshot again the plain way, which says where.
struct LogUsers: Sendable {
  /// Every user the log holds, at its last version.
  private(set) var latest: IDIndex
  /// The users the log created (at version 1) and then updated: none may be in the snapshot.
  private(set) var createdAndUpdated: Set<UserID> = []
  /// Whether the log contradicts itself: a user logged at version 1 after another version of
  /// it, or logged under two usernames.
  private(set) var contradictsItself = false

  /// Takes the users out of `records` (their ``CommitRecord/entries``), in commit order.
  init(takingUsersOf records: inout [CommitRecord]) {
    latest = IDIndex(minimumCapacity: records.reduce(0) { $0 + $1.entries.count })
    for index in records.indices {
      for entry in records[index].entries {
        guard let previous = latest.put(entry) else { continue }
        if entry.record.user.version == 1 || previous.key != entry.key {
          contradictsItself = true
        }
        if previous.record.user.version == 1 { createdAndUpdated.insert(entry.record.id) }
      }
      records[index].entries = []
    }
  }

  /// Whether `newer`, the log's last version of `original`, a snapshot user, may replace it:
  /// it has the same username, and the log did not create the user (it exists already).
  func mayReplace(_ original: DirectoryEntry, with newer: DirectoryEntry) -> Bool {
    newer.key == original.key && newer.record.user.version != 1
      && !createdAndUpdated.contains(newer.record.id)
  }

  /// The log's users that replaced no snapshot user, given those that did.
  consuming func remaining(after replaced: [UserID]) -> [DirectoryEntry] {
    // Most often every user the log holds replaced one (a log of updates). (A user replaced
    // twice could make the counts match with one left over, but only in a snapshot that
    // holds that user twice, which indexing the snapshot's users refuses.)
    if replaced.count == latest.count { return [] }
    for id in replaced { latest.remove(key: id) }
    return Array(latest.entries)
  }
}

/// What opening did replacing snapshot users with the log's later versions of them (see
/// ``LogUsers``).
struct Replacements {
  /// The users replaced.
  var users: [UserID] = []
  /// How many of the replacing versions hold each policy.
  var holders: [PolicyID: Int] = [:]
  /// The policies the replaced versions held (which must be the snapshot's).
  var replacedPolicies: Set<PolicyID> = []
  /// Whether every replacement was one the log may make (``LogUsers/mayReplace(_:with:)``).
  var allowed = true

  /// Notes that `newer` replaced `original`.
  mutating func note(_ original: DirectoryEntry, replacedBy newer: DirectoryEntry, allowed: Bool) {
    users.append(original.record.id)
    for id in newer.record.user.policies { holders[id, default: 0] += 1 }
    replacedPolicies.formUnion(original.record.user.policies)
    self.allowed = self.allowed && allowed
  }

  /// Adds what another decoding thread noted.
  mutating func add(_ other: Replacements) {
    users += other.users
    holders.merge(other.holders, uniquingKeysWith: +)
    replacedPolicies.formUnion(other.replacedPolicies)
    allowed = allowed && other.allowed
  }
}
