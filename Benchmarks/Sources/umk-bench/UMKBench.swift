import Foundation
import UserManagementKit

/// The benchmark runner of `BENCHMARKS.md`: the directory targets of issue 2, the crypto
/// targets of issue 3, the file-backed store against SQLite, and two-factor sign-in and API
/// keys (issue 14).
///
/// ```text
/// umk-bench [--quick] [--output FILE] [--strict] [NAME…]
/// umk-bench --list
/// umk-bench open-store DIR [USERNAME]
/// umk-bench grdb-ref --serve DIR
/// ```
///
/// Each scale runs in a worker process of its own (the same executable, started with
/// `--worker SCALE`), so its memory figure is measured from a fresh heap and process start-up
/// is excluded from every figure. The crypto benchmarks share one worker (`--worker crypto`),
/// except those that measure memory, which get a fresh one each; the store benchmarks run in
/// one worker at 100,000 users (`--worker store`) and one at a million (`--worker store-1m`),
/// which times opening in fresh `open-store` child processes; the security benchmarks share one
/// worker (`--worker security`). Results go to standard output (or
/// `--output FILE`) as one JSON object per line; progress goes to standard error.
@main
struct UMKBench {
  /// Exit status of a worker whose benchmarks ran but missed a target.
  static let missedTargetStatus: Int32 = 3

  /// Runs as the runner, or as a worker when the first argument is `--worker`.
  static func main() async {
    let arguments = Array(CommandLine.arguments.dropFirst())
    if arguments.first == "--worker" {
      exit(await worker(Array(arguments.dropFirst())))
    }
    if arguments.first == "open-store" {
      exit(await StoreBenchmark.openStoreCommand(Array(arguments.dropFirst())))
    }
    if arguments.first == "commit-loop" {
      exit(await StoreBenchmark.commitLoopCommand(Array(arguments.dropFirst())))
    }
    if arguments.first == "grdb-ref" {
      exit(await GRDBReference.serveCommand(Array(arguments.dropFirst())))
    }
    exit(runner(arguments))
  }

  /// Parses the command line and runs one worker process per scale.
  private static func runner(_ arguments: [String]) -> Int32 {
    var quick = false
    var strict = false
    var list = false
    var outputPath: String?
    var prefixes: [String] = []
    var remaining = arguments[...]
    while let argument = remaining.popFirst() {
      switch argument {
      case "--quick": quick = true
      case "--strict": strict = true
      case "--list": list = true
      case "--output", "-o":
        guard let path = remaining.popFirst() else {
          Output.log("umk-bench: --output needs a file name")
          return 2
        }
        outputPath = path
      case "--help", "-h":
        Output.log(usage)
        return 0
      default:
        if argument.hasPrefix("-") {
          Output.log("umk-bench: unknown option \(argument)\n\n\(usage)")
          return 2
        }
        prefixes.append(argument)
      }
    }

    func selected(_ name: String) -> Bool {
      prefixes.isEmpty || prefixes.contains { name.hasPrefix($0) }
    }
    // Each entry runs in one worker process: `--worker LABEL [--quick] NAME…`.
    let scales = quick ? Array(Scale.all.prefix(1)) : Scale.all
    var plan: [(worker: String, names: [String])] = []
    for scale in scales {
      let names = BenchmarkKind.allCases.map { $0.name(at: scale) }.filter(selected)
      if !names.isEmpty { plan.append((scale.label, names)) }
    }
    let crypto = CryptoBenchmark.all.filter { selected($0.name) }
    let shared = crypto.filter { !$0.needsFreshProcess }.map(\.name)
    if !shared.isEmpty { plan.append((cryptoWorker, shared)) }
    for benchmark in crypto where benchmark.needsFreshProcess {
      plan.append((cryptoWorker, [benchmark.name]))
    }
    let store = StoreBenchmarkName.allCases.filter {
      selected($0.rawValue) && (!quick || $0.inQuickRun)
    }
    for label in [StoreBenchmark.worker, StoreBenchmark.millionWorker] {
      let names = store.filter { $0.worker == label }.map(\.rawValue)
      if !names.isEmpty { plan.append((label, names)) }
    }
    let security = SecurityBenchmarkName.allCases.map(\.rawValue).filter(selected)
    if !security.isEmpty { plan.append((SecurityBenchmark.worker, security)) }
    if list {
      for scale in Scale.all {
        for kind in BenchmarkKind.allCases { print(kind.name(at: scale)) }
      }
      for benchmark in CryptoBenchmark.all { print(benchmark.name) }
      for benchmark in StoreBenchmarkName.allCases { print(benchmark.rawValue) }
      for benchmark in SecurityBenchmarkName.allCases { print(benchmark.rawValue) }
      return 0
    }
    guard !plan.isEmpty else {
      Output.log(
        "umk-bench: no benchmark matches \(prefixes.joined(separator: " "))"
          + (quick ? " (--quick runs only the 100k scale)" : "") + "; see --list")
      return 2
    }

    let output: FileHandle
    if let outputPath {
      guard FileManager.default.createFile(atPath: outputPath, contents: nil),
        let handle = FileHandle(forWritingAtPath: outputPath)
      else {
        Output.log("umk-bench: cannot write \(outputPath)")
        return 2
      }
      output = handle
    } else {
      output = FileHandle.standardOutput
    }

    guard let executable = Bundle.main.executableURL else {
      Output.log("umk-bench: cannot find its own executable")
      return 1
    }
    let started = Date()
    var missed = false
    for (worker, names) in plan {
      let process = Process()
      process.executableURL = executable
      process.arguments = ["--worker", worker] + (quick ? ["--quick"] : []) + names
      process.standardOutput = output
      do {
        try process.run()
      } catch {
        Output.log("umk-bench: cannot start the \(worker) worker: \(error)")
        return 1
      }
      process.waitUntilExit()
      switch process.terminationStatus {
      case 0: break
      case missedTargetStatus: missed = true
      default:
        Output.log(
          "umk-bench: the \(worker) worker failed (status \(process.terminationStatus))")
        return 1
      }
    }
    let elapsed = Int(Date().timeIntervalSince(started).rounded())
    Output.log(
      "umk-bench: finished in \(elapsed) s; "
        + (missed ? "some targets were missed" : "every target was met"))
    return strict && missed ? missedTargetStatus : 0
  }

