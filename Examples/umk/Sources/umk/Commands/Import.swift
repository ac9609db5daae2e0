import ArgumentParser
import Foundation
import UserManagementKit

/// `umk import`: users from JSON Lines, all or nothing.
struct Import: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Import users from JSON Lines, all or nothing.",
    discussion: """
      One JSON object per line: username, firstName, lastName (required), status \
      (active|inactive), role (admin|general), policies (names), apiAccess (true|false), \
      passwordHash (any format the library verifies; omit it for a user without a password). \
      Every problem is reported with its line number; if there is any, nothing is imported. \
      Hashes are parsed, never verified. FILE may be - for standard input.
      """)

  @OptionGroup var global: GlobalOptions
  @Argument(help: ArgumentHelp("The JSON Lines file.", valueName: "file")) var file: String
  @Flag(help: "Validate only; change nothing.") var dryRun = false
  @OptionGroup var acting: ActingUser

  mutating func run() async throws {
    let started = ContinuousClock.now
    let data = try readInputFile(file)
    let progress = Progress(enabled: !global.json && isatty(STDERR_FILENO) == 1)
    defer { progress.finish() }
    try await Session.with(global) { session in
      let actor = try await session.principal(acting.username)
      let parsed = UserLines.parse(data, progress: progress)
      var problems = parsed.problems
      progress.status(
        "Validating\(dryRun || !problems.isEmpty ? "" : " and committing") "
          + "\(parsed.users.count) users…")
      let result = try await session.directory.importUsers(
        parsed.users, dryRun: dryRun || !problems.isEmpty, by: actor)
      progress.finish()
      for issue in result.issues {
        problems.append(
          UserLines.Problem(
            line: parsed.lines[issue.index], code: issue.error.code.rawValue,
            message: issue.error.message))
      }
      guard problems.isEmpty else {
        problems.sort { $0.line < $1.line }
        throw Self.refusal(problems, lineCount: parsed.lineCount, json: global.json)
      }
      let seconds =
        Double((ContinuousClock.now - started).components.attoseconds) / 1e18
        + Double((ContinuousClock.now - started).components.seconds)
      if global.json {
        Output.document(
          .object([
            ("dryRun", .bool(dryRun)), ("committed", .bool(result.committed)),
            ("users", .int(result.users.count)),
            ("withPasswordHash", .int(result.passwordHashCount)),
          ]))
      } else if dryRun {
        Output.line(
          "Dry run: \(result.users.count) users would be imported "
            + "(\(result.passwordHashCount) with password hashes); nothing was changed.")
      } else {
        Output.line(
          "Imported \(result.users.count) users (\(result.passwordHashCount) with password "
            + "hashes) in \(String(format: "%.1f", seconds)) s.")
      }
    }
  }

  static func refusal(_ problems: [UserLines.Problem], lineCount: Int, json: Bool) -> Failure {
    let formatOnly: Set<String> = [
      "invalid_json", "missing_field", "unknown_field", "invalid_value", "unsupported_hash",
      "invalid_username", "invalid_field",
    ]
    let malformed = problems.contains { formatOnly.contains($0.code) }
    if !json {
      for problem in problems {
        Output.error("line \(problem.line): \(problem.code): \(problem.message)")
      }
    }
    let lines = Set(problems.map(\.line)).count
    return Failure(
      code: "import_refused",
      message:
        "\(lines) of \(lineCount) lines have problems; nothing was imported.",
      status: malformed ? .malformedInput : .refused,
      details: problems.map { problem in
        .object([
          ("line", .int(problem.line)), ("code", .string(problem.code)),
          ("message", .string(problem.message)),
        ])
      })
  }
}

/// Parsing of the JSON Lines that `import` reads and `export` writes.
enum UserLines {
  struct Problem {
    var line: Int
    var code: String
    var message: String
  }

  struct Parsed {
    var users: [PortableUser] = []
    /// The line number of each user.
    var lines: [Int] = []
    var problems: [Problem] = []
    var lineCount = 0
  }

  static let fields: Set<String> = [
    "username", "firstName", "lastName", "status", "role", "policies", "apiAccess",
    "passwordHash",
  ]

  static func parse(_ data: Data, progress: Progress) -> Parsed {
    var parsed = Parsed()
    let bytes = [UInt8](data)
    var start = 0
    var lineNumber = 0
    let total = bytes.count
    while start < bytes.count {
      var end = start
      while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
      lineNumber += 1
      let line = bytes[start..<end]
      start = end + 1
      progress.update(done: min(start, total), total: total, label: "lines read: \(lineNumber)")
      if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
      parsed.lineCount += 1
      switch parseLine(line) {
      case .success(let user):
        parsed.users.append(user)
        parsed.lines.append(lineNumber)
      case .failure(let problem):
        parsed.problems.append(
          Problem(line: lineNumber, code: problem.code, message: problem.message))
      }
    }
    return parsed
  }

