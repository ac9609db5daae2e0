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

/// The benchmarks of the file-backed store, side by side with SQLite through its C API (see
/// `reference/sqlite_ref.c`) and with GRDB (``GRDBReference``; the names ending in `.grdb`).
enum StoreBenchmarkName: String, CaseIterable, Sendable {
  /// Durable single-user updates, one after the other, ops/s.
  case sequentialUpdate = "store.sequential_update"
  /// The same against GRDB.
  case sequentialUpdateGRDB = "store.sequential_update.grdb"
  /// Durable single-user updates, one after the other, from a task that prefers the store's
  /// `writerExecutor` (so each commit is written in place, without thread hand-offs), ops/s.
  case sequentialUpdateOnWriter = "store.sequential_update.writer_executor"
  /// The same against GRDB.
  case sequentialUpdateOnWriterGRDB = "store.sequential_update.writer_executor.grdb"
  /// Durable single-user updates from 16 concurrent tasks (threads with a connection each
  /// for SQLite), ops/s.
  case groupCommit = "store.group_commit_16"
  /// The same against SQLite with one connection, the 16 threads' writes serialized by a
  /// mutex of the process, each its own transaction.
  case groupCommitSerialized = "store.group_commit_16.sqlite_serialized"
  /// The same against GRDB: 16 tasks writing through its `DatabasePool`.
  case groupCommitGRDB = "store.group_commit_16.grdb"
  /// Lookups by canonical username in an open 100,000-user store, ops/s.
  case lookup = "store.lookup_by_username.100k"
  /// The same against GRDB.
  case lookupGRDB = "store.lookup_by_username.100k.grdb"
  /// Opening a 100,000-user store until it can serve, seconds.
  case open = "store.open.100k"
  /// The same against GRDB.
  case openGRDB = "store.open.100k.grdb"
  /// Bytes on disk of 100,000 users.
  case size = "store.size.100k"
  /// The same against GRDB.
  case sizeGRDB = "store.size.100k.grdb"
  /// Opening a 1,000,000-user store in a fresh process, seconds (absolute), with its peak RSS.
  case openMillion = "store.open.1m"
  /// The same store once 300,000 of its users are updated (commits of 1,000, each user with
  /// an audit event), so that its log holds updates of snapshot users, as a store's log does
  /// between two compactions; seconds (absolute), with its peak RSS.
  case openMillionUpdated = "store.open.1m.updated"
  /// One 200-byte append and fsync on the stores' filesystem, ops/s (informational).
  case fsyncRaw = "store.fsync_raw"
  /// One 200-byte write over preallocated zeros and fdatasync, ops/s (informational): the
  /// floor under a durable commit to the store's preallocated log.
  case fsyncRawInPlace = "store.fsync_raw_in_place"
  /// The same 200-byte writes as the in-place probe, each as the 4 KiB block it falls in,
  /// written directly and synchronously (`O_DIRECT | O_DSYNC`), as the store writes its log on
  /// Linux, ops/s (informational; Linux only).
  case writeRawDirect = "store.write_raw_direct"

  /// The worker process label the benchmark runs in.
  var worker: String {
    isMillion ? StoreBenchmark.millionWorker : StoreBenchmark.worker
  }

  /// Whether it measures the million-user store.
  private var isMillion: Bool { self == .openMillion || self == .openMillionUpdated }

  /// Whether `--quick` runs it (not the million-user scale).
  var inQuickRun: Bool { !isMillion }
}

/// A reference of the side-by-side store benchmarks.
struct StoreReference {
  /// The serving process.
  let process: ReferenceProcess
  /// The folder of its database files.
  let directory: String
  /// Whether it is GRDB (its result lines end in `.grdb`); otherwise SQLite's C API.
  let isGRDB: Bool

  /// The name of the result line of `benchmark` against this reference.
  ///
  /// - Parameter benchmark: The benchmark, by its SQLite name.
  /// - Returns: The name.
  func line(_ benchmark: StoreBenchmarkName) -> String {
    isGRDB ? benchmark.rawValue + ".grdb" : benchmark.rawValue
  }
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

    // The same users for the references, as text, and the usernames to look up.
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

