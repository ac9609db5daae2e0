import Foundation
import Testing
import UserManagementKit
import UserManagementKitTesting

/// The kill -9 loop. A child process (`UMKStoreTorture commit-loop`) commits from several
/// tasks and prints `try`/`ack`/`nak` around every commit; the test kills it with SIGKILL at a
/// random moment, reopens the store and checks that every acknowledged commit is there, that
/// nothing appeared that no commit wrote, that the directory's invariants hold and that the
/// store still accepts commits. Trials run on one directory, so crashes compound (torn log
/// tails, compactions cut short, a kill while the previous crash is being repaired).
///
/// A second test runs two such processes on the store at once and kills each at its own
/// moment, so one process repairs, catches up with and compacts over the other's crash while
/// it keeps committing.
///
/// `UMK_CRASH_TRIALS` sets the number of trials (default 200; the two-writer test runs half
/// as many; 0 skips both). `UMK_CRASH_SEED` replays a run's choices and kill delays (the
/// children's timing, and so where the kills land, still varies).
@Suite("Crash loop: SIGKILL committing processes", .tags(.multiProcess, .crashLoop), .serialized)
struct CrashLoopTests {
  static let trials =
    ProcessInfo.processInfo.environment["UMK_CRASH_TRIALS"].flatMap { Int($0) } ?? 200

  @Test(
    "Every acknowledged commit survives SIGKILL, trial after trial",
    .enabled(if: trials > 0), .timeLimit(.minutes(10)))
  func acknowledgedCommitsSurviveSIGKILL() async throws {
    try await runTrials(Self.trials, writers: 1)
  }

  @Test(
    "Two writers killed at different moments: every acknowledged commit of each survives",
    .enabled(if: trials > 1), .timeLimit(.minutes(10)))
  func acknowledgedCommitsOfTwoWritersSurviveSIGKILL() async throws {
    try await runTrials(Self.trials / 2, writers: 2)
  }

  private func runTrials(_ trials: Int, writers: Int) async throws {
    let executable = try tortureExecutable()
    let temporary = try TemporaryDirectory()
    let baseSeed =
      ProcessInfo.processInfo.environment["UMK_CRASH_SEED"].flatMap { UInt64($0) }
      ?? UInt64.random(in: 1...1_000_000_000)
    // Seeded, so `UMK_CRASH_SEED` replays the kill delays.
    var random = SeededRandomNumberGenerator(seed: baseSeed)
    var previous = Observed()
    var totals = Totals()
    let clock = ContinuousClock()
    let started = clock.now
    for trial in 0..<trials {
      let context = "\(writers) writer(s), trial \(trial), UMK_CRASH_SEED=\(baseSeed)"
      var children: [ChildProcess] = []
      for writer in 0..<writers {
        let seed = baseSeed &+ UInt64(trial * writers + writer)
        children.append(
          try ChildProcess(
            executable,
            ["commit-loop", temporary.store, String(seed), String(writer), String(writers)],
            outputPath: temporary.path + "/trial-\(trial)-\(writer).out"))
      }
      // Log-uniform delays from 1 to 300 ms: most kills land among commits, some during
      // opening (which may be repairing the previous crash). Each writer has its own.
      let fromSpawn = Int.random(in: 0..<5, using: &random) == 0
      if !fromSpawn {
        for child in children { try await child.waitForLine { $0.hasPrefix("ready") } }
      }
      let clockAtStart = clock.now
      let deadlines = children.map { _ in
        clockAtStart
          + .microseconds(Int(exp(Double.random(in: 0...log(300), using: &random)) * 1000))
      }
      for (child, deadline) in zip(children, deadlines).sorted(by: { $0.1 < $1.1 }) {
        try await clock.sleep(until: deadline)
        child.killNow()
      }
      var combined = ChildLog([])
      for (writer, child) in children.enumerated() {
        try await child.waitForExit()
        if !child.wasKilled {
          Issue.record("\(context): a child ended on its own\n\(child.transcript)")
          return
        }
        let childLog = ChildLog(child.lines, writer: writer, lenient: writers > 1)
        for problem in childLog.problems {
          Issue.record("\(context): \(problem)\n\(child.transcript)")
        }
        combined.merge(childLog)
      }
      let transcripts = children.map(\.transcript).joined(separator: "\n")

      // A temporary file or two generations on disk: the kill cut a compaction short.
      let files = (try? FileManager.default.contentsOfDirectory(atPath: temporary.store)) ?? []
      let midCompaction =
        files.contains { $0.hasSuffix(".tmp") }
        || files.filter { $0.hasPrefix("snapshot-") || $0.hasPrefix("log-") }.count > 2

      let store: FileDirectoryStore
      do {
        store = try FileDirectoryStore(directory: temporary.store)
      } catch {
        Issue.record("\(context): the store does not open after SIGKILL: \(error)")
        return
      }
      let generationBefore = previous.generation
      var current = try await Observed(store)
      let problems = current.problems(comparedWith: previous, after: combined)
      for problem in problems.prefix(20) {
        Issue.record("\(context): \(problem)\n\(transcripts)")
      }
      if !problems.isEmpty { return }

      // Still writable: commit, and see the commit.
      let probe = AuditEvent(
        id: UUID(), time: Date(), actor: .system("crash-loop"),
        target: .policy(PolicyID(rawValue: UUID()), name: "probe"),
        action: AuditAction(rawValue: "torture.probe"), changes: [])
      do {
        try await store.commit(ChangeSet(auditEvents: [probe]))
      } catch {
        Issue.record("\(context): the reopened store refuses a commit: \(error)")
        return
      }
      let newest = try await store.auditEvents(matching: AuditQuery(limit: 1))
      #expect(newest.map(\.id) == [probe.id], "\(context): the probe commit is not visible")
      current.audit.insert(probe.id)
      current.generation = store.statistics.generation
      store.close()

      totals.add(
        combined, killedBeforeReady: !combined.ready, midCompaction: midCompaction,
        compactions: current.generation - generationBefore)
      previous = current
      for child in children {
        try? FileManager.default.removeItem(atPath: child.outputPath)
        try? FileManager.default.removeItem(atPath: child.outputPath + ".err")
      }
    }
    let elapsed = clock.now - started
    print(
      "Crash loop, \(writers) writer(s): \(trials) trials in \(elapsed) (UMK_CRASH_SEED=\(baseSeed)): "
        + "\(totals.acked) acknowledged and \(totals.refused) refused commits, "
        + "\(totals.inFlight) in flight at the kill, \(totals.killedBeforeReady) kills before "
        + "the store was ready, \(totals.killedMidCompaction) during a compaction, "
        + "\(totals.compactions) compactions; finally "
        + "\(previous.users.count) users, \(previous.policies.count) policies, "
        + "\(previous.audit.count) audit events.")
  }
}
