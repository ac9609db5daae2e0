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

  /// Where loading users in bulk found the files inconsistent.
  enum BulkLoadFailure: Equatable {
    /// A snapshot frame (by index) whose users are out of order or repeat an id or username.
    case snapshotFrame(Int)
    /// A log user (by index) that changes a user's username, or takes another user's.
    case logUser(Int)
    /// A snapshot user holds a policy the snapshot lacks.
    case missingPolicy
  }

  /// Loads the users of a snapshot, given frame by frame in strictly ascending username order,
  /// and then the users of its log in commit order (each the whole record after its commit),
  /// into a state that has none yet. One thread builds the id index and the ordered index
  /// while another builds the username index and the counts; the log's new users are sorted
  /// once and merged into the ordered index in one pass, instead of inserted one by one.
  ///
  /// - Parameters:
  ///   - frames: The snapshot's users, frame by frame.
  ///   - log: The log's users, in the order their commits were made.
  ///   - logCreations: How many of them are new users (version 1): a hint for sizing the
  ///     indexes, which a log of updates would otherwise make twice as large as needed.
  ///   - snapshotPolicies: The policies the snapshot holds (its users may hold no other).
  /// - Returns: `nil`, or what is inconsistent (the state must then be discarded).
  mutating func loadUsers(
    snapshot frames: [[DirectoryEntry]], log: [DirectoryEntry], logCreations: Int,
    snapshotPolicies: Set<PolicyID>
  ) -> BulkLoadFailure? {
    let snapshotCount = frames.reduce(0) { $0 + $1.count }
    // Room for the log's new users and for some growth, so that neither index rehashes
    // while loading or soon after.
    let capacity = snapshotCount + min(log.count, max(0, logCreations)) + snapshotCount / 4 + 64
    // Two halves (at a million users, about 530 and 340 ms): the id index with the ordered
    // index (and the order check), and the username index with the counts.
    let ids = Locked<
      (index: [UserID: DirectoryEntry], ordered: OrderedEntries, bad: BulkLoadFailure?)
    >(
      ([:], OrderedEntries(), nil))
    let names = Locked<
      (
        index: [HashedKey: DirectoryEntry], admins: Int, holders: [PolicyID: Int],
        bad: BulkLoadFailure?
      )
    >(([:], 0, [:], nil))
    let build: @Sendable (Int) -> Void = { part in
      if part == 0 {
        let built = Self.buildIDIndex(frames, log: log, capacity: capacity)
        ids.withLock { $0 = built }
      } else {
        let built = Self.buildUsernameIndex(
          frames, log: log, capacity: capacity, snapshotPolicies: snapshotPolicies)
        names.withLock { $0 = built }
      }
    }
    if snapshotCount + log.count >= 20_000 && Platform.activeProcessorCount > 1 {
      DispatchQueue.concurrentPerform(iterations: 2, execute: build)
    } else {
      build(0)
      build(1)
    }
    let (byID, ordered, badID) = ids.withLock { ($0.index, $0.ordered, $0.bad) }
    let (byUsername, admins, holders, badName) = names.withLock {
      ($0.index, $0.admins, $0.holders, $0.bad)
    }
    if let bad = Self.first(badID, badName) { return bad }
    self.byID = byID
    self.byUsername = byUsername
    self.ordered = ordered
    activeAdministrators += admins
    for (id, count) in holders where count != 0 { policyHolders[id, default: 0] += count }
    return nil
  }

  /// The failure to report of two found by the two halves of a bulk load: the snapshot's
  /// first, then the log's, each at its earliest place.
  private static func first(_ a: BulkLoadFailure?, _ b: BulkLoadFailure?) -> BulkLoadFailure? {
    func rank(_ failure: BulkLoadFailure) -> (Int, Int) {
      switch failure {
      case .snapshotFrame(let frame): (0, frame)
      case .missingPolicy: (1, 0)
      case .logUser(let index): (2, index)
      }
    }
    guard let a else { return b }
    guard let b else { return a }
    return rank(a) <= rank(b) ? a : b
  }

  /// Whether an entry's user is an active administrator, read in place (without copying the
  /// user out of the entry).
  private static func isActiveAdmin(_ entry: DirectoryEntry) -> Bool {
    entry.record.user.status == .active && entry.record.user.role == .admin
  }

  /// The id index and the ordered index of a bulk load (see ``loadUsers(snapshot:log:snapshotPolicies:)``).
  private static func buildIDIndex(
    _ frames: [[DirectoryEntry]], log: [DirectoryEntry], capacity: Int
  )
    -> (index: [UserID: DirectoryEntry], ordered: OrderedEntries, bad: BulkLoadFailure?)
  {
    var index = [UserID: DirectoryEntry](minimumCapacity: capacity)
    for (number, frame) in frames.enumerated() {
      for entry in frame where index.updateValue(entry, forKey: entry.record.id) != nil {
        // The first damaged frame is reported: an earlier one may be out of order.
        var first = number
        if case .failure(let outOfOrder) = OrderedEntries.build(
          ordered: Array(frames[...number]), adding: [])
        {
          first = min(first, outOfOrder.frame)
        }
        return (index, OrderedEntries(), .snapshotFrame(first))
      }
    }
    // The log: updates replace their entry (a username never changes); the ids it creates
    // are collected, and their final entries merged into the username order.
    var created: [UserID] = []
    var updated: [UserID] = []
    for (number, entry) in log.enumerated() {
      if let replaced = index.updateValue(entry, forKey: entry.record.id) {
        guard replaced.key == entry.key else {
          return (index, OrderedEntries(), .logUser(number))
        }
        updated.append(entry.record.id)
      } else {
        created.append(entry.record.id)
      }
    }
    var additions: [DirectoryEntry] = []
    additions.reserveCapacity(created.count)
    for id in created {
      if let entry = index[id] { additions.append(entry) }
    }
    // One pass over the snapshot's users (checking their order) and the sorted additions.
    var ordered: OrderedEntries
    switch OrderedEntries.build(ordered: frames, adding: additions) {
    case .success(let built): ordered = built
    case .failure(let outOfOrder):
      return (index, OrderedEntries(), .snapshotFrame(outOfOrder.frame))
    }
    // Updates of users the snapshot holds (for created ones, already final: harmless).
    for id in updated {
      if let entry = index[id] { ordered.replace(entry) }
    }
    return (index, ordered, nil)
  }

  /// The username index and the counts of a bulk load (see ``loadUsers(snapshot:log:snapshotPolicies:)``).
  private static func buildUsernameIndex(
    _ frames: [[DirectoryEntry]], log: [DirectoryEntry], capacity: Int,
    snapshotPolicies: Set<PolicyID>
  ) -> (
    index: [HashedKey: DirectoryEntry], admins: Int, holders: [PolicyID: Int], bad: BulkLoadFailure?
  ) {
    var index = [HashedKey: DirectoryEntry](minimumCapacity: capacity)
    var admins = 0
    var holders: [PolicyID: Int] = [:]
    for (number, frame) in frames.enumerated() {
      for entry in frame {
        if index.updateValue(entry, forKey: HashedKey(entry.key)) != nil {
          return (index, admins, holders, .snapshotFrame(number))
        }
        if isActiveAdmin(entry) { admins += 1 }
        if !entry.record.user.policies.isEmpty {
          for id in entry.record.user.policies { holders[id, default: 0] += 1 }
        }
      }
    }
    // The snapshot's users must hold only its policies: it was written from a valid state.
    for (id, count) in holders where count > 0 && !snapshotPolicies.contains(id) {
      return (index, admins, holders, .missingPolicy)
    }
    for (number, entry) in log.enumerated() {
      if let replaced = index.updateValue(entry, forKey: HashedKey(entry.key)) {
        // Another user's username: the log is not what commits write.
        guard replaced.record.id == entry.record.id else {
          return (index, admins, holders, .logUser(number))
        }
        if isActiveAdmin(replaced) { admins -= 1 }
        for id in replaced.record.user.policies { holders[id, default: 0] -= 1 }
      }
      if isActiveAdmin(entry) { admins += 1 }
      for id in entry.record.user.policies { holders[id, default: 0] += 1 }
    }
    return (index, admins, holders, nil)
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
