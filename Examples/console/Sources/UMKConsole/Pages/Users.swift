import HTTPTypes
import Hummingbird
import HummingbirdAuth
import Logging
import UserManagementKit

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

extension ConsoleApp {
  /// The user named by the `:id` path parameter; unknown or malformed ids get a clear page.
  func targetID(_ id: String?, visitor: Visitor) throws -> UserID {
    guard let id, let userID = UserID(id) else {
      throw Finished(
        response: messagePage(
          status: .notFound, title: "No such user", message: "No user has this id.",
          visitor: visitor))
    }
    return userID
  }

  func loadUser(_ id: UserID, visitor: Visitor) async throws -> User {
    do {
      return try await directory.user(id, by: visitor.principal)
    } catch {
      throw Finished(
        response: messagePage(
          status: Self.status(for: error), title: "No such user", message: error.message,
          visitor: visitor))
    }
  }

  // MARK: Administration: the user list

  /// GET /admin/users: search, filters (status, role, policy), 50 per page.
  func showUsers(_ request: Request) async throws -> Response {
    let visitor = try await admin(request)
    let query = request.uri.queryParameters
    let search = String((query["q"].map(String.init) ?? "").prefix(200))
    var filter = UserFilter(search: search.isEmpty ? nil : search)
    var problems: [String] = []
    switch query["status"].map(String.init) ?? "" {
    case "": break
    case "active": filter.status = .active
    case "inactive": filter.status = .inactive
    default: problems.append("Status must be Active or Inactive.")
    }
    switch query["role"].map(String.init) ?? "" {
    case "": break
    case "admin": filter.role = .admin
    case "general": filter.role = .generalUser
    default: problems.append("Role must be Admin or General User.")
    }
    if let raw = query["policy"], !raw.isEmpty {
      if let id = PolicyID(String(raw)) {
        filter.policy = id
      } else {
        problems.append("Unknown policy.")
      }
    }
    var userQuery = UserQuery(filter: filter, limit: configuration.pageSize)
    if let after = query["after"], !after.isEmpty {
      do {
        userQuery.after = try UserCursor(parsing: String(after))
      } catch {
        problems.append("The page link is not valid; showing the first page.")
      }
    }
    let policies = try await directory.policies(by: visitor.principal)
    let page = try await directory.users(userQuery, by: visitor.principal)
    // Counting every match of a search or filter scans the whole directory (~30 ms for a
    // search over 100,000 users), far more than the page itself: only the unfiltered total,
    // which the store keeps, is counted; a filtered list says how many it shows.
    let countText: String
    if filter == UserFilter() {
      let total = try await directory.userCount(by: visitor.principal)
      countText = "\(total) \(total == 1 ? "user" : "users") found"
    } else if userQuery.after == nil && page.nextCursor == nil {
      countText = "\(page.users.count) \(page.users.count == 1 ? "user" : "users") found"
    } else {
      countText = "More than \(configuration.pageSize) users found; showing \(page.users.count)"
    }
    let policyNames = Dictionary(uniqueKeysWithValues: policies.map { ($0.id, $0.name) })

    let rows = page.users.map { user in userRow(user, visitor: visitor, policyNames: policyNames) }
    var base: [(String, String)] = []
    if !search.isEmpty { base.append(("q", search)) }
    if let status = filter.status { base.append(("status", status.rawValue)) }
    if let role = filter.role { base.append(("role", role.rawValue)) }
    if let policy = filter.policy { base.append(("policy", policy.description)) }
    var paging: [HTML] = []
    if userQuery.after != nil {
      paging.append("<a href=\"\(path("/admin/users") + Self.queryString(base))\">First page</a>")
    }
    if let next = page.nextCursor {
      paging.append(
        "<a href=\"\(path("/admin/users") + Self.queryString(base + [("after", next.description)]))\" rel=\"next\">Next page</a>"
      )
    }
    let policyOptions = HTML.join(
      policies.map {
        "<option value=\"\($0.id.description)\"\(HTML.flag("selected", filter.policy == $0.id))>\($0.name)</option>"
      })
    let body: HTML = """
      <div class="title-row">
      <h1>Administration</h1>
      <a class="button primary" href="\(path("/admin/users/new"))">Add New User</a>
      </div>
      \(notice(Self.noticeText(query["done"].map(String.init))))\(alert(problems.isEmpty ? nil : problems.joined(separator: " ")))
      <form method="get" action="\(path("/admin/users"))" class="filters" role="search" aria-label="Find users">
      <div><label for="q">Search</label>
      <input id="q" name="q" type="search" value="\(search)" maxlength="200"></div>
      <div><label for="status">Status</label>
      <select id="status" name="status">
      <option value="">Any status</option>
      <option value="active"\(HTML.flag("selected", filter.status == .active))>Active</option>
      <option value="inactive"\(HTML.flag("selected", filter.status == .inactive))>Inactive</option>
      </select></div>
      <div><label for="role">Role</label>
      <select id="role" name="role">
      <option value="">Any role</option>
      <option value="admin"\(HTML.flag("selected", filter.role == .admin))>Admin</option>
      <option value="general"\(HTML.flag("selected", filter.role == .generalUser))>General User</option>
      </select></div>
      <div><label for="policy">Policy</label>
      <select id="policy" name="policy">
      <option value="">Any policy</option>
      \(policyOptions)
      </select></div>
      <button type="submit">Filter</button>
      </form>
      <p class="count">\(countText)</p>
      <table class="users">
      <caption class="visually-hidden">Users</caption>
      <thead><tr><th scope="col">Name</th><th scope="col">Username</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">API access</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
      <tbody>
      \(rows)
      </tbody>
      </table>
      <nav class="paging" aria-label="Pages">\(paging)</nav>
      """
    return html(.ok, layout(title: "Administration", visitor: visitor, body: body))
  }

