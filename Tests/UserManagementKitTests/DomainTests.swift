import Testing
import UserManagementKit

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

@Suite("Usernames (WHATWG valid e-mail address)")
struct UsernameTests {
  @Test(arguments: [
    "ada@example.com", "Ada.Lovelace+tag@Example.CO.uk", "a@b", "x!#$%&'*+/=?^_`{|}~-@host-1.io",
    "user@xn--bcher-kva.example",
  ])
  func accepts(_ address: String) throws {
    let username = try Username(address)
    #expect(username.rawValue == address)
  }

  @Test(arguments: [
    ("", "empty"), ("no-at.example.com", "missing_at"), ("a@@b.com", "multiple_at"),
    ("a@b@c.com", "multiple_at"), ("@example.com", "empty_local_part"),
    ("ada@", "empty_domain"), ("ada@example..com", "empty_domain_label"),
    ("ada@-example.com", "domain_label_hyphen"), ("ada@example-.com", "domain_label_hyphen"),
    ("ada lovelace@example.com", "invalid_local_part_character"),
    ("ada@exa mple.com", "invalid_domain_character"),
    ("adä@example.com", "invalid_local_part_character"),
    (" ada@example.com", "invalid_local_part_character"),
    ("ada@" + String(repeating: "a", count: 64) + ".com", "domain_label_too_long"),
    (String(repeating: "a", count: 250) + "@b.co", "too_long"),
  ])
  func refuses(_ address: String, reason: String) async {
    let error = await expectError(.invalidUsername) { _ = try Username(address) }
    #expect(error?.context["reason"] == reason)
    #expect(error?.context["field"] == "username")
  }

  @Test func canonicalFormIsCaseInsensitiveAndIdempotent() throws {
    let samples = ["Ada@Example.COM", "ada@example.com", "MiXeD.CaSe+Tag@Sub.Domain.Org"]
    for sample in samples {
      let once = Username.canonicalize(sample)
      #expect(Username.canonicalize(once) == once)
      #expect(once == sample.lowercased())
    }
    #expect(try Username("Ada@Example.com") == Username("ada@example.COM"))
    #expect(try Username("Ada@Example.com").hashValue == Username("ada@example.COM").hashValue)
  }

  @Test func identifiersPrintLikeFoundation() {
    for _ in 0..<100 {
      let uuid = UUID()
      #expect(UserID(rawValue: uuid).description == uuid.uuidString)
      #expect(PolicyID(rawValue: uuid).description == uuid.uuidString)
      #expect(UserID(uuid.uuidString) == UserID(rawValue: uuid))
    }
  }

  @Test func localPart() throws {
    #expect(try Username("ada.l@example.com").localPart == "ada.l")
  }
}

@Suite("First and last names")
struct PersonNameTests {
  @Test func trimsAndAccepts() throws {
    #expect(try PersonName.validate("  Ada \t", field: "firstName") == "Ada")
    #expect(
      try PersonName.validate("Zoë Ngọc-Ánh O'Brien", field: "lastName") == "Zoë Ngọc-Ánh O'Brien")
    let hundred = String(repeating: "é", count: 100)
    #expect(try PersonName.validate(hundred, field: "firstName") == hundred)
  }

  @Test(arguments: [
    ("", "empty"), ("   ", "empty"), (String(repeating: "x", count: 101), "too_long"),
    ("Ada\nLovelace", "control_character"), ("Ada\u{0}", "control_character"),
    ("Ada\u{202E}ecalevol", "control_character"), ("Tab\tbed", "control_character"),
    ("Esc\u{1B}[31m", "control_character"),
  ])
  func refuses(_ name: String, reason: String) async {
    let error = await expectError(.invalidField) {
      _ = try PersonName.validate(name, field: "lastName")
    }
    #expect(error?.context["field"] == "lastName")
    #expect(error?.context["reason"] == reason)
  }
}

