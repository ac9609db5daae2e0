import Testing
import UserManagementKit

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

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