  func userRow(_ user: User, visitor: Visitor, policyNames: [PolicyID: String]) -> HTML {
    let isSelf = user.id == visitor.user.id
    let id = user.id.description
    var menu: [HTML] = []
    if !isSelf {
      let (label, value) =
        user.status == .active ? ("Set as Inactive", "inactive") : ("Set as Active", "active")
      menu.append(
        """
        <li><form method="post" action="\(path("/admin/users/\(id)/status"))">\(csrfField(visitor.csrf))<input type="hidden" name="status" value="\(value)"><button type="submit" class="link">\(label)</button></form></li>
        """)
    }
    menu.append("<li><a href=\"\(path("/admin/users/\(id)/edit"))\">Edit</a></li>")
    let you: HTML = isSelf ? " <span class=\"tag\">you</span>" : ""
    return """
      <tr>
      <td>\(Self.fullName(user))\(you)</td>
      <td><a href="\(path("/admin/users/\(id)"))">\(user.username.rawValue)</a></td>
      <td>\(Self.roleText(user.role))</td>
      <td><span class="status \(user.status.rawValue)">\(Self.statusText(user.status))</span></td>
      <td>\(user.apiAccessEnabled ? "Enabled" : "Disabled")</td>
      <td><details class="menu"><summary aria-label="Actions for \(user.username.rawValue)">…</summary><ul>\(menu)</ul></details></td>
      </tr>
      """
  }

  static func queryString(_ items: [(String, String)]) -> String {
    guard !items.isEmpty else { return "" }
    return "?"
      + items.map { "\(percentEncode($0.0))=\(percentEncode($0.1))" }.joined(separator: "&")
  }