@Suite("Errors")
struct ErrorTests {
  @Test func patternMatchingByCode() {
    let error: any Error = UserManagementError(.notAuthorized, "no")
    switch error {
    case UserManagementError.Code.notAuthorized: break
    default: Issue.record("the code pattern did not match")
    }
    #expect(!(UserManagementError.Code.userNotFound ~= error))
    #expect(
      "\(UserManagementError(.userNotFound, "No such user."))" == "user_not_found: No such user.")
  }
}

@Suite("Secrets never leak")
struct SecretTests {
  @Test func descriptionsDumpsAndEncodingHideTheValue() throws {
    let secret = Secret("hunter2-super-secret")
    #expect(!"\(secret)".contains("hunter2"))
    #expect(!String(describing: secret).contains("hunter2"))
    #expect(!String(reflecting: secret).contains("hunter2"))
    var dumped = ""
    dump(secret, to: &dumped)
    #expect(!dumped.contains("hunter2"))
    struct Wrapper: Encodable { var secret: Secret }
    #expect(throws: EncodingError.self) { _ = try JSONEncoder().encode(Wrapper(secret: secret)) }
    let record = UserRecord(
      user: User(
        id: UserID(rawValue: UUID()), username: try Username("a@b.co"), firstName: "A",
        lastName: "B", status: .active, role: .admin, policies: [], apiAccessEnabled: false,
        hasAPIPassword: false, hasPassword: true, mustChangePassword: false, version: 1,
        securityStamp: SecurityStamp(rawValue: "s"), createdAt: Date(), updatedAt: Date(),
        createdBy: .system("t")),
      passwordHash: PasswordHash(encoded: "$pbkdf2-sha256$i=1,l=32$c2FsdHNhbHQ$aGFzaGhhc2g"),
      apiPasswordHash: nil)
    var recordDump = ""
    dump(record, to: &recordDump)
    #expect(!recordDump.contains("aGFzaGhhc2g"))
    #expect(!"\(record)".contains("aGFzaGhhc2g"))
  }

  @Test func decodesAndComparesInConstantTimeAPI() throws {
    let decoded = try JSONDecoder().decode([Secret].self, from: Data(#"["abc"]"#.utf8))
    #expect(decoded == [Secret("abc")])
    #expect(Secret("abc") != Secret("abd"))
    #expect(Secret("abc") != Secret("abcd"))
    #expect(Secret("abc").revealForDisplay() == "abc")
  }
}

@Suite("Policy evaluation")
struct PolicyEvaluatorTests {
  let now = Date(timeIntervalSince1970: 0)

  func user(_ role: Role, _ status: UserStatus = .active, policies: Set<PolicyID> = []) throws
    -> User
  {
    User(
      id: UserID(rawValue: UUID()), username: try Username("u@example.com"), firstName: "U",
      lastName: "U", status: status, role: role, policies: policies, apiAccessEnabled: false,
      hasAPIPassword: false, hasPassword: true, mustChangePassword: false, version: 1,
      securityStamp: SecurityStamp(rawValue: "s"), createdAt: now, updatedAt: now,
      createdBy: .system("t"))
  }

  func policy(_ name: String, _ permissions: [Permission]) -> Policy {
    Policy(
      id: PolicyID(rawValue: UUID()), name: name, description: "", permissions: permissions,
      version: 1, createdAt: now, updatedAt: now)
  }

  @Test func rules() throws {
    let viewDashboards = policy(
      "Dashboard viewers",
      [Permission(resourceType: "dashboard", allowed: [.view], resourceIds: [.any])])
    let editOne = policy(
      "Editor of 42",
      [
        Permission(resourceType: "dataset", allowed: [.edit], resourceIds: [.id("42")]),
        Permission(resourceType: "dataset", allowed: [.all], resourceIds: [.childrenOf("7")]),
      ])
    let all = [viewDashboards, editOne]
    let general = try user(.generalUser, policies: [viewDashboards.id, editOne.id])
    func decide(_ user: User?, _ action: Action, _ resource: Resource, owners: Bool = true)
      -> AuthorizationDecision
    {
      PolicyEvaluator.decide(
        user: user, action: action, resource: resource, policies: all, ownersAllowed: owners)
    }
    let dashboard = Resource(type: "dashboard", id: "d1")
    #expect(decide(try user(.admin), .delete, dashboard).reason == .administrator)
    #expect(!decide(try user(.admin, .inactive), .view, dashboard).isAllowed)
    #expect(decide(try user(.admin, .inactive), .view, dashboard).reason == .inactiveUser)
    #expect(decide(nil, .view, dashboard).reason == .unknownUser)
    #expect(
      decide(general, .view, dashboard).reason
        == .policy(id: viewDashboards.id, name: "Dashboard viewers", permissionIndex: 0))
    #expect(!decide(general, .edit, dashboard).isAllowed)
    #expect(decide(general, .edit, dashboard).reason == .defaultDeny)
    #expect(decide(general, .edit, Resource(type: "dataset", id: "42")).isAllowed)
    #expect(!decide(general, .delete, Resource(type: "dataset", id: "42")).isAllowed)
    #expect(!decide(general, .edit, Resource(type: "dataset", id: "43")).isAllowed)
    // parent:7 grants the children of 7 with every action, but not 7 itself.
    #expect(
      decide(general, .delete, Resource(type: "dataset", id: "c", parentID: "7")).reason
        == .policy(id: editOne.id, name: "Editor of 42", permissionIndex: 1))
    #expect(!decide(general, .view, Resource(type: "dataset", id: "7")).isAllowed)
    // Owners.
    let owned = Resource(type: "report", id: "r", owner: general.id)
    #expect(decide(general, .delete, owned).reason == .owner)
    #expect(!decide(general, .delete, owned, owners: false).isAllowed)
    // Unknown policy ids grant nothing.
    let dangling = try user(.generalUser, policies: [PolicyID(rawValue: UUID())])
    #expect(decide(dangling, .view, dashboard).reason == .defaultDeny)
    // An inactive General User holding a granting policy is still denied.
    let inactive = try user(.generalUser, .inactive, policies: [viewDashboards.id])
    #expect(!decide(inactive, .view, dashboard).isAllowed)
  }
}

