import Testing

@testable import UserManagementKit

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// Opening a file store indexes the snapshot's users and the log's in one bulk load: it must
/// give the state that loading them one by one gives, and refuse what commits never write.
@Suite("DirectoryState bulk loading")
struct DirectoryStateBulkLoadTests {
  private let policies = (0..<3).map { _ in PolicyID(rawValue: UUID()) }

  private func record(
    _ number: Int, id: UserID = UserID(rawValue: UUID()), version: UInt64 = 1,
    admin: Bool = false, username: String? = nil
  ) -> UserRecord {
    let name = username ?? "user\(number)@example.com"
    let user = User(
      id: id, username: Username(stored: name), firstName: "First \(version)",
      lastName: "\(number)", status: number % 5 == 0 ? .inactive : .active,
      role: admin ? .admin : .generalUser,
      policies: number % 3 == 0
        ? []
        : [policies[number % 3], policies[(number + Int(version)) % 3]]
          .reduce(into: Set<PolicyID>()) { $0.insert($1) },
      apiAccessEnabled: false, hasAPIPassword: false, hasPassword: false,
      mustChangePassword: false, version: version, securityStamp: SecurityStamp(rawValue: "s"),
      createdAt: Date(timeIntervalSinceReferenceDate: 0),
      updatedAt: Date(timeIntervalSinceReferenceDate: Double(version)), createdBy: .system("t"))
    return UserRecord(user: user, passwordHash: nil, apiPasswordHash: nil)
  }

  /// The snapshot's users sorted by key in frames of 256, as a snapshot holds them.
  private func frames(_ records: [UserRecord]) -> [[OrderedEntries.Element]] {
    let sorted = records.map { OrderedEntries.Element(DirectoryEntry($0)) }
      .sorted { $0.entry.key < $1.entry.key }
    return stride(from: 0, to: sorted.count, by: 256).map {
      Array(sorted[$0..<min($0 + 256, sorted.count)])
    }
  }

  private func listing(_ state: DirectoryState) -> [String] {
    var keys: [String] = []
    state.ordered.forEachAscending(after: nil) { entry in
      keys.append(entry.key + "#\(entry.record.user.version)")
      return true
    }
    return keys
  }

