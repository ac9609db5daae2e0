import ArgumentParser
import Foundation
import UserManagementKit

/// Reads secrets from standard input, the only place `umk` takes them from.
enum StandardInput {
  /// The most bytes read from standard input for secrets (far above any password policy).
  static let maximumSecretBytes = 64 * 1024

  /// Whether standard input is a terminal (secrets are then typed without echo, one per
  /// prompt).
  static var isTerminal: Bool { isatty(STDIN_FILENO) == 1 }

  /// All of standard input, as bytes.
  ///
  /// For secrets (`limit` at most ``maximumSecretBytes``) the result is reserved at its largest
  /// size up front, so that growing it never leaves a copy behind in freed memory, and every
  /// buffer is wiped when reading fails; the caller wipes the result.
  static func readAll(limit: Int) throws(Failure) -> [UInt8] {
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    defer { for index in buffer.indices { buffer[index] = 0 } }
    if limit <= maximumSecretBytes { bytes.reserveCapacity(limit + buffer.count) }
    var failure: Failure?
    while failure == nil {
      let count = buffer.withUnsafeMutableBytes { raw in
        read(STDIN_FILENO, raw.baseAddress, raw.count)
      }
      if count < 0 {
        if errno == EINTR { continue }
        failure = Failure.usage("Standard input could not be read.")
      } else if count == 0 {
        break
      } else {
        bytes += buffer[0..<count]
        if bytes.count > limit {
          failure = Failure.usage("Standard input is longer than \(limit) bytes.")
        }
      }
    }
    if let failure {
      for index in bytes.indices { bytes[index] = 0 }
      throw failure
    }
    return bytes
  }

  /// The secret on standard input: all of it, minus one trailing `\n` or `\r\n`. On a
  /// terminal, one line typed without echo after a prompt on standard error.
  static func secret(prompt: String = "Password: ") throws(Failure) -> Secret {
    if isatty(STDIN_FILENO) == 1 { return try Terminal.readLineWithoutEcho(prompt: prompt) }
    var bytes = try readAll(limit: maximumSecretBytes)
    defer { for index in bytes.indices { bytes[index] = 0 } }
    return Secret(bytes: strippingOneNewline(bytes[...]))
  }

  /// Two secrets on standard input, one per line: the first line, and the rest minus one
  /// trailing newline (for `passwd`: current, then new; for `hash verify --hash-stdin`: the
  /// hash, then the password).
  static func twoSecrets(
    first firstName: String = "current password", second secondName: String = "new password"
  ) throws(Failure) -> (Secret, Secret) {
    if isatty(STDIN_FILENO) == 1 {
      return (
        try Terminal.readLineWithoutEcho(prompt: firstName.capitalizingFirst + ": "),
        try Terminal.readLineWithoutEcho(prompt: secondName.capitalizingFirst + ": ")
      )
    }
    var bytes = try readAll(limit: maximumSecretBytes)
    defer { for index in bytes.indices { bytes[index] = 0 } }
    guard let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) else {
      throw Failure.usage(
        "Standard input must hold the \(firstName), a newline, then the \(secondName).")
    }
    var first = bytes[..<newline]
    if first.last == UInt8(ascii: "\r") { first = first.dropLast() }
    let second = strippingOneNewline(bytes[(newline + 1)...])
    return (Secret(bytes: first), Secret(bytes: second))
  }

  /// Three secrets on standard input, one per line (for `passwd` with a code: current, new,
  /// then the code); off a terminal only.
  static func threeSecrets(names: (String, String, String)) throws(Failure)
    -> (Secret, Secret, Secret)
  {
    var bytes = try readAll(limit: maximumSecretBytes)
    defer { for index in bytes.indices { bytes[index] = 0 } }
    var lines: [ArraySlice<UInt8>] = []
    var start = bytes.startIndex
    for _ in 0..<2 {
      guard let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) else {
        throw Failure.usage(
          "Standard input must hold the \(names.0), the \(names.1) and the \(names.2), one "
            + "per line.")
      }
      var line = bytes[start..<newline]
      if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
      lines.append(line)
      start = newline + 1
    }
    lines.append(strippingOneNewline(bytes[start...]))
    return (Secret(bytes: lines[0]), Secret(bytes: lines[1]), Secret(bytes: lines[2]))
  }

  /// The bytes without one trailing `\n` or `\r\n`.
  ///
  /// - Parameter bytes: The bytes.
  /// - Returns: The bytes, minus one line break.
  private static func strippingOneNewline(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
    var bytes = bytes
    if bytes.last == UInt8(ascii: "\n") {
      bytes = bytes.dropLast()
      if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
    }
    return bytes
  }
}

