import Foundation
import HTTPTypes
import Hummingbird
import Synchronization
import Testing
import UMKConsole
import UserManagementKit

/// The console mounted under a prefix on a host's router (of the test's own context type),
/// driven without a browser: headers, cookies, and the refusals that need no signed-in user.
@Suite struct RoutingTests {
  func withConsole(_ test: (RouterClient) async throws -> Void) async throws {
    try await test(Self.client(for: UserDirectory(store: InMemoryDirectoryStore())))
  }

  /// A client of the console over `directory`, mounted under `/console` on a host's router.
  static func client(
    for directory: UserDirectory, sessionStorage: any PersistDriver = MemoryPersistDriver()
  ) -> RouterClient {
    let console = UserConsole(
      directory: directory, sessionStorage: sessionStorage,
      configuration: .init(pathPrefix: "/console", secureCookies: true))
    let router = Router(context: TestRequestContext.self)
    console.addRoutes(to: router)
    return RouterClient(router)
  }

  /// Ada, the first administrator (`analytical engine 1843`), and Grace, a General User she
  /// adds (`first compiler 1952`).
  static func adaAndGrace(in directory: UserDirectory, graceHasAPIAccess: Bool = false)
    async throws -> (ada: User, grace: User)
  {
    let ada = try await directory.bootstrap(
      NewUser(
        username: "ada@example.com", firstName: "Ada", lastName: "Lovelace",
        password: .typed(Secret("analytical engine 1843")))
    ).user
    let grace = try await directory.addUser(
      NewUser(
        username: "grace@example.com", firstName: "Grace", lastName: "Hopper",
        password: .typed(Secret("first compiler 1952")), apiAccessEnabled: graceHasAPIAccess),
      by: .user(ada.id)
    ).user
    return (ada, grace)
  }

