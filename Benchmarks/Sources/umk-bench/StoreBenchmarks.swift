import Foundation
import UserManagementKit
import UserManagementKitTesting

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The store the store benchmarks measure. Swapping stores is this line and
/// ``openStoreUnderTest(_:)``.
typealias StoreUnderTest = FileDirectoryStore

/// Opens the store under test in `directory`, creating it if missing; open means ready to serve.
///
/// - Parameter directory: The store's directory.
/// - Returns: The open store.
/// - Throws: ``UserManagementError`` if it cannot be opened.
func openStoreUnderTest(_ directory: String) throws(UserManagementError) -> StoreUnderTest {
  try StoreUnderTest(directory: directory)
}

/// The benchmarks of the file-backed store, side by side with SQLite (see
/// `reference/sqlite_ref.c`) where there is a reference.
enum StoreBenchmarkName: String, CaseIterable, Sendable {
  /// Durable single-user updates, one after the other, ops/s.
  case sequentialUpdate = "store.sequential_update"
  /// Durable single-user updates from 16 concurrent tasks (threads for SQLite), ops/s.
  case groupCommit = "store.group_commit_16"
  /// Lookups by canonical username in an open 100,000-user store, ops/s.
  case lookup = "store.lookup_by_username.100k"
  /// Opening a 100,000-user store until it can serve, seconds.
  case open = "store.open.100k"
  /// Bytes on disk of 100,000 users.
  case size = "store.size.100k"
  /// Opening a 1,000,000-user store in a fresh process, seconds (absolute), with its peak RSS.
  case openMillion = "store.open.1m"
  /// One 200-byte append and fsync on the stores' filesystem, ops/s (informational).
  case fsyncRaw = "store.fsync_raw"

  /// The worker process label the benchmark runs in.
  var worker: String {
    self == .openMillion ? StoreBenchmark.millionWorker : StoreBenchmark.worker
  }

  /// Whether `--quick` runs it (not the million-user scale).
  var inQuickRun: Bool { self != .openMillion }
}

/// How much the store benchmarks measure.
struct StorePlan: Sendable {
  /// Ours/reference pairs of every side-by-side benchmark (after one warm-up pair).
  var pairs: Int
  /// Updates per round of the sequential benchmark.
  var sequentialUpdates: Int
  /// Updates per task (per thread) per round of the group-commit benchmark.
  var updatesPerTask: Int
  /// Lookups per round.
  var lookups: Int
  /// Appends per round of the raw fsync measurement.
  var fsyncAppends: Int
  /// Timed opens of the million-user store (after one warm-up open).
  var millionOpens: Int

  /// The plan for a full or `--quick` run.
  ///
  /// - Parameter quick: Whether to take fewer measurements.
  /// - Returns: The plan.
  static func make(quick: Bool) -> StorePlan {
    quick
      ? StorePlan(
        pairs: 7, sequentialUpdates: 100, updatesPerTask: 8, lookups: 50_000,
        fsyncAppends: 100, millionOpens: 5)
      : StorePlan(
        pairs: 15, sequentialUpdates: 200, updatesPerTask: 16, lookups: 200_000,
        fsyncAppends: 200, millionOpens: 5)
  }
}

/// Runs the store benchmarks in a worker process.
///
/// The 100,000-user worker fills our store and SQLite with the same users (``StoreDataset``;
/// ours in commits of 1,000 users, SQLite in transactions of 1,000 rows), both in one directory
/// under `Benchmarks/.build/store-bench/`, closes both and measures their size, then alternates
/// one measurement of ours with one of SQLite for opening, looking up, sequential updates and
/// concurrent updates, with a raw append-and-fsync round after each sequential pair. The
/// million-user worker fills our store and times opening it in fresh child processes
/// (`umk-bench open-store DIR`), which also report their peak RSS.
struct StoreBenchmark {
  /// The worker label of the 100,000-user benchmarks.
  static let worker = "store"
  /// The worker label of the million-user benchmark.
  static let millionWorker = "store-1m"
  /// Concurrent tasks (SQLite: threads) of the group-commit benchmark.
  static let tasks = 16
  /// Users per commit (ours) or transaction (SQLite) while filling a store.
  static let populateBatch = 1_000
  /// The size of one raw append.
  static let appendBytes = 200

