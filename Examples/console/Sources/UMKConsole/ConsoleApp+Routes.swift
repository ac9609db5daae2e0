import HTTPTypes
import Hummingbird
import HummingbirdAuth
import Logging
import UserManagementKit

extension ConsoleApp {
  /// Registers every page under the configured prefix.
  func addRoutes<Context: RequestContext>(to router: Router<Context>) {
    let group = router.group(RouterPath(configuration.pathPrefix))
    func get(
      _ path: String,
      _ handler: @escaping @Sendable (ConsoleApp, Request, String?) async throws -> Response
    ) {
      group.get(RouterPath(path)) { [self] request, context in
        let id = context.parameters.get("id")
        return await self.run(request) { try await handler(self, request, id) }
      }
    }
    func post(
      _ path: String,
      _ handler: @escaping @Sendable (ConsoleApp, Request, String?) async throws -> Response
    ) {
      group.post(RouterPath(path)) { [self] request, context in
        let id = context.parameters.get("id")
        return await self.run(request) { try await handler(self, request, id) }
      }
    }
    group.get("console.css") { _, _ in Self.stylesheet() }
    get("") { app, request, _ in try await app.home(request) }
    get("sign-in") { app, request, _ in try await app.showSignIn(request) }
    post("sign-in") { app, request, _ in try await app.submitSignIn(request) }
    get("sign-in/code") { app, request, _ in try await app.showSignInCode(request) }
    post("sign-in/code") { app, request, _ in try await app.submitSignInCode(request) }
    post("sign-out") { app, request, _ in try await app.submitSignOut(request) }
    post("account/two-factor/enroll") { app, request, _ in
      try await app.submitEnrollSecondFactor(request)
    }
    post("account/two-factor/confirm") { app, request, _ in
      try await app.submitConfirmSecondFactor(request)
    }
    post("account/two-factor/remove") { app, request, _ in
      try await app.submitRemoveSecondFactor(request)
    }
    post("admin/users/:id/two-factor/reset") { app, request, id in
      try await app.submitResetSecondFactor(request, id: id)
    }
    get("account") { app, request, _ in try await app.showAccount(request) }
    post("account") { app, request, _ in try await app.submitAccount(request) }
    get("account/password") { app, request, _ in try await app.showPassword(request) }
    post("account/password") { app, request, _ in try await app.submitPassword(request) }
    get("admin/users") { app, request, _ in try await app.showUsers(request) }
    get("admin/users/new") { app, request, _ in try await app.showNewUser(request) }
    post("admin/users/new") { app, request, _ in try await app.submitNewUser(request) }
    post("admin/users/new/role") { app, request, _ in try await app.submitNewUserRole(request) }
    get("admin/users/:id") { app, request, id in try await app.showUser(request, id: id) }
    post("admin/users/:id/status") { app, request, id in try await app.submitStatus(request, id: id)
    }
    post("admin/users/:id/api-access") { app, request, id in
      try await app.submitAPIAccess(request, id: id)
    }
    post("admin/users/:id/unlock") { app, request, id in try await app.submitUnlock(request, id: id)
    }
    get("admin/users/:id/edit") { app, request, id in try await app.showEditUser(request, id: id) }
    post("admin/users/:id/edit") { app, request, id in try await app.submitEditUser(request, id: id)
    }
    post("admin/users/:id/edit/role") { app, request, id in
      try await app.submitEditUserRole(request, id: id)
    }
    get("admin/users/:id/api-password") { app, request, id in
      try await app.showAPIPassword(request, id: id)
    }
    post("admin/users/:id/api-password") { app, request, id in
      try await app.submitAPIPassword(request, id: id)
    }
    get("admin/policies") { app, request, _ in try await app.showPolicies(request) }
    get("admin/policies/export") { app, request, _ in try await app.exportPolicies(request) }
    post("admin/policies/import") { app, request, _ in try await app.submitPolicyImport(request) }
    get("admin/policies/:id") { app, request, id in try await app.showPolicy(request, id: id) }
    post("admin/policies/:id/delete") { app, request, id in
      try await app.submitPolicyDelete(request, id: id)
    }
    get("admin/audit") { app, request, _ in try await app.showAudit(request) }
  }

  static func stylesheet() -> Response {
    var headers = securityHeaders(cacheable: true)
    headers[.contentType] = "text/css; charset=utf-8"
    return Response(
      status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: css)))
  }
}
