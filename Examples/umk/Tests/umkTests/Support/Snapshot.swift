import Foundation
import Testing

/// Text compared exactly with a file committed under `Tests/umkTests/Snapshots/`.
///
/// Set `UMK_RECORD_SNAPSHOTS=1` to write the actual text to the file instead (the test then
/// records an issue, so that a recording run never passes by accident); review the diff and
/// commit it.
enum Snapshot {
  /// The snapshot directory, next to this file's folder.
  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Snapshots")

  /// Whether this run records snapshots.
  static var isRecording: Bool {
    ProcessInfo.processInfo.environment["UMK_RECORD_SNAPSHOTS"] == "1"
  }

  /// Compares `actual` with the snapshot `name`, or records it.
  ///
  /// - Parameters:
  ///   - actual: The text.
  ///   - name: The snapshot's file name.
  ///   - sourceLocation: Where to report a difference.
  /// - Throws: When the snapshot cannot be read or written.
  static func expect(
    _ actual: String, matches name: String, sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    let file = directory.appendingPathComponent(name)
    if isRecording {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      try Data(actual.utf8).write(to: file)
      Issue.record(
        "Recorded \(name); run again without UMK_RECORD_SNAPSHOTS.", sourceLocation: sourceLocation)
      return
    }
    let expected = try String(contentsOf: file, encoding: .utf8)
    #expect(
      actual == expected,
      "\(name) differs; re-record with UMK_RECORD_SNAPSHOTS=1 if the change is intended",
      sourceLocation: sourceLocation)
  }
}
