import Testing
import UMKCrypto
import UserManagementKit
import UserManagementKitTesting

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

@Suite("Hashing scheduler")
struct HashingSchedulerTests {
  /// A hasher that records how many of its calls overlap.
  final class OverlapHasher: PasswordHasher {
    let state = Locked((running: 0, peak: 0))
    func hash(_ password: Secret) throws(UserManagementError) -> PasswordHash {
      state.withLock {
        $0.running += 1
        $0.peak = max($0.peak, $0.running)
      }
      var spin = 0
      for index in 0..<200_000 { spin &+= index }
      state.withLock { $0.running -= 1 }
      return PasswordHash(encoded: "$x$\(spin)")
    }
    func verify(_ password: Secret, against hash: PasswordHash) throws(UserManagementError)
      -> PasswordVerification
    { .invalid }
    func canVerify(_ hash: PasswordHash) -> Bool { hash.encoded.hasPrefix("$x$") }
    func needsRehash(_ hash: PasswordHash) -> Bool { false }
  }

  @Test func boundsConcurrentHashes() async throws {
    let hasher = OverlapHasher()
    let directory = UserDirectory(
      store: InMemoryDirectoryStore(),
      configuration: .init(passwordHasher: hasher, maximumConcurrentHashes: 2))
    let admin = try await directory.bootstrap(
      NewUser(username: "a@example.com", firstName: "A", lastName: "A", password: .generated)
    ).user
    try await withThrowingTaskGroup(of: Void.self) { group in
      for index in 0..<24 {
        group.addTask {
          try await directory.addUser(
            NewUser(
              username: "u\(index)@example.com", firstName: "U", lastName: "U", password: .generated
            ),
            by: .user(admin.id))
        }
      }
      try await group.waitForAll()
    }
    #expect(hasher.state.withLock { $0.peak } <= 2)
    #expect(try await directory.userCount(by: .user(admin.id)) == 25)
  }
}
