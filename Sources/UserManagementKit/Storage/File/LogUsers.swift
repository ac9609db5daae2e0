/// The users a store's log holds, for opening: the users it updates, each at the last version
/// it logged, which opening puts in place of the snapshot's versions of them as the snapshot
/// is decoded (``StoreFiles/readSnapshot(_:replacing:)``), so that no version the log
/// supersedes is kept in memory beside the version that supersedes it; and its new users.
///
/// Only the contradictions that replacing could hide are looked for here. Whatever else is
/// wrong — a user the log creates that the snapshot holds, a username taken twice — the bulk
/// load of the snapshot's users with the log's remaining ones finds, and opening then reads
/// the files again the plain way (the snapshot, then the log), which says where.
struct LogUsers: Sendable {
  /// The users the log logs at a version other than 1, each at the last version the log
  /// holds: those that may replace a snapshot user.
  private(set) var updated: IDIndex
  /// The users the log creates (logs at version 1), in commit order.
  private(set) var created: [DirectoryEntry] = []
  /// Whether the log contradicts itself in a way replacing could hide: a user logged at
  /// version 1 after a later version of it, or two later versions under two usernames.
  private(set) var contradictsItself = false

  /// Takes the users out of `records` (their ``CommitRecord/entries``), in commit order.
  init(takingUsersOf records: inout [CommitRecord]) {
    updated = IDIndex()
    for index in records.indices {
      for entry in records[index].entries {
        if entry.record.user.version == 1 {
          // A user is created before any later version of it is logged. (A log of new users
          // alone never looks one up.)
          if updated.count > 0 && updated[entry.record.id] != nil { contradictsItself = true }
          created.append(entry)
        } else if let previous = updated.put(entry), previous.key != entry.key {
          contradictsItself = true
        }
      }
      records[index].entries = []
    }
  }

  /// Whether the log updates any user (if not, it replaces no snapshot user).
  var updatesUsers: Bool { updated.count > 0 }

  /// Whether `newer`, the log's last version of `original`, a snapshot user, may replace it:
  /// a user's username never changes.
  static func mayReplace(_ original: DirectoryEntry, with newer: DirectoryEntry) -> Bool {
    newer.key == original.key
  }

  /// The log's users for the bulk load, given the snapshot users that were replaced: its new
  /// users, then the users it updates that replaced none (a user created in the log, which
  /// the bulk load puts over its version 1, or created and updated by one change set).
  consuming func remaining(after replaced: [UserID]) -> [DirectoryEntry] {
    // Most often every user the log updates replaced one. (A user replaced twice could make
    // the counts match with one left over, but only in a snapshot that holds that user twice,
    // which the bulk load refuses.)
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
  /// Whether every replacement kept the user's username (``LogUsers/mayReplace(_:with:)``).
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
