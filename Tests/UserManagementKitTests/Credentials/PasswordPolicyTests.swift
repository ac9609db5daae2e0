import Testing
import UMKCrypto
import UserManagementKit
import UserManagementKitTesting

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

@Suite("Password policy")
struct PasswordPolicyTests {
  let username = try? Username("grace.hopper@navy.mil")

  @Test func defaults() {
    let policy = PasswordPolicy()
    #expect(policy.minimumLength == 15)
    #expect(policy.maximumLength >= 64)
    #expect(policy.maximumBytes == 4096)
    #expect(PasswordPolicy.multiFactor.minimumLength == 8)
    #expect(
      policy.violations(of: Secret("a sufficiently long passphrase"), username: username).isEmpty)
    #expect(
      policy.violations(of: Secret("ééééééééééééééé"), username: username).isEmpty,
      "code points, not bytes")
  }

  @Test func reasons() {
    let policy = PasswordPolicy()
    func codes(_ password: String) -> [String] {
      policy.violations(of: Secret(password), username: username).map(\.code)
    }
    #expect(codes("short") == ["too_short"])
    #expect(codes(String(repeating: "x", count: 65)) == ["too_long"])
    #expect(codes(String(repeating: "x", count: 5000)) == ["too_many_bytes"])
    #expect(codes("correcthorsebatterystaple") == ["common_password"])
    #expect(codes("CorrectHorseBatteryStaple") == ["common_password"])
    #expect(codes("my name is grace.hopper ok") == ["contains_username"])
    #expect(codes("xxGRACE.HOPPER@NAVY.MILxx") == ["contains_username"])
    #expect(
      PasswordPolicy.multiFactor.violations(of: Secret("password1"), username: nil).map(\.code) == [
        "common_password"
      ])
    // Decomposed input is counted after NFC normalization: 14 code points, not 15.
    #expect(codes(String(repeating: "e\u{301}", count: 14)) == ["too_short"])
  }
}
