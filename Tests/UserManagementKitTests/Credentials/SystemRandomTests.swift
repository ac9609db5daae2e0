import Testing
import UMKCrypto
import UserManagementKit
import UserManagementKitTesting

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

@Suite("System randomness")
struct SystemRandomTests {
  @Test(arguments: [1, 15, 16, 63, 64, 65, 255, 256, 257, 4096])
  func fillsSmallAndLargeBuffersWithVaryingBytes(size: Int) {
    let source = SystemRandomSource()
    var seen = Set<[UInt8]>()
    for _ in 0..<20 {
      var bytes = [UInt8](repeating: 0, count: size)
      source.fill(&bytes)
      #expect(bytes.count == size)
      if size >= 15 {
        #expect(seen.insert(bytes).inserted, "no repeated output")
        #expect(Set(bytes).count > 1)
      }
    }
  }

  @Test func fillsSecretsAndLargeBuffersFromTheKernel() {
    let source = SystemRandomSource()
    var secret = [UInt8](repeating: 0, count: 64)
    source.fillSecret(&secret)
    #expect(Set(secret).count > 16, "secret material comes from the kernel too")
    // Roughly uniform: over 64 KiB every byte value appears.
    var big = [UInt8](repeating: 0, count: 65_536)
    source.fill(&big)
    #expect(Set(big).count == 256)
  }
}
