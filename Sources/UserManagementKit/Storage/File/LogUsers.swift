/// The users a store's log holds, each at the last version it logged: what opening puts in
/// place of the snapshot's versions of them as the snapshot is decoded
/// (``StoreFiles/readSnapshot(_:replacing:)``), so that no version the log supersedes is kept
/// in memory beside the version that supersedes it.
///
/// Only the log's contradictions that replacing could hide are noted here; whatever else is
/// wrong, the bulk load of the snapshot and the log's remaining users finds. Opening reads a
/// store whose log contradicts itself or its snapshot again the plain way, which says where.
struct LogUsers: Sendable {
  /// The users the log updates (logs at a version above 1) and did not create, each at the
  /// last version the log holds: those that may replace a snapshot user.
  private(set) var updated: IDIndex
  /// The users the log created (at version 1) and did not update: new users.
  private(set) var created: [DirectoryEntry] = []
  /// The users the log created and then updated, at their last version: new users too, but
  /// the snapshot may not hold them.
  private var createdAndUpdated: Set<UserID> = []
  /// Whether the log contradicts itself: a user logged at version 1 twice or after another
  /// version of it, or logged under two usernames.
  private(set) var contradictsItself = false

  /// Takes the users out of `records` (their ``CommitRecord/entries``), in commit order.
  init(takingUsersOf records: inout [CommitRecord]) {
    updated = IDIndex()
    var creations: [DirectoryEntry] = []
    for index in records.indices {
      for entry in records[index].entries {
        if entry.record.user.version == 1 {
          // A user is created before any other version of it is logged.
          if updated[entry.record.id] != nil { contradictsItself = true }
          creations.append(entry)
        } else if let previous = updated.put(entry), previous.key != entry.key {
          contradictsItself = true
        }
      }
      records[index].entries = []
    }
    // The users created and then updated: the update is their last version. A log of new
    // users and a few updates looks each new user up in a small table.
    created.reserveCapacity(creations.count)
    for entry in creations {
      guard let later = updated[entry.record.id] else {
        created.append(entry)
        continue
      }
      if later.key != entry.key || !createdAndUpdated.insert(entry.record.id).inserted {
        contradictsItself = true
      }
    }
  }

  /// Whether `newer`, the log's last version of `original`, a snapshot user, may replace it:
  /// it has the same username, and the log did not create the user (it exists already).
  func mayReplace(_ original: DirectoryEntry, with newer: DirectoryEntry) -> Bool {
    newer.key == original.key && !createdAndUpdated.contains(newer.record.id)
  }

  /// The log's users that replaced no snapshot user, given those that did: the users it
  /// created, then the others it updated.
  consuming func remaining(after replaced: [UserID]) -> [DirectoryEntry] {
    // Most often every user the log updates replaced one. (A user replaced twice could make
    // the counts match with one left over, but only in a snapshot that holds that user twice,
    // which indexing the snapshot's users refuses.)
    guard replaced.count < updated.count else { return created }
    for id in replaced { updated.remove(key: id) }
    return created + updated.entries
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
