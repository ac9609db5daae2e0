import HTTPTypes
import Hummingbird
import HummingbirdAuth
import Logging
import UserManagementKit

/// The values a user form shows again after a refusal (never a password).
struct UserFormValues: Sendable {
  var firstName = ""
  var lastName = ""
  var username = ""
  var status: UserStatus? = .active
  /// `keep`, `typed` or `generate`.
  var passwordMode = "typed"
}

extension ConsoleApp {
  // MARK: Step 1: names, username, password, status

  func userStep1Page(
    _ values: UserFormValues, editing: User?, visitor: Visitor, message: String? = nil
  ) -> HTML {
    let isSelf = editing?.id == visitor.user.id
    let action =
      editing.map { path("/admin/users/\($0.id.description)/edit") } ?? path("/admin/users/new")
    let usernameField: HTML =
      editing == nil
      ? """
      <label for="username">Username</label>
      <input id="username" name="username" type="email" required maxlength="254" autocomplete="off" value="\(values.username)" aria-describedby="username-help">
      <p id="username-help" class="help">The user's e-mail address. Usernames cannot be changed once created; they can only be deactivated.</p>
      """
      : """
      <p class="readonly"><span class="label">Username</span> <strong>\(values.username)</strong></p>
      <p class="help">Usernames cannot be changed once created; they can only be deactivated.</p>
      """
    let statusField: HTML =
      isSelf
      ? "<p class=\"readonly\"><span class=\"label\">Status</span> Active (nobody changes their own status)</p>"
      : """
      <fieldset><legend>Status</legend>
      <label class="choice"><input type="radio" name="status" value="active"\(HTML.flag("checked", values.status != .inactive))> Active</label>
      <label class="choice"><input type="radio" name="status" value="inactive"\(HTML.flag("checked", values.status == .inactive))> Inactive</label>
      </fieldset>
      """
    let keep: HTML =
      editing == nil
      ? ""
      : "<label class=\"choice\"><input type=\"radio\" name=\"passwordMode\" value=\"keep\"\(HTML.flag("checked", values.passwordMode == "keep"))> Keep the current password</label>"
    let passwordField: HTML =
      isSelf
      ? "<p class=\"help\">Change your own password on <a href=\"\(path("/account/password"))\">My account</a>.</p>"
      : """
      <fieldset><legend>Password</legend>
      \(keep)
      <label class="choice"><input type="radio" name="passwordMode" value="typed"\(HTML.flag("checked", values.passwordMode == "typed"))> Enter a password</label>
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="new-password" aria-describedby="password-help">
      <p id="password-help" class="help">At least \(directory.configuration.passwordPolicy.minimumLength) characters; common passwords and the username are refused.</p>
      <label class="choice"><input type="radio" name="passwordMode" value="generate"\(HTML.flag("checked", values.passwordMode == "generate"))> Auto-Generate Password</label>
      </fieldset>
      """
    let title = editing == nil ? "Create User Account" : "Edit User Account"
    return layout(
      title: title, visitor: visitor,
      body: """
        <p><a href="\(path("/admin/users"))">← Administration</a></p>
        <h1>\(title)</h1>
        <p class="step">Step 1 of 2</p>
        \(alert(message))
        <form method="post" action="\(action)" class="card">
        \(csrfField(visitor.csrf))
        <label for="firstName">First Name</label>
        <input id="firstName" name="firstName" required maxlength="100" autocomplete="off" value="\(values.firstName)">
        <label for="lastName">Last Name</label>
        <input id="lastName" name="lastName" required maxlength="100" autocomplete="off" value="\(values.lastName)">
        \(usernameField)
        \(passwordField)
        \(statusField)
        <button type="submit" class="primary">Continue</button>
        </form>
        """)
  }

  // MARK: Step 2: role and policies