  func formHeaders(cookie: String, site: String? = nil) throws -> HTTPFields {
    var headers = HTTPFields()
    headers[.cookie] = cookie
    headers[.contentType] = "application/x-www-form-urlencoded"
    if let site { headers[try #require(HTTPField.Name("Sec-Fetch-Site"))] = site }
    return headers
  }

  @Test func theSignInPageCarriesTheSecurityHeaders() async throws {
    try await withConsole { client in
      let response = try await client.execute(.get, "/console/sign-in")
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

  @Test func secureCookiesAreHostCookies() {
    typealias Settings = UserConsole.Configuration
    for prefix in ["", "/console"] {
      let secure = Settings(pathPrefix: prefix, secureCookies: true)
      #expect(secure.sentCookieName == "__Host-umk_console" && secure.cookiePath == "/")
    }
    let plain = Settings(pathPrefix: "/console")
    #expect(plain.sentCookieName == "umk_console", "plain HTTP cannot set prefixed cookies")
    #expect(plain.cookiePath == "/console")
    #expect(Settings().cookiePath == "/")
    // A prefix in the given name is replaced, never doubled or kept where it cannot work.
    for given in ["__Host-mine", "__Secure-mine", "mine"] {
      #expect(Settings(secureCookies: true, cookieName: given).sentCookieName == "__Host-mine")
      #expect(Settings(cookieName: given).sentCookieName == "mine")
    }
  }

  /// With `Secure` cookies, at the root or under a prefix, every cookie the console sets or
  /// removes is a `__Host-` one with `Path=/` and no `Domain` (a browser ignores a `__Host-`
  /// cookie without them, so a removal without them would silently fail), and the session
  /// works under that name.
  @Test(arguments: ["", "/console"])
  func secureCookiesAreHostCookiesEverywhere(_ prefix: String) async throws {
    let directory = UserDirectory(
      store: InMemoryDirectoryStore(),
      configuration: .init(passwordHasher: PBKDF2PasswordHasher(insecureIterations: 2)))
    try await directory.bootstrap(
      NewUser(
        username: "ada@example.com", firstName: "Ada", lastName: "Lovelace",
        password: .typed(Secret("analytical engine 1843"))))
    let console = UserConsole(
      directory: directory, sessionStorage: MemoryPersistDriver(),
      configuration: .init(pathPrefix: prefix, secureCookies: true))
    let router = Router(context: TestRequestContext.self)
    console.addRoutes(to: router)
    let client = RouterClient(router)
    var browser = Browser()
    let page = try await client.execute(.get, prefix + "/sign-in")
    browser.read(page)
    let signInCookie = try #require(page.headers[.setCookie])
    #expect(signInCookie.hasPrefix("__Host-umk_console_signin="))
    let signedIn = try await client.execute(
      .post, prefix + "/sign-in",
      headers: try formHeaders(cookie: browser.cookie, site: "same-origin"),
      body: "csrf=\(browser.csrf)&username=ada%40example.com&password=analytical+engine+1843")
    #expect(signedIn.status == .seeOther, "\(signedIn.status) \(signedIn.body.prefix(300))")
    let cookies = signedIn.headers[values: .setCookie]
    try #require(cookies.count == 2)
    #expect(cookies[0].hasPrefix("__Host-umk_console="))
    browser.read(signedIn)
    let home = try await client.execute(
      .get, prefix + "/admin/users", headers: try formHeaders(cookie: browser.cookie))
    #expect(home.status == .ok, "\(home.status)")
    browser.read(home)
    let signedOut = try await client.execute(
      .post, prefix + "/sign-out",
      headers: try formHeaders(cookie: browser.cookie, site: "same-origin"),
      body: "csrf=\(browser.csrf)")
    let removals = signedOut.headers[values: .setCookie]
    #expect(removals.contains { $0.hasPrefix("__Host-umk_console=") }, "\(removals)")
    for cookie in cookies + removals + [signInCookie] {
      let attributes = Self.attributes(of: cookie)
      #expect(attributes.isSuperset(of: ["Secure", "Path=/"]), "\(cookie)")
      #expect(!attributes.contains { $0.lowercased().hasPrefix("domain") }, "\(cookie)")
    }
    let after = try await client.execute(
      .get, prefix + "/admin/users", headers: try formHeaders(cookie: browser.cookie))
    #expect(after.status == .seeOther, "the session ended: \(after.status)")
  }

  @Test func theSignInCookieIsHttpOnlyStrictAndSecure() async throws {
    try await withConsole { client in
      let response = try await client.execute(.get, "/console/sign-in")
      let cookie = try #require(response.headers[.setCookie])
      #expect(cookie.hasPrefix("__Host-umk_console_signin="))
      #expect(cookie.contains("HttpOnly"))
      #expect(cookie.contains("SameSite=Strict"))
      #expect(cookie.contains("Secure"))
      #expect(Self.attributes(of: cookie).contains("Path=/"), "a __Host- cookie's path is /")
    }
  }

  /// A `Set-Cookie` value's attributes, after its name and value.
  static func attributes(of cookie: String) -> Set<String> {
    Set(cookie.split(separator: ";").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) })
  }

  /// A persistence driver that counts what is stored in it.
  final class CountingPersistDriver: PersistDriver {
    let base = MemoryPersistDriver()
    let writes = Mutex(0)
    func create<Object: Codable & Sendable>(key: String, value: Object, expires: Duration?)
      async throws
    {
      writes.withLock { $0 += 1 }
      try await base.create(key: key, value: value, expires: expires)
    }
    func set<Object: Codable & Sendable>(key: String, value: Object, expires: Duration?)
      async throws
    {
      writes.withLock { $0 += 1 }
      try await base.set(key: key, value: value, expires: expires)
    }
    func get<Object: Codable & Sendable>(key: String, as type: Object.Type) async throws
      -> Object?
    {
      try await base.get(key: key, as: type)
    }
    func remove(key: String) async throws { try await base.remove(key: key) }
  }

  /// Opening the sign-in page stores nothing: a flood of cookieless visits cannot fill the
  /// session store. The token is checked against the sign-in cookie instead.
  @Test func theSignInPageKeepsNothingOnTheServer() async throws {
    let driver = CountingPersistDriver()
    let client = Self.client(
      for: UserDirectory(store: InMemoryDirectoryStore()), sessionStorage: driver)
    var pages: [Browser] = []
    for _ in 0..<50 {
      var browser = Browser()
      browser.read(try await client.execute(.get, "/console/sign-in"))
      pages.append(browser)
    }
    #expect(driver.writes.withLock { $0 } == 0)
    #expect(Set(pages.map(\.csrf)).count == 50, "a fresh token every time")
    #expect(pages.allSatisfy { $0.cookie == "__Host-umk_console_signin=\($0.csrf)" })

    func post(cookie: String, csrf: String) async throws -> CollectedResponse {
      try await client.execute(
        .post, "/console/sign-in", headers: try formHeaders(cookie: cookie, site: "same-origin"),
        body: "csrf=\(csrf)&username=nobody%40example.com&password=wrong")
    }
    // Another page's token, or no cookie at all, is refused before the directory is asked.
    let mismatched = try await post(cookie: pages[0].cookie, csrf: pages[1].csrf)
    #expect(mismatched.status == .forbidden)
    let cookieless = try await post(cookie: "", csrf: pages[0].csrf)
    #expect(cookieless.status == .forbidden)
    let emptied = try await post(cookie: "__Host-umk_console_signin=", csrf: "")
    #expect(emptied.status == .forbidden)
    // The pair of one page is accepted, and a wrong password still stores nothing.
    let matched = try await post(cookie: pages[0].cookie, csrf: pages[0].csrf)
    #expect(matched.status == .unauthorized)
    #expect(driver.writes.withLock { $0 } == 0)
  }

  @Test func pagesWithoutASessionRedirectToSignIn() async throws {
    try await withConsole { client in
      let response = try await client.execute(.get, "/console/admin/users")
      #expect(response.status == .seeOther)
      #expect(response.headers[.location] == "/console/sign-in")
    }
  }

  @Test func aSignInPostWithoutItsTokenIsRefused() async throws {
    try await withConsole { client in
      let page = try await client.execute(.get, "/console/sign-in")
      let cookie = try #require(page.headers[.setCookie]?.split(separator: ";").first)
      let response = try await client.execute(
        .post, "/console/sign-in", headers: try formHeaders(cookie: String(cookie)),
        body: "username=a%40example.com&password=x")
      #expect(response.status == .forbidden)
      #expect(response.body.contains("Request refused"))
    }
  }

  @Test func aCrossSitePostIsRefusedEvenWithItsToken() async throws {
    try await withConsole { client in
      let page = try await client.execute(.get, "/console/sign-in")
      let cookie = try #require(page.headers[.setCookie]?.split(separator: ";").first)
      let after = try #require(page.body.split(separator: "name=\"csrf\" value=\"").last)
      let token = after.prefix { $0 != "\"" }
      let response = try await client.execute(
        .post, "/console/sign-in",
        headers: try formHeaders(cookie: String(cookie), site: "cross-site"),
        body: "csrf=\(token)&username=a%40example.com&password=x")
      #expect(response.status == .forbidden)
    }
  }

  @Test func theTokenOfTheFormIsAcceptedFromTheSameOrigin() async throws {
    try await withConsole { client in
      let page = try await client.execute(.get, "/console/sign-in")
      let cookie = try #require(page.headers[.setCookie]?.split(separator: ";").first)
      let after = try #require(page.body.split(separator: "name=\"csrf\" value=\"").last)
      let token = after.prefix { $0 != "\"" }
      let response = try await client.execute(
        .post, "/console/sign-in",
        headers: try formHeaders(cookie: String(cookie), site: "same-origin"),
        body: "csrf=\(token)&username=nobody%40example.com&password=wrong")
      // Past the CSRF check: the directory's answer, the same for every unknown account.
      #expect(response.status == .unauthorized)
      #expect(response.body.contains("The username or password is not right."))
    }
  }

  /// A browser's session: its cookie, and the form token of the last page it read.
  struct Browser {
    var cookie = ""
    var csrf = ""

    mutating func read(_ response: CollectedResponse) {
      if let set = response.headers[.setCookie]?.split(separator: ";").first {
        cookie = String(set)
      }
      if let token = RoutingTests.hiddenValue("csrf", in: response) { csrf = token }
    }
  }

  /// The value of the page's hidden input `name`, if it has one.
  static func hiddenValue(_ name: String, in response: CollectedResponse) -> String? {
    response.body.split(separator: "name=\"\(name)\" value=\"").dropFirst().first
      .map { String($0.prefix { $0 != "\"" }) }
  }

  /// Fails grace's sign-in twice, then checks that the console refuses even her right password.
  func failGraceUntilRefused(
    _ client: RouterClient, sourceLocation: SourceLocation = #_sourceLocation
  ) async throws {
    for _ in 0..<2 {
      _ = try await signIn(client, "grace@example.com", "wrong")
    }
    let refused = try await signIn(client, "grace@example.com", "first+compiler+1952").0
    #expect(refused.status == .tooManyRequests, "\(refused.status)", sourceLocation: sourceLocation)
  }

  /// Posts the sign-in form from a fresh session.
  func signIn(
    _ client: RouterClient, _ username: String, _ password: String
  ) async throws -> (CollectedResponse, Browser) {
    var browser = Browser()
    browser.read(try await client.execute(.get, "/console/sign-in"))
    let encoded = username.replacing("@", with: "%40")
    let response = try await client.execute(
      .post, "/console/sign-in",
      headers: try formHeaders(cookie: browser.cookie, site: "same-origin"),
      body: "csrf=\(browser.csrf)&username=\(encoded)&password=\(password)")
    browser.read(response)
    return (response, browser)
  }

  /// "Reset failed sign-ins", and a password set in "Edit User Account", clear the console's
  /// own count of a username's failures as well as the directory's, or the console would go
  /// on refusing the user.
  @Test func anAdministratorsUnlockOrNewPasswordClearsTheConsolesCount() async throws {
    let directory = UserDirectory(
      store: InMemoryDirectoryStore(),
      configuration: .init(
        passwordHasher: PBKDF2PasswordHasher(insecureIterations: 2),
        loginThrottle: LoginThrottlePolicy(freeAttempts: 1, baseDelay: .seconds(600))))
    let (_, grace) = try await Self.adaAndGrace(in: directory)
    let client = Self.client(for: directory)

    try await failGraceUntilRefused(client)

    var (signedIn, admin) = try await signIn(client, "ada@example.com", "analytical+engine+1843")
    #expect(signedIn.status == .seeOther, "\(signedIn.status)")
    // The session's cookie first, then the sign-in cookie's removal.
    let cookies = signedIn.headers[values: .setCookie]
    try #require(cookies.count == 2)
    #expect(cookies[0].hasPrefix("__Host-umk_console="))
    #expect(
      Self.attributes(of: cookies[0]).isSuperset(of: [
        "HttpOnly", "SameSite=Strict", "Secure", "Path=/",
      ]))
    #expect(
      cookies[1].hasPrefix("__Host-umk_console_signin=;") && cookies[1].contains("Max-Age=0"))
    let path = "/console/admin/users/\(grace.id.description)"
    admin.read(
      try await client.execute(.get, path, headers: try formHeaders(cookie: admin.cookie)))
    let unlocked = try await client.execute(
      .post, path + "/unlock",
      headers: try formHeaders(cookie: admin.cookie, site: "same-origin"),
      body: "csrf=\(admin.csrf)")
    #expect(unlocked.status == .seeOther, "\(unlocked.status) \(unlocked.body.prefix(300))")

    let after = try await signIn(client, "grace@example.com", "first+compiler+1952").0
    #expect(after.status == .seeOther, "\(after.status)")

    // A password set in "Edit User Account" clears it too.
    try await failGraceUntilRefused(client)
    let step1 = try await client.execute(
      .post, path + "/edit", headers: try formHeaders(cookie: admin.cookie, site: "same-origin"),
      body: "csrf=\(admin.csrf)&firstName=Grace&lastName=Hopper&status=active"
        + "&passwordMode=typed&password=a+new+compiler+1959")
    #expect(step1.status == .ok, "\(step1.status) \(step1.body.prefix(300))")
    admin.read(step1)
    let draft = try #require(Self.hiddenValue("draft", in: step1))
    let step2 = try await client.execute(
      .post, path + "/edit/role",
      headers: try formHeaders(cookie: admin.cookie, site: "same-origin"),
      body: "csrf=\(admin.csrf)&draft=\(draft)&role=general")
    #expect(step2.status == .seeOther, "\(step2.status) \(step2.body.prefix(300))")
    let withNewPassword = try await signIn(client, "grace@example.com", "a+new+compiler+1959").0
    #expect(withNewPassword.status == .seeOther, "\(withNewPassword.status)")
  }