  /// The worker label of the crypto benchmarks.
  private static let cryptoWorker = "crypto"

  /// Runs the benchmarks of one scale, or the named crypto benchmarks, in this process.
  ///
  /// - Parameter arguments: `SCALE|crypto [--quick] NAME…` (full names).
  /// - Returns: The exit status: 0, ``missedTargetStatus``, or 1 on failure.
  private static func worker(_ arguments: [String]) async -> Int32 {
    let label = arguments.first ?? ""
    let rest = arguments.dropFirst()
    let quick = rest.contains("--quick")
    let names = Set(rest.filter { !$0.hasPrefix("-") })
    if label == cryptoWorker {
      do {
        let results = try CryptoBenchmark.run(names, quick: quick)
        for result in results { Output.log(result.summary) }
        return results.allSatisfy(\.ok) ? 0 : missedTargetStatus
      } catch {
        Output.log("umk-bench: crypto: \(error)")
        return 1
      }
    }
    if label == StoreBenchmark.worker || label == StoreBenchmark.millionWorker {
      do {
        let results = try await StoreBenchmark.run(worker: label, names: names, quick: quick)
        return results.allSatisfy(\.ok) ? 0 : missedTargetStatus
      } catch {
        Output.log("umk-bench: \(label): \(error)")
        return 1
      }
    }
    if label == SecurityBenchmark.worker {
      do {
        let results = try await SecurityBenchmark.run(names: names, quick: quick)
        return results.allSatisfy(\.ok) ? 0 : missedTargetStatus
      } catch {
        Output.log("umk-bench: \(label): \(error)")
        return 1
      }
    }
    guard let scale = Scale.named(label) else {
      Output.log(
        "umk-bench: --worker needs a scale, \(cryptoWorker), \(StoreBenchmark.worker) or "
          + "\(SecurityBenchmark.worker)")
      return 1
    }
    let selected = Set(BenchmarkKind.allCases.filter { names.contains($0.name(at: scale)) })
    let benchmark = DirectoryBenchmark(scale: scale, selected: selected, plan: .make(quick: quick))
    do {
      let results = try await benchmark.run()
      for result in results { Output.log(result.summary) }
      return results.allSatisfy(\.ok) ? 0 : missedTargetStatus
    } catch {
      Output.log("umk-bench: \(scale.label): the library refused an operation: \(error)")
      return 1
    }
  }

  private static let usage = """
    usage: umk-bench [--quick] [--output FILE] [--strict] [NAME…]
           umk-bench --list
           umk-bench open-store DIR [USERNAME]

      NAME…          run only benchmarks whose names start with one of these prefixes
      --quick        the 100k scale only, fewer repetitions and pairs (under 2 minutes)
      --output FILE  write the JSON lines to FILE instead of standard output
      --strict       exit with status 3 when a target is missed
      --list         print every benchmark name
      open-store     open the store in DIR, look USERNAME up, and print the time to open and
                     the process's peak RSS as JSON (what store.open.1m runs as a child)
    """
}