  struct LineProblem: Error {
    var code: String
    var message: String
  }

  static func parseLine(_ line: ArraySlice<UInt8>) -> Result<PortableUser, LineProblem> {
    do {
      return .success(try decoder.decode(Line.self, from: Data(line)).user)
    } catch let problem as LineProblem {
      return .failure(problem)
    } catch DecodingError.typeMismatch(_, let context) {
      let key = context.codingPath.first?.stringValue ?? "value"
      return .failure(
        LineProblem(code: "invalid_value", message: "\"\(key)\" has the wrong type."))
    } catch {
      return .failure(LineProblem(code: "invalid_json", message: "The line is not a JSON object."))
    }
  }

  private static let decoder = JSONDecoder()

  private struct Key: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  /// One line, decoded strictly: unknown fields and wrong types are refused.
  private struct Line: Decodable {
    var user: PortableUser

    init(from decoder: any Decoder) throws {
      let container = try decoder.container(keyedBy: Key.self)
      if let unknown = container.allKeys.map(\.stringValue).filter({ !fields.contains($0) })
        .sorted().first
      {
        throw LineProblem(code: "unknown_field", message: "Unknown field \"\(unknown)\".")
      }
      func required(_ name: String) throws -> String {
        guard let value = try container.decodeIfPresent(String.self, forKey: Key(stringValue: name))
        else {
          throw LineProblem(code: "missing_field", message: "\"\(name)\" is required.")
        }
        return value
      }
      user = PortableUser(
        username: try required("username"), firstName: try required("firstName"),
        lastName: try required("lastName"))
      if let status = try container.decodeIfPresent(String.self, forKey: Key(stringValue: "status"))
      {
        guard let value = StatusArgument(rawValue: status) else {
          throw LineProblem(
            code: "invalid_value", message: "\"status\" must be \"active\" or \"inactive\".")
        }
        user.status = value.value
      }
      if let role = try container.decodeIfPresent(String.self, forKey: Key(stringValue: "role")) {
        guard let value = RoleArgument(rawValue: role) else {
          throw LineProblem(
            code: "invalid_value", message: "\"role\" must be \"admin\" or \"general\".")
        }
        user.role = value.value
      }
      user.policies =
        try container.decodeIfPresent([String].self, forKey: Key(stringValue: "policies")) ?? []
      user.apiAccessEnabled =
        try container.decodeIfPresent(Bool.self, forKey: Key(stringValue: "apiAccess")) ?? false
      if let hash = try container.decodeIfPresent(
        String.self, forKey: Key(stringValue: "passwordHash"))
      {
        user.passwordHash = PasswordHash(encoded: hash)
      }
    }
  }

  /// One user as a line of JSON, in the shape `import` reads.
  static func json(_ user: PortableUser) -> JSON {
    var members: [(String, JSON)] = [
      ("username", .string(user.username)),
      ("firstName", .string(user.firstName)),
      ("lastName", .string(user.lastName)),
      ("status", .string(user.status.rawValue)),
      ("role", .string(user.role.rawValue)),
      ("policies", .array(user.policies.map(JSON.string))),
      ("apiAccess", .bool(user.apiAccessEnabled)),
    ]
    if let hash = user.passwordHash { members.append(("passwordHash", .string(hash.encoded))) }
    return .object(members)
  }
}

/// A progress bar on standard error, drawn only on a terminal.
final class Progress {
  let enabled: Bool
  private var lastPercent = -1

  init(enabled: Bool) {
    self.enabled = enabled
  }

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

  func status(_ text: String) {
    guard enabled else { return }
    write("\r\(text)\u{1B}[K")
  }

  func finish() {
    guard enabled else { return }
    write("\r\u{1B}[K")
  }

  private func write(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
  }
}

/// `umk export`: every user as JSON Lines.
struct Export: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print every user as JSON Lines, the format `umk import` reads.",
    discussion: """
      Password hashes allow offline guessing: with --include-hashes, treat the output like \
      the store itself. API passwords are never exported. With --json, one document \
      {"users": […]} instead of lines.
      """)

  @OptionGroup var global: GlobalOptions
  @Flag(help: "Include the login password hashes.") var includeHashes = false
  @OptionGroup var acting: ActingUser

  mutating func run() async throws {
    try await Session.with(global) { session in
      let actor = try await session.principal(acting.username)
      let users = try await session.directory.exportUsers(
        includingPasswordHashes: includeHashes, by: actor)
      if global.json {
        Output.document(.object([("users", .array(users.map(UserLines.json)))]))
        return
      }
      var text = ""
      for user in users {
        text += UserLines.json(user).serialized
        text += "\n"
      }
      FileHandle.standardOutput.write(Data(text.utf8))
    }
  }
}