  static func percentEncode(_ text: String) -> String {
    var output = ""
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"),
        UInt8(ascii: "."),
        UInt8(ascii: "~"):
        output.unicodeScalars.append(Unicode.Scalar(byte))
      default:
        let hex = Array("0123456789ABCDEF".unicodeScalars)
        output += "%"
        output.unicodeScalars.append(hex[Int(byte >> 4)])
        output.unicodeScalars.append(hex[Int(byte & 15)])
      }
    }
    return output
  }

  // MARK: User Details

  /// GET /admin/users/:id: the User Details pane, its controls and its audit history.
  func showUser(_ request: Request, id: String?) async throws -> Response {
    let visitor = try await admin(request)
    let user = try await loadUser(try targetID(id, visitor: visitor), visitor: visitor)
    let done = Self.noticeText(request.uri.queryParameters["done"].map(String.init))
    return html(.ok, try await userDetailsPage(user, visitor: visitor, info: done))
  }

  func userDetailsPage(_ user: User, visitor: Visitor, message: String? = nil, info: String? = nil)
    async throws -> HTML
  {
    let isSelf = user.id == visitor.user.id
    let id = user.id.description
    let policies = try await directory.policies(by: visitor.principal)
    let held = policies.filter { user.policies.contains($0.id) }.map(\.name)
    let events = try await directory.auditEvents(
      AuditQuery(targetUser: user.id, limit: 50), by: visitor.principal)
    let history = try await auditRows(events, visitor: visitor)
    var statusControl: HTML = ""
    if !isSelf {
      let (label, value) =
        user.status == .active ? ("Set as Inactive", "inactive") : ("Set as Active", "active")
      statusControl = """
        <form method="post" action="\(path("/admin/users/\(id)/status"))" class="inline">\(csrfField(visitor.csrf))<input type="hidden" name="status" value="\(value)"><button type="submit">\(label)</button></form>
        """
    }
    let apiToggle: HTML = """
      <form method="post" action="\(path("/admin/users/\(id)/api-access"))" class="inline">\(csrfField(visitor.csrf))<input type="hidden" name="enabled" value="\(user.apiAccessEnabled ? "false" : "true")"><button type="submit">\(user.apiAccessEnabled ? "Disable direct API access" : "Enable direct API access")</button></form>
      """
    let apiPassword: HTML =
      user.apiAccessEnabled
      ? """
      <a class="button" href="\(path("/admin/users/\(id)/api-password"))">\(user.hasAPIPassword ? "Reset API password" : "Create API password")</a>
      """ : ""
    return layout(
      title: "User Details", visitor: visitor,
      body: """
        <p><a href="\(path("/admin/users"))">← Administration</a></p>
        <div class="title-row">
        <h1>User Details</h1>
        <a class="button" href="\(path("/admin/users/\(id)/edit"))" aria-label="Edit user \(user.username.rawValue)">✎ Edit</a>
        </div>
        \(notice(info))\(alert(message))
        <section class="card" aria-label="Profile">
        <dl class="details">
        <dt>Name</dt><dd>\(Self.fullName(user))</dd>
        <dt>Username</dt><dd>\(user.username.rawValue)</dd>
        <dt>Role</dt><dd>\(Self.roleText(user.role))</dd>
        <dt>Status</dt><dd>\(Self.statusText(user.status))</dd>
        <dt>Policies</dt><dd>\(held.isEmpty ? "None" : held.joined(separator: ", "))</dd>
        <dt>Direct API access</dt><dd>\(user.apiAccessEnabled ? "Enabled" : "Disabled")\(user.hasAPIPassword ? ", API password set" : "")</dd>
        <dt>Must change password</dt><dd>\(user.mustChangePassword ? "Yes" : "No")</dd>
        <dt>Two-factor sign-in</dt><dd>\(user.hasSecondFactor ? "On" : "Off")</dd>
        <dt>Created</dt><dd>\(Self.timeText(user.createdAt))</dd>
        <dt>Updated</dt><dd>\(Self.timeText(user.updatedAt))</dd>
        </dl>
        <div class="actions">\(statusControl)\(apiToggle)\(apiPassword)
        <form method="post" action="\(path("/admin/users/\(id)/unlock"))" class="inline">\(csrfField(visitor.csrf))<button type="submit">Reset failed sign-ins</button></form>
        \(user.hasSecondFactor && user.id != visitor.user.id ? HTML("<form method=\"post\" action=\"\(path("/admin/users/\(id)/two-factor/reset"))\" class=\"inline\">\(csrfField(visitor.csrf))<button type=\"submit\">Reset two-factor sign-in</button></form>") : "")
        </div>
        </section>
        <section aria-labelledby="history-heading">
        <h2 id="history-heading">History</h2>
        \(auditTable(history, caption: "History of \(user.username.rawValue)"))
        </section>
        """)
  }

  /// Runs a change of one user; a refusal re-renders the details pane with the library's message.
  func changeUser(
    _ request: Request, id: String?, allowed: Set<String>,
    _ change: (UserID, FormData, Visitor) async throws(UserManagementError) -> String
  ) async throws -> Response {
    let visitor = try await admin(request)
    let form = try await form(request, csrf: visitor.csrf, visitor: visitor)
    let userID = try targetID(id, visitor: visitor)
    let unexpected = form.unexpectedFields(allowed: allowed.union(["csrf"]))
    do throws(UserManagementError) {
      guard unexpected.isEmpty else {
        throw UserManagementError(.invalidOperation, Self.forgedFieldsMessage(unexpected))
      }
      let done = try await change(userID, form, visitor)
      return redirect(to: path("/admin/users/\(userID.description)?done=\(done)"))
    } catch {
      let user = try await loadUser(userID, visitor: visitor)
      return html(
        Self.status(for: error),
        try await userDetailsPage(user, visitor: visitor, message: error.message))
    }
  }

  /// POST /admin/users/:id/status: Set as Active / Set as Inactive.
  func submitStatus(_ request: Request, id: String?) async throws -> Response {
    try await changeUser(request, id: id, allowed: ["status"]) {
      (userID, form, visitor) throws(UserManagementError) in
      let status = try Self.status(form["status"])
      try await directory.setStatus(status, of: userID, by: visitor.principal)
      return status == .active ? "activated" : "deactivated"
    }
  }

  /// POST /admin/users/:id/api-access: enable or disable direct API access.
  func submitAPIAccess(_ request: Request, id: String?) async throws -> Response {
    try await changeUser(request, id: id, allowed: ["enabled"]) {
      (userID, form, visitor) throws(UserManagementError) in
      let enabled: Bool
      switch form["enabled"] {
      case "true": enabled = true
      case "false": enabled = false
      default:
        throw UserManagementError(.invalidField, "Direct API access must be enabled or disabled.")
      }
      try await directory.setAPIAccess(enabled, of: userID, by: visitor.principal)
      return enabled ? "api-enabled" : "api-disabled"
    }
  }

  /// POST /admin/users/:id/unlock: resets the failed sign-in counter.
  func submitUnlock(_ request: Request, id: String?) async throws -> Response {
    try await changeUser(request, id: id, allowed: []) {
      (userID, _, visitor) throws(UserManagementError) in
      try await directory.resetLoginThrottle(of: userID, by: visitor.principal)
      // The console's own count for the username too, or it would go on refusing.
      let user = try await directory.user(userID, by: visitor.principal)
      await throttle.forget(user.username.rawValue)
      return "unlocked"
    }
  }

  static func status(_ value: String?) throws(UserManagementError) -> UserStatus {
    switch value {
    case "active": .active
    case "inactive": .inactive
    default:
      throw UserManagementError(
        .invalidField, "Status must be Active or Inactive; nothing was changed.")
    }
  }

  static func timeText(_ date: Date) -> String {
    String(date.ISO8601Format().prefix(19)).replacing("T", with: " ") + " UTC"
  }
}
