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
  /// `user(named:by:)`, ops/s.
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

  /// Formats a speedup or a speedup target: three decimals, trailing zeros removed.
  ///
  /// - Parameter value: The ratio.
  /// - Returns: Such as `1.08` or `2`, or `null` if it is not finite.
  static func ratioJSON(_ value: Double) -> String {
    guard value.isFinite else { return "null" }
    let thousandths = Int64((value * 1000).rounded())
    var fraction = String(thousandths.magnitude % 1000)
    fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
    while fraction.hasSuffix("0") { fraction.removeLast() }
    let whole = (thousandths < 0 ? "-" : "") + String(thousandths.magnitude / 1000)
    return fraction.isEmpty ? whole : whole + "." + fraction
  }
}

/// A reference measured side by side with ours: its figure and what it is.
struct ReferenceFigure: Sendable {
  /// The reference's median figure, in the benchmark's unit.
  let value: Double
  /// The reference and its version, such as `argon2-cffi 25.1.0`.
  let name: String
}

/// One benchmark's outcome: a line of the runner's output.
struct BenchmarkResult: Sendable {
  /// The benchmark's name.
  let name: String
  /// The unit of `ours`, the reference and an absolute target.
  let unit: Unit
  /// Our figure, in `unit`.
  let ours: Double
  /// The reference measured in the same run, or `nil` for an absolute target.
  let reference: ReferenceFigure?
  /// The target: a speedup when there is a reference, otherwise an absolute figure in `unit`;
  /// `nil` for an informational figure, which has no target and is always `ok`.
  let target: Double?
  /// How many measurements (or ours/reference pairs) the figures are the medians of.
  let pairs: Int
  /// Further fields of the JSON object, after the standard ones: names and JSON values
  /// (`BENCHMARKS.md` allows extra fields, such as `peak_rss_bytes`).
  let extra: [(name: String, json: String)]

  /// A result against a reference (`reference` non-`nil`, `target` a speedup), an absolute
  /// target (`reference` `nil`, `target` in `unit`), or an informational figure (both `nil`).
  init(
    name: String, unit: Unit, ours: Double, reference: ReferenceFigure?, target: Double?,
    pairs: Int, extra: [(name: String, json: String)] = []
  ) {
    self.name = name
    self.unit = unit
    self.ours = ours
    self.reference = reference
    self.target = target
    self.pairs = pairs
    self.extra = extra
  }

  /// A directory result: the kind's unit and absolute target, no reference.
  init(name: String, kind: BenchmarkKind, ours: Double, pairs: Int) {
    self.init(
      name: name, unit: kind.unit, ours: ours, reference: nil, target: kind.target, pairs: pairs)
  }

  /// How many times better ours is than the reference: reference ÷ ours for times and sizes,
  /// ours ÷ reference for rates; `nil` without a reference.
  var speedup: Double? {
    guard let reference else { return nil }
    return unit.higherIsBetter ? ours / reference.value : reference.value / ours
  }

  /// Whether the target is met: the speedup at or above it, or without a reference, rates at
  /// or above it and times and sizes at or below it.
  var ok: Bool {
    guard let target else { return true }
    if let speedup { return speedup >= target }
    return unit.higherIsBetter ? ours >= target : ours <= target
  }

  /// The JSON object of `BENCHMARKS.md`, on one line.
  var jsonLine: String {
    let referenceJSON = reference.map { unit.json($0.value) } ?? "null"
    let nameJSON = reference.map { "\"" + jsonEscaped($0.name) + "\"" } ?? "null"
    let speedupJSON = speedup.map { Unit.ratioJSON($0) } ?? "null"
    let targetJSON = target.map { reference == nil ? unit.json($0) : Unit.ratioJSON($0) } ?? "null"
    let extraJSON = extra.map { ",\"\(jsonEscaped($0.name))\":\($0.json)" }.joined()
    return "{\"benchmark\":\"\(name)\",\"unit\":\"\(unit.rawValue)\",\"ours\":\(unit.json(ours)),"
      + "\"reference\":\(referenceJSON),\"reference_name\":\(nameJSON),\"speedup\":\(speedupJSON),"
      + "\"target\":\(targetJSON),\"pairs\":\(pairs),\"ok\":\(ok)\(extraJSON)}"
  }

  /// A progress line for standard error.
  var summary: String {
    let figure = "\(name): \(unit.json(ours)) \(unit.rawValue)"
    guard let target else { return figure + " (informational)" }
    if let reference, let speedup {
      return figure + " vs \(unit.json(reference.value)) (\(reference.name)): speedup "
        + "\(Unit.ratioJSON(speedup)) (target \(Unit.ratioJSON(target))) " + (ok ? "ok" : "MISSED")
    }
    return figure + " (target \(unit.json(target))) " + (ok ? "ok" : "MISSED")
  }
}

/// Escapes a string for a JSON string literal.
///
/// - Parameter text: The text.
/// - Returns: The text with quotes, backslashes and control characters escaped.
func jsonEscaped(_ text: String) -> String {
  var result = ""
  for scalar in text.unicodeScalars {
    switch scalar {
    case "\"": result += "\\\""
    case "\\": result += "\\\\"
    case "\n": result += "\\n"
    case _ where scalar.value < 0x20:
      let hex = String(scalar.value, radix: 16)
      result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    default: result.unicodeScalars.append(scalar)
    }
  }
  return result
}
