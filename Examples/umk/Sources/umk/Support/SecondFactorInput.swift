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
