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
    let entry = DirectoryEntry(record)
    if let previous = byID.put(entry) {
      if previous.record.user.isActiveAdmin { activeAdministrators -= 1 }
      for id in previous.record.user.policies { policyHolders[id, default: 0] -= 1 }
      ordered.replace(entry)
    } else {
      ordered.insert(entry)
    }
    byUsername.put(entry)
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
  /// and then the users of its log in an order in which each user's versions come in the
  /// order they were committed (each the whole record after its commit), into a state that
  /// has none yet. One thread builds the id index while another builds the
  /// username index, the counts and the ordered index: the snapshot's frames become its
  /// chunks, and the log's new users are sorted once and merged in, instead of inserted one
  /// by one.
  ///
  /// A commit creates a user at version 1 and never logs version 1 of a user that exists
  /// (a change set that creates a user and updates it logs only its last version), so the
  /// ordered index takes the log's version-1 users as its additions without waiting for the
  /// id index, and inserts any other that has nothing to replace; the id index refuses a log
  /// whose version-1 user already exists.
  ///
  /// - Parameters:
  ///   - frames: The snapshot's users, frame by frame.
  ///   - log: The log's users, each user's versions in the order they were committed (the
  ///     plain reading gives them all in commit order; reading the log first gives its new
  ///     users, then the last version of each user it updates that replaced no snapshot user).
  ///   - logCreations: How many of them are new users (version 1): a hint for sizing the
  ///     indexes, which a log of updates would otherwise make twice as large as needed.
  ///   - snapshotPolicies: The policies the snapshot holds (its users may hold no other).
  ///   - replacedHolders: If the log's later versions of some snapshot users stand in the
  ///     frames in their place (``StoreFiles/readSnapshot(_:replacing:)``), how many of those
  ///     hold each policy: they may hold the log's policies, and are not counted in the check
  ///     of the snapshot's users.
  /// - Returns: `nil`, or what is inconsistent (the state must then be discarded).
  mutating func loadUsers(
    snapshot frames: [[OrderedEntries.Element]], log: [DirectoryEntry], logCreations: Int,
    snapshotPolicies: Set<PolicyID>, replacedHolders: [PolicyID: Int] = [:]
  ) -> BulkLoadFailure? {
    let snapshotCount = frames.reduce(0) { $0 + $1.count }
    // Room for the log's new users and for some growth, so that neither index rehashes
    // while loading or soon after.
    let capacity = snapshotCount + min(log.count, max(0, logCreations)) + snapshotCount / 4 + 64
    // Four jobs on two threads (at a million users, about 115, 175, 55 and 55 ms): the id
    // index; the username index with the counts; the ordered index in two halves.
    let ids = Locked<(index: IDIndex, bad: BulkLoadFailure?)>((IDIndex(), nil))
    let names = Locked<
      (index: UsernameIndex, admins: Int, holders: [PolicyID: Int], bad: BulkLoadFailure?)
    >((UsernameIndex(), 0, [:], nil))
    // A commit creates a user at version 1 (the id index checks the log agrees).
    let ordering = OrderedEntries.buildInHalves(ordered: frames, log: log) {
      $0.record.user.version == 1
    }
    let jobs: [@Sendable () -> Void] =
      [
        {
          let built = Self.buildIDIndex(frames, log: log, capacity: capacity)
          ids.withLock { $0 = built }
        },
        {
          let built = Self.buildUsernameIndex(
            frames, log: log, capacity: capacity, snapshotPolicies: snapshotPolicies,
            replacedHolders: replacedHolders)
          names.withLock { $0 = built }
        },
      ] + ordering.jobs
    if snapshotCount + log.count >= 20_000 && Platform.activeProcessorCount > 1 {
      DispatchQueue.concurrentPerform(iterations: jobs.count) { jobs[$0]() }
    } else {
      for job in jobs { job() }
    }
    let (byID, badID) = ids.withLock { ($0.index, $0.bad) }
    let (byUsername, admins, holders, badName) = names.withLock {
      ($0.index, $0.admins, $0.holders, $0.bad)
    }
    var ordered = OrderedEntries()
    var badOrder: BulkLoadFailure?
    switch ordering.finish() {
    case .success(let built): ordered = built
    case .failure(let outOfOrder): badOrder = .snapshotFrame(outOfOrder.frame)
    }
    if let bad = Self.first(Self.first(badID, badName), badOrder) { return bad }
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

  /// The first snapshot frame at or before `frame` that is damaged: `frame`, or an earlier
  /// one out of order (which may be why `frame` looks damaged).
  private static func firstDamagedFrame(_ frames: [[OrderedEntries.Element]], upTo frame: Int)
    -> Int
  {
    if case .failure(let outOfOrder) = OrderedEntries.build(
      ordered: Array(frames[...frame]), adding: [])
    {
      return min(frame, outOfOrder.frame)
    }
    return frame
  }

  /// The id index of a bulk load (see
  /// ``loadUsers(snapshot:log:logCreations:snapshotPolicies:replacedHolders:)``), checking
  /// that no id repeats in the snapshot and that the log agrees with it: a version-1 user is
  /// new, and any other is new or replaces a user with the same username.
  private static func buildIDIndex(
    _ frames: [[OrderedEntries.Element]], log: [DirectoryEntry], capacity: Int
  ) -> (index: IDIndex, bad: BulkLoadFailure?) {
    var index = IDIndex(minimumCapacity: capacity)
    for (number, frame) in frames.enumerated() {
      if frame.withUnsafeBufferPointer({ index.putAll($0) }) != nil {
        return (index, .snapshotFrame(firstDamagedFrame(frames, upTo: number)))
      }
    }
    for (number, entry) in log.enumerated() {
      let replaced = index.put(entry)
      // A later version that replaces nothing is sound: a change set that creates a user and
      // updates it is logged with the user's last version only.
      let isNew = entry.record.user.version == 1
      guard isNew ? replaced == nil : replaced == nil || replaced?.key == entry.key else {
        return (index, .logUser(number))
      }
    }
    return (index, nil)
  }

  /// The username index and the counts of a bulk load (see
  /// ``loadUsers(snapshot:log:logCreations:snapshotPolicies:replacedHolders:)``).
  private static func buildUsernameIndex(
    _ frames: [[OrderedEntries.Element]], log: [DirectoryEntry], capacity: Int,
    snapshotPolicies: Set<PolicyID>, replacedHolders: [PolicyID: Int]
  ) -> (index: UsernameIndex, admins: Int, holders: [PolicyID: Int], bad: BulkLoadFailure?) {
    var index = UsernameIndex(minimumCapacity: capacity)
    var admins = 0
    var holders: [PolicyID: Int] = [:]
    for (number, frame) in frames.enumerated() {
      if frame.withUnsafeBufferPointer({ index.putAll($0) }) != nil {
        return (index, admins, holders, .snapshotFrame(firstDamagedFrame(frames, upTo: number)))
      }
      // Counted after the frame is indexed, its entries still in the cache.
      for element in frame {
        let entry = element.entry
        if isActiveAdmin(entry) { admins += 1 }
        if !entry.record.user.policies.isEmpty {
          for id in entry.record.user.policies { holders[id, default: 0] += 1 }
        }
      }
    }
    // The snapshot's users must hold only its policies: it was written from a valid state.
    for (id, count) in holders
    where count - replacedHolders[id, default: 0] > 0 && !snapshotPolicies.contains(id) {
      return (index, admins, holders, .missingPolicy)
    }
    for (number, entry) in log.enumerated() {
      if let replaced = index.put(entry) {
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
