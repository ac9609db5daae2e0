import Testing
import UserManagementKit
import UserManagementKitTesting

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// A directory over an in-memory store with a cheap hasher, a test clock and sequential ids.
struct Harness {
  let directory: UserDirectory
  let store: InMemoryDirectoryStore
  let clock: TestClock
  let hasher: CountingPasswordHasher
  let admin: User
  let adminPassword = Secret("correct horse battery staple 9")

  var asAdmin: Principal { .user(admin.id) }

  static let password = Secret("a perfectly fine passphrase")

  init(
    policy: PasswordPolicy = PasswordPolicy(),
    throttle: LoginThrottlePolicy = LoginThrottlePolicy(),
    hasher base: any PasswordHasher = PBKDF2PasswordHasher(insecureIterations: 2),
    ownersMayAct: Bool = true,
    requirePasswordChange: Bool = true,
    store: InMemoryDirectoryStore = InMemoryDirectoryStore(),
    interleaving: Bool = false,
    accountSecurity: UserDirectory.AccountSecuritySettings = .init()
  ) async throws {
    let clock = TestClock()
    let hasher = CountingPasswordHasher(base)
    let ids = SequentialIdentifiers()
    self.clock = clock
    self.hasher = hasher
    self.store = store
    directory = UserDirectory(
      store: interleaving ? InterleavingDirectoryStore(store) : store,
      configuration: .init(
        passwordHasher: hasher, passwordPolicy: policy, loginThrottle: throttle,
        ownersMayActOnTheirResources: ownersMayAct,
        requirePasswordChangeAfterAdminReset: requirePasswordChange,
        now: clock.function, makeIdentifier: ids.function, accountSecurity: accountSecurity))
    admin = try await directory.bootstrap(
      NewUser(
        username: "Admin@Example.com", firstName: "Ada", lastName: "Admin",
        password: .typed(Secret("correct horse battery staple 9")))
    ).user
  }

  @discardableResult
  func add(
    _ username: String, role: Role = .generalUser, status: UserStatus = .active,
    policies: Set<PolicyID> = [], apiAccess: Bool = false, password: Secret = Harness.password
  ) async throws -> User {
    try await directory.addUser(
      NewUser(
        username: username, firstName: "First", lastName: "Last", password: .typed(password),
        status: status, role: role, policies: policies, apiAccessEnabled: apiAccess),
      by: asAdmin
    ).user
  }

  func allEvents() async throws -> [AuditEvent] {
    try await directory.auditEvents(
      AuditQuery(limit: 10_000, newestFirst: false), by: .system("test-inspection"))
  }
}

/// Expects `body` to throw a ``UserManagementError`` with `code`, and returns it.
@discardableResult
func expectError(
  _ code: UserManagementError.Code, sourceLocation: SourceLocation = #_sourceLocation,
  _ body: () async throws -> Void
) async -> UserManagementError? {
  do {
    try await body()
    Issue.record("expected \(code), but it succeeded", sourceLocation: sourceLocation)
  } catch let error as UserManagementError {
    #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    return error
  } catch {
    Issue.record("expected \(code), got \(error)", sourceLocation: sourceLocation)
  }
  return nil
}

extension UserDirectory {
  /// Signs in with a password and expects no second factor to be required.
  func signInWithPassword(username: String, password: Secret)
    async throws(UserManagementError) -> AuthenticatedUser
  {
    switch try await authenticate(username: username, password: password) {
    case .signedIn(let user): return user
    case .secondFactorRequired:
      throw UserManagementError(.invalidOperation, "A second factor was required.")
    }
  }
}