  /// Which benchmarks to report.
  let selected: Set<StoreBenchmarkName>
  /// The measurement plan.
  let plan: StorePlan

  /// Runs the store benchmarks of one worker.
  ///
  /// - Parameters:
  ///   - label: ``worker`` or ``millionWorker``.
  ///   - names: Full benchmark names.
  ///   - quick: Whether to take fewer measurements.
  /// - Returns: The results, in the order written to standard output.
  /// - Throws: ``BenchmarkFailure`` or a library error if a benchmark cannot run.
  static func run(worker label: String, names: Set<String>, quick: Bool) async throws
    -> [BenchmarkResult]
  {
    let benchmark = StoreBenchmark(
      selected: Set(StoreBenchmarkName.allCases.filter { names.contains($0.rawValue) }),
      plan: .make(quick: quick))
    return label == millionWorker
      ? try await benchmark.runMillion() : try await benchmark.runHundredThousand()
  }

  // MARK: - 100,000 users

  /// Where a worker reports a result (writes its line if the benchmark was selected).
  private typealias Report = (BenchmarkResult) -> Void

  private func runHundredThousand() async throws -> [BenchmarkResult] {
    let count = 100_000
    let tag = "[store 100k]"
    let root = try Self.workspace("100k")
    defer { Self.removeWorkspace(root) }
    let oursDirectory = root + "/umk"
    let data = StoreDataset(count: count)
    var records = try data.records(0..<count)

    // The same users for SQLite, as text, and the usernames to look up.
    var text = ""
    text.reserveCapacity(count * 400)
    for record in records { StoreDataset.appendLine(record, to: &text) }
    try text.write(toFile: root + "/users.tsv", atomically: false, encoding: .utf8)
    text = ""
    var state: UInt64 = 7
    var keys: [String] = []
    for _ in 0..<4_096 {
      state = SeededRandomNumberGenerator.mix(state)
      keys.append(Username.canonicalize(Dataset.username(Int(state % UInt64(count)))))
    }
    try (keys.joined(separator: "\n") + "\n").write(
      toFile: root + "/keys.txt", atomically: false, encoding: .utf8)

    var results: [BenchmarkResult] = []
    let report: Report = { result in
      guard let name = StoreBenchmarkName(rawValue: result.name), selected.contains(name)
      else { return }
      Output.result(result.jsonLine)
      Output.log(result.summary)
      results.append(result)
    }

    // Fill both; neither is timed as a benchmark.
    let reference = try SQLiteReference.start(directory: root + "/sqlite")
    let referenceFill = try reference.seconds(reference.request("populate \(root)/users.tsv"))
    Output.log(
      "\(tag) \(reference.name): \(Output.grouped(Double(count))) rows in "
        + "\(Output.grouped(referenceFill * 1000)) ms")
    var store = try openStoreUnderTest(oursDirectory)
    let fillStart = Measure.clock.now
    try await Self.commit(ChangeSet(policies: data.policies.map { .put($0) }), to: store)
    for start in stride(from: 0, to: count, by: Self.populateBatch) {
      let batch = records[start..<min(start + Self.populateBatch, count)]
      try await Self.commit(ChangeSet(users: Array(batch)), to: store)
    }
    let oursFill = Measure.seconds(Measure.clock.now - fillStart)
    Output.log(
      "\(tag) ours: \(Output.grouped(Double(count))) users in "
        + "\(Output.grouped(oursFill * 1000)) ms")
    store.close()
    _ = try reference.request("close")

    // Size at rest: every file of each, after closing.
    let oursBytes = Self.directoryBytes(oursDirectory)
    let referenceBytes = Self.directoryBytes(root + "/sqlite")
    report(
      BenchmarkResult(
        name: StoreBenchmarkName.size.rawValue, unit: .bytes, ours: Double(oursBytes),
        reference: ReferenceFigure(value: Double(referenceBytes), name: reference.name),
        target: 0.67, pairs: 1,
        extra: [
          ("ours_fill_seconds", Unit.seconds.json(oursFill)),
          ("reference_fill_seconds", Unit.seconds.json(referenceFill)),
          ("ours_bytes_per_user", String(oursBytes / count)),
          ("reference_bytes_per_user", String(referenceBytes / count)),
        ]))

    if selected.contains(.open) {
      try measureOpen(oursDirectory, reference: reference, probe: keys[0], tag: tag, report: report)
    }

    // The rest runs against both stores open.
    store = try openStoreUnderTest(oursDirectory)
    _ = try reference.request("open")
    if selected.contains(.lookup) {
      _ = try reference.request("keys \(root)/keys.txt")
      try await measureLookups(keys, in: store, reference: reference, report: report)
    }
    var nextUpdate: UInt64 = 0
    if selected.contains(.sequentialUpdate) || selected.contains(.fsyncRaw) {
      try await measureSequentialUpdates(
        in: store, reference: reference, records: &records, dataset: data,
        next: &nextUpdate, probePath: root + "/fsync-probe", report: report)
    }
    if selected.contains(.groupCommit) {
      try await measureGroupCommit(
        in: store, reference: reference, records: &records, dataset: data, next: &nextUpdate,
        report: report)
    }
    store.close()
    _ = try reference.request("close")
    return results
  }

