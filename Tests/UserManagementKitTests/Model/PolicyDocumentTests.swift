import Testing
import UserManagementKit

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

@Suite("Policy JSON")
struct PolicyDocumentTests {
  @Test func parsesTheConsoleShape() throws {
    let json = """
      {"name": " Analysts ", "description": "Read data",
       "permissions": [{"resourceType": "dataset", "allowed": ["view", "*"],
                        "resourceIds": ["*", "parent:9", "abc"]}]}
      """
    let documents = try PolicyDocument.decodeList(from: Array(json.utf8))
    try #require(documents.count == 1)
    let document = try #require(documents.first)
    #expect(document.name == "Analysts")
    let permission = try #require(document.permissions.first)
    #expect(permission.resourceIds == [.any, .childrenOf("9"), .id("abc")])
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
