/// A directory size the benchmarks run at.
struct Scale: Hashable, Sendable {
  /// The suffix of benchmark names, such as `100k`.
  let label: String
  /// How many users the directory holds.
  let userCount: Int

  /// Every scale, smallest first. `--quick` runs only the first.
  static let all = [
    Scale(label: "100k", userCount: 100_000),
    Scale(label: "1m", userCount: 1_000_000),
  ]

  /// The scale with this label, if any.
  ///
  /// - Parameter label: A label such as `1m`.
  /// - Returns: The scale, or `nil`.
  static func named(_ label: String) -> Scale? {
    all.first { $0.label == label }
  }
}

/// What a benchmark measures, with its unit and absolute target from issue 2.
enum BenchmarkKind: String, CaseIterable, Sendable {
  /// `addUser` through the facade, ops/s.
  case addUser = "add_user"
  /// Resident memory per user after populating, bytes.
  case memoryPerUser = "memory_per_user"
  /// `user(username:by:)`, ops/s.
  case lookupByUsername = "lookup_by_username"
  /// A filtered, searched page of 50, seconds.
  case searchPage = "search_page"
  /// The same page when a user was added just before it (a directory in use), seconds.
  case searchPageAfterAdd = "search_page_after_add"

  /// The unit of `ours` and `target`, as `BENCHMARKS.md` spells it.
  var unit: Unit {
    switch self {
    case .addUser, .lookupByUsername: .opsPerSecond
    case .memoryPerUser: .bytes
    case .searchPage, .searchPageAfterAdd: .seconds
    }
  }

  /// The absolute target, in ``unit``.
  var target: Double {
    switch self {
    case .addUser: 100_000
    case .lookupByUsername: 1_000_000
    case .searchPage, .searchPageAfterAdd: 0.010
    case .memoryPerUser: 1024
    }
  }

  /// The full benchmark name at a scale, such as `directory.add_user.1m`.
  ///
  /// - Parameter scale: The scale.
  /// - Returns: The name.
  func name(at scale: Scale) -> String {
    "directory.\(rawValue).\(scale.label)"
  }
}

/// A unit of measurement.
enum Unit: String, Sendable {
  /// Operations per second; higher is better.
  case opsPerSecond = "ops/s"
  /// Seconds; lower is better.
  case seconds = "s"
  /// Bytes; lower is better.
  case bytes = "bytes"

  /// Whether a larger figure is better.
  var higherIsBetter: Bool { self == .opsPerSecond }

  /// Formats a figure of this unit as a JSON number.
  ///
  /// - Parameter value: The figure.
  /// - Returns: Integers for rates and bytes; seconds to the nanosecond, trailing zeros
  ///   removed.
  func json(_ value: Double) -> String {
    guard value.isFinite else { return "null" }
    switch self {
    case .opsPerSecond, .bytes:
      return String(Int64(value.rounded()))
    case .seconds:
      let nanoseconds = Int64((value * 1e9).rounded())
      let whole = nanoseconds / 1_000_000_000
      var fraction = String(nanoseconds % 1_000_000_000)
      fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
      while fraction.count > 1 && fraction.hasSuffix("0") { fraction.removeLast() }
      return "\(whole).\(fraction)"
    }
  }
}

/// One benchmark's outcome: a line of the runner's output.
struct BenchmarkResult: Sendable {
  /// The benchmark's name.
  let name: String
  /// What it measured.
  let kind: BenchmarkKind
  /// Our figure, in the kind's unit.
  let ours: Double
  /// How many measurements the figure is the median of.
  let pairs: Int

  /// Whether the target is met: rates at or above it, times and sizes at or below it.
  var ok: Bool {
    kind.unit.higherIsBetter ? ours >= kind.target : ours <= kind.target
  }

  /// The JSON object of `BENCHMARKS.md`, on one line. There is no reference for these
  /// absolute targets, so `reference`, `reference_name` and `speedup` are `null`.
  var jsonLine: String {
    let unit = kind.unit
    return "{\"benchmark\":\"\(name)\",\"unit\":\"\(unit.rawValue)\",\"ours\":\(unit.json(ours)),"
      + "\"reference\":null,\"reference_name\":null,\"speedup\":null,"
      + "\"target\":\(unit.json(kind.target)),\"pairs\":\(pairs),\"ok\":\(ok)}"
  }
}