  /// Opens ours (until ready to serve) and SQLite (open and every row into C structs),
  /// alternating, each opened store closed untimed; then ours once in a fresh process for its
  /// peak RSS.
  private func measureOpen(
    _ directory: String, reference: ReferenceProcess, probe: String, tag: String,
    report: Report
  ) throws {
    var ours: [Double] = []
    var theirs: [Double] = []
    for pair in 0...plan.pairs {
      let start = Measure.clock.now
      let opened = try openStoreUnderTest(directory)
      let seconds = Measure.seconds(Measure.clock.now - start)
      opened.close()
      let referenceSeconds = try reference.seconds(reference.request("open"))
      _ = try reference.request("close")
      if pair > 0 {
        ours.append(seconds)
        theirs.append(referenceSeconds)
      }
    }
    let child = try Self.openInChildProcess(directory, lookingUp: probe)
    Output.log(
      "\(tag) open in a fresh process: \(Output.grouped(child.seconds * 1000)) ms, peak RSS "
        + "\(Output.grouped(Double(child.peakBytes))) bytes, snapshot "
        + "\(Output.grouped(Double(child.snapshotBytes))) bytes, log "
        + "\(Output.grouped(Double(child.logBytes))) bytes")
    report(
      BenchmarkResult(
        name: StoreBenchmarkName.open.rawValue, unit: .seconds, ours: Measure.median(ours),
        reference: ReferenceFigure(value: Measure.median(theirs), name: reference.name),
        target: 1.0, pairs: plan.pairs,
        extra: [
          ("pair_speedup_median", Self.pairSpeedup(ours, theirs, unit: .seconds)),
          ("peak_rss_bytes", String(child.peakBytes)),
          ("fresh_process_seconds", Unit.seconds.json(child.seconds)),
          ("snapshot_bytes", String(child.snapshotBytes)), ("log_bytes", String(child.logBytes)),
        ]))
  }

  /// Rounds of lookups by canonical username, ours then SQLite's, the same usernames in the
  /// same order; the first round (a tenth as long) is warm-up.
  private func measureLookups(
    _ keys: [String], in store: StoreUnderTest, reference: ReferenceProcess, report: Report
  ) async throws {
    var ours: [Double] = []
    var theirs: [Double] = []
    for pair in 0...plan.pairs {
      let lookups = pair == 0 ? plan.lookups / 10 : plan.lookups
      let seconds = try await Self.lookUp(lookups, of: keys, in: store)
      let answer = try reference.request("lookup \(lookups)")
      guard answer["found"] as? Int == lookups else {
        throw BenchmarkFailure("\(reference.name) did not find every username")
      }
      if pair > 0 {
        ours.append(Double(lookups) / seconds)
        theirs.append(Double(lookups) / (try reference.seconds(answer)))
      }
    }
    report(
      BenchmarkResult(
        name: StoreBenchmarkName.lookup.rawValue, unit: .opsPerSecond, ours: Measure.median(ours),
        reference: ReferenceFigure(value: Measure.median(theirs), name: reference.name),
        target: 10, pairs: plan.pairs,
        extra: [("pair_speedup_median", Self.pairSpeedup(ours, theirs, unit: .opsPerSecond))]))
  }

