import ArgumentParser
import UserManagementKit

/// Which kind of second-factor code standard input holds.
enum CodeKind: String {
  /// The current code of an authenticator app.
  case authenticator
  /// One of the user's unused recovery codes.
  case recovery

  /// What the code is called in prompts and messages.
  var name: String { self == .authenticator ? "authenticator code" : "recovery code" }

  /// The library's form of a code read from standard input.
  ///
  /// An authenticator code is a short-lived six- or eight-digit number that the library takes
  /// as text; a recovery code stays a ``Secret``.
  ///
  /// - Parameter secret: What standard input held.
  /// - Returns: The code.
  func code(_ secret: Secret) -> SecondFactorCode {
    switch self {
    case .authenticator: .authenticator(secret.revealForDisplay())
    case .recovery: .recovery(secret)
    }
  }
}

/// `--password-stdin | --code-stdin | --recovery-code-stdin`: how a user proves it is them
/// before removing their second factor, replacing their recovery codes or creating an API key.
struct ProofSource: ParsableArguments {
  /// `--password-stdin`.
  @Flag(
    help:
      "Prove it is you with your password, read from standard input (not once a second factor is confirmed)."
  )
  var passwordStdin = false
  /// `--code-stdin`.
  @Flag(help: "Prove it is you with a current authenticator code, read from standard input.")
  var codeStdin = false
  /// `--recovery-code-stdin`.
  @Flag(
    help: "Prove it is you with an unused recovery code (it is used up), read from standard input."
  )
  var recoveryCodeStdin = false

  /// What a command that needs a proof says when none was given.
  static let missingMessage =
    "Give one of --password-stdin, --code-stdin and --recovery-code-stdin."

  /// Whether a proof was given.
  var isGiven: Bool { passwordStdin || codeStdin || recoveryCodeStdin }

  /// Allows at most one proof (the commands that need one check ``require()``).
  ///
  /// - Throws: `ValidationError` (exit 64).
  func validate() throws {
    guard [passwordStdin, codeStdin, recoveryCodeStdin].filter({ $0 }).count <= 1 else {
      throw ValidationError(
        "Give only one of --password-stdin, --code-stdin and --recovery-code-stdin.")
    }
  }

  /// Requires a proof.
  ///
  /// - Throws: `ValidationError` (exit 64).
  func require() throws {
    guard isGiven else { throw ValidationError(Self.missingMessage) }
  }

  /// Reads the proof from standard input, if one was asked for.
  ///
  /// - Returns: The proof, or `nil` when none was given.
  /// - Throws: A usage ``Failure`` when standard input cannot be read.
  func read() throws(Failure) -> Reauthentication? {
    guard isGiven else { return nil }
    if passwordStdin { return .password(try StandardInput.secret()) }
    let kind: CodeKind = codeStdin ? .authenticator : .recovery
    return .secondFactor(
      kind.code(try StandardInput.secret(prompt: kind.name.capitalizingFirst + ": ")))
  }

  /// Reads the proof that the command requires.
  ///
  /// - Returns: The proof.
  /// - Throws: A usage ``Failure`` when none was given or standard input cannot be read.
  func readRequired() throws(Failure) -> Reauthentication {
    guard let proof = try read() else {
      throw Failure.usage(Self.missingMessage)
    }
    return proof
  }
}

extension OperatorContext {
  /// The acting user's id: `--as` always names a user.
  var actingUserID: UserID? {
    if case .user(let id) = principal { return id }
    return nil
  }

  /// The acting user's id, for the commands a user runs on themself (`2fa enroll`, …).
  ///
  /// - Returns: The id.
  /// - Throws: `not_authorized` when the principal is not a user (never, for `--as`).
  func selfID() throws(Failure) -> UserID {
    guard let id = actingUserID else {
      throw Failure(.notAuthorized, "Only a user may act on their own second factor.")
    }
    return id
  }
}
