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

private func open(_ disk: SimulatedDisk) throws(UserManagementError) -> FileDirectoryStore {
  try disk.openStore()
}

/// Scenarios found by review, each of which lost data or left a store that would not open
/// before it was fixed. A "kill" keeps everything the process wrote (the page cache survives);
/// a "power loss" keeps only what was synced.
@Suite("FileDirectoryStore regressions")
struct FileStoreRegressionTests {
  /// A process killed at any call of the very first open leaves a store the next open repairs.
  @Test func aKillDuringTheFirstOpenLeavesAnOpenableStore() throws {
    let probe = SimulatedDisk()
    _ = try open(probe)
    for cut in 0..<probe.trace.count {
      let disk = SimulatedDisk()
      disk.crash(afterMutations: cut)
      _ = try? open(disk)
      let afterKill = disk.copy()
      #expect(throws: Never.self, "killed after \(cut) calls: \(afterKill.names())") {
        try open(afterKill)
      }
      #expect(throws: Never.self, "power lost after \(cut) calls") {
        try open(disk.afterCrash(.drop))
      }
    }
  }

  /// A change set that creates a user and updates it is logged with the user's last version
  /// only. Opening the store must take that as a new user: for a while it refused the log as
  /// corrupt (a later version of a user it did not hold), and the store would not reopen.
  @Test func aUserCreatedAndUpdatedInOneCommitSurvivesReopening() async throws {
    let disk = SimulatedDisk()
    let store = try open(disk)
    let now = Date(timeIntervalSince1970: 1_700_000_000)
    let created = User(
      id: UserID(rawValue: UUID()), username: try Username("ada@example.com"), firstName: "Ada",
      lastName: "Lovelace", status: .active, role: .admin, policies: [], apiAccessEnabled: false,
      hasAPIPassword: false, hasPassword: false, mustChangePassword: false, version: 1,
      securityStamp: SecurityStamp(rawValue: "stamp"), createdAt: now, updatedAt: now,
      createdBy: .system("test"))
    var updated = created
    updated.firstName = "Augusta"
    updated.version = 2
    try await store.commit(
      ChangeSet(users: [
        UserRecord(user: created, passwordHash: nil, apiPasswordHash: nil),
        UserRecord(user: updated, passwordHash: nil, apiPasswordHash: nil),
      ]))
    store.close()
    let reopened = try open(disk)
    let read = try await reopened.user(id: created.id)
    #expect(read?.user.version == 2)
    #expect(read?.user.firstName == "Augusta")
    #expect(try await reopened.user(usernameKey: "ada@example.com")?.id == created.id)
    let listed = try await reopened.users(matching: UserQuery()).users
    #expect(listed.map(\.id) == [created.id])
    reopened.close()
  }

  /// A compaction killed after its renames but before its directory sync: a process that
  /// adopts that generation and commits must make it durable first, or a power loss would
  /// take the acknowledged commit with the generation.
  @Test func commitsToAnAdoptedGenerationSurviveAPowerLoss() async throws {
    let workload = StoreWorkload(users: 4)
    let probe = SimulatedDisk()
    let probeStore = try open(probe)
    for step in workload.steps.prefix(3) { try await probeStore.commit(step) }
    probe.clearTrace()
    try await probeStore.compact()
    let compactionCalls = probe.trace.count
    for cut in 0..<compactionCalls {
      let disk = SimulatedDisk()
      let first = try open(disk)
      for step in workload.steps.prefix(3) { try await first.commit(step) }
      disk.crash(afterMutations: cut)
      try? await first.compact()
      let afterKill = disk.copy()
      let second = try open(afterKill)
      try await second.commit(workload.steps[3])
      let acknowledged = try await StoreFingerprint(second)
      let afterPowerLoss = try open(afterKill.afterCrash(.drop))
      #expect(
        try await StoreFingerprint(afterPowerLoss) == acknowledged, "compaction cut at \(cut)")
    }
  }

  /// A writer killed between its write and its sync: whoever reads that commit first makes it
  /// durable, so what any process served survives a power loss.
  @Test func aCommitReadBeforeItsSyncIsMadeDurableByTheReader() async throws {
    let workload = StoreWorkload(users: 2)
    let probe = SimulatedDisk()
    let probeStore = try open(probe)
    for step in workload.steps.prefix(3) { try await probeStore.commit(step) }
    let callsBefore = probe.trace.count
    try await probeStore.commit(workload.steps[3])
    #expect(probe.trace.count == callsBefore + 2, "one write and one sync")
    // Kill the writer right after the write of the fourth commit, before its sync.
    let disk = SimulatedDisk()
    disk.crash(afterMutations: callsBefore + 1)
    let writer = try open(disk)
    for step in workload.steps.prefix(4) { try? await writer.commit(step) }
    let afterKill = disk.copy()
    // A new process opens (and a long-lived one would catch up) and sees the fourth commit …
    let reader = try open(afterKill)
    let seen = try await StoreFingerprint(reader)
    #expect(seen.users.count == 3)
    // … which must therefore survive a power loss now.
    let afterPowerLoss = try open(afterKill.afterCrash(.drop))
    #expect(try await StoreFingerprint(afterPowerLoss) == seen)
  }

  /// A process two compactions behind fails midway through catching up (one I/O error at
  /// each call in turn): it must never go on with a view that differs from the files.
  @Test func aFailedCatchUpNeverLeavesAStaleView() async throws {
    let workload = StoreWorkload(users: 6)
    for offset in 0..<40 {
      let disk = SimulatedDisk()
      let writer = try open(disk)
      for step in workload.steps.prefix(2) { try await writer.commit(step) }
      let reader = try open(disk)
      _ = try await reader.userCount(matching: UserFilter())
      try await writer.compact()
      try await writer.commit(workload.steps[2])
      try await writer.compact()
      try await writer.commit(workload.steps[3])
      disk.inject(SimulatedDisk.Fault(atCall: disk.calls + offset, code: EIO))
      _ = try? await reader.userCount(matching: UserFilter())
      disk.inject(nil)
      let truth = try await StoreFingerprint(open(disk.copy()))
      let view: StoreFingerprint
      do {
        view = try await StoreFingerprint(reader)
      } catch let error as UserManagementError {
        // A failed sync stops the reader for good (it must be reopened): also safe.
        #expect(error.code == .storageFailure, "fault at call +\(offset): \(error)")
        continue
      }
      #expect(view == truth, "fault at call +\(offset)")
      try await reader.commit(workload.steps[4])
      #expect(try await StoreFingerprint(open(disk.copy())) == StoreFingerprint(reader))
    }
  }

  /// Zeros that start at a sector boundary inside the last frame, or a sector of zeros inside
  /// it: an append that never fully reached the disk. The store opens without it.
  @Test func zerosFromASectorBoundaryInTheLastFrameAreAnUnfinishedAppend() async throws {
    let workload = StoreWorkload(users: 3)
    let disk = SimulatedDisk()
    let store = try open(disk)
    for step in workload.steps.prefix(2) { try await store.commit(step) }
    let expected = try await StoreFingerprint(store)
    let log = "log-0000000000000001"
    let acknowledged = store.statistics.logBytes
    // One large commit, so that its frame spans several sectors — and, the simulated disk's
    // log chunks being 1 KiB, the end of the chunk it started in.
    try await store.commit(
      ChangeSet(
        users: workload.steps[2...4].flatMap(\.users),
        auditEvents: (0..<20).flatMap { _ in workload.steps[2].auditEvents }))
    let frameEnd = store.statistics.logBytes
    let full = try #require(disk.contents(of: log))
    #expect(frameEnd - acknowledged > 3 * 512)
    #expect(acknowledged / 1024 < frameEnd / 1024, "the frame crosses a chunk boundary")
    var boundaries = 0
    for position in acknowledged..<frameEnd where position % 512 == 0 {
      boundaries += 1
      for hole in [false, true] {
        var bytes = full
        let end = hole ? min(position + 512, frameEnd) : full.count
        bytes.replaceSubrange(position..<end, with: [UInt8](repeating: 0, count: end - position))
        let image = disk.copy()
        image.setContents(of: log, to: bytes)
        let reopened = try open(image)
        #expect(
          try await StoreFingerprint(reopened) == expected, "zeros at \(position), hole \(hole)")
      }
    }
    #expect(boundaries >= 3)
  }

  /// A secret change that arrives with values (only possible by decoding one) keeps none of
  /// them, in memory or on disk, and the store reads its log back.
  @Test func secretValuesNeverReachTheDisk() async throws {
    let disk = SimulatedDisk()
    let store = try open(disk)
    try await store.commit(StoreWorkload(users: 1).steps[0])
    let json = #"{"field":"password","isSecret":true,"oldValue":"hunter2","newValue":"swordfish"}"#
    let change = try JSONDecoder().decode(FieldChange.self, from: Data(json.utf8))
    #expect(change.oldValue == nil)
    #expect(change.newValue == nil)
    let event = AuditEvent(
      id: UUID(), time: Date(), actor: .system("test"),
      target: .policy(PolicyID(rawValue: UUID()), name: "p"), action: .policyUpdated,
      changes: [change])
    try await store.commit(ChangeSet(auditEvents: [event]))
    let bytes = try #require(disk.contents(of: "log-0000000000000001"))
    #expect(!String(decoding: bytes, as: UTF8.self).contains("hunter2"))
    let reopened = try open(disk.copy())
    #expect(try await reopened.auditEvents(matching: AuditQuery()).first?.changes == [change])
  }

  /// A middle frame whose header reads as zeros (a lost sector, or damage) with intact frames
  /// after it is corruption: a torn tail is only ever the last thing in the log.
  @Test func aZeroedHeaderBeforeIntactFramesIsCorruption() async throws {
    let disk = SimulatedDisk()
    let store = try open(disk)
    let workload = StoreWorkload(users: 4)
    for step in workload.steps.prefix(3) { try await store.commit(step) }
    let log = "log-0000000000000001"
    let before = store.statistics.logBytes
    try await store.commit(workload.steps[3])
    try await store.commit(workload.steps[4])
    var bytes = try #require(disk.contents(of: log))
    bytes.replaceSubrange(before..<before + 8, with: [UInt8](repeating: 0, count: 8))
    disk.setContents(of: log, to: bytes)
    let error = #expect(throws: UserManagementError.self) { try open(disk.copy()) }
    #expect(error?.code == .corruptStore)
    #expect(error?.context["offset"] == String(before))
  }

  /// A commit holding a run of NULs as long as a sector could pass for one the disk lost, so
  /// the store refuses it — alone, without stopping.
  @Test func aLongRunOfZerosIsRefused() async throws {
    let disk = SimulatedDisk()
    let store = try open(disk)
    let workload = StoreWorkload(users: 1)
    try await store.commit(workload.steps[0])
    let record = workload.steps[0].users[0]
    let event = AuditEvent(
      id: UUID(), time: Date(), actor: .system(String(repeating: "\0", count: 300)),
      target: .user(record.id, username: record.user.username.rawValue), action: .userUpdated,
      changes: [])
    let error = await #expect(throws: UserManagementError.self) {
      try await store.commit(ChangeSet(auditEvents: [event]))
    }
    #expect(error?.code == .invalidOperation)
    try await store.commit(workload.steps[1])
    #expect(try await StoreFingerprint(open(disk.copy())) == StoreFingerprint(store))
  }

  /// A process that fails to sync what another wrote stops serving reads until reopened (a
  /// second sync would likely report success without the data).
  @Test func aFailedSyncOfAnotherProcessesCommitStopsReads() async throws {
    var poisoned = 0
    for offset in 0..<6 {
      let disk = SimulatedDisk()
      let writer = try open(disk)
      let workload = StoreWorkload(users: 2)
      try await writer.commit(workload.steps[0])
      let reader = try open(disk)
      try await writer.commit(workload.steps[1])
      disk.inject(SimulatedDisk.Fault(atCall: disk.calls + offset, code: EIO))
      var first: UserManagementError?
      do {
        _ = try await reader.policies()
      } catch let error as UserManagementError {
        first = error
      }
      disk.inject(nil)
      guard let failure = first, failure.context["operation"]?.hasPrefix("sync") == true else {
        continue
      }
      poisoned += 1
      await #expect(throws: UserManagementError.self, "fault at +\(offset)") {
        try await reader.policies()
      }
      #expect(try await open(disk).policies().count == 1)
    }
    #expect(poisoned == 1)
  }

  /// Closing ends reads too.
  @Test func aClosedStoreRefusesReads() async throws {
    let store = try open(SimulatedDisk())
    store.close()
    await #expect(throws: UserManagementError.self) {
      try await store.userCount(matching: UserFilter())
    }
  }
}
