import HTTPTypes
import Hummingbird
import HummingbirdAuth
import Logging
import UserManagementKit

extension ConsoleApp {
  /// GET /admin/policies: the list, import and export.
  func showPolicies(_ request: Request, message: String? = nil, json: String = "") async throws
    -> Response
  {
    let visitor = try await admin(request)
    let policies = try await directory.policies(by: visitor.principal)
    var rows: [HTML] = []
    for policy in policies {
      let holders = try await directory.userCount(
        matching: UserFilter(policy: policy.id), by: visitor.principal)
      rows.append(
        """
        <tr><td><a href="\(path("/admin/policies/\(policy.id.description)"))">\(policy.name)</a></td><td>\(policy.description)</td><td>\(policy.permissions.count)</td><td>\(holders)</td></tr>
        """)
    }
    let table: HTML =
      rows.isEmpty
      ? "<p>No policies yet. Import some below.</p>"
      : """
      <table><caption class="visually-hidden">Policies</caption>
      <thead><tr><th scope="col">Name</th><th scope="col">Description</th><th scope="col">Permissions</th><th scope="col">Holders</th></tr></thead>
      <tbody>\(rows)</tbody></table>
      """
    let body: HTML = """
      <div class="title-row">
      <h1>Access-control policies</h1>
      <a class="button" href="\(path("/admin/policies/export"))" download="policies.json">Export JSON</a>
      </div>
      \(notice(Self.noticeText(request.uri.queryParameters["done"].map(String.init))))\(alert(message))
      \(table)
      <section class="card" aria-labelledby="import-heading">
      <h2 id="import-heading">Import</h2>
      <form method="post" action="\(path("/admin/policies/import"))">
      \(csrfField(visitor.csrf))
      <label for="json">Policy JSON</label>
      <textarea id="json" name="json" rows="10" required aria-describedby="json-help">\(json)</textarea>
      <p id="json-help" class="help">One policy or an array, as the console exports them: name, description and permissions (resourceType, allowed, resourceIds). A policy with an existing name is replaced.</p>
      <button type="submit" class="primary">Import</button>
      </form>
      </section>
      """
    return html(
      message == nil ? .ok : .badRequest,
      layout(title: "Access-control policies", visitor: visitor, body: body))
  }

  /// POST /admin/policies/import.
  func submitPolicyImport(_ request: Request) async throws -> Response {
    let visitor = try await admin(request)
    let form = try await form(
      request, csrf: visitor.csrf, maximumFieldBytes: Self.maximumBodyBytes, visitor: visitor)
    let json = form["json"] ?? ""
    do {
      let documents = try PolicyDocument.decodeList(from: Array(json.utf8))
      try await directory.importPolicies(documents, by: visitor.principal)
    } catch {
      return try await showPolicies(request, message: error.message, json: json)
    }
    return redirect(to: path("/admin/policies?done=imported"))
  }

  /// GET /admin/policies/export: the console's JSON, as a download.
  func exportPolicies(_ request: Request) async throws -> Response {
    let visitor = try await admin(request)
    let documents = try await directory.exportPolicies(by: visitor.principal)
    var headers = Self.securityHeaders()
    headers[.contentType] = "application/json"
    headers[.contentDisposition] = "attachment; filename=\"policies.json\""
    return Response(
      status: .ok, headers: headers,
      body: ResponseBody(byteBuffer: ByteBuffer(bytes: PolicyDocument.encodeList(documents))))
  }

  func loadPolicy(_ id: String?, visitor: Visitor) async throws -> Policy {
    guard let id, let policyID = PolicyID(id) else {
      throw Finished(
        response: messagePage(
          status: .notFound, title: "No such policy", message: "No policy has this id.",
          visitor: visitor))
    }
    do {
      return try await directory.policy(policyID, by: visitor.principal)
    } catch {
      throw Finished(
        response: messagePage(
          status: Self.status(for: error), title: "No such policy", message: error.message,
          visitor: visitor))
    }
  }

  /// GET /admin/policies/:id.
  func showPolicy(_ request: Request, id: String?, message: String? = nil) async throws -> Response
  {
    let visitor = try await admin(request)
    let policy = try await loadPolicy(id, visitor: visitor)
    let holders = try await directory.userCount(
      matching: UserFilter(policy: policy.id), by: visitor.principal)
    let rows = policy.permissions.map { permission -> HTML in
      """
      <tr><td>\(permission.resourceType)</td><td>\(permission.allowed.map(\.rawValue).joined(separator: ", "))</td><td>\(permission.resourceIds.map(\.description).joined(separator: ", "))</td></tr>
      """
    }
    let body: HTML = """
      <p><a href="\(path("/admin/policies"))">← Access-control policies</a></p>
      <h1>\(policy.name)</h1>
      \(alert(message))
      <p>\(policy.description)</p>
      <p>Held by <a href="\(path("/admin/users?policy=\(policy.id.description)"))">\(holders) \(holders == 1 ? "user" : "users")</a>.</p>
      <table><caption>Permissions</caption>
      <thead><tr><th scope="col">Resource type</th><th scope="col">Allowed actions</th><th scope="col">Resource ids</th></tr></thead>
      <tbody>\(rows)</tbody></table>
      <form method="post" action="\(path("/admin/policies/\(policy.id.description)/delete"))" class="card danger">
      \(csrfField(visitor.csrf))
      <p>A policy can be deleted only while nobody holds it.</p>
      <button type="submit" class="danger">Delete policy</button>
      </form>
      """
    return html(
      message == nil ? .ok : .conflict, layout(title: policy.name, visitor: visitor, body: body))
  }

  /// POST /admin/policies/:id/delete: refused, with the number of holders, while assigned.
  func submitPolicyDelete(_ request: Request, id: String?) async throws -> Response {
    let visitor = try await admin(request)
    _ = try await form(request, csrf: visitor.csrf, visitor: visitor)
    let policy = try await loadPolicy(id, visitor: visitor)
    do {
      try await directory.deletePolicy(policy.id, by: visitor.principal)
    } catch {
      return try await showPolicy(request, id: id, message: error.message)
    }
    return redirect(to: path("/admin/policies?done=deleted"))
  }
}
