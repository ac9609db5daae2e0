import Dispatch

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// Loading what the file store's snapshot and log hold, without the commit checks.
extension DirectoryState {
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
