import Testing

@testable import UserManagementKit

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// Opening reads the log first and, if the log updates users, puts the log's last version of
/// each snapshot user it holds in place of the snapshot's as soon as that is decoded. The
/// state must be the one the store served, and a log that contradicts its snapshot or itself
/// must still be refused, where the plain reading (the snapshot, then the log) says.
@Suite("FileDirectoryStore opening, log first")
struct FileStoreLogFirstTests {
  private let options = FileDirectoryStore.Options(minimumCompactionLogSize: 1 << 30)

  /// A user of these tests: `number` names it (number 0 is an administrator, as a store
  /// needs one), `version` shows in its first name.
  private func user(
    _ number: Int, id: UserID = UserID(rawValue: UUID()), version: UInt64 = 1,
    username: String? = nil, policies: Set<PolicyID> = []
  ) throws -> UserRecord {
    let user = User(
      id: id, username: try Username(username ?? "member\(number)@example.com"),
      firstName: "Version \(version)", lastName: "\(number)", status: .active,
      role: number == 0 ? .admin : .generalUser, policies: policies, apiAccessEnabled: false,
      hasAPIPassword: false,
      hasPassword: false, mustChangePassword: false, version: version,
      securityStamp: SecurityStamp(rawValue: "stamp"),
      createdAt: Date(timeIntervalSinceReferenceDate: 0),
      updatedAt: Date(timeIntervalSinceReferenceDate: Double(version)),
      createdBy: .system("test"))
    return UserRecord(user: user, passwordHash: nil, apiPasswordHash: nil)
  }

  /// A store whose snapshot holds `count` users and whose log is empty, still open.
  private func compactedStore(_ count: Int) async throws -> (
    TemporaryDirectory, FileDirectoryStore, [UserRecord]
  ) {
    let temporary = try TemporaryDirectory()
    let store = try FileDirectoryStore(directory: temporary.store, options: options)
    let users = try (0..<count).map { try user($0) }
    try await store.commit(ChangeSet(users: users))
    try await store.compact()
    return (temporary, store, users)
  }

  /// The name of the store's log.
  private func logName(_ directory: String) throws -> String {
    let names = try FileManager.default.contentsOfDirectory(atPath: directory)
    return try #require(names.first { $0.hasPrefix("log-") && !$0.hasSuffix(".tmp") })
  }

  /// Writes `groups` into a closed store's log after its last commit, each a commit group of
  /// one commit (numbered on from `sequence`) holding the group's users, as a writer would.
  ///
  /// - Returns: The file offset of each group's frame.
  private func append(_ groups: [[UserRecord]], toLogOf directory: String, after sequence: UInt64)
    throws -> [Int]
  {
    try append(
      groups.enumerated().map { number, users in
        var record = CommitRecord(sequence: sequence + UInt64(number) + 1)
        record.users = users
        var writer = ByteWriter()
        record.encode(into: &writer)
        return writer.bytes
      }, toLogOf: directory)
  }

  /// Writes each of `commits` (an encoded commit record) into a closed store's log after its
  /// last commit, each in a commit group of its own, as a writer would.
  ///
  /// - Returns: The file offset of each group's frame.
  private func append(_ commits: [[UInt8]], toLogOf directory: String) throws -> [Int] {
    let path = directory + "/" + (try logName(directory))
    var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    // The frames after the 16-byte file header: a 4-byte length, its checksum, the payload
    // and the payload's checksum, up to the preallocated zeros.
    var end = 16
    while end + 8 <= bytes.count {
      let length = bytes[end..<end + 4].reversed().reduce(0) { $0 << 8 | Int($1) }
      guard length > 0 else { break }
      end += 12 + length
    }
    var offsets: [Int] = []
    for commit in commits {
      var frame: [UInt8] = []
      StoreFormat.appendFrame(to: &frame) { writer in
        writer.byte(StoreFormat.Tag.commit.rawValue)
        writer.varint(1)
        writer.bytes.append(contentsOf: commit)
      }
      #expect(end + frame.count <= bytes.count, "the log's preallocated zeros hold the commits")
      bytes.replaceSubrange(end..<end + frame.count, with: frame)
      offsets.append(end)
      end += frame.count
    }
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return offsets
  }

