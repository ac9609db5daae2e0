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

private let options = SimulatedDisk.storeOptions

private func open(_ disk: SimulatedDisk) throws(UserManagementError) -> FileDirectoryStore {
  try disk.openStore()
}

/// The state after each prefix of the workload: `states[n]` after `n` commits.
private func expectedStates(_ workload: StoreWorkload) async throws -> [StoreFingerprint] {
  let store = InMemoryDirectoryStore()
  var states = [try await StoreFingerprint(store)]
  for step in workload.steps {
    try await store.commit(step)
    states.append(try await StoreFingerprint(store))
  }
  return states
}

/// Runs the workload until a commit fails; returns how many were acknowledged.
private func run(_ workload: StoreWorkload, on store: FileDirectoryStore) async -> Int {
  var acknowledged = 0
  for step in workload.steps {
    do {
      try await store.commit(step)
      store.waitUntilIdle()
      acknowledged += 1
    } catch {
      break
    }
  }
  return acknowledged
}

@Suite("FileDirectoryStore durability")
struct FileStoreDurabilityTests {
  // MARK: Order of writes, syncs and renames

  @Test func aCommitIsWrittenThenSyncedBeforeItReturns() async throws {
    let disk = SimulatedDisk()
    let store = try open(disk)
    let workload = StoreWorkload(users: 1)
    disk.clearTrace()
    try await store.commit(workload.steps[0])
    let log = "log-0000000000000001"
    #expect(disk.trace.count == 2)
    #expect(disk.trace.first?.hasPrefix("write \(log) ") == true)
    #expect(disk.trace.last == "sync \(log)")
  }

