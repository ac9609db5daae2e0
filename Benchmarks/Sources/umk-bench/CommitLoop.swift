import Foundation
import UserManagementKit

extension StoreBenchmark {
  /// The `commit-loop DIR COUNT [USERS]` subcommand, for profiling a sequential commit (`perf
  /// record`): creates a store of `USERS` users (2,000 by default) in `DIR` (which must not hold
  /// one), then makes `COUNT`
  /// single-user updates one after the other from a task on the Swift concurrency pool, then
  /// `COUNT` from a task that prefers the store's `writerExecutor`, and prints
  /// `{"pool_us":…,"writer_executor_us":…}`, the mean microseconds per commit of each.
  ///
  /// - Parameter arguments: `DIR COUNT [USERS]`.
  /// - Returns: The exit status.
  static func commitLoopCommand(_ arguments: [String]) async -> Int32 {
    guard (2...3).contains(arguments.count), let count = Int(arguments[1]), count > 0,
      let users = arguments.count == 3 ? Int(arguments[2]) : 2_000, users > 0
    else {
      Output.log("usage: umk-bench commit-loop DIR COUNT [USERS]")
      return 2
    }
    guard !FileManager.default.fileExists(atPath: arguments[0]) else {
      Output.log("umk-bench commit-loop: \(arguments[0]) exists; name a new directory to fill")
      return 2
    }
    do {
      let data = StoreDataset(count: users)
      var records = try data.records(0..<users)
      let store = try openStoreUnderTest(arguments[0])
      defer { store.close() }
      try await store.commit(ChangeSet(policies: data.policies.map { .put($0) }))
      for start in stride(from: 0, to: users, by: 1_000) {
        try await store.commit(ChangeSet(users: Array(records[start..<min(start + 1_000, users)])))
      }
      var next: UInt64 = 0
      func round() -> [ChangeSet] {
        defer { next += UInt64(count) }
        return (0..<UInt64(count)).map { Self.update(next + $0, of: &records, dataset: data) }
      }
      let onPool = round()
      let poolStart = Measure.clock.now
      for changes in onPool { try await store.commit(changes) }
      let poolSeconds = Measure.seconds(Measure.clock.now - poolStart)
      let onWriter = round()
      let writerSeconds = try await withTaskExecutorPreference(store.writerExecutor) {
        let start = Measure.clock.now
        for changes in onWriter { try await store.commit(changes) }
        return Measure.seconds(Measure.clock.now - start)
      }
      func microseconds(_ seconds: Double) -> String {
        String(format: "%.1f", seconds / Double(count) * 1e6)
      }
      Output.result(
        "{\"pool_us\":\(microseconds(poolSeconds)),"
          + "\"writer_executor_us\":\(microseconds(writerSeconds))}")
      return 0
    } catch {
      Output.log("umk-bench commit-loop: \(error)")
      return 1
    }
  }
}
