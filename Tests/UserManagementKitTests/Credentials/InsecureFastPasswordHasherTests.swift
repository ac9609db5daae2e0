import Testing
import UMKCrypto
import UserManagementKit
import UserManagementKitTesting

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

@Suite("Insecure fast test hasher")
struct InsecureFastPasswordHasherTests {
  @Test func roundTripsAndIsMarkedCheap() throws {
    let hasher = InsecureFastPasswordHasher()
    let hash = hasher.hash(Secret("pw"))
    #expect(hash.algorithm == "insecure-sha256")
    #expect(try hasher.verify(Secret("pw"), against: hash) == .valid)
    #expect(try hasher.verify(Secret("pX"), against: hash) == .invalid)
    #expect(!hasher.isComputationallyExpensive)
    #expect(PBKDF2PasswordHasher(insecureIterations: 1).isComputationallyExpensive)
    #expect(throws: UserManagementError.self) {
      _ = try hasher.verify(Secret("pw"), against: PasswordHash(encoded: "$pbkdf2-sha256$x$y$z"))
    }
  }
}