    // Fill all three; none is timed as a benchmark.
    let sqliteDirectory = root + "/sqlite"
    let grdbDirectory = root + "/grdb"
    let sqlite = StoreReference(
      process: try SQLiteReference.start(directory: sqliteDirectory), directory: sqliteDirectory,
      isGRDB: false)
    let grdb = StoreReference(
      process: try GRDBReference.start(directory: grdbDirectory), directory: grdbDirectory,
      isGRDB: true)
    let references = [sqlite, grdb]
    var fills: [Double] = []
    for reference in references {
      let fill = try reference.process.seconds(
        reference.process.request("populate \(root)/users.tsv"))
      fills.append(fill)
      Output.log(
        "\(tag) \(reference.process.name): \(Output.grouped(Double(count))) rows in "
          + "\(Output.grouped(fill * 1000)) ms")
    }
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
    for reference in references { _ = try reference.process.request("close") }

    // Size at rest: every file of each, after closing.
    let oursBytes = Self.directoryBytes(oursDirectory)
    for (reference, fill) in zip(references, fills) {
      let referenceBytes = Self.directoryBytes(reference.directory)
      report(
        BenchmarkResult(
          name: reference.line(.size), unit: .bytes, ours: Double(oursBytes),
          reference: ReferenceFigure(value: Double(referenceBytes), name: reference.process.name),
          target: 0.67, pairs: 1,
          extra: [
            ("ours_fill_seconds", Unit.seconds.json(oursFill)),
            ("reference_fill_seconds", Unit.seconds.json(fill)),
            ("ours_bytes_per_user", String(oursBytes / count)),
            ("reference_bytes_per_user", String(referenceBytes / count)),
          ]))
    }

    if wants(.open, .openGRDB) {
      try measureOpen(
        oursDirectory, references: references, probe: keys[0], tag: tag, report: report)
    }