  func userStep2Page(
    draftToken: String, draft: UserDraft, role: Role, selected: Set<PolicyID>, editing: User?,
    visitor: Visitor, message: String? = nil
  ) async throws -> HTML {
    let isSelf = editing?.id == visitor.user.id
    let policies = try await directory.policies(by: visitor.principal)
    let action =
      editing.map { path("/admin/users/\($0.id.description)/edit/role") }
      ?? path("/admin/users/new/role")
    let options = HTML.join(
      policies.map {
        "<option value=\"\($0.id.description)\"\(HTML.flag("selected", selected.contains($0.id)))>\($0.name)</option>"
      })
    let roleField: HTML =
      isSelf
      ? "<p class=\"readonly\"><span class=\"label\">Role</span> \(Self.roleText(role)) (nobody changes their own role)</p>"
      : """
      <fieldset><legend>What role would you like to assign to the user?</legend>
      <label class="choice"><input type="radio" name="role" value="admin"\(HTML.flag("checked", role == .admin))> Admin</label>
      <label class="choice"><input type="radio" name="role" value="general"\(HTML.flag("checked", role == .generalUser))> General User</label>
      </fieldset>
      """
    let policyField: HTML =
      policies.isEmpty
      ? "<p class=\"help\">No access-control policies exist yet.</p>"
      : """
      <label for="policies">Select policies</label>
      <select id="policies" name="policies" multiple size="\(min(max(policies.count, 2), 8))" aria-describedby="policies-help">
      \(options)
      </select>
      <p id="policies-help" class="help">For General Users only (administrators may do everything). Hold Ctrl, or ⌘ on a Mac, to choose several.</p>
      """
    let title = editing == nil ? "Create User Account" : "Edit User Account"
    return layout(
      title: title, visitor: visitor,
      body: """
        <h1>\(title)</h1>
        <p class="step">Step 2 of 2 · \(draft.firstName) \(draft.lastName) (\(draft.username))</p>
        \(alert(message))
        <form method="post" action="\(action)" class="card">
        \(csrfField(visitor.csrf))
        <input type="hidden" name="draft" value="\(draftToken)">
        \(roleField)
        \(policyField)
        <button type="submit" class="primary">\(editing == nil ? "Add User" : "Update User")</button>
        </form>
        """)
  }

  // MARK: Create User Account

  /// GET /admin/users/new.
  func showNewUser(_ request: Request) async throws -> Response {
    let visitor = try await admin(request)
    return html(.ok, userStep1Page(UserFormValues(), editing: nil, visitor: visitor))
  }

  /// Reads and checks step 1; on a problem, the same page with the message.
  func readStep1(_ form: FormData, editing: User?, visitor: Visitor) throws -> (
    UserDraft, UserFormValues
  ) {
    let isSelf = editing?.id == visitor.user.id
    var values = UserFormValues(
      firstName: form.text("firstName"), lastName: form.text("lastName"),
      username: editing?.username.rawValue ?? form.text("username"),
      status: form["status"] == "inactive" ? .inactive : .active,
      passwordMode: form["passwordMode"] ?? (editing == nil ? "typed" : "keep"))
    func refuse(_ message: String) -> Finished {
      Finished(
        response: html(
          .badRequest, userStep1Page(values, editing: editing, visitor: visitor, message: message)))
    }
    var allowed: Set<String> = [
      "csrf", "firstName", "lastName", "password", "passwordMode", "status",
    ]
    if editing == nil { allowed.insert("username") }
    let unexpected = form.unexpectedFields(allowed: allowed)
    guard unexpected.isEmpty else { throw refuse(Self.forgedFieldsMessage(unexpected)) }
    do {
      values.firstName = try PersonName.validate(values.firstName, field: "firstName")
      values.lastName = try PersonName.validate(values.lastName, field: "lastName")
    } catch {
      throw refuse(error.message)
    }
    let username: Username
    if let editing {
      username = editing.username
    } else {
      do { username = try Username(values.username) } catch { throw refuse(error.message) }
    }
    var status: UserStatus? = nil
    if let raw = form["status"] {
      do { status = try Self.status(raw) } catch { throw refuse(error.message) }
    } else if !isSelf {
      throw refuse("Choose a status: Active or Inactive.")
    }
    var password: NewSecret?
    switch values.passwordMode {
    case "keep" where editing != nil:
      password = nil
    case "generate":
      password = .generated
    case "typed":
      let typed = Secret(form["password"] ?? "")
      if typed.byteCount == 0 && editing != nil {
        password = nil
      } else {
        do {
          try directory.configuration.passwordPolicy.validate(typed, username: username)
        } catch {
          throw refuse(error.message)
        }
        password = .typed(typed)
      }
    default:
      throw refuse("Choose how the password is set.")
    }
    if isSelf, form["password"].map({ !$0.isEmpty }) == true || values.passwordMode == "generate" {
      throw refuse("Change your own password on My account, proving the current one.")
    }
    let draft = UserDraft(
      editing: editing?.id, version: editing?.version, username: username.rawValue,
      firstName: values.firstName, lastName: values.lastName, password: password, status: status)
    return (draft, values)
  }