/// `--password-stdin | --generate-password`, for commands that set a login password.
struct PasswordSource: ParsableArguments {
  /// `--password-stdin`.
  @Flag(help: "Read the password from standard input (all of it, minus one trailing newline).")
  var passwordStdin = false

  /// `--generate-password`.
  @Flag(help: "Generate a password; it is printed once.")
  var generatePassword = false

  /// Whether either flag was given.
  var isGiven: Bool { passwordStdin || generatePassword }

  /// Refuses both flags at once.
  ///
  /// - Throws: `ValidationError` (exit 64).
  func validate() throws {
    if passwordStdin && generatePassword {
      throw ValidationError("Give either --password-stdin or --generate-password, not both.")
    }
  }

  /// Refuses neither flag, for commands that need a password.
  ///
  /// - Throws: `ValidationError` (exit 64).
  func requireOne() throws {
    guard isGiven else {
      throw ValidationError("Give --password-stdin or --generate-password.")
    }
  }

  /// The chosen source, reading standard input for `--password-stdin`; `nil` when neither
  /// flag was given.
  ///
  /// - Returns: The new secret's source.
  /// - Throws: A usage ``Failure`` when standard input cannot be read.
  func newSecret() throws(Failure) -> NewSecret? {
    if passwordStdin { return .typed(try StandardInput.secret()) }
    return generatePassword ? .generated : nil
  }

  /// The chosen source, for commands that need one (see ``requireOne()``).
  ///
  /// - Returns: The new secret's source.
  /// - Throws: A usage ``Failure`` when neither flag was given or standard input cannot be
  ///   read.
  func required() throws(Failure) -> NewSecret {
    guard let secret = try newSecret() else {
      throw Failure.usage("Give --password-stdin or --generate-password.")
    }
    return secret
  }
}

/// Reading a secret typed at a terminal, without echoing it.
enum Terminal {
  /// Prompts on standard error and reads one line from the terminal without echoing it.
  ///
  /// - Parameter prompt: The prompt.
  /// - Returns: The line, without its line break.
  /// - Throws: A usage ``Failure`` when the line is too long.
  static func readLineWithoutEcho(prompt: String) throws(Failure) -> Secret {
    var saved = termios()
    let canSilence = tcgetattr(STDIN_FILENO, &saved) == 0
    if canSilence {
      var silent = saved
      silent.c_lflag &= ~tcflag_t(ECHO)
      _ = tcsetattr(STDIN_FILENO, TCSANOW, &silent)
    }
    defer {
      if canSilence { _ = tcsetattr(STDIN_FILENO, TCSANOW, &saved) }
      FileHandle.standardError.write(Data("\n".utf8))
    }
    FileHandle.standardError.write(Data(prompt.utf8))
    var bytes: [UInt8] = []
    defer { for index in bytes.indices { bytes[index] = 0 } }
    var byte: UInt8 = 0
    while true {
      let count = read(STDIN_FILENO, &byte, 1)
      if count < 0 && errno == EINTR { continue }
      if count <= 0 || byte == UInt8(ascii: "\n") { break }
      bytes.append(byte)
      if bytes.count > StandardInput.maximumSecretBytes {
        throw Failure.usage("The secret is longer than \(StandardInput.maximumSecretBytes) bytes.")
      }
    }
    if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
    return Secret(bytes: bytes)
  }
}

extension String {
  /// The string with its first character uppercased, for prompts.
  var capitalizingFirst: String { prefix(1).uppercased() + dropFirst() }
}