    // The rest runs against all three open.
    store = try openStoreUnderTest(oursDirectory)
    for reference in references { _ = try reference.process.request("open") }
    if wants(.lookup, .lookupGRDB) {
      for reference in references {
        _ = try reference.process.request("keys \(root)/keys.txt")
      }
      try await measureLookups(keys, in: store, references: references, report: report)
    }
    var nextUpdate: UInt64 = 0
    if wants(
      .sequentialUpdate, .sequentialUpdateGRDB, .sequentialUpdateOnWriter,
      .sequentialUpdateOnWriterGRDB, .fsyncRaw, .fsyncRawInPlace, .writeRawDirect)
    {
      try await measureSequentialUpdates(
        in: store, references: references, records: &records, dataset: data,
        next: &nextUpdate, probePath: root + "/fsync-probe", report: report)
    }
    if wants(.groupCommit, .groupCommitSerialized, .groupCommitGRDB) {
      try await measureGroupCommit(
        in: store, sqlite: sqlite.process, grdb: grdb.process, records: &records, dataset: data,
        next: &nextUpdate, report: report)
    }
    store.close()
    for reference in references { _ = try reference.process.request("close") }
    return results
  }

  /// Whether any of `names` was selected.
  private func wants(_ names: StoreBenchmarkName...) -> Bool {
    names.contains { selected.contains($0) }
  }

  /// Opens ours (until ready to serve) and each reference (open and every row into structs
  /// or records), alternating, each opened store closed untimed; then ours once in a fresh
  /// process for its peak RSS. Every timed open starts with its files in the page cache
  /// (``warmFiles(in:)``).
  private func measureOpen(
    _ directory: String, references: [StoreReference], probe: String, tag: String,
    report: Report
  ) throws {
    var ours: [Double] = []
    var theirs = Array(repeating: [Double](), count: references.count)
    for pair in 0...plan.pairs {
      Self.warmFiles(in: directory)
      let start = Measure.clock.now
      let opened = try openStoreUnderTest(directory)
      let seconds = Measure.seconds(Measure.clock.now - start)
      opened.close()
      if pair > 0 { ours.append(seconds) }
      for (index, reference) in references.enumerated() {
        Self.warmFiles(in: reference.directory)
        let referenceSeconds = try reference.process.seconds(reference.process.request("open"))
        _ = try reference.process.request("close")
        if pair > 0 { theirs[index].append(referenceSeconds) }
      }
    }
    let child = try Self.openInChildProcess(directory, lookingUp: probe)
    Output.log(
      "\(tag) open in a fresh process: \(Output.grouped(child.seconds * 1000)) ms, peak RSS "
        + "\(Output.grouped(Double(child.peakBytes))) bytes, steady RSS "
        + "\(Output.grouped(Double(child.steadyBytes))) bytes, snapshot "
        + "\(Output.grouped(Double(child.snapshotBytes))) bytes, log "
        + "\(Output.grouped(Double(child.logBytes))) bytes")
    for (index, reference) in references.enumerated() {
      report(
        BenchmarkResult(
          name: reference.line(.open), unit: .seconds, ours: Measure.median(ours),
          reference: ReferenceFigure(
            value: Measure.median(theirs[index]), name: reference.process.name),
          target: reference.isGRDB ? 1.0 : 1.3, pairs: plan.pairs,
          extra: [
            ("pair_speedup_median", Self.pairSpeedup(ours, theirs[index], unit: .seconds)),
            ("pair_speedup_min", Self.pairSpeedup(ours, theirs[index], unit: .seconds, .min)),
            ("peak_rss_bytes", String(child.peakBytes)),
            ("steady_rss_bytes", String(child.steadyBytes)),
            ("fresh_process_seconds", Unit.seconds.json(child.seconds)),
            ("snapshot_bytes", String(child.snapshotBytes)),
            ("log_bytes", String(child.logBytes)),
          ]))
    }
  }

  /// Rounds of lookups by canonical username, ours then each reference's, the same usernames
  /// in the same order; the first round (a tenth as long) is warm-up.
  private func measureLookups(
    _ keys: [String], in store: StoreUnderTest, references: [StoreReference], report: Report
  ) async throws {
    var ours: [Double] = []
    var theirs = Array(repeating: [Double](), count: references.count)
    for pair in 0...plan.pairs {
      let lookups = pair == 0 ? plan.lookups / 10 : plan.lookups
      let seconds = try await Self.lookUp(lookups, of: keys, in: store)
      if pair > 0 { ours.append(Double(lookups) / seconds) }
      for (index, reference) in references.enumerated() {
        let answer = try reference.process.request("lookup \(lookups)")
        guard answer["found"] as? Int == lookups else {
          throw BenchmarkFailure("\(reference.process.name) did not find every username")
        }
        if pair > 0 {
          theirs[index].append(Double(lookups) / (try reference.process.seconds(answer)))
        }
      }
    }
    for (index, reference) in references.enumerated() {
      report(
        BenchmarkResult(
          name: reference.line(.lookup), unit: .opsPerSecond, ours: Measure.median(ours),
          reference: ReferenceFigure(
            value: Measure.median(theirs[index]), name: reference.process.name),
          target: 10, pairs: plan.pairs,
          extra: [
            ("pair_speedup_median", Self.pairSpeedup(ours, theirs[index], unit: .opsPerSecond))
          ]))
    }
  }

  /// Rounds of durable single-user updates awaited one after the other, ours then each
  /// reference's (the same users, each update its own transaction), then a round of raw
  /// appends with fsync and one of raw writes over preallocated zeros with fdatasync; the
  /// first round (a fifth as long) is warm-up.
  private func measureSequentialUpdates(
    in store: StoreUnderTest, references: [StoreReference], records: inout [UserRecord],
    dataset: StoreDataset, next: inout UInt64, probePath: String, report: Report
  ) async throws {
    let probe = try AppendProbe(path: probePath)
    // Large enough that the writes never wrap around: like the log, each block is written
    // over only by the writes that fill it, then never again.
    let inPlace = try InPlaceProbe(
      path: probePath + "-in-place",
      bytes: Self.appendBytes * plan.fsyncAppends * (plan.pairs + 1) + 4096)
    var ours: [Double] = []
    var oursOnWriter: [Double] = []
    var theirs = Array(repeating: [Double](), count: references.count)
    let direct = try DirectProbe(
      path: probePath + "-direct",
      bytes: Self.appendBytes * plan.fsyncAppends * (plan.pairs + 1) + 8192)
    var fsyncRates: [Double] = []
    var inPlaceRates: [Double] = []
    var directRates: [Double] = []
    for pair in 0...plan.pairs {
      let updates = pair == 0 ? max(20, plan.sequentialUpdates / 5) : plan.sequentialUpdates
      var changes: [ChangeSet] = []
      let base = next
      for offset in 0..<updates {
        changes.append(Self.update(base + UInt64(offset), of: &records, dataset: dataset))
      }
      let start = Measure.clock.now
      for change in changes { try await Self.commit(change, to: store) }
      let seconds = Measure.seconds(Measure.clock.now - start)
      if pair > 0 { ours.append(Double(updates) / seconds) }
      // Each reference updates the same users from its own copy of their versions.
      for (index, reference) in references.enumerated() {
        let referenceSeconds = try reference.process.seconds(
          reference.process.request("seq \(base) \(updates)"))
        if pair > 0 { theirs[index].append(Double(updates) / referenceSeconds) }
      }
      next += UInt64(updates)
      // The same number of updates of the next users, from a task on the store's writer.
      var onWriterChanges: [ChangeSet] = []
      for offset in 0..<updates {
        onWriterChanges.append(Self.update(next + UInt64(offset), of: &records, dataset: dataset))
      }
      let onWriterSeconds = try await withTaskExecutorPreference(store.writerExecutor) {
        let start = Measure.clock.now
        for change in onWriterChanges { try await Self.commit(change, to: store) }
        return Measure.seconds(Measure.clock.now - start)
      }
      if pair > 0 { oursOnWriter.append(Double(updates) / onWriterSeconds) }
      next += UInt64(updates)
      let appends = pair == 0 ? plan.fsyncAppends / 5 : plan.fsyncAppends
      let fsyncSeconds = try probe.time(appends: appends, bytes: Self.appendBytes)
      let inPlaceSeconds = try inPlace.time(writes: appends, bytes: Self.appendBytes)
      let directSeconds = try direct?.time(writes: appends, bytes: Self.appendBytes)
      if pair > 0 {
        fsyncRates.append(Double(appends) / fsyncSeconds)
        inPlaceRates.append(Double(appends) / inPlaceSeconds)
        if let directSeconds { directRates.append(Double(appends) / directSeconds) }
      }
    }
    let fsyncRate = Measure.median(fsyncRates)
    let inPlaceRate = Measure.median(inPlaceRates)
    let oursRate = Measure.median(ours)
    let oursOnWriterRate = Measure.median(oursOnWriter)
    for (index, reference) in references.enumerated() {
      let theirRate = Measure.median(theirs[index])
      for (line, rates, rate) in [
        (StoreBenchmarkName.sequentialUpdate, ours, oursRate),
        (.sequentialUpdateOnWriter, oursOnWriter, oursOnWriterRate),
      ] {
        report(
          BenchmarkResult(
            name: reference.line(line), unit: .opsPerSecond, ours: rate,
            reference: ReferenceFigure(value: theirRate, name: reference.process.name),
            target: 1.2, pairs: plan.pairs,
            extra: [
              ("pair_speedup_median", Self.pairSpeedup(rates, theirs[index], unit: .opsPerSecond)),
              ("of_in_place_limit", Unit.ratioJSON(rate / inPlaceRate)),
              ("of_fsync_limit", Unit.ratioJSON(rate / fsyncRate)),
              ("reference_of_in_place_limit", Unit.ratioJSON(theirRate / inPlaceRate)),
              // The most any store could reach against this reference in this run: one whose
              // commit cost nothing beyond the raw in-place write and sync.
              ("in_place_limit_speedup", Unit.ratioJSON(inPlaceRate / theirRate)),
              ("reference_of_fsync_limit", Unit.ratioJSON(theirRate / fsyncRate)),
              ("in_place_writes_per_s", Unit.opsPerSecond.json(inPlaceRate)),
              ("fsync_appends_per_s", Unit.opsPerSecond.json(fsyncRate)),
            ]))
      }
    }
    // The raw figures: informational, no reference.
    func reportRaw(
      _ name: StoreBenchmarkName, _ rate: Double, _ extra: [(name: String, json: String)]
    ) {
      report(
        BenchmarkResult(
          name: name.rawValue, unit: .opsPerSecond, ours: rate, reference: nil, target: nil,
          pairs: plan.pairs, extra: extra))
    }
    reportRaw(.fsyncRaw, fsyncRate, [("bytes_per_append", String(Self.appendBytes))])
    reportRaw(
      .fsyncRawInPlace, inPlaceRate,
      [
        ("bytes_per_write", String(Self.appendBytes)),
        ("sequential_update_of_it", Unit.ratioJSON(oursRate / inPlaceRate)),
        ("sequential_update_writer_executor_of_it", Unit.ratioJSON(oursOnWriterRate / inPlaceRate)),
        ("sequential_update_target", "0.9"),
      ])
    if !directRates.isEmpty {
      let directRate = Measure.median(directRates)
      reportRaw(
        .writeRawDirect, directRate,
        [
          ("bytes_per_write", String(Self.appendBytes)),
          ("sequential_update_of_it", Unit.ratioJSON(oursRate / directRate)),
          (
            "sequential_update_writer_executor_of_it",
            Unit.ratioJSON(oursOnWriterRate / directRate)
          ),
          ("of_in_place", Unit.ratioJSON(directRate / inPlaceRate)),
        ])
    }
  }

  /// Rounds of durable single-user updates from 16 concurrent tasks on ours; from 16 threads
  /// with a connection each on SQLite; from 16 threads taking turns on one SQLite connection
  /// (each update its own transaction); and from 16 tasks writing through GRDB's pool. Every
  /// update touches a different user. The first round (a fifth as long) is warm-up.
  private func measureGroupCommit(
    in store: StoreUnderTest, sqlite: ReferenceProcess, grdb: ReferenceProcess,
    records: inout [UserRecord], dataset: StoreDataset, next: inout UInt64, report: Report
  ) async throws {
    _ = try sqlite.request("group-open \(Self.tasks)")
    _ = try grdb.request("group-open \(Self.tasks)")
    var ours: [Double] = []
    var connections: [Double] = []
    var serialized: [Double] = []
    var grdbRates: [Double] = []
    var busyRetries = 0
    for pair in 0...plan.pairs {
      let perTask = pair == 0 ? max(2, plan.updatesPerTask / 5) : plan.updatesPerTask
      let total = perTask * Self.tasks
      // Every store keeps its own versions, so all update the same users.
      let base = next
      next += UInt64(total)
      var work = Array(repeating: [ChangeSet](), count: Self.tasks)
      for step in 0..<perTask {
        for task in 0..<Self.tasks {
          let k = base + UInt64(step * Self.tasks + task)
          work[task].append(Self.update(k, of: &records, dataset: dataset))
        }
      }
      let seconds = try await Self.commitConcurrently(work, to: store)
      let connectionsAnswer = try sqlite.request("group \(base) \(perTask)")
      let serialAnswer = try sqlite.request("serial \(base) \(perTask) \(Self.tasks)")
      let grdbAnswer = try grdb.request("group \(base) \(perTask)")
      if pair > 0 {
        ours.append(Double(total) / seconds)
        connections.append(Double(total) / (try sqlite.seconds(connectionsAnswer)))
        serialized.append(Double(total) / (try sqlite.seconds(serialAnswer)))
        grdbRates.append(Double(total) / (try grdb.seconds(grdbAnswer)))
        busyRetries += connectionsAnswer["busy_retries"] as? Int ?? 0
      }
    }
    let shapes: [(StoreBenchmarkName, [Double], ReferenceProcess, String)] = [
      (.groupCommit, connections, sqlite, "16 connections, busy handler"),
      (.groupCommitSerialized, serialized, sqlite, "1 connection, writes serialized"),
      (.groupCommitGRDB, grdbRates, grdb, "DatabasePool, 16 tasks"),
    ]
    for (name, theirs, process, shape) in shapes {
      report(
        BenchmarkResult(
          name: name.rawValue, unit: .opsPerSecond, ours: Measure.median(ours),
          reference: ReferenceFigure(value: Measure.median(theirs), name: process.name),
          target: 4, pairs: plan.pairs,
          extra: [
            ("pair_speedup_median", Self.pairSpeedup(ours, theirs, unit: .opsPerSecond)),
            ("tasks", String(Self.tasks)),
            ("updates_per_round", String(plan.updatesPerTask * Self.tasks)),
            ("reference_shape", "\"" + shape + "\""),
            ("reference_busy_retries", String(name == .groupCommit ? busyRetries : 0)),
          ]))
    }
  }

  /// The change set of the `k`-th update: the user's first name set to a new value, version
  /// and update time advanced, with one `user.updated` audit event by the first administrator,
  /// as `UserDirectory.updateUser` commits it. `records` keeps every user's latest version.
  static func update(
    _ k: UInt64, of records: inout [UserRecord], dataset: StoreDataset, index: Int? = nil
  ) -> ChangeSet {
    let index = index ?? dataset.userIndex(forUpdate: k)
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
    let opened = try openInChildProcesses(directory, lookingUp: probe, tag: tag)
    var results: [BenchmarkResult] = []
    if selected.contains(.openMillion) {
      results.append(
        opened.result(
          .openMillion, target: 1.0,
          extra: [
            ("bytes_on_disk", String(bytes)), ("fill_seconds", Unit.seconds.json(fillSeconds)),
            ("bytes_per_user", String(bytes / count)),
          ]))
    }
    if selected.contains(.openMillionUpdated) {
      let updates = 300_000
      let updateStart = Measure.clock.now
      try await Self.update(updates, of: data, in: directory)
      let updateSeconds = Measure.seconds(Measure.clock.now - updateStart)
      Output.log("\(tag) ours: \(Output.grouped(Double(updates))) users updated")
      let reopened = try openInChildProcesses(directory, lookingUp: probe, tag: tag)
      results.append(
        reopened.result(
          .openMillionUpdated, target: nil,
          extra: [
            ("updated_users", String(updates)),
            ("update_seconds", Unit.seconds.json(updateSeconds)),
            ("over_open_before_updates", Unit.ratioJSON(reopened.median / opened.median)),
          ]))
    }
    for result in results {
      Output.result(result.jsonLine)
      Output.log(result.summary)
    }
    return results
  }

  /// Updates the first `count` users of a store filled with `data`, in commits of
  /// ``populateBatch`` users, each user's first name changed with a `user.updated` audit event
  /// as ``update(_:of:dataset:)`` makes it, and closes the store.
  private static func update(_ count: Int, of data: StoreDataset, in directory: String)
    async throws
  {
    let store = try openStoreUnderTest(directory)
    defer { store.close() }
    for first in stride(from: 0, to: count, by: populateBatch) {
      var records = try data.records(first..<min(first + populateBatch, count))
      var changes = ChangeSet(users: [])
      for offset in records.indices {
        let one = update(UInt64(first + offset), of: &records, dataset: data, index: offset)
        changes.users += one.users
        changes.auditEvents += one.auditEvents
      }
      try await commit(changes, to: store)
    }
  }

  /// Opens a store in fresh processes (a warm-up, then ``Plan/millionOpens`` timed ones).
  private func openInChildProcesses(_ directory: String, lookingUp probe: String, tag: String)
    throws -> ChildOpens
  {
    var opens = ChildOpens()
    for run in 0...plan.millionOpens {
      let child = try Self.openInChildProcess(directory, lookingUp: probe)
      Output.log(
        "\(tag) open in a fresh process: \(Output.grouped(child.seconds * 1000)) ms, peak RSS "
          + "\(Output.grouped(Double(child.peakBytes))) bytes, steady RSS "
          + "\(Output.grouped(Double(child.steadyBytes))) bytes" + (run == 0 ? " (warm-up)" : ""))
      opens.snapshotBytes = child.snapshotBytes
      opens.logBytes = child.logBytes
      if run > 0 { opens.children.append(child) }
    }
    return opens
  }

  /// The timed opens of one store in fresh processes.
  private struct ChildOpens {
    var children: [ChildOpen] = []
    var snapshotBytes = 0
    var logBytes = 0

    /// The median time.
    var median: Double { Measure.median(children.map(\.seconds)) }

    /// The result line of `name`: the median time, the largest peak and the smallest steady
    /// RSS, and the worst run's peak over its own steady state (target 1.15).
    func result(
      _ name: StoreBenchmarkName, target: Double?, extra: [(name: String, json: String)]
    ) -> BenchmarkResult {
      let peakOverSteady =
        children.map { Double($0.peakBytes) / Double(max(1, $0.steadyBytes)) }.max() ?? 0
      return BenchmarkResult(
        name: name.rawValue, unit: .seconds, ours: median, reference: nil, target: target,
        pairs: children.count,
        extra: [
          ("peak_rss_bytes", String(children.map(\.peakBytes).max() ?? 0)),
          ("steady_rss_bytes", String(children.map(\.steadyBytes).min() ?? 0)),
          ("peak_over_steady", Unit.ratioJSON(peakOverSteady)),
          ("peak_over_steady_target", "1.15"),
        ] + extra + [
          ("snapshot_bytes", String(snapshotBytes)), ("log_bytes", String(logBytes)),
        ])
    }
  }

  /// The median of the pairs' own speedups, as JSON: steadier than the ratio of the two
  /// medians when the disk's speed drifts during a run (the machines are shared).
  ///
  /// - Parameters:
  ///   - ours: Our measurements.
  ///   - theirs: The reference's, pair by pair.
  ///   - unit: Their unit.
  ///   - statistic: `Measure.median` unless another summary is wanted (the worst pair: `.min`).
  /// - Returns: The summary of the pairs' speedups, as JSON.
  private static func pairSpeedup(
    _ ours: [Double], _ theirs: [Double], unit: Unit, _ statistic: PairStatistic = .median
  ) -> String {
    let ratios = zip(ours, theirs).map { unit.higherIsBetter ? $0 / $1 : $1 / $0 }
    switch statistic {
    case .median: return Unit.ratioJSON(Measure.median(ratios))
    case .min: return Unit.ratioJSON(ratios.min() ?? 0)
    }
  }

  /// How ``pairSpeedup(_:_:unit:_:)`` summarizes the pairs.
  private enum PairStatistic {
    case median
    case min
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
      // Not getrusage's ru_maxrss: Linux carries the high-water mark of the memory the process
      // had before exec into it, and posix_spawn (as Foundation's Process uses it) runs the
      // child on its parent's memory until exec, so ru_maxrss would report the runner's peak.
      // VmHWM (Measure.residentBytes on Linux) is this process's own.
      let peak = Measure.residentBytes().peak
      // The steady state: the open store's own memory, once the allocator has given back
      // what opening freed (glibc keeps freed memory until asked).
      #if os(Linux)
        _ = glibcMallocTrim(0)
      #endif
      let steady = Measure.residentBytes().current
      withExtendedLifetime(store) {}
      store.close()
      Output.result(
        "{\"seconds\":\(Unit.seconds.json(seconds)),\"peak_rss_bytes\":\(peak),"
          + "\"steady_rss_bytes\":\(steady),"
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
    /// The child's resident set size once open and serving, after freed memory went back to
    /// the system, bytes: what the open store itself keeps.
    var steadyBytes: Int
    /// The size of the snapshot it read.
    var snapshotBytes: Int
    /// The size of the log it replayed.
    var logBytes: Int
  }

  /// Runs `umk-bench open-store` on a store in a child process, its files in the page cache
  /// (``warmFiles(in:)``).
  private static func openInChildProcess(_ directory: String, lookingUp username: String) throws
    -> ChildOpen
  {
    warmFiles(in: directory)
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
      seconds: seconds, peakBytes: peak, steadyBytes: answer["steady_rss_bytes"] as? Int ?? 0,
      snapshotBytes: answer["snapshot_bytes"] as? Int ?? 0,
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
  /// Reads every file in `directory` once, untimed, so that the open timed next finds them in
  /// the page cache, as a server that restarts finds its recently used files.
  ///
  /// The memory manager of the machines the benchmarks run on (DAMON reclaim) evicts page
  /// cache that has not been touched for seconds, even with most memory free: 3 % of a
  /// 246 MB store's pages in 20 seconds. Without this, each open would read a varying share of
  /// its files from the disk, in scattered small reads, whichever store it measures.
  static func warmFiles(in directory: String) {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
      return
    }
    let chunk = 1 << 20
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 16)
    defer { buffer.deallocate() }
    for name in names {
      let descriptor = open(directory + "/" + name, O_RDONLY | O_CLOEXEC)
      guard descriptor >= 0 else { continue }
      while read(descriptor, buffer, chunk) > 0 {}
      close(descriptor)
    }
  }

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

