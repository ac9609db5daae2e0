import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Small helpers for measuring and reporting.
enum Measure {
  /// The clock every timing uses.
  static let clock = ContinuousClock()

  /// A duration in seconds.
  ///
  /// - Parameter duration: The duration.
  /// - Returns: Seconds as a `Double`.
  static func seconds(_ duration: Duration) -> Double {
    let parts = duration.components
    return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
  }

  /// The median of some figures (the mean of the middle two for an even count).
  ///
  /// - Parameter values: The figures; at least one.
  /// - Returns: The median.
  static func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
  }

  /// The process's resident set size in bytes, and its peak.
  ///
  /// On Linux these are `VmRSS` and `VmHWM` from `/proc/self/status`; elsewhere both are the
  /// peak from `getrusage`.
  ///
  /// - Returns: Current and peak resident bytes.
  static func residentBytes() -> (current: Int, peak: Int) {
    #if os(Linux)
      if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) {
        var current = 0
        var peak = 0
        for line in status.split(separator: "\n") {
          if line.hasPrefix("VmRSS:") { current = kilobytes(line) * 1024 }
          if line.hasPrefix("VmHWM:") { peak = kilobytes(line) * 1024 }
        }
        if current > 0 { return (current, max(peak, current)) }
      }
    #endif
    var usage = rusage()
    #if os(Linux)
      getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
      let peak = Int(usage.ru_maxrss) * 1024
    #else
      getrusage(RUSAGE_SELF, &usage)
      let peak = Int(usage.ru_maxrss)
    #endif
    return (peak, peak)
  }

  /// Resets the peak resident set size to the current one where the system allows it (Linux:
  /// writing `5` to `/proc/self/clear_refs`), so a later peak measures only what follows.
  static func resetPeakResidentBytes() {
    #if os(Linux)
      if let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") {
        handle.write(Data("5".utf8))
        try? handle.close()
      }
    #endif
  }

  private static func kilobytes(_ line: Substring) -> Int {
    Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
  }
}

/// Writes to the standard streams without buffering, so lines appear as benchmarks finish
/// and interleave correctly with the worker processes.
enum Output {
  /// Writes one line to standard output (the JSON results).
  ///
  /// - Parameter line: The line, without its newline.
  static func result(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
  }

  /// Writes one line to standard error (progress and diagnostics).
  ///
  /// - Parameter line: The line, without its newline.
  static func log(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
  }

  /// Formats a figure with thousands separators, for progress lines.
  ///
  /// - Parameter value: The figure.
  /// - Returns: Such as `1,234,567`.
  static func grouped(_ value: Double) -> String {
    let digits = String(Int64(value.rounded()).magnitude)
    var result = ""
    for (offset, digit) in digits.enumerated() {
      if offset > 0 && (digits.count - offset) % 3 == 0 { result.append(",") }
      result.append(digit)
    }
    return value < 0 ? "-" + result : result
  }
}
