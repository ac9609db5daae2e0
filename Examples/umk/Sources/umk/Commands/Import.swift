import ArgumentParser
import Foundation
import UserManagementKit

extension UMK {
  /// `umk import`: users from JSON Lines, all or nothing.
  struct Import: OperatorCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Import users from JSON Lines, all or nothing.",
      discussion: """
        One JSON object per line: username, firstName, lastName (required), status \
        (active|inactive), role (admin|general), policies (names), apiAccess (true|false), \
        passwordHash (any format the library verifies; omit it for a user without a password). \
        Every problem is reported with its line number; if there is any, nothing is imported. \
        Hashes are parsed, never verified. FILE may be - for standard input.

        With --from, FILE is another system's own export instead: keycloak (realm export \
        JSON), auth0 (user export NDJSON, with --password-export for the password-hash \
        export), firebase (auth:export JSON or CSV), django (dumpdata auth.user JSON) or \
        aspnet (AspNetUsers CSV with a header row). Problems are reported by record: a line \
        for NDJSON and CSV, an index from 0 for JSON. --admin-role and --policy-role name the \
        roles or groups that make an admin or become a policy of the same name. A Firebase \
        project's hash parameters come from the environment: UMK_FIREBASE_SIGNER_KEY, \
        UMK_FIREBASE_SALT_SEPARATOR, UMK_FIREBASE_ROUNDS and UMK_FIREBASE_MEM_COST.
        """)

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// The JSON Lines file, or with `--from` the other system's export.
    @Argument(
      help: ArgumentHelp("The JSON Lines file, or with --from the export.", valueName: "file"))
    var file: String
    /// `--dry-run`.
    @Flag(help: "Validate only; change nothing.") var dryRun = false
    /// `--from`: another system's export.
    @Option(help: ArgumentHelp("Read another system's export.", valueName: "system"))
    var from: MigrationSourceArgument?
    /// `--password-export`: Auth0's password-hash export.
    @Option(
      help: ArgumentHelp(
        "Auth0's password-hash export (NDJSON), with --from auth0.", valueName: "file"))
    var passwordExport: String?
    /// `--admin-role`, repeatable.
    @Option(
      help: ArgumentHelp(
        "A role or group whose members become admins (repeatable).", valueName: "name"))
    var adminRole: [String] = []
    /// `--policy-role`, repeatable.
    @Option(
      help: ArgumentHelp(
        "A role or group that becomes the policy of the same name (repeatable).",
        valueName: "name"))
    var policyRole: [String] = []
    /// `--staff-admins`.
    @Flag(help: "With --from django: staff (is_staff) become admins, as superusers do.")
    var staffAdmins = false
    /// `--as`.
    @OptionGroup var acting: ActingOptions

    /// Reads every line, lets the library check them all, and commits only if there is no
    /// problem.
    ///
    /// - Parameter context: The store and the acting user.
    /// - Throws: `import_refused` with every problem (exit 65 or 1), `unreadable_input`, the
    ///   library's refusals.
    func run(in context: OperatorContext) async throws {
      if let from {
        try await runMigration(from: from.source, in: context)
        return
      }
      guard passwordExport == nil, adminRole.isEmpty, policyRole.isEmpty, !staffAdmins else {
        throw Failure.usage(
          "--password-export, --admin-role, --policy-role and --staff-admins need --from.")
      }
      let started = ContinuousClock.now
      let bytes = try InputFile.read(file)
      let progress = Progress(enabled: !context.json && isatty(STDERR_FILENO) == 1)
      defer { progress.finish() }
      let lines = UserLines(bytes, progress: progress)
      var problems = lines.problems
      progress.status(
        "Validating\(dryRun || !problems.isEmpty ? "" : " and committing") "
          + "\(lines.users.count) users…")
      let result = try await context.directory.importUsers(
        lines.users, dryRun: dryRun || !problems.isEmpty, by: context.principal)
      progress.finish()
      for issue in result.issues {
        problems.append(ImportProblem(line: lines.lineNumbers[issue.index], error: issue.error))
      }
      guard problems.isEmpty else {
        problems.sort { $0.line < $1.line }
        throw Failure(importRefusedWith: problems, lineCount: lines.nonBlankLineCount)
      }
      if context.json {
        Output.document(
          ImportOutput(
            dryRun: dryRun, committed: result.committed, users: result.users.count,
            passwordHashCount: result.passwordHashCount))
      } else if dryRun {
        Output.line(
          "Dry run: \(result.users.count) users would be imported "
            + "(\(result.passwordHashCount) with password hashes); nothing was changed.")
      } else {
        let elapsed = ContinuousClock.now - started
        let seconds =
          Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        Output.line(
          "Imported \(result.users.count) users (\(result.passwordHashCount) with password "
            + "hashes) in \(String(format: "%.1f", seconds)) s.")
      }
    }
  }
}

/// The users of a JSON Lines file, decoded one line at a time by `PortableUser(jsonLine:)` so
/// that a progress bar can follow; blank lines are skipped, as
/// `PortableUser.decodeJSONLines(from:)` skips them.
struct UserLines {
  /// The users read, in file order.
  private(set) var users: [PortableUser] = []
  /// The line number (from 1) of each user.
  private(set) var lineNumbers: [Int] = []
  /// The lines that could not be read (`invalid_field`, with the field and the reason).
  private(set) var problems: [ImportProblem] = []
  /// How many lines were not blank.
  private(set) var nonBlankLineCount = 0

  /// Decodes every line.
  ///
  /// - Parameters:
  ///   - bytes: UTF-8 JSON Lines.
  ///   - progress: Told after each line.
  init(_ bytes: [UInt8], progress: Progress) {
    var lineNumber = 0
    var consumed = 0
    for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
      lineNumber += 1
      consumed = min(consumed + line.count + 1, bytes.count)
      progress.update(done: consumed, total: bytes.count, label: "lines read: \(lineNumber)")
      if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
      nonBlankLineCount += 1
      do {
        users.append(try PortableUser(jsonLine: line))
        lineNumbers.append(lineNumber)
      } catch {
        problems.append(ImportProblem(line: lineNumber, error: error))
      }
    }
  }
}
