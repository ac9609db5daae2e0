import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import UMKConsole
import UserManagementKit

/// The console mounted under a prefix on a host's router, driven without a browser: headers,
/// cookies, and the refusals that need no signed-in user.
@Suite struct RoutingTests {
  func withConsole(_ test: @escaping @Sendable (any TestClientProtocol) async throws -> Void)
    async throws
  {
    let console = UserConsole(
      directory: UserDirectory(store: InMemoryDirectoryStore()),
      sessionStorage: MemoryPersistDriver(),
      configuration: .init(pathPrefix: "/console", secureCookies: true))
    let router = Router()
    console.addRoutes(to: router)
    try await Application(router: router).test(.router) { client in try await test(client) }
  }

  @Test func theSignInPageCarriesTheSecurityHeaders() async throws {
    try await withConsole { client in
      try await client.execute(uri: "/console/sign-in", method: .get) { response in
        #expect(response.status == .ok)
        let csp = try #require(response.headers[.contentSecurityPolicy])
        #expect(csp.contains("default-src 'none'"))
        #expect(!csp.contains("script-src"))
        let nosniff = try #require(HTTPField.Name("X-Content-Type-Options"))
        #expect(response.headers[nosniff] == "nosniff")
        #expect(response.headers[try #require(HTTPField.Name("Referrer-Policy"))] == "no-referrer")
        #expect(response.headers[.cacheControl] == "no-store")
      }
    }
  }

  @Test func theSessionCookieIsHttpOnlyStrictAndSecure() async throws {
    try await withConsole { client in
      try await client.execute(uri: "/console/sign-in", method: .get) { response in
        let cookie = try #require(response.headers[.setCookie])
        #expect(cookie.contains("HttpOnly"))
        #expect(cookie.contains("SameSite=Strict"))
        #expect(cookie.contains("Secure"))
        #expect(cookie.contains("Path=/console"))
      }
    }
  }

  @Test func pagesWithoutASessionRedirectToSignIn() async throws {
    try await withConsole { client in
      try await client.execute(uri: "/console/admin/users", method: .get) { response in
        #expect(response.status == .seeOther)
        #expect(response.headers[.location] == "/console/sign-in")
      }
    }
  }

  @Test func aSignInPostWithoutItsTokenIsRefused() async throws {
    try await withConsole { client in
      let cookie = try await client.execute(uri: "/console/sign-in", method: .get) { response in
        try #require(response.headers[.setCookie]?.split(separator: ";").first.map(String.init))
      }
      var headers = HTTPFields()
      headers[.cookie] = cookie
      headers[.contentType] = "application/x-www-form-urlencoded"
      try await client.execute(
        uri: "/console/sign-in", method: .post, headers: headers,
        body: ByteBuffer(string: "username=a%40example.com&password=x")
      ) { response in
        #expect(response.status == .forbidden)
        #expect(String(buffer: response.body).contains("Request refused"))
      }
    }
  }

  @Test func aCrossSitePostIsRefusedBeforeItsFormIsRead() async throws {
    try await withConsole { client in
      let page = try await client.execute(uri: "/console/sign-in", method: .get) { $0 }
      let cookie = try #require(page.headers[.setCookie]?.split(separator: ";").first)
      let body = String(buffer: page.body)
      let marker = "name=\"csrf\" value=\""
      let after = try #require(body.split(separator: marker, maxSplits: 1).last)
      let token = after.prefix { $0 != "\"" }
      var headers = HTTPFields()
      headers[.cookie] = String(cookie)
      headers[.contentType] = "application/x-www-form-urlencoded"
      headers[try #require(HTTPField.Name("Sec-Fetch-Site"))] = "cross-site"
      try await client.execute(
        uri: "/console/sign-in", method: .post, headers: headers,
        body: ByteBuffer(string: "csrf=\(token)&username=a%40example.com&password=x")
      ) { response in
        #expect(response.status == .forbidden)
      }
    }
  }
}
