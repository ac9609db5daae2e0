import Foundation
import Testing

/// Help text, compared with the snapshots under `Snapshots/` (re-record with
/// `UMK_RECORD_SNAPSHOTS=1`).
@Suite("Help")
struct HelpTests {
  /// A command line asking for help, and its snapshot's file name.
  struct HelpCase: Sendable, CustomTestStringConvertible {
    /// The arguments.
    let arguments: [String]
    /// The snapshot's file name.
    let snapshot: String

    /// The command line.
    var testDescription: String { "umk \(arguments.joined(separator: " "))" }
  }

  /// `umk --help`, groups' help and commands' help.
  static let cases: [HelpCase] = [
    .init(arguments: ["--help"], snapshot: "umk-help.txt"),
    .init(arguments: ["user", "--help"], snapshot: "umk-user-help.txt"),
    .init(arguments: ["user", "add", "--help"], snapshot: "umk-user-add-help.txt"),
    .init(arguments: ["2fa", "--help"], snapshot: "umk-2fa-help.txt"),
    .init(arguments: ["login", "--help"], snapshot: "umk-login-help.txt"),
    .init(arguments: ["api-key", "create", "--help"], snapshot: "umk-api-key-create-help.txt"),
  ]

  /// The help text, exactly.
  @Test(arguments: cases)
  func matchesTheSnapshot(_ help: HelpCase) throws {
    let umk = try UMK()
    defer { umk.cleanUp() }
    let run = try umk.run(help.arguments, store: nil)
    #expect(run.status == 0, "\(run)")
    #expect(run.stderr.isEmpty)
    try Snapshot.expect(run.stdout, matches: help.snapshot)
  }
}
