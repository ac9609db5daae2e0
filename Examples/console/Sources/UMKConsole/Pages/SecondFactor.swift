import HTTPTypes
import Hummingbird
import HummingbirdAuth
import Logging
import UserManagementKit

/// Two-factor sign-in: the code step of a sign-in, enrolling and removing an authenticator
/// app on My account, and an administrator's reset on User Details.
extension ConsoleApp {
  // MARK: The code step

  func signInCodePage(csrf: String, message: String? = nil) -> HTML {
    layout(
      title: "Two-factor sign-in", visitor: nil,
      body: """
        <h1>Two-factor sign-in</h1>
        \(alert(message))
        <form method="post" action="\(path("/sign-in/code"))" class="card narrow">
        \(csrfField(csrf))
        <label for="code">Code from your authenticator app</label>
        <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="10" aria-describedby="code-help">
        <p id="code-help" class="help">Or, if you lost your device, one of your recovery codes:</p>
        <label for="recovery">Recovery code</label>
        <input id="recovery" name="recovery" autocomplete="off" maxlength="40">
        <button type="submit" class="primary">Verify</button>
        </form>
        <p><a href="\(path("/sign-in"))">Start again</a></p>
        """)
  }

  /// The sign-in session waiting for a code, or a redirect to the sign-in page.
  private func pendingSignIn(_ request: Request) async throws -> (ConsoleSession, Secret) {
    guard let session = try? await sessions.load(request: request), session.userID == nil,
      let challenge = session.challenge
    else {
      throw Finished(response: redirect(to: path("/sign-in")))
    }
    return (session, Secret(challenge))
  }

  /// GET /sign-in/code.
  func showSignInCode(_ request: Request) async throws -> Response {
    let (session, _) = try await pendingSignIn(request)
    return html(.ok, signInCodePage(csrf: session.csrf))
  }

  /// POST /sign-in/code: an authenticator code, or a recovery code.
  func submitSignInCode(_ request: Request) async throws -> Response {
    let (session, challenge) = try await pendingSignIn(request)
    let form = try await form(request, csrf: session.csrf, visitor: nil)
    guard let code = Self.submittedCode(form) else {
      return html(
        .badRequest, signInCodePage(csrf: session.csrf, message: Self.oneCodeMessage))
    }
    let signedIn: AuthenticatedUser
    do {
      signedIn = try await directory.completeSignIn(challenge, with: code)
    } catch {
      switch error.code {
      case .invalidToken, .accountInactive:
        return await endSession(request, reason: "ended")
      case .invalidCredentials:
        return html(
          .unauthorized, signInCodePage(csrf: session.csrf, message: "The code is not right."))
      case .throttled:
        return html(
          .tooManyRequests,
          signInCodePage(csrf: session.csrf, message: SignInThrottle.message(for: error)))
      default:
        return html(
          Self.status(for: error),
          signInCodePage(csrf: session.csrf, message: "Signing in failed; try again."))
      }
    }
    await throttle.forget(signedIn.user.username.rawValue)
    return try await self.signedIn(signedIn.user, replacing: request)
  }

  // MARK: My account

  func secondFactorSection(_ visitor: Visitor) -> HTML {
    let body: HTML =
      visitor.user.hasSecondFactor
      ? """
      <p>Two-factor sign-in is <strong>on</strong>: signing in asks for a code from your authenticator app.</p>
      <form method="post" action="\(path("/account/two-factor/remove"))">
      \(csrfField(visitor.csrf))
      <p id="remove-help" class="help">Turning it off takes a code of the factor itself; your password alone cannot.</p>
      <label for="remove-code">Code from the app, to turn it off</label>
      <input id="remove-code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="10" aria-describedby="remove-help">
      <label for="remove-recovery">Or a recovery code</label>
      <input id="remove-recovery" name="recovery" autocomplete="off" maxlength="40">
      <button type="submit">Turn off two-factor sign-in</button>
      </form>
      """
      : """
      <p>Two-factor sign-in is <strong>off</strong>. With it on, signing in also asks for a code from an authenticator app on your phone.</p>
      <form method="post" action="\(path("/account/two-factor/enroll"))">
      \(csrfField(visitor.csrf))
      <label for="enroll-password">Your password, to set it up</label>
      <input id="enroll-password" name="password" type="password" autocomplete="current-password" required>
      <button type="submit" class="primary">Set up an authenticator app</button>
      </form>
      """
    return """
      <section class="card" aria-labelledby="two-factor-heading">
      <h2 id="two-factor-heading">Two-factor sign-in</h2>
      \(body)
      </section>
      """
  }

