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

/// A commit that any state accepts: one audit event.
private func probeChange() -> ChangeSet {
  let event = AuditEvent(
    id: UUID(), time: Date(timeIntervalSinceReferenceDate: 800_000_000), actor: .system("t"),
    target: .policy(PolicyID(rawValue: UUID()), name: "probe"), action: .policyUpdated,
    changes: [])
  return ChangeSet(auditEvents: [event])
}

/// The preallocation chunk of ``SimulatedDisk/storeOptions``.
private let chunk = 1024

/// Format 2's log: preallocated in chunks of zeros and written over in place, its end the
/// first zero frame header; and version-1 stores, migrated on open. (The crash, fault and
/// damage tests of `FileStoreDurabilityTests` run on this format too, with 1 KiB chunks.)
@Suite("FileDirectoryStore log format 2")
struct FileStoreLogFormatTests {
  /// A store of two commits, the bytes of its log, and a third commit's log bytes and state.
  private struct TornSetup {
    var disk: SimulatedDisk
    var before: StoreFingerprint
    var after: StoreFingerprint
    var acknowledged: Int
    var frameEnd: Int
    var full: [UInt8]
  }

  private static let log = "log-0000000000000001"

  private func tornSetup(large: Bool = false) async throws -> TornSetup {
    let workload = StoreWorkload(users: 3)
    let disk = SimulatedDisk()
    let store = try open(disk)
    for step in workload.steps.prefix(2) { try await store.commit(step) }
    let before = try await StoreFingerprint(store)
    let acknowledged = store.statistics.logBytes
    if large {
      try await store.commit(
        ChangeSet(
          users: workload.steps[2...4].flatMap(\.users),
          auditEvents: (0..<20).flatMap { _ in workload.steps[2].auditEvents }))
    } else {
      try await store.commit(workload.steps[2])
    }
    let after = try await StoreFingerprint(store)
    let frameEnd = store.statistics.logBytes
    let full = try #require(disk.contents(of: Self.log))
    return TornSetup(
      disk: disk, before: before, after: after, acknowledged: acknowledged, frameEnd: frameEnd,
      full: full)
  }

  /// Opens `bytes` as the log of `setup`'s disk; checks the state, that the torn bytes were
  /// cleared (all zeros past the end), and that the store accepts a commit that survives a
  /// power loss.
  private func expectOpens(
    _ bytes: [UInt8], _ setup: TornSetup, as expected: StoreFingerprint, _ context: String
  ) async throws {
    let image = setup.disk.copy()
    image.setContents(of: Self.log, to: bytes)
    let reopened: FileDirectoryStore
    do {
      reopened = try open(image)
    } catch {
      Issue.record("\(context): \(error)")
      return
    }
    #expect(try await StoreFingerprint(reopened) == expected, "\(context)")
    let end = reopened.statistics.logBytes
    let cleared = try #require(image.contents(of: Self.log))
    #expect(cleared[end...].allSatisfy { $0 == 0 }, "\(context): the torn bytes remain")
    #expect(cleared.count % chunk == 0, "\(context): \(cleared.count) bytes")
    try await reopened.commit(probeChange())
    let again = try open(image.afterCrash(.drop))
    #expect(try await StoreFingerprint(again) == StoreFingerprint(reopened), "\(context)")
  }

  /// Every prefix of a record written over the preallocated zeros (a write cut short, then a
  /// kill or a power loss): the store opens without the record and clears what there is.
  @Test func aTornRecordInsidePreallocatedZerosIsDropped() async throws {
    let setup = try await tornSetup()
    #expect(setup.frameEnd <= setup.full.count, "the record fits in the chunk")
    for length in 1..<(setup.frameEnd - setup.acknowledged) {
      var bytes = setup.full
      let cut = setup.acknowledged + length
      bytes.replaceSubrange(
        cut..<setup.frameEnd, with: [UInt8](repeating: 0, count: setup.frameEnd - cut))
      // The bytes that were already zero in the record do not make a difference.
      let expected = bytes == setup.full ? setup.after : setup.before
      try await expectOpens(bytes, setup, as: expected, "cut after \(length) bytes")
    }
  }

