import Testing
import UserManagementKit
import UserManagementKitTesting

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

@Suite("Common-password blocklist")
struct BlocklistTests {
  @Test func shipsTheTenThousandMostCommonPasswords() {
    #expect(PasswordBlocklist.common.count >= 10_000)
  }

  @Test(arguments: ["123456", "password", "qwerty", "iloveyou", "trustno1", "letmein", "dragon"])
  func holdsTheBestKnown(_ common: String) {
    #expect(PasswordBlocklist.common.contains(common))
  }

  @Test func refusesCommonPasswordsWhateverTheirCase() {
    let policy = PasswordPolicy.multiFactor
    #expect(
      policy.violations(of: Secret("baseball"), username: nil).map(\.code) == ["common_password"])
    #expect(
      policy.violations(of: Secret("BaseBall"), username: nil).map(\.code) == ["common_password"])
    #expect(policy.violations(of: Secret("a reasonable passphrase"), username: nil).isEmpty)
  }
}
