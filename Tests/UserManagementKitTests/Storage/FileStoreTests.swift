import Testing
import UserManagementKit
import UserManagementKitTesting

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

@Suite("FileDirectoryStore on the real file system")
struct FileStoreTests {
  @Test func filesAndDirectoryAreOwnerOnly() async throws {
    let temporary = try TemporaryDirectory()
    let store = try FileDirectoryStore(directory: temporary.store)
    for step in StoreWorkload(users: 2).steps.prefix(3) { try await store.commit(step) }
    try await store.compact()
    var info = stat()
    #expect(stat(temporary.store, &info) == 0)
    #expect(info.st_mode & 0o777 == 0o700)
    let names = try FileManager.default.contentsOfDirectory(atPath: temporary.store)
    #expect(
      Set(names.map { $0.split(separator: "-").first.map(String.init) ?? $0 })
        == ["LOCK", "snapshot", "log", "audit"])
    for name in names {
      #expect(stat(temporary.store + "/" + name, &info) == 0)
      #expect(
        info.st_mode & 0o777 == 0o600, "\(name) has mode \(String(info.st_mode & 0o777, radix: 8))")
    }
  }

  @Test func everythingSurvivesReopening() async throws {
    let temporary = try TemporaryDirectory()
    let workload = StoreWorkload(users: 8)
    let expected: StoreFingerprint
    do {
      let store = try FileDirectoryStore(directory: temporary.store)
      for step in workload.steps { try await store.commit(step) }
      expected = try await StoreFingerprint(store)
      store.close()
      await #expect(throws: UserManagementError.self) { try await store.commit(ChangeSet()) }
    }
    let reopened = try FileDirectoryStore(directory: temporary.store)
    #expect(try await StoreFingerprint(reopened) == expected)
    try await reopened.compact()
    let compacted = try FileDirectoryStore(directory: temporary.store)
    #expect(try await StoreFingerprint(compacted) == expected)
  }

  /// Large snapshots load on two threads, a piece at a time; the result must be the same.
  @Test func aLargeStoreSurvivesReopening() async throws {
    let temporary = try TemporaryDirectory()
    let store = try FileDirectoryStore(directory: temporary.store)
    let workload = StoreWorkload(users: 2)
    try await store.commit(workload.steps[0])
    let template = workload.steps[2].users[0]
    for batch in 0..<5 {
      let users = (0..<5_000).map { index in
        let number = batch * 5_000 + index
        let username = (try? Username("bulk\(number)@example.com")) ?? template.user.username
        var user = User(
          id: UserID(rawValue: UUID()), username: username, firstName: "Bulk",
          lastName: "\(number)",
          status: number % 7 == 0 ? .inactive : .active,
          role: number % 1_000 == 0 ? .admin : .generalUser,
          policies: [], apiAccessEnabled: false, hasAPIPassword: false, hasPassword: true,
          mustChangePassword: false, version: 1, securityStamp: template.user.securityStamp,
          createdAt: template.user.createdAt, updatedAt: template.user.updatedAt,
          createdBy: .system("bulk"))
        user.firstName = "Bulk \(batch)"
        return UserRecord(user: user, passwordHash: template.passwordHash, apiPasswordHash: nil)
      }
      try await store.commit(ChangeSet(users: users))
    }
    try await store.compact()
    let expected = try await StoreFingerprint(store)
    #expect(expected.users.count == 25_001)
    let reopened = try FileDirectoryStore(directory: temporary.store)
    #expect(try await StoreFingerprint(reopened) == expected)
    #expect(try await reopened.userCount(matching: UserFilter(status: .inactive)) == 3_572)
    // Read in pieces that end inside frames (the snapshot is about 6 MiB, its frames about
    // 64 KiB), each piece decoded on two threads.
    var options = FileDirectoryStore.Options()
    options.snapshotReadSize = 100_003
    let piecewise = try FileDirectoryStore(directory: temporary.store, options: options)
    #expect(try await StoreFingerprint(piecewise) == expected)
  }

  /// A new store whose log grows for as long as a test commits (it never compacts), holding
  /// the first step of a workload (its administrator), and that workload.
  private func storeThatNeverCompacts() async throws -> (
    TemporaryDirectory, FileDirectoryStore.Options, FileDirectoryStore, StoreWorkload
  ) {
    let temporary = try TemporaryDirectory()
    let options = FileDirectoryStore.Options(minimumCompactionLogSize: 1 << 30)
    let store = try FileDirectoryStore(directory: temporary.store, options: options)
    let workload = StoreWorkload(users: 2)
    try await store.commit(workload.steps[0])
    return (temporary, options, store, workload)
  }

  /// Opening replays a long log — new users in scrambled order, updates of the snapshot's
  /// users and of the log's own — together with the snapshot, on two threads: the result must
  /// be what the store served before closing.
  @Test func aLargeLogReplaysOnOpening() async throws {
    let (temporary, options, store, workload) = try await storeThatNeverCompacts()
    // A policy, which every third user holds: decoding threads share one set among them.
    try await store.commit(workload.steps[1])
    let policies = try await store.policies().map(\.id)
    #expect(policies.count == 1)
    let template = workload.steps[2].users[0]
    func bulkUser(_ number: Int, id: UserID = UserID(rawValue: UUID()), version: UInt64 = 1)
      -> UserRecord
    {
      let username = (try? Username("bulk\(number)@example.com")) ?? template.user.username
      let user = User(
        id: id, username: username, firstName: "Bulk \(version)", lastName: "\(number)",
        status: number % 7 == 0 ? .inactive : .active,
        role: number % 1_000 == 0 ? .admin : .generalUser,
        policies: number % 3 == 0 ? Set(policies) : [], apiAccessEnabled: false,
        hasAPIPassword: false, hasPassword: true,
        mustChangePassword: false, version: version, securityStamp: template.user.securityStamp,
        createdAt: template.user.createdAt, updatedAt: template.user.updatedAt,
        createdBy: .system("bulk"))
      return UserRecord(user: user, passwordHash: template.passwordHash, apiPasswordHash: nil)
    }
    var created: [UserRecord] = []
    for batch in 0..<2 {
      let users = (0..<5_000).map { bulkUser(batch * 5_000 + $0) }
      created += users
      try await store.commit(ChangeSet(users: users))
    }
    try await store.compact()
    // The log: new users whose usernames fall between the snapshot's, scrambled.
    for batch in 0..<3 {
      let users = (0..<5_000).map { index in
        bulkUser(10_000 + (batch * 5_000 + index) * 7_919 % 15_000)
      }
      created += users
      try await store.commit(ChangeSet(users: users))
    }
    // Updates of users of the snapshot and of the log, twice for some.
    for round in 0..<2 {
      let updates = stride(from: round, to: created.count, by: 9).map { index in
        let old = created[index]
        let number = Int(old.user.lastName) ?? 0
        let updated = bulkUser(number, id: old.id, version: old.user.version + 1)
        created[index] = updated
        return updated
      }
      try await store.commit(ChangeSet(users: updates))
    }
    let expected = try await StoreFingerprint(store)
    #expect(expected.users.count == 25_001)
    #expect(store.statistics.logBytes > 1 << 20)
    store.close()
    let reopened = try FileDirectoryStore(directory: temporary.store, options: options)
    // Each snapshot user the log updates was replaced as the snapshot was decoded.
    #expect(reopened.loadPath == .logFirstReplacing)
    #expect(try await StoreFingerprint(reopened) == expected)
    #expect(try await reopened.userCount(matching: UserFilter(status: .inactive)) == 3_572)
    let probe = created[12_345]
    #expect(try await reopened.user(usernameKey: probe.usernameKey) == probe)
    let holder = try #require(created.last { !$0.user.policies.isEmpty })
    #expect(try await reopened.user(usernameKey: holder.usernameKey) == holder)
    #expect(
      try await reopened.userCount(matching: UserFilter(policy: policies[0]))
        == created.count { !$0.user.policies.isEmpty })
  }

  /// A commit group whose checksums match but whose bytes do not decode (what no torn write
  /// leaves) is reported at its own offset, the first of two such groups, in a log decoded on
  /// two threads.
  @Test func anUndecodableCommitGroupIsReportedWhereItIs() async throws {
    let (temporary, options, store, workload) = try await storeThatNeverCompacts()
    let template = workload.steps[2].users[0]
    for batch in 0..<10 {
      let users = (0..<1_000).map { index in
        let username =
          (try? Username("group\(batch)-\(index)@example.com")) ?? template.user.username
        let user = User(
          id: UserID(rawValue: UUID()), username: username, firstName: "Group",
          lastName: "\(index)", status: .active, role: .generalUser, policies: [],
          apiAccessEnabled: false, hasAPIPassword: false, hasPassword: true,
          mustChangePassword: false, version: 1, securityStamp: template.user.securityStamp,
          createdAt: template.user.createdAt, updatedAt: template.user.updatedAt,
          createdBy: .system("group"))
        return UserRecord(user: user, passwordHash: template.passwordHash, apiPasswordHash: nil)
      }
      try await store.commit(ChangeSet(users: users))
    }
    #expect(store.statistics.logBytes > 1 << 20)
    store.close()
    let names = try FileManager.default.contentsOfDirectory(atPath: temporary.store)
    let name = try #require(names.first { $0.hasPrefix("log-") && !$0.hasSuffix(".tmp") })
    let path = temporary.store + "/" + name
    let sound = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    // The frames: after the 16-byte file header, a 4-byte length, its checksum, the payload
    // and the payload's checksum, up to the preallocated zeros.
    var frames: [(offset: Int, length: Int)] = []
    var offset = 16
    while offset + 8 <= sound.count {
      let length = sound[offset..<offset + 4].reversed().reduce(0) { $0 << 8 | Int($1) }
      guard length > 0 else { break }
      frames.append((offset, length))
      offset += 12 + length
    }
    // The log's header frame and eleven commits.
    #expect(frames.count == 12)
    var damaged = sound
    for frame in [frames[4], frames[7]] {
      // The commit tag and a count of one are kept; the rest is a varint that never ends.
      let payload = frame.offset + 8
      for index in payload + 2..<payload + frame.length { damaged[index] = 0xFF }
      let checksum = bitwiseCRC32C(damaged[payload..<payload + frame.length])
      damaged.replaceSubrange(
        payload + frame.length..<payload + frame.length + 4,
        with: withUnsafeBytes(of: checksum.littleEndian, Array.init))
    }
    try Data(damaged).write(to: URL(fileURLWithPath: path))
    let error = #expect(throws: UserManagementError.self) {
      try FileDirectoryStore(directory: temporary.store, options: options)
    }
    #expect(error?.code == .corruptStore)
    #expect(error?.context["file"] == name)
    #expect(error?.context["offset"] == String(frames[4].offset))
  }

  @Test func aDirectoryThatCannotBeCreatedIsATypedError() throws {
    let temporary = try TemporaryDirectory()
    let error = #expect(throws: UserManagementError.self) {
      try FileDirectoryStore(directory: temporary.path + "/missing/parent/store")
    }
    #expect(error?.code == .storageFailure)
    #expect(error?.context["operation"] == "mkdir")
  }

  /// Group commit: many concurrent commits to one store all land, each checked against the
  /// ones before it.
  @Test(.tags(.concurrency)) func concurrentCommitsShareWrites() async throws {
    let temporary = try TemporaryDirectory()
    let store = try FileDirectoryStore(directory: temporary.store)
    let workload = StoreWorkload(users: 64)
    try await store.commit(workload.steps[0])
    try await store.commit(workload.steps[1])
    let inserts = Array(workload.steps[2..<66])
    try await withThrowingTaskGroup(of: Void.self) { group in
      for step in inserts { group.addTask { try await store.commit(step) } }
      try await group.waitForAll()
    }
    #expect(try await store.userCount(matching: UserFilter()) == 65)
    #expect(store.statistics.sequence == 66)
    let reopened = try FileDirectoryStore(directory: temporary.store)
    #expect(try await StoreFingerprint(reopened) == StoreFingerprint(store))
  }

  /// Commits share the log's 4 KiB blocks, and on Linux each is written as the whole blocks it
  /// touches, the bytes before it included (direct I/O). Two stores of one directory take
  /// turns, so that one store's commit lands in a block whose earlier bytes the other wrote:
  /// rewriting them from a stale copy would lose the other's commits, which reopening shows.
  @Test func storesTakingTurnsInOneLogBlockLoseNothing() async throws {
    let temporary = try TemporaryDirectory()
    let first = try FileDirectoryStore(directory: temporary.store)
    let second = try FileDirectoryStore(directory: temporary.store)
    let directBefore = PosixFileSystem.directWrites.withLock { $0 }
    var expected: [UUID] = []
    for index in 0..<150 {
      // Mostly alternating, with runs of two, so that a store also writes right after itself.
      let store = index % 3 == 1 ? second : first
      let event = AuditEvent(
        id: UUID(), time: Date(timeIntervalSinceReferenceDate: 800_000_000 + Double(index)),
        actor: .system("turns"), target: .policy(PolicyID(rawValue: UUID()), name: "p\(index)"),
        action: .policyUpdated, changes: [])
      try await store.commit(ChangeSet(auditEvents: [event]))
      expected.append(event.id)
    }
    let logBytes = first.statistics.logBytes
    #expect(logBytes > 2 * 4096, "the commits span several blocks")
    #if os(Linux)
      // The direct path must be the one tested (this machine's file systems take it).
      #expect(PosixFileSystem.directWrites.withLock { $0 } >= directBefore + 100)
    #endif
    let reopened = try FileDirectoryStore(directory: temporary.store)
    let events = try await reopened.auditEvents(matching: AuditQuery(limit: 1_000))
    #expect(Set(events.map(\.id)) == Set(expected))
    #expect(try await StoreFingerprint(reopened) == StoreFingerprint(first))
    #expect(try await StoreFingerprint(reopened) == StoreFingerprint(second))
  }
}