  /// A record whose tail reached the disk but whose head did not (sectors written out of
  /// order over the zeros): dropped while no intact record follows.
  @Test func aRecordWhoseHeadIsZeroIsDropped() async throws {
    let setup = try await tornSetup(large: true)
    for zeros in [1, 8, 100, 512] where setup.acknowledged + zeros < setup.frameEnd {
      var bytes = setup.full
      bytes.replaceSubrange(
        setup.acknowledged..<setup.acknowledged + zeros,
        with: [UInt8](repeating: 0, count: zeros))
      if bytes == setup.full { continue }
      if zeros < 8 {
        // A header partly zero but not all zero, followed by the rest of the record: the
        // record cannot be told from damage, so it is reported.
        let image = setup.disk.copy()
        image.setContents(of: Self.log, to: bytes)
        let error = #expect(throws: UserManagementError.self) { try open(image) }
        #expect(error?.code == .corruptStore, "\(zeros) zeros")
      } else {
        try await expectOpens(bytes, setup, as: setup.before, "\(zeros) zeros at its head")
      }
    }
  }

  /// A record whose last bytes are zero — from anywhere in its payload, or part of its
  /// checksum — is a write that stopped there: dropped. A record that is complete but for a
  /// flipped byte is still damage.
  @Test func aRecordWhoseTailIsZeroIsDropped() async throws {
    let setup = try await tornSetup()
    for zeros in 1..<(setup.frameEnd - setup.acknowledged - 8) {
      var bytes = setup.full
      bytes.replaceSubrange(
        setup.frameEnd - zeros..<setup.frameEnd, with: [UInt8](repeating: 0, count: zeros))
      let expected = bytes == setup.full ? setup.after : setup.before
      try await expectOpens(bytes, setup, as: expected, "last \(zeros) bytes zero")
    }
    var flipped = setup.full
    flipped[setup.frameEnd - 10] ^= 0x01
    let image = setup.disk.copy()
    image.setContents(of: Self.log, to: flipped)
    let error = #expect(throws: UserManagementError.self) { try open(image) }
    #expect(error?.code == .corruptStore)
    #expect(error?.context["offset"] == String(setup.acknowledged))
  }

  /// A record that crosses the end of the preallocated space: the same write takes the next
  /// chunk of zeros along, so the log stays a whole number of chunks; a crash at each tear
  /// leaves either state; and the next record goes on in place.
  @Test func aRecordAcrossAChunkBoundary() async throws {
    let setup = try await tornSetup(large: true)
    #expect(setup.acknowledged / chunk < setup.frameEnd / chunk, "the record crosses a chunk")
    #expect(setup.full.count % chunk == 0)
    #expect(setup.full.count >= setup.frameEnd)
    #expect(setup.full[setup.frameEnd...].allSatisfy { $0 == 0 })
    // Zeros from each chunk boundary inside the record on (the write stopped there).
    var boundary = (setup.acknowledged / chunk + 1) * chunk
    while boundary < setup.frameEnd {
      var bytes = setup.full
      bytes.replaceSubrange(
        boundary..<bytes.count, with: [UInt8](repeating: 0, count: bytes.count - boundary))
      try await expectOpens(bytes, setup, as: setup.before, "zeros from \(boundary)")
      // And the file as it was before it grew: it ends at the old chunk boundary.
      try await expectOpens(
        Array(setup.full.prefix(boundary)), setup, as: setup.before, "cut at \(boundary)")
      boundary += chunk
    }
  }

