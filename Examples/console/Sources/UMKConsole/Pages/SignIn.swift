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

  /// The name of the sign-in form's cookie: the session cookie's name with `_signin`.
  var signInCookieName: String { configuration.sentCookieName + "_signin" }

  /// The sign-in form's CSRF cookie, or (for `nil`) the one that removes it.
  ///
  /// Before sign-in the console keeps nothing on the server: the sign-in page sets its form's
  /// token as this cookie as well, and a POST must carry both, equal (a double-submitted
  /// token; like every form's, it must also come from the console's own origin). Opening the
  /// page any number of times therefore leaves the server nothing to remember. A forged
  /// cookie gains no more than a planted session cookie would have: both can only start a
  /// sign-in.
  func signInCookie(_ token: String?) -> Cookie {
    Cookie(
      name: signInCookieName, value: token ?? "", maxAge: token == nil ? 0 : 1800,
      path: configuration.cookiePath,
      secure: configuration.secureCookies, httpOnly: true, sameSite: .strict)
  }

  /// GET /sign-in: the form's CSRF token, also set as the sign-in cookie; no session.
  func showSignIn(_ request: Request) async throws -> Response {
    var ended: Cookie?
    if let session = try? await sessions.load(request: request) {
      if session.userID != nil,
        (try? await visitor(request, allowingPendingPasswordChange: true)) != nil
      {
        return redirect(to: path("/"))
      }
      // A sign-in left at its code page, or a session that has ended: forgotten now.
      ended = try? await sessions.delete(request: request)
    }
    let csrf = Tokens.make()
    let query = request.uri.queryParameters
    let info: String? =
      query["ended"] != nil
      ? "Your session has ended. Sign in again."
      : query["signed-out"] != nil ? "You are signed out." : nil
    var response = html(.ok, signInPage(csrf: csrf, info: info))
    response.setCookie(signInCookie(csrf))
    if let ended { response.setCookie(ended) }
    return response
  }

  /// POST /sign-in: the form's token must equal the sign-in cookie's.
  func submitSignIn(_ request: Request) async throws -> Response {
    guard let token = request.cookies[signInCookieName]?.value, !token.isEmpty else {
      throw Finished(response: forgedRequestPage(visitor: nil))
    }
    let form = try await self.form(request, csrf: token, visitor: nil)
    let username = form.text("username")
    let password = Secret(form["password"] ?? "")
    let step: SignInStep
    do {
      step = try await signIn(username: username, password: password)
    } catch {
      let message: String =
        switch error.code {
        case .invalidCredentials: "The username or password is not right."
        case .throttled, .accountInactive, .overloaded: error.message
        default: "Signing in failed; try again."
        }
      let status: HTTPResponse.Status =
        switch error.code {
        case .throttled: .tooManyRequests
        case .overloaded: .serviceUnavailable
        default: .unauthorized
        }
      return html(status, signInPage(csrf: token, username: username, message: message))
    }
    var response: Response
    switch step {
    case .signedIn(let user):
      response = try await signedIn(user, replacing: request)
    case .secondFactorRequired(let challenge):
      // The first session of this sign-in, made only now that the password was right: it
      // holds the challenge until the code page completes it.
      let cookie = try await startSession(
        ConsoleSession(
          userID: nil, stamp: nil, csrf: Tokens.make(),
          challenge: challenge.token.revealForDisplay()),
        replacing: request)
      response = redirect(to: path("/sign-in/code"))
      response.setCookie(cookie)
    }
    // The form's token has done its work (after the session's cookie, which a client reading
    // only the first cookie needs).
    response.setCookie(signInCookie(nil))
    return response
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