  /// Rounds of durable single-user updates awaited one after the other, ours then SQLite's
  /// (the same users, each update its own transaction), then a round of raw appends with
  /// fsync; the first round (a fifth as long) is warm-up.
  private func measureSequentialUpdates(
    in store: StoreUnderTest, reference: ReferenceProcess, records: inout [UserRecord],
    dataset: StoreDataset, next: inout UInt64, probePath: String, report: Report
  ) async throws {
    let probe = try AppendProbe(path: probePath)
    var ours: [Double] = []
    var theirs: [Double] = []
    var fsyncRates: [Double] = []
    for pair in 0...plan.pairs {
      let updates = pair == 0 ? max(20, plan.sequentialUpdates / 5) : plan.sequentialUpdates
      let base = next
      next += UInt64(updates)
      var changes: [ChangeSet] = []
      for offset in 0..<updates {
        changes.append(update(base + UInt64(offset), of: &records, dataset: dataset))
      }
      let start = Measure.clock.now
      for change in changes { try await Self.commit(change, to: store) }
      let seconds = Measure.seconds(Measure.clock.now - start)
      let referenceSeconds = try reference.seconds(reference.request("seq \(base) \(updates)"))
      let appends = pair == 0 ? plan.fsyncAppends / 5 : plan.fsyncAppends
      let fsyncSeconds = try probe.time(appends: appends, bytes: Self.appendBytes)
      if pair > 0 {
        ours.append(Double(updates) / seconds)
        theirs.append(Double(updates) / referenceSeconds)
        fsyncRates.append(Double(appends) / fsyncSeconds)
      }
    }
    let fsyncRate = Measure.median(fsyncRates)
    let oursRate = Measure.median(ours)
    let theirRate = Measure.median(theirs)
    report(
      BenchmarkResult(
        name: StoreBenchmarkName.sequentialUpdate.rawValue, unit: .opsPerSecond, ours: oursRate,
        reference: ReferenceFigure(value: theirRate, name: reference.name), target: 1.5,
        pairs: plan.pairs,
        extra: [
          ("pair_speedup_median", Self.pairSpeedup(ours, theirs, unit: .opsPerSecond)),
          ("of_fsync_limit", Unit.ratioJSON(oursRate / fsyncRate)),
          ("reference_of_fsync_limit", Unit.ratioJSON(theirRate / fsyncRate)),
          ("fsync_appends_per_s", Unit.opsPerSecond.json(fsyncRate)),
        ]))
    report(
      BenchmarkResult(
        name: StoreBenchmarkName.fsyncRaw.rawValue, unit: .opsPerSecond, ours: fsyncRate,
        reference: nil, target: nil, pairs: plan.pairs,
        extra: [("bytes_per_append", String(Self.appendBytes))]))
  }

  /// Rounds of durable single-user updates from 16 concurrent tasks on ours, then from 16
  /// threads with a connection each on SQLite; every update touches a different user and is
  /// its own transaction. The first round (a fifth as long) is warm-up.
  private func measureGroupCommit(
    in store: StoreUnderTest, reference: ReferenceProcess, records: inout [UserRecord],
    dataset: StoreDataset, next: inout UInt64, report: Report
  ) async throws {
    _ = try reference.request("group-open \(Self.tasks)")
    var ours: [Double] = []
    var theirs: [Double] = []
    var busyRetries = 0
    for pair in 0...plan.pairs {
      let perTask = pair == 0 ? max(2, plan.updatesPerTask / 5) : plan.updatesPerTask
      let base = next
      let total = perTask * Self.tasks
      next += UInt64(total)
      var work = Array(repeating: [ChangeSet](), count: Self.tasks)
      for step in 0..<perTask {
        for task in 0..<Self.tasks {
          let k = base + UInt64(step * Self.tasks + task)
          work[task].append(update(k, of: &records, dataset: dataset))
        }
      }
      let seconds = try await Self.commitConcurrently(work, to: store)
      let answer = try reference.request("group \(base) \(perTask)")
      if pair > 0 {
        ours.append(Double(total) / seconds)
        theirs.append(Double(total) / (try reference.seconds(answer)))
        busyRetries += answer["busy_retries"] as? Int ?? 0
      }
    }
    report(
      BenchmarkResult(
        name: StoreBenchmarkName.groupCommit.rawValue, unit: .opsPerSecond,
        ours: Measure.median(ours),
        reference: ReferenceFigure(value: Measure.median(theirs), name: reference.name),
        target: 4, pairs: plan.pairs,
        extra: [
          ("pair_speedup_median", Self.pairSpeedup(ours, theirs, unit: .opsPerSecond)),
          ("tasks", String(Self.tasks)),
          ("updates_per_round", String(plan.updatesPerTask * Self.tasks)),
          ("reference_busy_retries", String(busyRetries)),
        ]))
  }