  /// The snapshot first, then the log, each written aside, synced, renamed and made durable
  /// in the directory; then the opening writer syncs the directory of the generation it
  /// adopts, and the log it will serve, before it may append.
  @Test func creatingAStoreWritesEachFileAtomically() throws {
    let disk = SimulatedDisk()
    _ = try open(disk)
    let snapshot = "snapshot-0000000000000001"
    let log = "log-0000000000000001"
    #expect(
      disk.trace.map(Self.withoutSizes) == [
        "create LOCK",
        // A temporary is always a new file: any stale one is removed first.
        "remove \(snapshot).tmp", "create \(snapshot).tmp", "write \(snapshot).tmp",
        "sync \(snapshot).tmp", "rename \(snapshot).tmp \(snapshot)", "syncdir",
        "remove \(log).tmp", "create \(log).tmp", "write \(log).tmp", "sync \(log).tmp",
        "rename \(log).tmp \(log)", "syncdir", "syncdir", "sync \(log)",
      ])
  }

  @Test func aCompactionSealsTheAuditTrailThenSwitchesGenerationsAtomically() async throws {
    let disk = SimulatedDisk()
    let store = try open(disk)
    for step in StoreWorkload(users: 2).steps.prefix(3) { try await store.commit(step) }
    disk.clearTrace()
    try await store.compact()
    let audit = "audit-0000000000000001"
    let snapshot = "snapshot-0000000000000002"
    let log = "log-0000000000000002"
    let trace = disk.trace.map(Self.withoutSizes)
    #expect(
      Array(trace.prefix(17)) == [
        // The log's audit events move to a sealed segment first …
        "remove \(audit).tmp", "create \(audit).tmp", "write \(audit).tmp",
        "sync \(audit).tmp", "rename \(audit).tmp \(audit)", "syncdir",
        // … then the next generation's log and snapshot, made durable together …
        "remove \(log).tmp", "create \(log).tmp", "write \(log).tmp", "sync \(log).tmp",
        "rename \(log).tmp \(log)",
        "remove \(snapshot).tmp", "create \(snapshot).tmp", "write \(snapshot).tmp",
        "sync \(snapshot).tmp", "rename \(snapshot).tmp \(snapshot)", "syncdir",
      ])
    // … and only then the previous generation goes (in directory-listing order).
    #expect(
      Set(trace.dropFirst(17).dropLast())
        == ["remove log-0000000000000001", "remove snapshot-0000000000000001"])
    #expect(trace.count == 20)
    #expect(trace.last == "syncdir")
    #expect(store.statistics.generation == 2)
    let reopened = try open(disk.afterCrash(.drop))
    #expect(try await StoreFingerprint(reopened) == StoreFingerprint(store))
  }

  private static func withoutSizes(_ line: String) -> String {
    line.hasPrefix("write ") ? line.split(separator: " ").prefix(2).joined(separator: " ") : line
  }

  /// Commits that arrive while the writer syncs are written together: one append and one
  /// sync for all of them, each still checked on its own (here, one of them conflicts).
  @Test(.tags(.concurrency), .timeLimit(.minutes(1)))
  func concurrentCommitsShareOneWriteAndOneSync() async throws {
    let disk = SimulatedDisk()
    let store = try open(disk)
    let workload = StoreWorkload(users: 20)
    try await store.commit(workload.steps[0])
    disk.holdLogSyncs()
    let first = Task { try await store.commit(workload.steps[1]) }
    // Wait until the writer holds the first commit in its sync.
    while disk.trace.last?.hasPrefix("write log-") != true { await Task.yield() }
    let inserts = Array(workload.steps[2..<22])
    let tasks = (inserts + [workload.steps[0]]).map { step in
      Task { () -> Bool in (try? await store.commit(step)) != nil }
    }
    while store.pendingCommitCount < tasks.count { await Task.yield() }
    disk.clearTrace()
    disk.releaseLogSyncs()
    try await first.value
    var outcomes: [Bool] = []
    for task in tasks { outcomes.append(await task.value) }
    #expect(
      outcomes == Array(repeating: true, count: 20) + [false], "the repeated bootstrap conflicts")
    let log = "log-0000000000000001"
    #expect(disk.trace.filter { $0.hasPrefix("write \(log)") }.count == 1)
    #expect(disk.trace.filter { $0 == "sync \(log)" }.count == 2)
    #expect(try await store.userCount(matching: UserFilter()) == 21)
  }

  // MARK: Crash at any instant

  /// Cuts the workload's I/O after every mutating call, crashes — a power loss with unsynced
  /// bytes dropped, kept, halved, zeroed from a sector on or holed, or a kill — and reopens: the store must open, equal an acknowledged prefix
  /// (all acknowledged commits, perhaps plus the one in flight), and accept writes.
  @Test func crashAtEveryMutatingCall() async throws {
    let workload = StoreWorkload(users: 6)
    let states = try await expectedStates(workload)
    // How many mutating calls the whole workload makes.
    let probe = SimulatedDisk()
    _ = await run(workload, on: try open(probe))
    let total = probe.trace.count
    #expect(total > 40, "the workload should compact and so make many calls")
    var checked = 0
    for cut in 0...total {
      let disk = SimulatedDisk()
      disk.crash(afterMutations: cut)
      var acknowledged = 0
      if let store = try? open(disk) {
        acknowledged = await run(workload, on: store)
      }
      // A power loss with each kind of tear, and a kill (everything written survives).
      let images =
        SimulatedDisk.Tear.allCases.map { ("\($0)", disk.afterCrash($0)) } + [
          ("kill", disk.copy())
        ]
      for (tear, image) in images {
        let context = "crash after \(cut) of \(total) calls, \(tear), \(acknowledged) acknowledged"
        let reopened: FileDirectoryStore
        do {
          reopened = try open(image)
        } catch {
          Issue.record("\(context): reopening failed: \(error)")
          continue
        }
        let state = try await StoreFingerprint(reopened)
        let allowed = states[acknowledged...].prefix(2)
        #expect(allowed.contains(state), "\(context): \(state)")
        // Still writable: the next step of the workload (or a throttle reset) commits.
        let next = allowed.firstIndex(of: state).map { $0 < workload.steps.count ? $0 : nil } ?? nil
        if let next {
          try await reopened.commit(workload.steps[next])
          let again = try open(image.afterCrash(.drop))
          #expect(
            try await StoreFingerprint(again) == states[next + 1], "\(context): after one more")
        }
        checked += 1
      }
    }
    #expect(checked == (total + 1) * (SimulatedDisk.Tear.allCases.count + 1))
  }

  // MARK: Faults

  /// Fails each call of the workload in turn — once, persistently, with ENOSPC, and as a
  /// short write followed by an error: the failing commit throws a typed error, the store's
  /// view stays equal to what is durable, a failed write or sync stops further commits, and
  /// the store reopens intact. The same again with the commits made from a task on the
  /// store's writer executor, which writes them in place.
  @Test(
    arguments: [
      SimulatedDisk.Fault(atCall: 0, code: EIO),
      SimulatedDisk.Fault(atCall: 0, code: EIO, persistent: true),
      SimulatedDisk.Fault(atCall: 0, code: ENOSPC, persistent: true),
      SimulatedDisk.Fault(atCall: 0, code: ENOSPC, shortWrite: true),
      SimulatedDisk.Fault(atCall: 0, code: ENOSPC, persistent: true, shortWrite: true),
    ], [false, true])
  func faultAtEveryCall(_ template: SimulatedDisk.Fault, onWriter: Bool) async throws {
    let workload = StoreWorkload(users: 4)
    let states = try await expectedStates(workload)
    let probe = SimulatedDisk()
    _ = await run(workload, on: try open(probe))
    let total = probe.calls
    for call in 0..<total {
      var fault = template
      fault.atCall = call
      let disk = SimulatedDisk()
      disk.inject(fault)
      let context = "fault \(fault) at call \(call) of \(total)"
      let store: FileDirectoryStore
      switch Result(catching: { () throws(UserManagementError) in try open(disk) }) {
      case .success(let opened):
        store = opened
      case .failure(let error):
        #expect(error.code == .storageFailure, "\(context): \(error)")
        continue
      }
      let commitAll = { () async -> (acknowledged: Int, failure: (any Error)?) in
        for (index, step) in workload.steps.enumerated() {
          do {
            try await store.commit(step)
            store.waitUntilIdle()
          } catch {
            return (index, error)
          }
        }
        return (workload.steps.count, nil)
      }
      let (acknowledged, failure) =
        onWriter
        ? await withTaskExecutorPreference(store.writerExecutor) { await commitAll() }
        : await commitAll()
      if onWriter { #expect(store.commitsWrittenInPlace > 0, "\(context)") }
      disk.inject(nil)
      if let failure {
        let error = try #require(failure as? UserManagementError, "\(context): untyped \(failure)")
        #expect(error.code == .storageFailure, "\(context): \(error)")
        // The view equals the durable state: nothing of the failed commit.
        #expect(try await StoreFingerprint(store) == states[acknowledged], "\(context)")
        let operation = error.context["operation"] ?? ""
        if operation.hasPrefix("write") || operation.hasPrefix("sync") {
          await #expect(throws: UserManagementError.self, "\(context): refuses writes") {
            try await store.commit(workload.steps[acknowledged])
          }
        }
      } else {
        #expect(acknowledged == workload.steps.count, "\(context)")
      }
      // Reopened after a crash now, it holds exactly what was acknowledged.
      let reopened = try open(disk.afterCrash(.drop))
      #expect(try await StoreFingerprint(reopened) == states[acknowledged], "\(context)")
      // Reopened without a crash, it holds that or the failed commit, and accepts writes.
      let intact = try open(disk.copy())
      let state = try await StoreFingerprint(intact)
      let index = try #require(
        states[acknowledged...].prefix(2).firstIndex(of: state), "\(context)")
      if index < workload.steps.count { try await intact.commit(workload.steps[index]) }
    }
  }

  // MARK: Corruption

  /// A small store with a snapshot, a sealed audit segment and a log.
  private func smallStore() async throws -> (SimulatedDisk, StoreFingerprint) {
    let (disk, fingerprint, _) = try await smallStoreAndLogEnd()
    return (disk, fingerprint)
  }

  /// ``smallStore()``, and where the data of its log ends (the preallocated zeros begin).
  private func smallStoreAndLogEnd() async throws -> (SimulatedDisk, StoreFingerprint, Int) {
    let disk = SimulatedDisk()
    let store = try open(disk)
    let workload = StoreWorkload(users: 3)
    for step in workload.steps.prefix(4) { try await store.commit(step) }
    try await store.compact()
    for step in workload.steps.dropFirst(4).prefix(3) { try await store.commit(step) }
    return (disk, try await StoreFingerprint(store), store.statistics.logBytes)
  }

  /// Flips every byte of every file: the store either reports the damage (typed, naming the
  /// file and offset) or, where the byte is never read, is unchanged. A byte flipped in the
  /// live log's preallocated zeros, past its last record, is what a write cut short leaves
  /// there: the store opens unchanged and clears it.
  @Test func everyFlippedByteIsDetected() async throws {
    let (disk, original, logEnd) = try await smallStoreAndLogEnd()
    let liveLog = "log-0000000000000002"
    #expect(disk.names().contains(liveLog))
    for name in disk.names() where name != "LOCK" {
      let bytes = try #require(disk.contents(of: name))
      for offset in bytes.indices {
        let damaged = disk.copy()
        var flipped = bytes
        flipped[offset] ^= 0xFF
        damaged.setContents(of: name, to: flipped)
        let context = "\(name) byte \(offset) flipped"
        do {
          let store = try open(damaged)
          let state = try await StoreFingerprint(store)
          if name == liveLog && offset >= logEnd {
            #expect(state == original, "\(context)")
            #expect(damaged.contents(of: name) == bytes, "\(context): not cleared")
          } else {
            Issue.record("\(context): accepted as \(state) (original \(original))")
          }
        } catch let error as UserManagementError {
          #expect(
            [.corruptStore, .unsupportedStoreFormat].contains(error.code), "\(context): \(error)")
          #expect(error.context["file"] == name, "\(context): \(error)")
          if error.code == .corruptStore {
            let reported = Int(error.context["offset"] ?? "") ?? -1
            #expect((0...offset + 1).contains(reported), "\(context): \(error)")
          }
        }
      }
    }
  }

  /// Truncates every file at every offset: the live log may lose its tail (exactly what a
  /// crash leaves), giving an earlier state; everything else is reported.
  @Test func everyTruncationIsDetectedOrAPrefix() async throws {
    let (disk, original) = try await smallStore()
    let states = try await expectedStates(StoreWorkload(users: 3))
    for name in disk.names() where name != "LOCK" {
      let bytes = try #require(disk.contents(of: name))
      for length in 0..<bytes.count {
        let damaged = disk.copy()
        damaged.setContents(of: name, to: Array(bytes.prefix(length)))
        let context = "\(name) cut to \(length) bytes"
        do {
          let store = try open(damaged)
          let state = try await StoreFingerprint(store)
          #expect(name.hasPrefix("log-"), "\(context): accepted")
          #expect(states.contains(state), "\(context): not a prefix state: \(state)")
          #expect(state.audit.count <= original.audit.count)
        } catch let error as UserManagementError {
          #expect(error.code == .corruptStore, "\(context): \(error)")
          #expect(error.context["file"] == name, "\(context): \(error)")
        }
      }
    }
  }

  /// The snapshot reads the same whatever size its pieces are: the sizes from its header's to
  /// the whole file's put the end of the first piece at every offset (inside a frame's header,
  /// its payload, its checksum) with more of the file to come. A damaged byte in its middle is
  /// reported wherever the pieces end.
  @Test func everyReadSizeReadsTheSameSnapshot() async throws {
    let (disk, original) = try await smallStore()
    let name = "snapshot-0000000000000002"
    let bytes = try #require(disk.contents(of: name))
    let damagedAt = bytes.count / 2
    var damaged = bytes
    damaged[damagedAt] ^= 0x5A
    let broken = disk.copy()
    broken.setContents(of: name, to: damaged)
    // 16: the file header, the least a read may take.
    for size in 16...bytes.count + 1 {
      var options = SimulatedDisk.storeOptions
      options.snapshotReadSize = size
      let store = try FileDirectoryStore(directory: "/store", options: options, fileSystem: disk)
      #expect(try await StoreFingerprint(store) == original, "read size \(size)")
      let error = #expect(throws: UserManagementError.self, "read size \(size)") {
        try FileDirectoryStore(directory: "/store", options: options, fileSystem: broken)
      }
      #expect(error?.code == .corruptStore, "read size \(size)")
      #expect(error?.context["file"] == name, "read size \(size)")
      let reported = Int(error?.context["offset"] ?? "") ?? -1
      #expect((0...damagedAt + 1).contains(reported), "read size \(size): \(reported)")
    }
  }

  @Test func aNewerFormatIsRefusedByName() async throws {
    let (disk, _) = try await smallStore()
    let name = "snapshot-0000000000000002"
    var bytes = try #require(disk.contents(of: name))
    bytes[8] = 3
    // Recompute the header checksum, as a newer library would have written it.
    bytes.replaceSubrange(
      12..<16, with: withUnsafeBytes(of: bitwiseCRC32C(bytes[0..<12]).littleEndian, Array.init))
    disk.setContents(of: name, to: bytes)
    let error = #expect(throws: UserManagementError.self) { try open(disk) }
    #expect(error?.code == .unsupportedStoreFormat)
    #expect(error?.context["file"] == name)
    #expect(error?.context["version"] == "3")
  }

  // MARK: Size and open time

  /// Updates the same users over and over: the files stay within twice the live data (plus
  /// the minimum log), and opening reads only the snapshot and the log — never the audit
  /// segments, however long the history.
  @Test func sizeAndOpenReadsStayProportionalToLiveData() async throws {
    let disk = SimulatedDisk()
    let store = try open(disk)
    let workload = StoreWorkload(users: 20)
    for step in workload.steps.prefix(22) { try await store.commit(step) }
    var users = try await StoreFingerprint(store).users
    for round in 0..<60 {
      for index in users.indices {
        var user = users[index]
        user.user.version += 1
        user.user.firstName = "Round \(round)"
        try await store.commit(
          ChangeSet(
            users: [user],
            auditEvents: [
              AuditEvent(
                id: UUID(), time: Date(), actor: .system("test"),
                target: .user(user.id, username: user.user.username.rawValue),
                action: .userUpdated, changes: [])
            ]))
        users[index] = user
        store.waitUntilIdle()
        let statistics = store.statistics
        #expect(
          statistics.logBytes <= max(statistics.snapshotBytes, options.minimumCompactionLogSize)
            + 1024,
          "log \(statistics.logBytes) vs snapshot \(statistics.snapshotBytes)")
      }
    }
    let statistics = store.statistics
    #expect(statistics.generation > 5, "the store compacted")
    #expect(statistics.auditSegmentCount == Int(statistics.generation) - 1)
    disk.resetReadCounts()
    let reopened = try open(disk)
    let read = disk.bytesRead
    #expect(read.keys.allSatisfy { $0.hasPrefix("snapshot-") || $0.hasPrefix("log-") }, "\(read)")
    #expect(
      read.values.reduce(0, +) <= 2 * statistics.snapshotBytes + options.minimumCompactionLogSize
        + 1024)
    #expect(try await StoreFingerprint(reopened).users == users)
    #expect(
      try await reopened.auditEvents(matching: AuditQuery(limit: 100_000)).count == 22 + 60 * 21 - 1
    )
  }
}