#if os(Linux)
  /// glibc's `malloc_trim`, which its Swift module does not import: returns the free memory
  /// at the top of the heap (and whole free pages inside it) to the system.
  @_silgen_name("malloc_trim")
  private func glibcMallocTrim(_ pad: Int) -> Int32
#endif

/// Writes over a preallocated, zero-filled file (its blocks written and synced beforehand) and
/// `fdatasync`s after each write, as the store's log does: no size or block allocation to make
/// durable, only the data.
final class InPlaceProbe {
  private let descriptor: Int32
  private let size: Int
  private var offset = 0

  /// Creates (or truncates) the file and fills it with `bytes` zeros, synced.
  ///
  /// - Parameters:
  ///   - path: The file.
  ///   - bytes: Its size; writes wrap around to its start if they reach its end (the
  ///     benchmark makes it large enough that they do not).
  /// - Throws: ``BenchmarkFailure`` if it cannot be created.
  init(path: String, bytes: Int) throws {
    descriptor = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
    guard descriptor >= 0 else { throw BenchmarkFailure("cannot create \(path)") }
    size = max(bytes, 4096)
    let zeros = [UInt8](repeating: 0, count: size)
    let written = zeros.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    guard written == size, fsync(descriptor) == 0 else {
      close(descriptor)
      throw BenchmarkFailure("cannot preallocate \(path)")
    }
  }

