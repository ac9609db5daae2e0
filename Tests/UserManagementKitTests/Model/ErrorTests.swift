import Testing
import UserManagementKit

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

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
