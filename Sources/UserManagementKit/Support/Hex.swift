#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

enum Hex {
  private static let digits = Array("0123456789abcdef".utf8)

  static func encode(_ bytes: some Sequence<UInt8>) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(bytes.underestimatedCount * 2)
    for byte in bytes {
      out.append(digits[Int(byte >> 4)])
      out.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
  }
}

extension UUID {
  /// The same text as `uuidString` (uppercase, 8-4-4-4-12), formatted without `snprintf`.
  var canonicalString: String {
    let digits = Array("0123456789ABCDEF".utf8)
    return withUnsafeBytes(of: uuid) { bytes in
      String(unsafeUninitializedCapacity: 36) { buffer in
        var out = 0
        for (index, byte) in bytes.enumerated() {
          if index == 4 || index == 6 || index == 8 || index == 10 {
            buffer[out] = UInt8(ascii: "-")
            out += 1
          }
          buffer[out] = digits[Int(byte >> 4)]
          buffer[out + 1] = digits[Int(byte & 0x0F)]
          out += 2
        }
        return out
      }
    }
  }
}