  /// A log of updates (of snapshot users, some twice), new users, new users updated, and a
  /// policy the log creates, held by updated users: each updated snapshot user is replaced as
  /// it is decoded, and the store opens as it was.
  @Test func aLogOfUpdatesReplacesTheSnapshotsUsers() async throws {
    let (temporary, store, snapshotUsers) = try await compactedStore(600)
    let policy = Policy(
      id: PolicyID(rawValue: UUID()), name: "Made in the log", description: "",
      permissions: [], version: 1, createdAt: Date(timeIntervalSinceReferenceDate: 0),
      updatedAt: Date(timeIntervalSinceReferenceDate: 0))
    try await store.commit(ChangeSet(policies: [.put(policy)]))
    // A third of the snapshot's users updated, and a sixth of them twice; some of them left
    // holding the log's policy, which the snapshot lacks.
    var current = snapshotUsers
    for round in 1...2 {
      let updates = try stride(from: 1, to: current.count, by: 3 * round).map {
        let old = current[$0]
        current[$0] = try user(
          $0, id: old.id, version: old.user.version + 1,
          policies: $0 % (2 * round) == 1 ? [policy.id] : [])
        return current[$0]
      }
      try await store.commit(ChangeSet(users: updates))
    }
    let created = try (1_000..<1_100).map { try user($0) }
    try await store.commit(ChangeSet(users: created))
    let updatedNew = try created.prefix(10).map {
      try user(Int($0.user.lastName) ?? 0, id: $0.id, version: 2, policies: [policy.id])
    }
    try await store.commit(ChangeSet(users: updatedNew))
    let expected = try await StoreFingerprint(store)
    store.close()
    let reopened = try FileDirectoryStore(directory: temporary.store, options: options)
    #expect(reopened.loadPath == .logFirstReplacing)
    #expect(try await StoreFingerprint(reopened) == expected)
    #expect(
      try await reopened.userCount(matching: UserFilter(policy: policy.id))
        == current.count { $0.user.policies.contains(policy.id) } + 10)
  }

  /// A log of new users only replaces nothing: it is read first, then indexed with the
  /// snapshot's users as the plain reading indexes them.
  @Test func aLogOfNewUsersIsReadFirstAndReplacesNothing() async throws {
    let (temporary, store, _) = try await compactedStore(300)
    try await store.commit(ChangeSet(users: try (1_000..<1_300).map { try user($0) }))
    let expected = try await StoreFingerprint(store)
    store.close()
    let reopened = try FileDirectoryStore(directory: temporary.store, options: options)
    #expect(reopened.loadPath == .logFirst)
    #expect(try await StoreFingerprint(reopened) == expected)
  }

  /// A store that catches up with another's compaction reads the new generation the same
  /// way: the updates in its log replace the snapshot's users.
  @Test func catchingUpWithACompactionReplacesTheSnapshotsUsers() async throws {
    let (temporary, writer, snapshotUsers) = try await compactedStore(300)
    let reader = try FileDirectoryStore(directory: temporary.store, options: options)
    #expect(reader.loadPath == .logFirst)
    var current = snapshotUsers
    func update(_ indices: StrideTo<Int>) throws -> [UserRecord] {
      try indices.map {
        current[$0] = try user($0, id: current[$0].id, version: current[$0].user.version + 1)
        return current[$0]
      }
    }
    try await writer.commit(ChangeSet(users: try update(stride(from: 1, to: 300, by: 2))))
    try await writer.compact()
    try await writer.commit(ChangeSet(users: try update(stride(from: 1, to: 300, by: 4))))
    let expected = try await StoreFingerprint(writer)
    #expect(try await StoreFingerprint(reader) == expected)
    #expect(reader.loadPath == .logFirstReplacing)
    writer.close()
    reader.close()
  }

  /// A generation whose log a compaction never wrote: the snapshot is checked, a new log is
  /// made, and the store opens as it was.
  @Test func aMissingLogIsMadeAfterTheSnapshotIsChecked() async throws {
    let (temporary, store, _) = try await compactedStore(300)
    let expected = try await StoreFingerprint(store)
    store.close()
    let name = try logName(temporary.store)
    try FileManager.default.removeItem(atPath: temporary.store + "/" + name)
    let reopened = try FileDirectoryStore(directory: temporary.store, options: options)
    #expect(try await StoreFingerprint(reopened) == expected)
    #expect(try logName(temporary.store) == name)
  }

  /// A snapshot's header frame larger than the first read (many sealed audit segments) is
  /// read whole, so such a store reads its log first too.
  @Test func aLargeSnapshotHeaderIsReadWhole() throws {
    let temporary = try TemporaryDirectory()
    try FileManager.default.createDirectory(
      atPath: temporary.store, withIntermediateDirectories: true)
    let files = StoreFiles(fileSystem: PosixFileSystem(), directory: temporary.store)
    let manifest = StoreFiles.Manifest(
      generation: 3, sequence: 40,
      auditSegments: (1...30_000).map { (UInt64($0), UInt64(1_000_000 + $0)) },
      nextAuditSegment: 30_001)
    try Data(StoreFiles.encodeSnapshot(DirectoryState(), manifest: manifest))
      .write(to: URL(fileURLWithPath: temporary.store + "/" + StoreFormat.snapshotName(3)))
    #expect(files.readManifest(3) == manifest)
    #expect(files.readManifest(4) == nil)
  }

  /// Logs no commit writes, each with an update (so that opening replaces snapshot users),
  /// and the group at which the plain reading refuses it.
  enum Contradiction: String, CaseIterable {
    /// A snapshot user created again, at version 1.
    case recreatesASnapshotUser
    /// A snapshot user updated under another username.
    case renamesASnapshotUser
    /// A snapshot user created again, then updated.
    case recreatesAndUpdatesASnapshotUser
    /// A new user under a snapshot user's username.
    case takesASnapshotUsersName
    /// A new user, updated, then created again.
    case recreatesALogUser
    /// A new user created twice, then updated.
    case createsALogUserTwice
    /// A new user logged at version 2 (created and updated at once), then created.
    case createsALogUserAfterItsUpdate
    /// A new user logged at version 2, then at version 3 under another username.
    case renamesALogUser
    /// A new user created, then updated under another username.
    case renamesALogUserItCreated
  }

  @Test(arguments: Contradiction.allCases)
  func aLogThatContradictsItsSnapshotOrItselfIsRefused(_ contradiction: Contradiction)
    async throws
  {
    let (temporary, store, snapshotUsers) = try await compactedStore(300)
    let sequence = store.statistics.sequence
    store.close()
    let (kept, other) = (snapshotUsers[7], snapshotUsers[8])
    let update = try user(8, id: other.id, version: 2)
    let groups: [[UserRecord]]
    let refusedGroup: Int
    switch contradiction {
    case .recreatesASnapshotUser:
      groups = [[update], [try user(7, id: kept.id)]]
      refusedGroup = 1
    case .renamesASnapshotUser:
      // A name that sorts where the old one did: the snapshot's order cannot give it away.
      groups = [[update], [try user(7, id: kept.id, version: 2, username: "member7@example.org")]]
      refusedGroup = 1
    case .recreatesAndUpdatesASnapshotUser:
      groups = [[update], [try user(7, id: kept.id)], [try user(7, id: kept.id, version: 2)]]
      refusedGroup = 1
    case .takesASnapshotUsersName:
      groups = [[update], [try user(7)]]
      refusedGroup = 1
    case .recreatesALogUser:
      let id = UserID(rawValue: UUID())
      groups = [
        [update], [try user(5_000, id: id)], [try user(5_000, id: id, version: 2)],
        [try user(5_000, id: id)],
      ]
      refusedGroup = 3
    case .createsALogUserTwice:
      let id = UserID(rawValue: UUID())
      groups = [
        [update], [try user(5_000, id: id)], [try user(5_000, id: id)],
        [try user(5_000, id: id, version: 2)],
      ]
      refusedGroup = 2
    case .createsALogUserAfterItsUpdate:
      let id = UserID(rawValue: UUID())
      groups = [[update], [try user(5_000, id: id, version: 2)], [try user(5_000, id: id)]]
      refusedGroup = 2
    case .renamesALogUser:
      let id = UserID(rawValue: UUID())
      groups = [
        [update], [try user(5_000, id: id, version: 2)],
        [try user(5_000, id: id, version: 3, username: "renamed@example.com")],
      ]
      refusedGroup = 2
    case .renamesALogUserItCreated:
      let id = UserID(rawValue: UUID())
      groups = [
        [update], [try user(5_000, id: id)],
        [try user(5_000, id: id, version: 2, username: "renamed@example.com")],
      ]
      refusedGroup = 2
    }
    let offsets = try append(groups, toLogOf: temporary.store, after: sequence)
    let error = #expect(throws: UserManagementError.self) {
      try FileDirectoryStore(directory: temporary.store, options: options)
    }
    #expect(error?.code == .corruptStore)
    #expect(error?.context["file"] == (try logName(temporary.store)))
    #expect(error?.context["offset"] == String(offsets[refusedGroup]))
  }

  /// The log's audit events are kept in their bytes while the store opens: they must still be
  /// checked as decoding checks them. Two commits, each updating a user with its event: sound,
  /// the store opens and serves both events; with the second event's actor tag damaged inside
  /// a frame whose checksums hold, opening is refused at that frame.
  @Test(arguments: [false, true])
  func theLogsAuditEventsAreCheckedAsTheyAreKept(damaged: Bool) async throws {
    let (temporary, store, snapshotUsers) = try await compactedStore(20)
    let sequence = store.statistics.sequence
    store.close()
    var commits: [[UInt8]] = []
    var events: [AuditEvent] = []
    for (number, index) in [3, 4].enumerated() {
      let update = try user(index, id: snapshotUsers[index].id, version: 2)
      let event = AuditEvent(
        id: UUID(), time: Date(timeIntervalSinceReferenceDate: 1_000 + Double(number)),
        actor: .system("test"), target: .user(update.id, username: update.user.username.rawValue),
        action: .userUpdated,
        changes: [FieldChange(field: "firstName", oldValue: "Version 1", newValue: "Version 2")])
      var record = CommitRecord(sequence: sequence + UInt64(number) + 1)
      record.users = [update]
      record.auditEvents = [event]
      var writer = ByteWriter()
      record.encode(into: &writer)
      var eventBytes = ByteWriter()
      event.encode(into: &eventBytes)
      // The event is the record's last bytes; its actor tag follows its id and time.
      let actorTag = writer.bytes.count - eventBytes.bytes.count + 16 + 8
      #expect(writer.bytes[actorTag] == 1)
      if damaged && number == 1 { writer.bytes[actorTag] = 7 }
      commits.append(writer.bytes)
      events.append(event)
    }
    let offsets = try append(commits, toLogOf: temporary.store)
    guard damaged else {
      let reopened = try FileDirectoryStore(directory: temporary.store, options: options)
      defer { reopened.close() }
      #expect(reopened.loadPath == .logFirstReplacing)
      let served = try await reopened.auditEvents(matching: AuditQuery(limit: 10))
      #expect(Set(served) == Set(events))
      return
    }
    let error = #expect(throws: UserManagementError.self) {
      try FileDirectoryStore(directory: temporary.store, options: options)
    }
    #expect(error?.code == .corruptStore)
    #expect(error?.context["file"] == (try logName(temporary.store)))
    #expect(error?.context["offset"] == String(offsets[1]))
  }

  /// A snapshot user holding a policy the snapshot lacks is refused even when the log updates
  /// it to hold none: the version the log replaces is checked too.
  @Test func aReplacedSnapshotUserMustHoldOnlyTheSnapshotsPolicies() async throws {
    let (temporary, store, snapshotUsers) = try await compactedStore(50)
    let sequence = store.statistics.sequence
    let generation = store.statistics.generation
    store.close()
    // The same snapshot, but its user 3 holds a policy the snapshot does not hold.
    let files = StoreFiles(fileSystem: PosixFileSystem(), directory: temporary.store)
    let manifest = try #require(files.readManifest(generation))
    var state = DirectoryState()
    for (number, record) in snapshotUsers.enumerated() {
      var record = record
      if number == 3 { record.user.policies = [PolicyID(rawValue: UUID())] }
      state.load(record)
    }
    let name = StoreFormat.snapshotName(generation)
    try Data(StoreFiles.encodeSnapshot(state, manifest: manifest))
      .write(to: URL(fileURLWithPath: temporary.store + "/" + name))
    _ = try append(
      [[try user(3, id: snapshotUsers[3].id, version: 2)]], toLogOf: temporary.store,
      after: sequence)
    let error = #expect(throws: UserManagementError.self) {
      try FileDirectoryStore(directory: temporary.store, options: options)
    }
    #expect(error?.code == .corruptStore)
    #expect(error?.context["file"] == name)
  }
}