  /// The change set of the `k`-th update: the user's first name set to a new value, version
  /// and update time advanced, with one `user.updated` audit event by the first administrator,
  /// as `UserDirectory.updateUser` commits it. `records` keeps every user's latest version.
  private func update(_ k: UInt64, of records: inout [UserRecord], dataset: StoreDataset)
    -> ChangeSet
  {
    let index = dataset.userIndex(forUpdate: k)
    var record = records[index]
    let old = record.user.firstName
    let new = StoreDataset.updatedFirstName(k)
    let now = Date()
    record.user.firstName = new
    record.user.version += 1
    record.user.updatedAt = now
    records[index] = record
    let event = AuditEvent(
      id: UUID(), time: now, actor: dataset.creator,
      target: .user(record.id, username: record.user.username.rawValue), action: .userUpdated,
      changes: [FieldChange(field: "firstName", oldValue: old, newValue: new)])
    return ChangeSet(users: [record], auditEvents: [event])
  }

  // MARK: - 1,000,000 users

  private func runMillion() async throws -> [BenchmarkResult] {
    let count = 1_000_000
    let tag = "[store 1m]"
    let root = try Self.workspace("1m")
    defer { Self.removeWorkspace(root) }
    let directory = root + "/umk"
    let data = StoreDataset(count: count)
    let store = try openStoreUnderTest(directory)
    let fillStart = Measure.clock.now
    try await Self.commit(ChangeSet(policies: data.policies.map { .put($0) }), to: store)
    for start in stride(from: 0, to: count, by: Self.populateBatch) {
      let batch = try data.records(start..<min(start + Self.populateBatch, count))
      try await Self.commit(ChangeSet(users: batch), to: store)
      if (start + Self.populateBatch) % 100_000 == 0 {
        Output.log(
          "\(tag) ours: \(Output.grouped(Double(start + Self.populateBatch))) users after "
            + "\(Output.grouped(Measure.seconds(Measure.clock.now - fillStart))) s")
      }
    }
    let fillSeconds = Measure.seconds(Measure.clock.now - fillStart)
    Output.log("\(tag) ours: filled in \(Output.grouped(fillSeconds)) s")
    store.close()
    let bytes = Self.directoryBytes(directory)
    let probe = Username.canonicalize(Dataset.username(count / 2))
    var times: [Double] = []
    var peaks: [Int] = []
    var snapshotBytes = 0
    var logBytes = 0
    for run in 0...plan.millionOpens {
      let child = try Self.openInChildProcess(directory, lookingUp: probe)
      Output.log(
        "\(tag) open in a fresh process: \(Output.grouped(child.seconds * 1000)) ms, peak RSS "
          + "\(Output.grouped(Double(child.peakBytes))) bytes" + (run == 0 ? " (warm-up)" : ""))
      snapshotBytes = child.snapshotBytes
      logBytes = child.logBytes
      if run > 0 {
        times.append(child.seconds)
        peaks.append(child.peakBytes)
      }
    }
    let result = BenchmarkResult(
      name: StoreBenchmarkName.openMillion.rawValue, unit: .seconds, ours: Measure.median(times),
      reference: nil, target: 3, pairs: times.count,
      extra: [
        ("peak_rss_bytes", String(peaks.max() ?? 0)), ("bytes_on_disk", String(bytes)),
        ("fill_seconds", Unit.seconds.json(fillSeconds)),
        ("bytes_per_user", String(bytes / count)), ("snapshot_bytes", String(snapshotBytes)),
        ("log_bytes", String(logBytes)),
      ])
    Output.result(result.jsonLine)
    Output.log(result.summary)
    return [result]
  }