  /// POST /admin/users/new: step 1 → step 2.
  func submitNewUser(_ request: Request) async throws -> Response {
    let visitor = try await admin(request)
    let form = try await form(request, csrf: visitor.csrf, visitor: visitor)
    let (draft, _) = try readStep1(form, editing: nil, visitor: visitor)
    let token = await drafts.put(draft, owner: visitor.user.id)
    return html(
      .ok,
      try await userStep2Page(
        draftToken: token, draft: draft, role: .generalUser, selected: [], editing: nil,
        visitor: visitor))
  }

  /// Reads step 2's role and policies.
  func readStep2(_ form: FormData) throws(UserManagementError) -> (Role?, Set<PolicyID>) {
    let unexpected = form.unexpectedFields(allowed: ["csrf", "draft", "role", "policies"])
    guard unexpected.isEmpty else {
      throw UserManagementError(.invalidOperation, Self.forgedFieldsMessage(unexpected))
    }
    var role: Role?
    switch form["role"] {
    case nil: role = nil
    case "admin": role = .admin
    case "general": role = .generalUser
    default: throw UserManagementError(.invalidField, "The role must be Admin or General User.")
    }
    var policies: Set<PolicyID> = []
    for raw in form.all("policies") {
      guard let id = PolicyID(raw) else {
        throw UserManagementError(.policyNotFound, "One of the selected policies does not exist.")
      }
      policies.insert(id)
    }
    return (role, policies)
  }

  func expiredDraft(_ visitor: Visitor) -> Finished {
    Finished(
      response: messagePage(
        status: .gone, title: "Form expired",
        message:
          "This form has expired or was already submitted; start again. Nothing was changed.",
        visitor: visitor))
  }

  /// POST /admin/users/new/role: Add User.
  func submitNewUserRole(_ request: Request) async throws -> Response {
    let visitor = try await admin(request)
    let form = try await form(request, csrf: visitor.csrf, visitor: visitor)
    let token = form["draft"] ?? ""
    guard let draft = await drafts.get(token, owner: visitor.user.id) else {
      throw expiredDraft(visitor)
    }
    var role: Role = .generalUser
    var policies: Set<PolicyID> = []
    do {
      let (chosen, selected) = try readStep2(form)
      role = chosen ?? .generalUser
      policies = role == .admin ? [] : selected
      let result = try await directory.addUser(
        NewUser(
          username: draft.username, firstName: draft.firstName, lastName: draft.lastName,
          password: draft.password ?? .generated, status: draft.status ?? .active, role: role,
          policies: policies),
        by: visitor.principal)
      await drafts.remove(token)
      if let generated = result.generatedPassword {
        return html(
          .ok,
          generatedSecretPage(
            user: result.user, secret: generated, kind: "password", visitor: visitor))
      }
      return redirect(to: path("/admin/users/\(result.user.id.description)?done=created"))
    } catch {
      if error.code == .usernameTaken || error.code == .invalidUsername
        || error.code == .weakPassword
      {
        await drafts.remove(token)
        let values = UserFormValues(
          firstName: draft.firstName, lastName: draft.lastName, username: draft.username,
          status: draft.status, passwordMode: "typed")
        return html(
          Self.status(for: error),
          userStep1Page(values, editing: nil, visitor: visitor, message: error.message))
      }
      return html(
        Self.status(for: error),
        try await userStep2Page(
          draftToken: token, draft: draft, role: role, selected: policies, editing: nil,
          visitor: visitor,
          message: error.message))
    }
  }

