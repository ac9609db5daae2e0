import HTTPTypes
import Hummingbird
import HummingbirdAuth
import Logging
import UserManagementKit

extension ConsoleApp {
  func accountPage(_ visitor: Visitor, message: String? = nil, info: String? = nil) -> HTML {
    let user = visitor.user
    return layout(
      title: "My account", visitor: visitor,
      body: """
        <h1>My account</h1>
        \(notice(info))\(alert(message))
        <section class="card" aria-labelledby="profile-heading">
        <h2 id="profile-heading">Profile</h2>
        <p>Username: <strong>\(user.username.rawValue)</strong> (usernames never change)</p>
        <p>Role: \(Self.roleText(user.role))</p>
        <form method="post" action="\(path("/account"))">
        \(csrfField(visitor.csrf))
        <label for="firstName">First Name</label>
        <input id="firstName" name="firstName" required maxlength="100" value="\(user.firstName)" autocomplete="given-name">
        <label for="lastName">Last Name</label>
        <input id="lastName" name="lastName" required maxlength="100" value="\(user.lastName)" autocomplete="family-name">
        <button type="submit" class="primary">Save</button>
        </form>
        </section>
        <p><a href="\(path("/account/password"))">Change my password</a></p>
        \(secondFactorSection(visitor))
        """)
  }

  /// GET /account.
  func showAccount(_ request: Request) async throws -> Response {
    let visitor = try await visitor(request)
    return html(
      .ok,
      accountPage(
        visitor, info: Self.noticeText(request.uri.queryParameters["done"].map(String.init))))
  }

  /// POST /account: one's own names, nothing else.
  func submitAccount(_ request: Request) async throws -> Response {
    let visitor = try await visitor(request)
    let form = try await form(request, csrf: visitor.csrf, visitor: visitor)
    let unexpected = form.unexpectedFields(allowed: ["csrf", "firstName", "lastName"])
    guard unexpected.isEmpty else {
      return html(.badRequest, accountPage(visitor, message: Self.forgedFieldsMessage(unexpected)))
    }
    do {
      try await directory.updateProfile(
        of: visitor.user.id, firstName: form.text("firstName"), lastName: form.text("lastName"),
        by: visitor.principal)
    } catch {
      return html(Self.status(for: error), accountPage(visitor, message: error.message))
    }
    return redirect(to: path("/account?done=profile"))
  }

  func passwordPage(_ visitor: Visitor, message: String? = nil) -> HTML {
    let codeField: HTML = """
      <label for="code">Code from your authenticator app</label>
      <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="10">
      """
    let must: HTML =
      visitor.user.mustChangePassword
      ? "<p role=\"status\" class=\"notice\">An administrator set your password. Choose your own before you continue.</p>"
      : ""
    return layout(
      title: "Change password", visitor: visitor,
      body: """
        <h1>Change password</h1>
        \(must)\(alert(message))
        <form method="post" action="\(path("/account/password"))" class="card narrow">
        \(csrfField(visitor.csrf))
        <input type="text" name="username" value="\(visitor.user.username.rawValue)" autocomplete="username" hidden>
        <label for="current">Current password</label>
        <input id="current" name="current" type="password" autocomplete="current-password" required>
        <label for="new">New password</label>
        <input id="new" name="new" type="password" autocomplete="new-password" required aria-describedby="new-help">
        <p id="new-help" class="help">At least \(directory.configuration.passwordPolicy.minimumLength) characters; common passwords and your username are refused.</p>
        <label for="confirm">Confirm new password</label>
        <input id="confirm" name="confirm" type="password" autocomplete="new-password" required>
        \(visitor.user.hasSecondFactor ? codeField : "")
        <button type="submit" class="primary">Change password</button>
        </form>
        """)
  }

  /// GET /account/password (also where users who must change their password land).
  func showPassword(_ request: Request) async throws -> Response {
    let visitor = try await visitor(request, allowingPendingPasswordChange: true)
    return html(.ok, passwordPage(visitor))
  }

  /// POST /account/password: proves the current password; a new session follows, since the
  /// change gives the user a new security stamp.
  func submitPassword(_ request: Request) async throws -> Response {
    let visitor = try await visitor(request, allowingPendingPasswordChange: true)
    let form = try await form(request, csrf: visitor.csrf, visitor: visitor)
    let new = form["new"] ?? ""
    guard new == (form["confirm"] ?? "") else {
      return html(
        .badRequest, passwordPage(visitor, message: "The new password and its confirmation differ.")
      )
    }
    let user: User
    do {
      let typedCode = form.text("code")
      user = try await directory.changeOwnPassword(
        of: visitor.user.id, current: Secret(form["current"] ?? ""), new: Secret(new),
        secondFactor: typedCode.isEmpty ? nil : .authenticator(typedCode))
    } catch {
      let message =
        error.code == .invalidCredentials ? "The current password is not right." : error.message
      return html(Self.status(for: error), passwordPage(visitor, message: message))
    }
    let cookie = try await startSession(
      ConsoleSession(
        userID: user.id.description, stamp: user.securityStamp.rawValue, csrf: Tokens.make()),
      replacing: request)
    var response = redirect(
      to: path(user.role == .admin ? "/admin/users?done=password" : "/account?done=password"))
    response.setCookie(cookie)
    return response
  }

  /// The message for fields a form never has (a forged username, say).
  static func forgedFieldsMessage(_ names: [String]) -> String {
    if names.contains("username") {
      return "The username cannot be changed; nothing was changed."
    }
    let list = names.prefix(3).map { "“\(String($0.prefix(40)))”" }.joined(separator: ", ")
    return "The form had fields it never has (\(list)); nothing was changed."
  }
}