  /// An administrator's own API password page offers only "Generate": the directory refuses a
  /// typed one for themself. Another user's page offers both, and a forged typed post for
  /// oneself is answered with the directory's refusal.
  @Test func anAdministratorsOwnAPIPasswordPageOffersOnlyGenerate() async throws {
    let directory = UserDirectory(
      store: InMemoryDirectoryStore(),
      configuration: .init(passwordHasher: PBKDF2PasswordHasher(insecureIterations: 2)))
    let (ada, grace) = try await Self.adaAndGrace(in: directory, graceHasAPIAccess: true)
    try await directory.setAPIAccess(true, of: ada.id, by: .user(ada.id))
    let client = Self.client(for: directory)
    var (_, admin) = try await signIn(client, "ada@example.com", "analytical+engine+1843")
    func page(_ id: UserID) async throws -> CollectedResponse {
      try await client.execute(
        .get, "/console/admin/users/\(id.description)/api-password",
        headers: try formHeaders(cookie: admin.cookie))
    }
    let own = try await page(ada.id)
    #expect(own.status == .ok, "\(own.status)")
    #expect(own.body.contains(#"value="generate""#))
    #expect(!own.body.contains(#"value="typed""#))
    #expect(own.body.contains("Your own API password is always generated."))
    let other = try await page(grace.id)
    #expect(other.body.contains(#"value="typed""#))
    admin.read(own)
    let forged = try await client.execute(
      .post, "/console/admin/users/\(ada.id.description)/api-password",
      headers: try formHeaders(cookie: admin.cookie, site: "same-origin"),
      body: "csrf=\(admin.csrf)&mode=typed&apiPassword=analytical+engine+1843")
    #expect(forged.status == .badRequest, "\(forged.status)")
    #expect(forged.body.contains("Generate your own API password"))
    #expect(try await directory.user(ada.id, by: .user(ada.id)).hasAPIPassword == false)
  }

