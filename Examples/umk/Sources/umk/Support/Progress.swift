import Foundation

/// A progress bar on standard error, drawn only on a terminal.
final class Progress {
  /// Whether anything is drawn.
  let enabled: Bool
  /// The last percentage drawn.
  private var lastPercent = -1

  /// A progress bar.
  ///
  /// - Parameter enabled: Whether to draw it (standard error is a terminal, no `--json`).
  init(enabled: Bool) {
    self.enabled = enabled
  }

  /// Draws the bar when the percentage changes.
  ///
  /// - Parameters:
  ///   - done: The work done.
  ///   - total: All the work.
  ///   - label: What is counted.
  func update(done: Int, total: Int, label: String) {
    guard enabled, total > 0 else { return }
    let percent = done * 100 / total
    guard percent != lastPercent else { return }
    lastPercent = percent
    let width = 30
    let filled = percent * width / 100
    let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
    write("\r[\(bar)] \(percent)% \(label)\u{1B}[K")
  }

  /// Replaces the bar with a status line.
  ///
  /// - Parameter text: The status.
  func status(_ text: String) {
    guard enabled else { return }
    write("\r\(text)\u{1B}[K")
  }

  /// Clears the line.
  func finish() {
    guard enabled else { return }
    write("\r\u{1B}[K")
  }

  /// Writes to standard error.
  ///
  /// - Parameter text: The text.
  private func write(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
  }
}
