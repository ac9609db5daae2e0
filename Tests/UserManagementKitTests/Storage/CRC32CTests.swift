import CUMKSystem
import Testing

@Suite("CRC-32C")
struct CRC32CTests {
  private func crc(_ bytes: [UInt8], portable: Bool = false) -> UInt32 {
    bytes.withUnsafeBytes {
      portable
        ? cumk_crc32c_portable(0, $0.baseAddress, $0.count)
        : cumk_crc32c(0, $0.baseAddress, $0.count)
    }
  }

  /// RFC 3720 (iSCSI), appendix B.4, and the common check value of "123456789".
  @Test func knownAnswers() {
    let vectors: [([UInt8], UInt32)] = [
      ([UInt8](repeating: 0, count: 32), 0x8A91_36AA),
      ([UInt8](repeating: 0xFF, count: 32), 0x62A8_AB43),
      (Array(0..<32), 0x46DD_794E),
      (Array((0..<32).reversed()), 0x113F_DB5C),
      (Array("123456789".utf8), 0xE306_9283),
      ([], 0),
    ]
    for (input, expected) in vectors {
      #expect(crc(input) == expected)
      #expect(crc(input, portable: true) == expected)
    }
  }

  /// The hardware path, the table path and a bit-at-a-time reference agree on every length
  /// and alignment, and checksumming in pieces equals checksumming at once.
  @Test func pathsAgree() {
    var generator = SystemRandomNumberGenerator()
    let data = (0..<600).map { _ in UInt8.random(in: 0...255, using: &generator) }
    for start in 0..<9 {
      for length in stride(from: 0, through: data.count - start, by: 7) {
        let slice = Array(data[start..<start + length])
        let reference = bitwiseCRC32C(slice)
        #expect(crc(slice) == reference)
        #expect(crc(slice, portable: true) == reference)
        let split = length / 3
        let first = slice.withUnsafeBytes { cumk_crc32c(0, $0.baseAddress, split) }
        let whole = slice.withUnsafeBytes {
          cumk_crc32c(first, $0.baseAddress.map { $0 + split }, length - split)
        }
        #expect(whole == reference)
      }
    }
  }
}