  /// A hasher whose verifications wait until it is opened.
  final class GatedHasher: PasswordHasher {
    let state = Mutex((open: false, entered: 0))
    func hash(_ password: Secret) throws(UserManagementError) -> PasswordHash {
      PasswordHash(encoded: "$gated$")
    }
    func verify(_ password: Secret, against hash: PasswordHash) throws(UserManagementError)
      -> PasswordVerification
    {
      state.withLock { $0.entered += 1 }
      while !state.withLock({ $0.open }) { usleep(500) }
      return .invalid
    }
    func canVerify(_ hash: PasswordHash) -> Bool { hash.encoded == "$gated$" }
    func needsRehash(_ hash: PasswordHash) -> Bool { false }
  }

  /// A sign-in the directory is too busy to check is answered 503 with the directory's
  /// message, at once.
  @Test func aSignInTheDirectoryIsTooBusyForIsAnswered503() async throws {
    let hasher = GatedHasher()
    let directory = UserDirectory(
      store: InMemoryDirectoryStore(),
      configuration: .init(
        passwordHasher: hasher, maximumConcurrentHashes: 1, maximumWaitingHashes: 0))
    _ = try await directory.bootstrap(
      NewUser(
        username: "ada@example.com", firstName: "Ada", lastName: "Lovelace",
        password: .typed(Secret("analytical engine 1843"))))
    let client = Self.client(for: directory)
    let first = Task { try await signIn(client, "ada@example.com", "wrong").0 }
    for _ in 0..<10_000 where hasher.state.withLock({ $0.entered }) == 0 {
      try await Task.sleep(for: .milliseconds(1))
    }
    let busy = try await signIn(client, "ada@example.com", "wrong").0
    #expect(busy.status == .serviceUnavailable, "\(busy.status)")
    #expect(busy.body.contains("Too many password checks are waiting; try again in a moment."))
    hasher.state.withLock { $0.open = true }
    #expect(try await first.value.status == .unauthorized)
  }
}