  /// The one page that ever shows a plaintext secret: right after it was generated, never cached.
  func generatedSecretPage(user: User, secret: Secret, kind: String, visitor: Visitor) -> HTML {
    let what = kind == "password" ? "password" : "API password"
    return layout(
      title: "Generated \(what)", visitor: visitor,
      body: """
        <h1>Generated \(what)</h1>
        <p role="status" class="notice">The \(what) of <strong>\(user.username.rawValue)</strong> is shown once. Copy it now: it is not stored and will not be shown again.</p>
        <p class="secret"><label for="generated">Generated \(what)</label>
        <input id="generated" readonly value="\(secret.revealForDisplay())" autocomplete="off" spellcheck="false"></p>
        <p><a class="button primary" href="\(path("/admin/users/\(user.id.description)"))">Done</a></p>
        """)
  }

  // MARK: Edit User Account

  /// GET /admin/users/:id/edit.
  func showEditUser(_ request: Request, id: String?) async throws -> Response {
    let visitor = try await admin(request)
    let user = try await loadUser(try targetID(id, visitor: visitor), visitor: visitor)
    let values = UserFormValues(
      firstName: user.firstName, lastName: user.lastName, username: user.username.rawValue,
      status: user.status, passwordMode: "keep")
    return html(.ok, userStep1Page(values, editing: user, visitor: visitor))
  }

  /// POST /admin/users/:id/edit: step 1 → step 2.
  func submitEditUser(_ request: Request, id: String?) async throws -> Response {
    let visitor = try await admin(request)
    let form = try await form(request, csrf: visitor.csrf, visitor: visitor)
    let user = try await loadUser(try targetID(id, visitor: visitor), visitor: visitor)
    let (draft, _) = try readStep1(form, editing: user, visitor: visitor)
    let token = await drafts.put(draft, owner: visitor.user.id)
    return html(
      .ok,
      try await userStep2Page(
        draftToken: token, draft: draft, role: user.role, selected: user.policies, editing: user,
        visitor: visitor))
  }

  /// POST /admin/users/:id/edit/role: Update User, against the version step 1 showed.
  func submitEditUserRole(_ request: Request, id: String?) async throws -> Response {
    let visitor = try await admin(request)
    let form = try await form(request, csrf: visitor.csrf, visitor: visitor)
    let user = try await loadUser(try targetID(id, visitor: visitor), visitor: visitor)
    let token = form["draft"] ?? ""
    guard let draft = await drafts.get(token, owner: visitor.user.id), draft.editing == user.id
    else {
      throw expiredDraft(visitor)
    }
    var role = user.role
    var policies = user.policies
    do {
      let (chosen, selected) = try readStep2(form)
      role = chosen ?? user.role
      policies = role == .admin ? [] : selected
      var update = UserUpdate()
      if draft.firstName != user.firstName { update.firstName = draft.firstName }
      if draft.lastName != user.lastName { update.lastName = draft.lastName }
      if let status = draft.status, status != user.status { update.status = status }
      if let chosen, chosen != user.role { update.role = chosen }
      if policies != user.policies { update.policies = policies }
      update.password = draft.password
      let result = try await directory.updateUser(
        user.id, with: update, expectedVersion: draft.version, by: visitor.principal)
      await drafts.remove(token)
      // A new password also clears the console's own count of failed sign-ins.
      if update.password != nil { await throttle.forget(user.username.rawValue) }
      if let generated = result.generatedPassword {
        return html(
          .ok,
          generatedSecretPage(
            user: result.user, secret: generated, kind: "password", visitor: visitor))
      }
      return redirect(to: path("/admin/users/\(user.id.description)?done=updated"))
    } catch {
      return html(
        Self.status(for: error),
        try await userStep2Page(
          draftToken: token, draft: draft, role: role, selected: policies, editing: user,
          visitor: visitor,
          message: error.code == .versionConflict
            ? "Someone changed this user meanwhile; nothing was changed. Open Edit again to see their change."
            : error.message))
    }
  }