  deinit {
    close(descriptor)
  }

  /// Times `writes` writes of `bytes` bytes at consecutive offsets, each followed by
  /// `fdatasync`.
  ///
  /// - Parameters:
  ///   - writes: How many.
  ///   - bytes: The size of each.
  /// - Returns: The seconds they took.
  /// - Throws: ``BenchmarkFailure`` if a write or sync fails.
  func time(writes: Int, bytes: Int) throws -> Double {
    let buffer = [UInt8](repeating: 0x2A, count: bytes)
    let start = Measure.clock.now
    for _ in 0..<writes {
      if offset + bytes > size { offset = 0 }
      let written = buffer.withUnsafeBytes {
        pwrite(descriptor, $0.baseAddress, $0.count, off_t(offset))
      }
      guard written == bytes, fdatasync(descriptor) == 0 else {
        throw BenchmarkFailure("write and fdatasync failed: errno \(errno)")
      }
      offset += bytes
    }
    return Measure.seconds(Measure.clock.now - start)
  }
}

/// Writes like ``InPlaceProbe``, but as the store writes its log on Linux: each write is the
/// whole 4 KiB block it falls in (the block's earlier bytes kept from the previous write), on
/// a descriptor opened with `O_DIRECT | O_DSYNC`, so one system call writes and syncs it.
final class DirectProbe {
  private static let block = 4096
  private let descriptor: Int32
  private let size: Int
  private var offset = 0
  private let buffer: UnsafeMutableRawBufferPointer

