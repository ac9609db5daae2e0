import Testing
import UMKCrypto

@Suite("Constant-time comparison")
struct ConstantTimeTests {
  @Test func equalCollections() {
    #expect(ConstantTime.equals([1, 2, 3] as [UInt8], [1, 2, 3] as [UInt8]))
    #expect(ConstantTime.equals([UInt8](repeating: 7, count: 100), Array(repeating: 7, count: 100)))
    #expect(ConstantTime.equals("abc".utf8, [0x61, 0x62, 0x63] as [UInt8]))
    let bytes: [UInt8] = [9, 8, 7, 6]
    #expect(ConstantTime.equals(bytes[1...], [8, 7, 6] as [UInt8]))
  }

  @Test func differentCollections() {
    #expect(!ConstantTime.equals([1, 2, 3] as [UInt8], [1, 2, 4] as [UInt8]))
    #expect(!ConstantTime.equals([0, 2, 3] as [UInt8], [1, 2, 3] as [UInt8]))
    #expect(!ConstantTime.equals([0x80] as [UInt8], [0x00] as [UInt8]))
    for position in 0..<64 {
      var other = [UInt8](repeating: 0x5a, count: 64)
      other[position] ^= 0x01
      #expect(!ConstantTime.equals([UInt8](repeating: 0x5a, count: 64), other))
    }
  }

  @Test func differentLengths() {
    #expect(!ConstantTime.equals([1, 2, 3] as [UInt8], [1, 2] as [UInt8]))
    #expect(!ConstantTime.equals([1, 2] as [UInt8], [1, 2, 3] as [UInt8]))
    #expect(!ConstantTime.equals([] as [UInt8], [0] as [UInt8]))
  }

  @Test func emptyCollections() {
    #expect(ConstantTime.equals([] as [UInt8], [] as [UInt8]))
    #expect(ConstantTime.equals("".utf8, [] as [UInt8]))
  }
}