  /// The median of the pairs' own speedups, as JSON: steadier than the ratio of the two
  /// medians when the disk's speed drifts during a run (the machines are shared).
  private static func pairSpeedup(_ ours: [Double], _ theirs: [Double], unit: Unit) -> String {
    let ratios = zip(ours, theirs).map { unit.higherIsBetter ? $0 / $1 : $1 / $0 }
    return Unit.ratioJSON(Measure.median(ratios))
  }

  // MARK: - Operations

  /// Commits through the protocol, whatever the store's own signature.
  private static func commit<Store: DirectoryStore>(_ changes: ChangeSet, to store: Store)
    async throws
  {
    try await store.commit(changes)
  }

  /// Looks up `count` usernames, cycling through `keys`; the seconds it took.
  private static func lookUp<Store: DirectoryStore>(
    _ count: Int, of keys: [String], in store: Store
  ) async throws -> Double {
    var checksum: UInt64 = 0
    var found = 0
    let mask = keys.count - 1
    let start = Measure.clock.now
    for lookup in 0..<count {
      if let record = try await store.user(usernameKey: keys[lookup & mask]) {
        checksum &+= record.user.version
        found += 1
      }
    }
    let seconds = Measure.seconds(Measure.clock.now - start)
    guard found == count, checksum > 0 else {
      throw BenchmarkFailure("our store did not find every username (\(found) of \(count))")
    }
    return seconds
  }