  /// Creates (or truncates) the file, fills it with `bytes` synced zeros and reopens it for
  /// direct writes; `nil` where direct I/O is not available (not Linux, or refused).
  ///
  /// - Parameters:
  ///   - path: The file.
  ///   - bytes: Its size (the benchmark makes it large enough that writes never wrap).
  /// - Throws: ``BenchmarkFailure`` if it cannot be created.
  init?(path: String, bytes: Int) throws {
    #if os(Linux) && (arch(x86_64) || arch(arm64))
      // O_DIRECT, which Glibc's Swift module does not import (asm-generic and arm64 differ).
      #if arch(x86_64)
        let directFlag: Int32 = 0o40000
      #else
        let directFlag: Int32 = 0o200000
      #endif
      // The file and its synced zeros, as for the in-place probe (whose descriptor closes).
      _ = try InPlaceProbe(path: path, bytes: bytes)
      let descriptor = open(path, O_RDWR | O_DSYNC | directFlag)
      guard descriptor >= 0 else { return nil }
      self.descriptor = descriptor
      size = max(bytes, 2 * Self.block)
      buffer = UnsafeMutableRawBufferPointer.allocate(
        byteCount: 2 * Self.block, alignment: Self.block)
      buffer.initializeMemory(as: UInt8.self, repeating: 0)
    #else
      return nil
    #endif
  }