  /// The same on the simulated disk's own crash model: a crash during the write that grows
  /// the log, with every kind of tear, leaves the state before or after it.
  @Test func aCrashWhileTheLogGrowsLeavesEitherState() async throws {
    let workload = StoreWorkload(users: 3)
    let large = ChangeSet(
      users: workload.steps[2...4].flatMap(\.users),
      auditEvents: (0..<20).flatMap { _ in workload.steps[2].auditEvents })
    let probe = SimulatedDisk()
    let probeStore = try open(probe)
    for step in workload.steps.prefix(2) { try await probeStore.commit(step) }
    let before = try await StoreFingerprint(probeStore)
    let calls = probe.trace.count
    try await probeStore.commit(large)
    let after = try await StoreFingerprint(probeStore)
    #expect(probe.trace.count == calls + 2, "one write and one sync")
    // Crashes after the write (before its sync), and after the sync.
    for cut in [calls + 1, calls + 2] {
      let disk = SimulatedDisk()
      disk.crash(afterMutations: cut)
      let store = try open(disk)
      for step in workload.steps.prefix(2) { try await store.commit(step) }
      let acknowledged = (try? await store.commit(large)) != nil
      #expect(acknowledged == (cut == calls + 2))
      for tear in SimulatedDisk.Tear.allCases {
        let reopened = try open(disk.afterCrash(tear))
        let state = try await StoreFingerprint(reopened)
        #expect(state == after || (!acknowledged && state == before), "cut \(cut), \(tear)")
        try await reopened.commit(probeChange())
      }
    }
  }

  /// A commit into preallocated space is one write over zeros and one sync; the file does not
  /// grow, and it is a whole number of chunks.
  @Test func aCommitWritesInPlaceWithoutGrowingTheLog() async throws {
    let disk = SimulatedDisk()
    let store = try open(disk)
    let workload = StoreWorkload(users: 1)
    try await store.commit(workload.steps[0])
    let size = try #require(disk.contents(of: Self.log)).count
    #expect(size == chunk)
    let end = store.statistics.logBytes
    disk.clearTrace()
    try await store.commit(workload.steps[1])
    #expect(disk.trace.count == 2)
    #expect(disk.trace.first?.hasPrefix("write \(Self.log) ") == true)
    #expect(disk.trace.first?.hasSuffix("@\(end)") == true)
    #expect(disk.trace.last == "sync \(Self.log)")
    #expect(try #require(disk.contents(of: Self.log)).count == size)
    let header = try #require(disk.contents(of: Self.log)).prefix(16)
    #expect(Array(header[8..<10]) == [2, 0], "format version 2")
  }

  // MARK: Version 1

  /// Rewrites `disk`'s store as format version 1 wrote it: every header says version 1 and
  /// the live log ends with its last record (version 1 did not preallocate). The two formats
  /// lay out snapshots, audit segments and records alike.
  private static func downgradeToVersion1(_ disk: SimulatedDisk, logEnd: Int) throws {
    for name in disk.names() where name != "LOCK" {
      var bytes = try #require(disk.contents(of: name))
      #expect(bytes[8] == 2, "\(name) was written as version 2")
      bytes[8] = 1
      bytes.replaceSubrange(
        12..<16, with: withUnsafeBytes(of: bitwiseCRC32C(bytes[0..<12]).littleEndian, Array.init))
      if name.hasPrefix("log-") { bytes = Array(bytes.prefix(logEnd)) }
      disk.setContents(of: name, to: bytes)
    }
  }