  // MARK: API password

  /// GET /admin/users/:id/api-password: create, generate or reset the API password.
  func showAPIPassword(_ request: Request, id: String?, message: String? = nil) async throws
    -> Response
  {
    let visitor = try await admin(request)
    let user = try await loadUser(try targetID(id, visitor: visitor), visitor: visitor)
    return html(
      message == nil ? .ok : .badRequest, apiPasswordPage(user, visitor: visitor, message: message))
  }

  func apiPasswordPage(_ user: User, visitor: Visitor, message: String? = nil) -> HTML {
    let id = user.id.description
    let title = user.hasAPIPassword ? "Reset API password" : "Create API password"
    // The directory refuses an administrator's typed API password for themself (it would be
    // compared with their login password, a free oracle for a stolen session): only generate.
    let own = user.id == visitor.user.id
    let typedChoice: HTML =
      own
      ? """
      <p class="help">Your own API password is always generated. Another administrator can enter one for you.</p>
      """
      : """
      <label class="choice"><input type="radio" name="mode" value="typed"> Enter an API password</label>
      <label for="apiPassword">API password</label>
      <input id="apiPassword" name="apiPassword" type="password" autocomplete="new-password">
      """
    return layout(
      title: title, visitor: visitor,
      body: """
        <p><a href="\(path("/admin/users/\(id)"))">← User Details</a></p>
        <h1>\(title)</h1>
        <p>For <strong>\(user.username.rawValue)</strong>. Direct API access must be enabled.</p>
        \(alert(message))
        <form method="post" action="\(path("/admin/users/\(id)/api-password"))" class="card">
        \(csrfField(visitor.csrf))
        <fieldset><legend>API password</legend>
        <label class="choice"><input type="radio" name="mode" value="generate" checked> Generate an API password (recommended)</label>
        \(typedChoice)
        </fieldset>
        <button type="submit" class="primary">Save API password</button>
        </form>
        """)
  }

  /// POST /admin/users/:id/api-password.
  func submitAPIPassword(_ request: Request, id: String?) async throws -> Response {
    let visitor = try await admin(request)
    let form = try await form(request, csrf: visitor.csrf, visitor: visitor)
    let user = try await loadUser(try targetID(id, visitor: visitor), visitor: visitor)
    do throws(UserManagementError) {
      let unexpected = form.unexpectedFields(allowed: ["csrf", "mode", "apiPassword"])
      guard unexpected.isEmpty else {
        throw UserManagementError(.invalidOperation, Self.forgedFieldsMessage(unexpected))
      }
      let secret: NewSecret
      switch form["mode"] {
      case "generate": secret = .generated
      case "typed": secret = .typed(Secret(form["apiPassword"] ?? ""))
      default:
        throw UserManagementError(.invalidField, "Choose to generate or enter an API password.")
      }
      let result = try await directory.setAPIPassword(secret, of: user.id, by: visitor.principal)
      if let generated = result.generatedAPIPassword {
        return html(
          .ok,
          generatedSecretPage(user: result.user, secret: generated, kind: "api", visitor: visitor))
      }
      return redirect(to: path("/admin/users/\(user.id.description)?done=api-password"))
    } catch {
      return html(
        Self.status(for: error), apiPasswordPage(user, visitor: visitor, message: error.message))
    }
  }
}
