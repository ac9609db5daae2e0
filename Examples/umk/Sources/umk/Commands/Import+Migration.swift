import ArgumentParser
import Foundation
import UserManagementKit

/// `--from`'s values: the systems `MigrationReader` reads.
enum MigrationSourceArgument: String, ExpressibleByArgument, CaseIterable {
  case keycloak, auth0, firebase, django, aspnet

  /// The library's source.
  var source: MigrationSource {
    switch self {
    case .keycloak: .keycloak
    case .auth0: .auth0
    case .firebase: .firebase
    case .django: .django
    case .aspnet: .aspnet
    }
  }
}

extension UMK.Import {
  /// `import --from SYSTEM`: reads another system's export with `MigrationReader`, then imports
  /// as a JSON Lines import does, all or nothing, problems by record.
  ///
  /// - Parameters:
  ///   - source: The system.
  ///   - context: The store and the acting user.
  /// - Throws: `import_refused` with every problem, `unreadable_input`, usage errors, the
  ///   library's refusals.
  func runMigration(from source: MigrationSource, in context: OperatorContext) async throws {
    guard passwordExport == nil || source == .auth0 else {
      throw Failure.usage("--password-export is only for --from auth0.")
    }
    guard !staffAdmins || source == .django else {
      throw Failure.usage("--staff-admins is only for --from django.")
    }
    let started = ContinuousClock.now
    let bytes = try InputFile.read(file)
    let passwords = try passwordExport.map(InputFile.read)
    let progress = Progress(enabled: !context.json && isatty(STDERR_FILENO) == 1)
    defer { progress.finish() }
    progress.status("Reading the \(source.rawValue) export…")
    let reading = MigrationReader.read(
      source, bytes, passwordExport: passwords,
      options: MigrationOptions(
        adminRoles: Set(adminRole), policyRoles: Set(policyRole),
        djangoAdministrators: staffAdmins ? .superusersAndStaff : .superusers))
    let recordCount = reading.users.count + Set(reading.issues.map(\.position)).count
    progress.update(
      done: bytes.count, total: max(bytes.count, 1), label: "records read: \(recordCount)")
    var problems = reading.issues.map { Self.problem($0, in: reading) }
    progress.status(
      "Validating\(dryRun || !problems.isEmpty ? "" : " and committing") "
        + "\(reading.users.count) users…")
    let result = try await context.directory.importUsers(
      reading.users, dryRun: dryRun || !problems.isEmpty, by: context.principal)
    progress.finish()
    problems += reading.issues(for: result.issues).map { Self.problem($0, in: reading) }
    guard problems.isEmpty else {
      problems.sort {
        ($0.kind == .passwordLine ? 1 : 0, $0.line) < ($1.kind == .passwordLine ? 1 : 0, $1.line)
      }
      throw Failure(importRefusedWith: problems, lineCount: recordCount, unit: "records")
    }
    let summary = MigrationSummary(reading, result: result, dryRun: dryRun, source: source)
    if context.json {
      Output.document(summary)
      return
    }
    let counts =
      "\(summary.admins) admins, \(summary.inactive) inactive, "
      + "\(summary.passwordHashCount) with password hashes"
    if dryRun {
      Output.line(
        "Dry run: \(summary.users) users would be imported from \(source.rawValue) (\(counts)); "
          + "nothing was changed.")
    } else {
      let elapsed = ContinuousClock.now - started
      let seconds =
        Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
      Output.line(
        "Imported \(summary.users) users from \(source.rawValue) (\(counts)) in "
          + "\(String(format: "%.1f", seconds)) s.")
    }
    if !summary.formats.isEmpty {
      let formats = summary.formats.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
      Output.line(
        "Hash formats: \(formats.joined(separator: ", ")); \(summary.needRehash) will be "
          + "rehashed at first sign-in.")
    }
    if summary.skipped > 0 {
      Output.line(
        "Skipped \(summary.skipped) records that are not people (service accounts, other models).")
    }
  }

  /// A reading's issue as an import problem.
  private static func problem(_ issue: MigrationRecordIssue, in reading: MigrationReading)
    -> ImportProblem
  {
    let kind: ImportProblem.Kind
    if issue.file == .passwords {
      kind = .passwordLine
    } else {
      kind = reading.positionKind == .line ? .line : .record
    }
    return ImportProblem(line: issue.position, error: issue.error, kind: kind)
  }
}

/// `import --from`'s summary: `{"dryRun","committed","source","users","admins","inactive",
/// "passwordHashCount","formats","needRehash","skipped"}`.
struct MigrationSummary: Encodable {
  /// Whether `--dry-run` was given.
  let dryRun: Bool
  /// Whether the users were committed.
  let committed: Bool
  /// The system (`keycloak`, `auth0`, …).
  let source: String
  /// How many users were (or would be) imported.
  let users: Int
  /// How many of them are admins.
  let admins: Int
  /// How many of them are inactive.
  let inactive: Int
  /// How many of them carry a password hash.
  let passwordHashCount: Int
  /// The hash formats found, with how many users carry each.
  let formats: [String: Int]
  /// How many hashes the directory's hasher will replace at their users' first sign-in
  /// (`UserImportResult.passwordHashesNeedingRehash`).
  let needRehash: Int
  /// Records passed over on purpose (service accounts, other models).
  let skipped: Int

  /// The summary of an import.
  ///
  /// - Parameters:
  ///   - reading: What the reader made of the export.
  ///   - result: The import's result.
  ///   - dryRun: Whether `--dry-run` was given.
  ///   - source: The system.
  init(
    _ reading: MigrationReading, result: UserImportResult, dryRun: Bool, source: MigrationSource
  ) {
    self.dryRun = dryRun
    committed = result.committed
    self.source = source.rawValue
    users = result.users.count
    admins = reading.users.filter { $0.role == .admin }.count
    inactive = reading.users.filter { $0.status == .inactive }.count
    passwordHashCount = result.passwordHashCount
    formats = reading.formats
    needRehash = result.passwordHashesNeedingRehash
    skipped = reading.skipped
  }
}