  /// POST /account/two-factor/enroll: shows the secret and its URI once, with the form that
  /// confirms a code from the app.
  func submitEnrollSecondFactor(_ request: Request) async throws -> Response {
    let visitor = try await visitor(request)
    let form = try await form(request, csrf: visitor.csrf, visitor: visitor)
    let enrollment: SecondFactorEnrollment
    do {
      enrollment = try await directory.enrollSecondFactor(
        for: visitor.user.id, password: Secret(form["password"] ?? ""), by: visitor.principal)
    } catch {
      let message =
        error.code == .invalidCredentials ? "The password is not right." : error.message
      return html(Self.status(for: error), accountPage(visitor, message: message))
    }
    let secret = enrollment.secret.revealForDisplay()
    let grouped = stride(from: 0, to: secret.count, by: 4).map { start -> String in
      let from = secret.index(secret.startIndex, offsetBy: start)
      let to = secret.index(from, offsetBy: 4, limitedBy: secret.endIndex) ?? secret.endIndex
      return String(secret[from..<to])
    }.joined(separator: " ")
    return html(
      .ok,
      layout(
        title: "Set up an authenticator app", visitor: visitor,
        body: """
          <h1>Set up an authenticator app</h1>
          <section class="card" aria-labelledby="secret-heading">
          <h2 id="secret-heading">Add this account to your app</h2>
          <p>In your authenticator app, add an account by key and type this key (it is shown only now):</p>
          <p class="secret"><code data-testid="two-factor-secret">\(grouped)</code></p>
          <p>Or open this link on the device that has the app:</p>
          <p class="secret"><code data-testid="two-factor-uri">\(enrollment.uri.revealForDisplay())</code></p>
          </section>
          \(confirmForm(visitor))
          """))
  }

  /// The code a form holds: its `code` field (from the app) or its `recovery` field, exactly
  /// one of them; `nil` for neither or both.
  static func submittedCode(_ form: FormData) -> SecondFactorCode? {
    let typed = form.text("code")
    let recovery = form.text("recovery")
    guard typed.isEmpty != recovery.isEmpty else { return nil }
    return typed.isEmpty ? .recovery(Secret(recovery)) : .authenticator(typed)
  }

  /// What a form with neither code, or both, is told.
  static let oneCodeMessage = "Enter either the code from your app or a recovery code."

  /// The form that confirms an enrolment with a code from the app.
  func confirmForm(_ visitor: Visitor) -> HTML {
    """
    <form method="post" action="\(path("/account/two-factor/confirm"))" class="card narrow">
    \(csrfField(visitor.csrf))
    <label for="confirm-code">Code from the app</label>
    <input id="confirm-code" name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="10">
    <button type="submit" class="primary">Turn on two-factor sign-in</button>
    </form>
    """
  }

  /// POST /account/two-factor/confirm: a code proves the app works; the recovery codes are
  /// shown once, on a page that is never cached.
  func submitConfirmSecondFactor(_ request: Request) async throws -> Response {
    let visitor = try await visitor(request)
    let form = try await form(request, csrf: visitor.csrf, visitor: visitor)
    let codes: [Secret]
    do {
      codes = try await directory.confirmSecondFactor(
        for: visitor.user.id, code: form.text("code"), by: visitor.principal)
    } catch  where error.code == .invalidCredentials || error.code == .throttled {
      // The enrolment stands: the app the user just set up keeps working, so ask again for
      // its current code (each wrong one counts towards the sign-in throttle).
      let message =
        error.code == .invalidCredentials
        ? "The code is not right; enter the code your app shows now." : error.message
      return html(
        Self.status(for: error),
        layout(
          title: "Set up an authenticator app", visitor: visitor,
          body: """
            <h1>Set up an authenticator app</h1>
            \(alert(message))
            \(confirmForm(visitor))
            """))
    } catch {
      return html(Self.status(for: error), accountPage(visitor, message: error.message))
    }
    let items = HTML.join(codes.map { "<li><code>\($0.revealForDisplay())</code></li>" as HTML })
    return html(
      .ok,
      layout(
        title: "Recovery codes", visitor: visitor,
        body: """
          <h1>Two-factor sign-in is on</h1>
          <section class="card" aria-labelledby="codes-heading">
          <h2 id="codes-heading">Your recovery codes</h2>
          <p>Keep these somewhere safe. Each one signs you in once if you lose your device. They are shown only now.</p>
          <ul class="codes" data-testid="recovery-codes">\(items)</ul>
          </section>
          <p><a class="button" href="\(path("/account?done=two-factor-on"))">Done</a></p>
          """))
  }

  /// POST /account/two-factor/remove: a code of the factor (from the app, or a recovery
  /// code) proves it is the user; their sessions end (the security stamp changes), so a new one
  /// starts here.
  func submitRemoveSecondFactor(_ request: Request) async throws -> Response {
    let visitor = try await visitor(request)
    let form = try await form(request, csrf: visitor.csrf, visitor: visitor)
    guard let code = Self.submittedCode(form) else {
      return html(.badRequest, accountPage(visitor, message: Self.oneCodeMessage))
    }
    let user: User
    do {
      user = try await directory.removeSecondFactor(
        for: visitor.user.id, proof: .secondFactor(code), by: visitor.principal)
    } catch {
      let message = error.code == .invalidCredentials ? "The code is not right." : error.message
      return html(Self.status(for: error), accountPage(visitor, message: message))
    }
    let cookie = try await startSession(
      ConsoleSession(
        userID: user.id.description, stamp: user.securityStamp.rawValue, csrf: Tokens.make()),
      replacing: request)
    var response = redirect(to: path("/account?done=two-factor-off"))
    response.setCookie(cookie)
    return response
  }

  // MARK: User Details

  /// POST /admin/users/:id/two-factor/reset: for a user who lost their device.
  func submitResetSecondFactor(_ request: Request, id: String?) async throws -> Response {
    try await changeUser(request, id: id, allowed: []) {
      (userID, _, visitor) throws(UserManagementError) in
      _ = try await directory.resetSecondFactor(of: userID, by: visitor.principal)
      return "two-factor-reset"
    }
  }
}