  private func expectSame(_ bulk: DirectoryState, _ oneByOne: DirectoryState) {
    #expect(listing(bulk) == listing(oneByOne))
    #expect(bulk.byID.count == oneByOne.byID.count)
    #expect(bulk.byUsername.count == oneByOne.byUsername.count)
    for entry in oneByOne.byID.entries {
      #expect(bulk.byID[entry.record.id]?.record == entry.record)
      #expect(bulk.byUsername[entry.key]?.record == entry.record)
    }
    #expect(bulk.activeAdministrators == oneByOne.activeAdministrators)
    #expect(
      bulk.policyHolders.filter { $0.value != 0 } == oneByOne.policyHolders.filter { $0.value != 0 }
    )
  }

  /// New users in scrambled order, updates of the snapshot's users, and users created and
  /// then updated within the log; small (the indexes built on one thread) and large (on two,
  /// from 20,000 users).
  @Test(arguments: [300, 30_000])
  func aSnapshotAndItsLogLoadAsOneByOne(count: Int) {
    let snapshotUsers = (0..<count).map { record($0 * 2, admin: $0 % 97 == 0) }
    var log: [UserRecord] = []
    // New users, scrambled (the odd numbers, interleaving with the snapshot's keys).
    for step in 0..<count / 2 {
      log.append(record((step * 7_919 % count) * 2 + 1, admin: step % 50 == 0))
    }
    // Updates of snapshot users, one of them twice, and of users the log created.
    for index in stride(from: 0, to: count, by: 11) {
      let old = snapshotUsers[index]
      log.append(record(index * 2, id: old.id, version: 2, admin: index % 3 == 0))
    }
    log.append(record(0, id: snapshotUsers[0].id, version: 3))
    for index in stride(from: 0, to: count / 2, by: 13) {
      let created = log[index]
      let number = Int(created.user.lastName) ?? 0
      log.append(record(number, id: created.id, version: 2, admin: true))
    }
    var bulk = DirectoryState()
    let failure = bulk.loadUsers(
      snapshot: frames(snapshotUsers), log: log.map { DirectoryEntry($0) }, logCreations: count / 2,
      snapshotPolicies: Set(policies))
    #expect(failure == nil)
    var oneByOne = DirectoryState()
    for user in snapshotUsers + log { oneByOne.load(user) }
    expectSame(bulk, oneByOne)
  }

  @Test func aLogUserTakingAnotherUsersNameIsRefused() {
    let snapshotUsers = (0..<10).map { record($0) }
    let thief = record(3)  // a new id with user3's username
    var state = DirectoryState()
    let failure = state.loadUsers(
      snapshot: frames(snapshotUsers), log: [record(20), thief].map { DirectoryEntry($0) },
      logCreations: 0,
      snapshotPolicies: Set(policies))
    #expect(failure == .logUser(1))
  }

  @Test func aLogUserWhoseUsernameChangesIsRefused() {
    let snapshotUsers = (0..<10).map { record($0) }
    let renamed = record(30, id: snapshotUsers[4].id, version: 2)
    var state = DirectoryState()
    let failure = state.loadUsers(
      snapshot: frames(snapshotUsers), log: [renamed].map { DirectoryEntry($0) }, logCreations: 0,
      snapshotPolicies: Set(policies))
    #expect(failure == .logUser(0))
  }

  /// A commit creates a user at version 1 and never logs version 1 of a user that exists: a
  /// log that creates a user the snapshot holds is refused. A later version of a user nobody
  /// created is what a change set that creates a user and updates it logs (only the last
  /// version of each user): it is a new user, in every index (the ordered index takes the
  /// log's version-1 users as its new ones, so it must insert this one too).
  @Test func aLogThatRecreatesAUserIsRefusedAndOneThatCreatesAtALaterVersionLoads() {
    let snapshotUsers = (0..<600).map { record($0 * 2) }
    let recreated = record(8, id: snapshotUsers[4].id, version: 1)
    var state = DirectoryState()
    #expect(
      state.loadUsers(
        snapshot: frames(snapshotUsers), log: [record(21), recreated].map { DirectoryEntry($0) },
        logCreations: 2, snapshotPolicies: Set(policies)) == .logUser(1))
    // Created and updated in one change set (logged at version 2), then updated again.
    let createdLate = record(31, version: 2)
    let log = [
      record(21), createdLate, record(33, version: 3),
      record(31, id: createdLate.id, version: 3),
    ]
    var loaded = DirectoryState()
    #expect(
      loaded.loadUsers(
        snapshot: frames(snapshotUsers), log: log.map { DirectoryEntry($0) }, logCreations: 1,
        snapshotPolicies: Set(policies)) == nil)
    var oneByOne = DirectoryState()
    for user in snapshotUsers + log { oneByOne.load(user) }
    expectSame(loaded, oneByOne)
    #expect(loaded.byUsername[createdLate.usernameKey]?.record.user.version == 3)
    #expect(listing(loaded).filter { $0.hasPrefix("user31@") } == ["user31@example.com#3"])
    #expect(listing(loaded).filter { $0.hasPrefix("user33@") } == ["user33@example.com#3"])
  }

  /// The ordered index is built in two halves, and the join between them is checked: a
  /// snapshot whose second half starts below the end of the first, each frame in order, is
  /// refused at the frame the second half starts with.
  @Test func theJoinOfTheOrderedIndexsHalvesIsChecked() {
    var snapshot = frames((0..<600).map { record($0 * 2) })
    #expect(snapshot.count == 3)
    // Between the first frame's last two keys: below its end, but above nothing in frame 1.
    let between = snapshot[0][254].entry.key + "0"
    #expect(between > snapshot[0][254].entry.key && between < snapshot[0][255].entry.key)
    snapshot[1][0] = OrderedEntries.Element(DirectoryEntry(record(9_999, username: between)))
    var state = DirectoryState()
    #expect(
      state.loadUsers(snapshot: snapshot, log: [], logCreations: 0, snapshotPolicies: Set(policies))
        == .snapshotFrame(1))
  }

  /// The username index finds each entry by its key, and an entry put over another with the
  /// same key replaces it whole: the index keeps no reference to the old one.
  @Test func theUsernameIndexReplacesEntriesWhole() {
    var index = UsernameIndex()
    weak var first: DirectoryEntry?
    let id = UserID(rawValue: UUID())
    do {
      let original = DirectoryEntry(record(1, id: id))
      first = original
      #expect(index.put(original) == nil)
    }
    #expect(first != nil)
    let update = DirectoryEntry(record(1, id: id, version: 2))
    #expect(index.put(update)?.record.user.version == 1)
    #expect(first == nil)
    #expect(index.count == 1)
    #expect(index["user1@example.com"] === update)
    #expect(index["user2@example.com"] == nil)
    for number in 2..<2_000 { index.put(DirectoryEntry(record(number))) }
    #expect(index.count == 1_999)
    #expect(index["user1999@example.com"]?.record.user.lastName == "1999")
    index.remove(key: "user1@example.com")
    index.remove(key: "nobody@example.com")
    #expect(index["user1@example.com"] == nil)
    #expect(index.count == 1_998)
  }

  @Test func snapshotUsersOutOfOrderOrWithoutTheirPolicyAreRefused() {
    let users = (0..<600).map { record($0) }
    var shuffled = frames(users)
    shuffled[1].swapAt(3, 4)
    var state = DirectoryState()
    #expect(
      state.loadUsers(snapshot: shuffled, log: [], logCreations: 0, snapshotPolicies: Set(policies))
        == .snapshotFrame(1))
    var lacking = DirectoryState()
    #expect(
      lacking.loadUsers(
        snapshot: frames(users), log: [], logCreations: 0, snapshotPolicies: [policies[0]])
        == .missingPolicy)
  }

  /// A snapshot that holds one id under two usernames (in order, so only the id index can
  /// tell) is refused at the frame of the second, on one thread and on two.
  @Test(arguments: [600, 30_000])
  func aSnapshotRepeatingAnIDIsRefused(count: Int) {
    var users = (0..<count).map { record($0) }
    let last = count - 1
    users[last] = record(last, id: users[5].id)
    let snapshot = frames(users)
    // The later of the two in username order is the one found repeated.
    let framesOf = [users[5], users[last]].compactMap { user in
      snapshot.firstIndex { $0.contains { $0.entry.key == user.usernameKey } }
    }
    #expect(framesOf.count == 2)
    var state = DirectoryState()
    #expect(
      state.loadUsers(snapshot: snapshot, log: [], logCreations: 0, snapshotPolicies: Set(policies))
        == .snapshotFrame(framesOf.max() ?? -1))
  }

  /// Records decoded with a shared cache of policy sets read back exactly, however many
  /// distinct sets there are (the cache keeps the first 64).
  @Test func policySetsSharedWhileDecodingReadBackExactly() {
    let many = (0..<12).map { _ in PolicyID(rawValue: UUID()) }
    var records: [UserRecord] = []
    for number in 0..<400 {
      var record = record(number)
      let first = number % many.count
      let second = (number / many.count) % many.count
      record.user.policies = number % 9 == 0 ? [] : [many[first], many[second]]
      records.append(record)
    }
    var writer = ByteWriter()
    for record in records { record.encode(into: &writer) }
    var policySets = PolicySetCache()
    var decoded: [UserRecord] = []
    writer.bytes.withUnsafeBytes { raw in
      var reader = ByteReader(raw)
      while !reader.isAtEnd {
        guard let record = UserRecord(decoding: &reader, policySets: &policySets) else { break }
        decoded.append(record)
      }
    }
    #expect(decoded == records)
  }

  @Test func buildingMergesTheAdditionsInOrder() throws {
    let present = (0..<1_000).map { DirectoryEntry(record($0 * 3)) }.sorted { $0.key < $1.key }
    let frames = stride(from: 0, to: present.count, by: 256).map {
      elements(present[$0..<min($0 + 256, present.count)])
    }
    let added = (0..<700).map { DirectoryEntry(record(($0 * 389 % 700) * 3 + 1)) }
    var ordered = try OrderedEntries.build(ordered: frames, adding: added).get()
    var keys: [String] = []
    ordered.forEachAscending(after: nil) { entry in
      keys.append(entry.key)
      return true
    }
    #expect(keys == (present + added).map(\.key).sorted())
    // The index still answers searches and takes inserts after being built.
    let late = DirectoryEntry(record(2))
    ordered.insert(late)
    var after: [String] = []
    ordered.forEachAscending(after: "user1@example.com") { entry in
      after.append(entry.key)
      return after.count < 3
    }
    #expect(
      after == Array((keys + [late.key]).sorted().drop { $0 <= "user1@example.com" }.prefix(3)))
    var before: [String] = []
    ordered.forEachDescending(before: "user2@example.com") { entry in
      before.append(entry.key)
      return before.count < 2
    }
    #expect(
      before
        == Array(
          (keys + [late.key]).sorted().filter { $0 < "user2@example.com" }.suffix(2).reversed()))
    // Only additions, and nothing at all.
    let alone = try OrderedEntries.build(ordered: [], adding: added).get()
    var aloneKeys: [String] = []
    alone.forEachAscending(after: nil) { entry in
      aloneKeys.append(entry.key)
      return true
    }
    #expect(aloneKeys == added.map(\.key).sorted())
    let empty = try OrderedEntries.build(ordered: [], adding: []).get()
    var none = 0
    empty.forEachAscending(after: nil) { _ in
      none += 1
      return true
    }
    #expect(none == 0)
  }

  /// The keys of an index, in ascending order.
  private func keys(_ ordered: OrderedEntries) -> [String] {
    var keys: [String] = []
    ordered.forEachAscending(after: nil) { entry in
      keys.append(entry.key)
      return true
    }
    return keys
  }

  /// Elements as decoding a snapshot's frame makes them.
  private func elements(_ entries: ArraySlice<DirectoryEntry>) -> [OrderedEntries.Element] {
    entries.map { OrderedEntries.Element($0) }
  }

  @Test func buildingFromUnevenFramesGivesTheSameIndex() throws {
    let present = (0..<1_300).map { DirectoryEntry(record($0 * 3)) }.sorted { $0.key < $1.key }
    // Frames of uneven sizes, some empty, one larger than a chunk, as a damaged or hand-made
    // snapshot could hold.
    var frames: [[OrderedEntries.Element]] = []
    var start = 0
    for size in [256, 0, 100, 256, 0, 0, 300, 256, 132] {
      frames.append(elements(present[start..<start + size]))
      start += size
    }
    #expect(start == present.count)
    let added = (0..<700).map { DirectoryEntry(record(($0 * 389 % 700) * 3 + 1)) }
    // Additions before every present key, after every one and in between.
    let edges = [
      DirectoryEntry(record(0, username: "aaa@example.com")),
      DirectoryEntry(record(0, username: "zzz@example.com")),
    ]
    let expected = (present + added + edges).map(\.key).sorted()
    let built = try OrderedEntries.build(ordered: frames, adding: added + edges).get()
    #expect(keys(built) == expected)
    var grown = built
    let late = DirectoryEntry(record(2))
    grown.insert(late)
    #expect(keys(grown) == (expected + [late.key]).sorted())
    // Few frames, or none.
    #expect(
      keys(try OrderedEntries.build(ordered: Array(frames.prefix(1)), adding: added).get())
        == (Array(present.prefix(256)) + added).map(\.key).sorted())
    #expect(
      keys(try OrderedEntries.build(ordered: [], adding: added).get())
        == added.map(\.key).sorted())
  }

  /// Frames no addition falls within become chunks as they are; changing the index then
  /// leaves the frames it was built from as they were, and splits a full chunk as usual.
  @Test func framesTakenAsChunksStayValues() throws {
    let present = (0..<1_024).map { DirectoryEntry(record($0 * 3)) }.sorted { $0.key < $1.key }
    let frames = stride(from: 0, to: present.count, by: 256).map {
      elements(present[$0..<min($0 + 256, present.count)])
    }
    // Only after the last present key: every frame is taken whole.
    let added = (0..<300).map { DirectoryEntry(record($0, username: "zz\($0)@example.com")) }
    var built = try OrderedEntries.build(ordered: frames, adding: added).get()
    let expected = (present + added).map(\.key).sorted()
    #expect(keys(built) == expected)
    // Inserts into a full chunk (taken from a frame) and a replacement in another.
    let inserted = (0..<40).map { DirectoryEntry(record($0 * 24 + 1)) }
    for entry in inserted { built.insert(entry) }
    built.replace(
      DirectoryEntry(record(0, id: present[5].record.id, version: 2, username: present[5].key)))
    #expect(keys(built) == (expected + inserted.map(\.key)).sorted())
    var versions: [UInt64] = []
    built.forEachAscending(after: nil) { entry in
      if entry.key == present[5].key { versions.append(entry.record.user.version) }
      return true
    }
    #expect(versions == [2])
    // The frames are untouched.
    #expect(frames.flatMap { $0.map(\.entry.key) } == present.map(\.key))
    #expect(frames.allSatisfy { $0.count == 256 })
    #expect(frames[0][5].entry.record.user.version == 1)
  }

  @Test func buildingReportsTheFirstFrameOutOfOrder() {
    let present = (0..<1_024).map { DirectoryEntry(record($0 * 3)) }.sorted { $0.key < $1.key }
    let frames = stride(from: 0, to: present.count, by: 256).map {
      elements(present[$0..<min($0 + 256, present.count)])
    }
    func failure(_ frames: [[OrderedEntries.Element]], adding: [DirectoryEntry] = []) -> Int? {
      if case .failure(let outOfOrder) = OrderedEntries.build(ordered: frames, adding: adding) {
        return outOfOrder.frame
      }
      return nil
    }
    let addition = [DirectoryEntry(record(1))]
    for adding in [[], addition] {
      #expect(failure(frames, adding: adding) == nil)
      // Out of order within a frame.
      var late = frames
      late[3].swapAt(10, 11)
      #expect(failure(late, adding: adding) == 3)
      // Out of order across frames: a frame's first entry repeats the previous one's last.
      var join = frames
      join[2][0] = join[1][255]
      #expect(failure(join, adding: adding) == 2)
      // Out of order in two frames: the first is reported.
      var both = late
      both[0].swapAt(0, 1)
      #expect(failure(both, adding: adding) == 0)
    }
  }

  /// Preparing a thread's allocations runs the body once and gives its result, whatever the
  /// size asked for; what the body allocates is usable and freed as usual.
  @Test(arguments: [0, 1_000, 200_000, 8 << 20])
  func preparedAllocationsRunTheBodyOnce(bytes: Int) {
    var runs = 0
    let strings = Platform.withPreparedAllocations(bytes: bytes) {
      runs += 1
      return (0..<2_000).map { "a string long enough for the heap, number \($0)" }
    }
    #expect(runs == 1)
    #expect(strings.count == 2_000)
    #expect(strings[1_999] == "a string long enough for the heap, number 1999")
  }
}
