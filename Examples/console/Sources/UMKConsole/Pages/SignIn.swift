import HTTPTypes
import Hummingbird
import HummingbirdAuth
import Logging
import UserManagementKit

/// The outcome of the first sign-in step.
enum SignInStep: Sendable {
  /// The user is signed in.
  case signedIn(User)
  /// The password was right and the user has a second factor: the code page follows.
  case secondFactorRequired(SignInChallenge)
}

extension ConsoleApp {
  /// Checks a username and password: the console's per-username throttle first (so unknown
  /// usernames are throttled like real ones), then the directory.
  func signIn(username: String, password: Secret) async throws(UserManagementError) -> SignInStep {
    if let refusal = await throttle.refusal(for: username) {
      throw UserManagementError(.throttled, refusal)
    }
    do {
      switch try await directory.authenticate(username: username, password: password) {
      case .signedIn(let result):
        await throttle.forget(username)
        return .signedIn(result.user)
      case .secondFactorRequired(let challenge):
        // Not a success yet: the console's counter is cleared only when a code completes it.
        return .secondFactorRequired(challenge)
      }
    } catch {
      switch error.code {
      case .invalidCredentials:
        await throttle.fail(username)
        throw error
      case .throttled:
        throw UserManagementError(.throttled, SignInThrottle.message(for: error))
      default:
        throw error
      }
    }
  }

  func signInPage(csrf: String, username: String = "", message: String? = nil, info: String? = nil)
    -> HTML
  {
    layout(
      title: "Sign in", visitor: nil,
      body: """
        <h1>Sign in</h1>
        \(notice(info))\(alert(message))
        <form method="post" action="\(path("/sign-in"))" class="card narrow">
        \(csrfField(csrf))
        <label for="username">Username</label>
        <input id="username" name="username" type="email" autocomplete="username" required maxlength="254" value="\(username)">
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required>
        <button type="submit" class="primary">Sign in</button>
        </form>
        """)
  }

  /// GET /sign-in: a fresh anonymous session carries the form's CSRF token.
  func showSignIn(_ request: Request) async throws -> Response {
    if let session = try? await sessions.load(request: request), session.userID != nil {
      if (try? await visitor(request, allowingPendingPasswordChange: true)) != nil {
        return redirect(to: path("/"))
      }
    }
    let csrf = Tokens.make()
    let cookie = try await startSession(
      ConsoleSession(userID: nil, stamp: nil, csrf: csrf), replacing: request)
    let query = request.uri.queryParameters
    let info: String? =
      query["ended"] != nil
      ? "Your session has ended. Sign in again."
      : query["signed-out"] != nil ? "You are signed out." : nil
    var response = html(.ok, signInPage(csrf: csrf, info: info))
    response.setCookie(cookie)
    return response
  }

  /// POST /sign-in.
  func submitSignIn(_ request: Request) async throws -> Response {
    guard let session = try? await sessions.load(request: request) else {
      throw Finished(response: forgedRequestPage(visitor: nil))
    }
    let form = try await self.form(request, csrf: session.csrf, visitor: nil)
    let username = form.text("username")
    let password = Secret(form["password"] ?? "")
    let step: SignInStep
    do {
      step = try await signIn(username: username, password: password)
    } catch {
      let message: String =
        switch error.code {
        case .invalidCredentials: "The username or password is not right."
        case .throttled, .accountInactive: error.message
        default: "Signing in failed; try again."
        }
      return html(
        error.code == .throttled ? .tooManyRequests : .unauthorized,
        signInPage(csrf: session.csrf, username: username, message: message))
    }
    switch step {
    case .signedIn(let user):
      return try await signedIn(user, replacing: request)
    case .secondFactorRequired(let challenge):
      // A new anonymous session holds the challenge until the code page completes it.
      let cookie = try await startSession(
        ConsoleSession(
          userID: nil, stamp: nil, csrf: Tokens.make(),
          challenge: challenge.token.revealForDisplay()),
        replacing: request)
      var response = redirect(to: path("/sign-in/code"))
      response.setCookie(cookie)
      return response
    }
  }

  /// Starts the signed-in session (a new id) and sends the user on.
  func signedIn(_ user: User, replacing request: Request) async throws -> Response {
    logger.info("Signed in", metadata: ["user": "\(user.id)"])
    let cookie = try await startSession(
      ConsoleSession(
        userID: user.id.description, stamp: user.securityStamp.rawValue, csrf: Tokens.make()),
      replacing: request)
    var response = redirect(to: user.mustChangePassword ? path("/account/password") : path("/"))
    response.setCookie(cookie)
    return response
  }

  /// POST /sign-out.
  func submitSignOut(_ request: Request) async throws -> Response {
    let visitor = try await visitor(request, allowingPendingPasswordChange: true)
    _ = try await form(request, csrf: visitor.csrf, visitor: visitor)
    return await endSession(request, reason: "signed-out")
  }

  /// GET /: the Administration page for administrators, My account for everyone else.
  func home(_ request: Request) async throws -> Response {
    let visitor = try await visitor(request)
    return redirect(to: visitor.isAdmin ? path("/admin/users") : path("/account"))
  }
}