  /// Commits each task's change sets in order, the tasks concurrently; the seconds from the
  /// start of the first to the end of the last.
  private static func commitConcurrently<Store: DirectoryStore>(
    _ work: [[ChangeSet]], to store: Store
  ) async throws -> Double {
    let start = Measure.clock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
      for changes in work {
        group.addTask {
          for change in changes { try await store.commit(change) }
        }
      }
      try await group.waitForAll()
    }
    return Measure.seconds(Measure.clock.now - start)
  }

  // MARK: - Open in a fresh process

  /// The `open-store DIR [USERNAME]` subcommand: opens the store, times it, looks one
  /// username up (untimed) to check it is served, and prints
  /// `{"seconds":…,"peak_rss_bytes":…,"found":…,"snapshot_bytes":…,"log_bytes":…}` with the
  /// process's peak RSS (`VmHWM` on Linux, `ru_maxrss` elsewhere).
  ///
  /// - Parameter arguments: `DIR [USERNAME]`.
  /// - Returns: The exit status.
  static func openStoreCommand(_ arguments: [String]) async -> Int32 {
    guard let directory = arguments.first else {
      Output.log("usage: umk-bench open-store DIR [USERNAME]")
      return 2
    }
    do {
      let start = Measure.clock.now
      let store = try openStoreUnderTest(directory)
      let seconds = Measure.seconds(Measure.clock.now - start)
      var found = true
      if arguments.count > 1 {
        found = try await store.user(usernameKey: Username.canonicalize(arguments[1])) != nil
      }
      let statistics = store.statistics
      store.close()
      // Not getrusage's ru_maxrss: Linux carries the high-water mark of the memory the process
      // had before exec into it, and posix_spawn (as Foundation's Process uses it) runs the
      // child on its parent's memory until exec, so ru_maxrss would report the runner's peak.
      // VmHWM (Measure.residentBytes on Linux) is this process's own.
      let peak = Measure.residentBytes().peak
      Output.result(
        "{\"seconds\":\(Unit.seconds.json(seconds)),\"peak_rss_bytes\":\(peak),"
          + "\"found\":\(found),\"snapshot_bytes\":\(statistics.snapshotBytes),"
          + "\"log_bytes\":\(statistics.logBytes)}")
      return 0
    } catch {
      Output.log("umk-bench open-store: \(error)")
      return 1
    }
  }

  /// What `umk-bench open-store` reports.
  struct ChildOpen {
    /// The seconds opening took.
    var seconds: Double
    /// The child's peak resident set size, bytes.
    var peakBytes: Int
    /// The size of the snapshot it read.
    var snapshotBytes: Int
    /// The size of the log it replayed.
    var logBytes: Int
  }

  /// Runs `umk-bench open-store` on a store in a child process.
  private static func openInChildProcess(_ directory: String, lookingUp username: String) throws
    -> ChildOpen
  {
    guard let executable = Bundle.main.executableURL else {
      throw BenchmarkFailure("cannot find its own executable")
    }
    let process = Process()
    process.executableURL = executable
    process.arguments = ["open-store", directory, username]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0,
      let answer = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
      let seconds = answer["seconds"] as? Double, let peak = answer["peak_rss_bytes"] as? Int,
      answer["found"] as? Bool == true
    else {
      throw BenchmarkFailure("open-store \(directory) failed (status \(process.terminationStatus))")
    }
    return ChildOpen(
      seconds: seconds, peakBytes: peak, snapshotBytes: answer["snapshot_bytes"] as? Int ?? 0,
      logBytes: answer["log_bytes"] as? Int ?? 0)
  }

  // MARK: - Files

  /// A fresh directory for one worker's stores: `Benchmarks/.build/store-bench/SCALE-PID`, on
  /// the same filesystem for ours and SQLite's. It is removed when the worker finishes (see
  /// ``removeWorkspace(_:)``).
  private static func workspace(_ scale: String) throws -> String {
    let path = PythonEnvironment.benchmarksDirectory
      .appendingPathComponent(".build/store-bench/\(scale)-\(getpid())").path
    try? FileManager.default.removeItem(atPath: path)
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  /// Removes a worker's directory, unless `UMK_BENCH_KEEP_STORES` is set in the environment
  /// (to profile opening a store afterwards with `umk-bench open-store DIR`).
  private static func removeWorkspace(_ path: String) {
    if ProcessInfo.processInfo.environment["UMK_BENCH_KEEP_STORES"] != nil {
      Output.log("umk-bench: kept the stores in \(path)")
    } else {
      try? FileManager.default.removeItem(atPath: path)
    }
  }

  /// The sizes of every regular file under `path`, added up.
  static func directoryBytes(_ path: String) -> Int {
    let files = FileManager.default
    var total = 0
    guard let enumerator = files.enumerator(atPath: path) else { return 0 }
    for case let relative as String in enumerator {
      guard let attributes = try? files.attributesOfItem(atPath: path + "/" + relative),
        attributes[.type] as? FileAttributeType == .typeRegular,
        let size = attributes[.size] as? Int
      else { continue }
      total += size
    }
    return total
  }
}

/// Appends to a file and fsyncs it after each append: the raw cost of one durable write on a
/// filesystem, the floor under any store's durable commits.
final class AppendProbe {
  private let descriptor: Int32

  /// Creates (or truncates) the file.
  ///
  /// - Parameter path: The file.
  /// - Throws: ``BenchmarkFailure`` if it cannot be opened.
  init(path: String) throws {
    descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 0o600)
    guard descriptor >= 0 else { throw BenchmarkFailure("cannot create \(path)") }
  }

  deinit {
    close(descriptor)
  }

  /// Times `appends` appends of `bytes` bytes, each followed by `fsync`.
  ///
  /// - Parameters:
  ///   - appends: How many.
  ///   - bytes: The size of each.
  /// - Returns: The seconds they took.
  /// - Throws: ``BenchmarkFailure`` if a write or fsync fails.
  func time(appends: Int, bytes: Int) throws -> Double {
    let buffer = [UInt8](repeating: 0x2A, count: bytes)
    let start = Measure.clock.now
    for _ in 0..<appends {
      let written = buffer.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
      guard written == bytes, fsync(descriptor) == 0 else {
        throw BenchmarkFailure("append and fsync failed: errno \(errno)")
      }
    }
    return Measure.seconds(Measure.clock.now - start)
  }
}
