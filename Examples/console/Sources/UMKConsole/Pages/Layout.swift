import UserManagementKit

extension ConsoleApp {
  /// The frame of every page: header with the profile menu, main content, no script.
  func layout(title: String, visitor: Visitor?, body: HTML) -> HTML {
    var navigation: HTML = ""
    if let visitor {
      let name = "\(visitor.user.firstName) \(visitor.user.lastName)"
      let adminLinks: HTML =
        visitor.isAdmin
        ? """
        <li><a href="\(path("/admin/users"))">Administration</a></li>
        <li><a href="\(path("/admin/policies"))">Access-control policies</a></li>
        <li><a href="\(path("/admin/audit"))">Audit trail</a></li>
        """ : ""
      navigation = """
        <details class="profile">
        <summary>\(name)</summary>
        <ul>
        \(adminLinks)<li><a href="\(path("/account"))">My account</a></li>
        <li><form method="post" action="\(path("/sign-out"))">\(csrfField(visitor.csrf))<button type="submit" class="link">Sign out</button></form></li>
        </ul>
        </details>
        """
    }
    return """
      <!doctype html>
      <html lang="en">
      <head>
      <meta charset="utf-8">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <title>\(title) · User Management</title>
      <link rel="stylesheet" href="\(path("/console.css"))">
      </head>
      <body>
      <header class="top">
      <a class="brand" href="\(path("/"))">User Management</a>
      <nav aria-label="Profile">\(navigation)</nav>
      </header>
      <main>
      \(body)
      </main>
      </body>
      </html>
      """
  }

  /// The hidden CSRF field every form carries.
  func csrfField(_ token: String) -> HTML {
    "<input type=\"hidden\" name=\"csrf\" value=\"\(token)\">"
  }

  /// An error message region, or nothing.
  func alert(_ message: String?) -> HTML {
    guard let message else { return "" }
    return "<p role=\"alert\" class=\"error\">\(message)</p>"
  }

  /// A confirmation message region, or nothing.
  func notice(_ message: String?) -> HTML {
    guard let message else { return "" }
    return "<p role=\"status\" class=\"notice\">\(message)</p>"
  }

  /// The fixed confirmation texts that redirects name by a key (never text from the request).
  static func noticeText(_ key: String?) -> String? {
    switch key {
    case "created": "The user was added."
    case "updated": "The user was updated."
    case "activated": "The user is now active."
    case "deactivated": "The user is now inactive."
    case "api-enabled": "Direct API access is enabled."
    case "api-disabled": "Direct API access is disabled."
    case "api-password": "The API password was set."
    case "unlocked": "Failed sign-ins were reset."
    case "two-factor-reset": "Two-factor sign-in was reset; the user can enrol a new app."
    case "two-factor-on": "Two-factor sign-in is on."
    case "two-factor-off": "Two-factor sign-in is off."
    case "imported": "The policies were imported."
    case "deleted": "The policy was deleted."
    case "profile": "Your name was saved."
    case "password": "Your password was changed."
    default: nil
    }
  }

  /// A person's full name.
  static func fullName(_ user: User) -> String { "\(user.firstName) \(user.lastName)" }

  static func roleText(_ role: Role) -> String { role == .admin ? "Admin" : "General User" }

  static func statusText(_ status: UserStatus) -> String {
    status == .active ? "Active" : "Inactive"
  }
}
