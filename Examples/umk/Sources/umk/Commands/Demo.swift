import ArgumentParser
import Foundation
import UserManagementKit

extension UMK {
  /// `umk demo`: the console's whole scenario on a fresh store.
  struct Demo: UMKCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Walk through the console's whole scenario on a fresh store, refusals included.",
      discussion: """
        Uses a new temporary store (removed afterwards) unless --store names one, which must \
        be empty or missing. $UMK_STORE is ignored, so the demo never touches a real store. \
        Passwords are hashed at production cost: build with -c release.
        """)

    /// `--store` (a new temporary store when absent), `--json`.
    @OptionGroup var global: GlobalOptions

    /// Runs the scenario and prints each step.
    ///
    /// - Throws: `already_bootstrapped` for a store that is not empty; `demo_failed`.
    func run() async throws {
      let temporary = global.store == nil
      let path =
        global.store
        ?? FileManager.default.temporaryDirectory
        .appendingPathComponent("umk-demo-\(UUID().uuidString.lowercased())").path
      let session = try Session.open(path: path, creating: true)
      let log = DemoLog(json: global.json)
      do {
        try await DemoScenario(session: session, log: log).run()
        session.close()
      } catch {
        session.close()
        if temporary { try? FileManager.default.removeItem(atPath: path) }
        throw error
      }
      if temporary { try? FileManager.default.removeItem(atPath: path) }
      log.finish(store: temporary ? nil : path)
    }
  }
}

/// Prints the demo's steps, or collects them into one JSON document (``DemoOutput``).
final class DemoLog {
  /// Whether `--json` was given.
  let json: Bool
  /// The steps so far.
  private var steps: [DemoOutput.Step] = []
  /// How many refusals were shown.
  private(set) var refusals = 0
  /// How many audited changes the scenario made.
  private(set) var changes = 0

  /// A log.
  ///
  /// - Parameter json: Whether to collect one JSON document rather than print lines.
  init(json: Bool) {
    self.json = json
  }

  /// Starts a step.
  ///
  /// - Parameter title: The step's title.
  func step(_ title: String) {
    steps.append(DemoOutput.Step(title: title, outcomes: []))
    if !json { Output.line("\n── \(title)") }
  }

  /// Something that worked.
  ///
  /// - Parameter text: What.
  func ok(_ text: String) {
    append(DemoOutput.Outcome(ok: true, text: text))
    if !json { Output.line("  ✔ \(text)") }
  }

  /// Something the library refused, as it should.
  ///
  /// - Parameters:
  ///   - text: What was tried.
  ///   - error: The library's refusal.
  func refused(_ text: String, _ error: UserManagementError) {
    refusals += 1
    append(
      DemoOutput.Outcome(
        ok: false, text: text, code: error.code.rawValue, message: error.message))
    if !json { Output.line("  ✘ \(text)\n      → refused [\(error.code)]: \(error.message)") }
  }

  /// A remark.
  ///
  /// - Parameter text: The remark.
  func note(_ text: String) {
    append(DemoOutput.Outcome(ok: true, text: text))
    if !json { Output.line("  \(text)") }
  }

  /// Records how many audited changes the scenario made.
  ///
  /// - Parameter changes: The count.
  func counted(changes: Int) {
    self.changes = changes
  }

  /// Adds an outcome to the current step.
  ///
  /// - Parameter outcome: The outcome.
  private func append(_ outcome: DemoOutput.Outcome) {
    guard !steps.isEmpty else { return }
    steps[steps.count - 1].outcomes.append(outcome)
  }

  /// Prints the summary (`Demo complete: …`), or the whole document with `--json`.
  ///
  /// - Parameter store: The kept store's path, if it is kept.
  func finish(store: String?) {
    if json {
      Output.document(
        DemoOutput(steps: steps, auditedChanges: changes, refusals: refusals, complete: true))
    } else {
      Output.line(
        "\nDemo complete: \(changes) audited changes, \(refusals) refusals"
          + (store.map { ", store kept at \($0)" } ?? "") + ".")
    }
  }
}
