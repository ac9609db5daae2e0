import Foundation
import Testing

/// `umk demo`.
@Suite("Demo")
struct DemoTests {
  /// The text demo ends with `Demo complete` and shows each kind of refusal.
  @Test func walksTheWholeScenario() throws {
    let umk = try UMK()
    defer { umk.cleanUp() }
    let demo = try umk.run(["demo"], store: nil)
    #expect(demo.status == 0, "\(demo)")
    let lines = demo.stdout.split(separator: "\n")
    #expect(lines.last?.hasPrefix("Demo complete") == true, "\(demo)")
    for refusal in [
      "[self_modification_forbidden]", "[not_authorized]", "[policy_not_found]",
      "[last_active_administrator]", "[weak_password]", "[username_taken]",
    ] {
      #expect(demo.stdout.contains(refusal), "\(refusal)")
    }
  }

  /// `demo --json`: one document, complete, with its refusals.
  @Test func jsonDocument() throws {
    let umk = try UMK()
    defer { umk.cleanUp() }
    let json = try umk.run(["demo", "--json"], store: nil)
    #expect(json.status == 0, "\(json)")
    let document = try json.output(DemoDocument.self)
    #expect(document.complete)
    #expect(document.refusals >= 10)
    let refusals = document.steps.flatMap(\.outcomes).filter { !$0.ok }
    #expect(refusals.count == document.refusals)
    #expect(refusals.allSatisfy { $0.code != nil })
  }

  /// With `--store`, the store is kept; a second demo on it is refused.
  @Test func keepsANamedStore() throws {
    let umk = try UMK()
    defer { umk.cleanUp() }
    let kept = umk.root.appendingPathComponent("demo-store").path
    #expect(try umk.run(["demo"], store: kept).status == 0)
    #expect(try umk("user", "list", "--as", "ada@example.com", store: kept).status == 0)
    let again = try umk.run(["demo", "--json"], store: kept)
    #expect(again.status == 1)
    #expect(try again.error().code == "already_bootstrapped")
  }
}