  deinit {
    close(descriptor)
    buffer.deallocate()
  }

  /// Times `writes` writes of `bytes` bytes (at most 4 KiB) at consecutive offsets.
  ///
  /// - Parameters:
  ///   - writes: How many.
  ///   - bytes: The size of each.
  /// - Returns: The seconds they took.
  /// - Throws: ``BenchmarkFailure`` if a write fails.
  func time(writes: Int, bytes: Int) throws -> Double {
    let block = Self.block
    let start = Measure.clock.now
    for _ in 0..<writes {
      if offset + bytes + block > size {
        offset = 0
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
      }
      let first = offset - offset % block
      let inBlock = offset - first
      for index in inBlock..<(inBlock + bytes) { buffer[index] = 0x2A }
      let length = (inBlock + bytes + block - 1) / block * block
      let written = pwrite(descriptor, buffer.baseAddress, length, off_t(first))
      guard written == length else {
        throw BenchmarkFailure("direct write failed: errno \(errno)")
      }
      offset += bytes
      if offset - first >= block {
        // The next write starts in the second block: keep its bytes at the front.
        let kept = offset - first - block
        buffer.copyMemory(
          from: UnsafeRawBufferPointer(rebasing: buffer[block..<(block + kept)]))
        for index in kept..<(2 * block) { buffer[index] = 0 }
      }
    }
    return Measure.seconds(Measure.clock.now - start)
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