@Suite("Policy JSON")
struct PolicyDocumentTests {
  @Test func parsesTheConsoleShape() throws {
    let json = """
      {"name": " Analysts ", "description": "Read data",
       "permissions": [{"resourceType": "dataset", "allowed": ["view", "*"],
                        "resourceIds": ["*", "parent:9", "abc"]}]}
      """
    let documents = try PolicyDocument.decodeList(from: Array(json.utf8))
    #expect(documents.count == 1)
    #expect(documents[0].name == "Analysts")
    #expect(documents[0].permissions[0].resourceIds == [.any, .childrenOf("9"), .id("abc")])
    let exported = PolicyDocument.encodeList(documents)
    #expect(try PolicyDocument.decodeList(from: exported) == documents)
    #expect(String(decoding: exported, as: UTF8.self).contains("\"parent:9\""))
  }

  @Test(arguments: [
    (#"{"name":"x"}"#, "missing key \"permissions\""),
    (#"not json"#, "invalid JSON"),
    (#"{"name":"","description":"","permissions":[]}"#, "name"),
    (#"{"name":"x","description":"","permissions":[]}"#, "at least one permission"),
    (
      #"{"name":"x","description":"","permissions":[{"resourceType":"t","allowed":["VIEW"],"resourceIds":["*"]}]}"#,
      "invalid action"
    ),
    (
      #"{"name":"x","description":"","permissions":[{"resourceType":"t","allowed":["view"],"resourceIds":[]}]}"#,
      "resourceIds must not be empty"
    ),
    (
      #"[{"name":"x","description":"","permissions":[{"resourceType":"","allowed":["view"],"resourceIds":["*"]}]}]"#,
      "resourceType"
    ),
  ])
  func refuses(_ json: String, mentioning fragment: String) async {
    let error = await expectError(.invalidPolicy) {
      _ = try PolicyDocument.decodeList(from: Array(json.utf8))
    }
    #expect(error?.message.contains(fragment) == true, "\(error?.message ?? "")")
  }
}