  /// A version-1 store (a snapshot, a sealed audit segment and a log) opens with everything
  /// it held, rewritten as a new generation of version 2, and goes on working.
  @Test func aVersion1StoreIsMigratedOnOpen() async throws {
    let disk = SimulatedDisk()
    let store = try open(disk)
    let workload = StoreWorkload(users: 3)
    for step in workload.steps.prefix(4) { try await store.commit(step) }
    try await store.compact()
    for step in workload.steps.dropFirst(4).prefix(3) { try await store.commit(step) }
    let original = try await StoreFingerprint(store)
    let generation = store.statistics.generation
    try Self.downgradeToVersion1(disk, logEnd: store.statistics.logBytes)
    #expect(disk.names().contains("audit-0000000000000001"))

    let migrated = try open(disk)
    #expect(try await StoreFingerprint(migrated) == original)
    #expect(migrated.statistics.generation == generation + 1)
    let names = disk.names()
    #expect(generation == 2)
    #expect(!names.contains("log-0000000000000002"))
    #expect(names.contains("log-0000000000000003"))
    for name in names where name.hasPrefix("snapshot-") || name.hasPrefix("log-") {
      let bytes = try #require(disk.contents(of: name))
      #expect(bytes[8] == 2, "\(name) is version 2")
      if name.hasPrefix("log-") { #expect(bytes.count % chunk == 0, "\(name) is preallocated") }
    }
    // The sealed segment of version 1 stays as it was, and is read as it is.
    #expect(try #require(disk.contents(of: "audit-0000000000000001"))[8] == 1)
    try await migrated.commit(workload.steps[7])
    let afterCrash = try open(disk.afterCrash(.drop))
    #expect(try await StoreFingerprint(afterCrash) == StoreFingerprint(migrated))
  }

  /// A version-1 log whose last append was cut short (the file ends inside it) is migrated
  /// without that record.
  @Test func aVersion1LogWithATornTailIsMigratedWithoutIt() async throws {
    let disk = SimulatedDisk()
    let store = try open(disk)
    let workload = StoreWorkload(users: 3)
    for step in workload.steps.prefix(3) { try await store.commit(step) }
    let expected = try await StoreFingerprint(store)
    let acknowledged = store.statistics.logBytes
    try await store.commit(workload.steps[3])
    let end = store.statistics.logBytes
    try Self.downgradeToVersion1(disk, logEnd: acknowledged + (end - acknowledged) / 2)
    let migrated = try open(disk)
    #expect(try await StoreFingerprint(migrated) == expected)
    #expect(migrated.statistics.generation == 2)
    try await migrated.commit(workload.steps[3])
  }

  /// A version-1 store whose migration fails (a write refused at each step in turn) either
  /// does not open, with a typed error, or opens for reading only: every read answers, every
  /// commit is refused, and its files are still those of version 1, which open and migrate
  /// once the fault is gone.
  @Test func aVersion1StoreThatCannotBeMigratedIsReadOnly() async throws {
    let disk = SimulatedDisk()
    let store = try open(disk)
    let workload = StoreWorkload(users: 2)
    for step in workload.steps.prefix(4) { try await store.commit(step) }
    let original = try await StoreFingerprint(store)
    try Self.downgradeToVersion1(disk, logEnd: store.statistics.logBytes)
    let probe = disk.copy()
    let before = probe.calls
    _ = try open(probe)
    let calls = probe.calls - before
    var readOnly = 0
    for call in 0..<calls {
      let image = disk.copy()
      image.inject(SimulatedDisk.Fault(atCall: image.calls + call, code: EIO, persistent: true))
      let opened: FileDirectoryStore
      switch Result(catching: { () throws(UserManagementError) in try open(image) }) {
      case .success(let store): opened = store
      case .failure(let error):
        #expect(error.code == .storageFailure, "fault at call \(call): \(error)")
        continue
      }
      image.inject(nil)
      #expect(try await StoreFingerprint(opened) == original, "fault at call \(call)")
      if opened.statistics.generation == 1 {
        readOnly += 1
        let error = await #expect(throws: UserManagementError.self, "fault at call \(call)") {
          try await opened.commit(workload.steps[4])
        }
        #expect(error?.code == .storageFailure)
      }
      let reopened = try open(image.afterCrash(.drop))
      #expect(try await StoreFingerprint(reopened) == original, "fault at call \(call)")
      #expect(reopened.statistics.generation == 2, "fault at call \(call): migrated")
    }
    #expect(readOnly > 0)
  }
}
