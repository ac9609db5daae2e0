/// The base64 of crypt(3) and phpass: the alphabet `./0-9A-Za-z` (`.` is 0, `z` is 63), with
/// each group of three bytes read as a little-endian 24-bit number and written six bits at a
/// time, lowest first. SHA-crypt and Drupal choose which bytes form each group.
enum CryptBase64 {
  /// The 64 characters, in value order.
  static let alphabet: [UInt8] = Array(
    "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

  /// Whether every byte of `text` is in ``alphabet``.
  static func isEncoded(_ text: some Sequence<UInt8>) -> Bool {
    text.allSatisfy { value(of: $0) != nil }
  }

  /// The value of one character, or `nil` outside ``alphabet``.
  static func value(of character: UInt8) -> Int? {
    switch character {
    case UInt8(ascii: "."), UInt8(ascii: "/"): Int(character) - 0x2E
    case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(character) - 0x30 + 2
    case UInt8(ascii: "A")...UInt8(ascii: "Z"): Int(character) - 0x41 + 12
    case UInt8(ascii: "a")...UInt8(ascii: "z"): Int(character) - 0x61 + 38
    default: nil
    }
  }

  /// Appends `count` characters for the 24-bit number `high · middle · low`, lowest six bits
  /// first.
  static func append(
    _ high: UInt8, _ middle: UInt8, _ low: UInt8, count: Int, to output: inout [UInt8]
  ) {
    var word = UInt32(high) << 16 | UInt32(middle) << 8 | UInt32(low)
    for _ in 0..<count {
      output.append(alphabet[Int(word & 0x3F)])
      word >>= 6
    }
  }

  /// phpass's `encode64`: the bytes in order, three at a time as little-endian numbers, the
  /// last group shortened to the characters its bytes need.
  static func encodeLittleEndian(_ bytes: [UInt8]) -> [UInt8] {
    var output: [UInt8] = []
    output.reserveCapacity((bytes.count * 4 + 2) / 3)
    var index = 0
    while index < bytes.count {
      let remaining = bytes.count - index
      let first = bytes[index]
      let second = remaining > 1 ? bytes[index + 1] : 0
      let third = remaining > 2 ? bytes[index + 2] : 0
      append(third, second, first, count: min(remaining, 3) + 1, to: &output)
      index += 3
    }
    return output
  }

  /// Decodes what ``encodeLittleEndian(_:)`` writes: exactly `byteCount` bytes, or `nil` when
  /// `text` is not their canonical encoding (phpass and MD5-crypt checksums).
  static func decode(_ text: [UInt8], byteCount: Int) -> [UInt8]? {
    let expected = byteCount / 3 * 4 + [0, 2, 3][byteCount % 3]
    guard text.count == expected else { return nil }
    var bytes: [UInt8] = []
    var index = 0
    while bytes.count < byteCount {
      let count = min(3, byteCount - bytes.count)
      var group = 0
      for offset in 0...count {
        guard let digit = value(of: text[index + offset]) else { return nil }
        group |= digit << (6 * offset)
      }
      for offset in 0..<count { bytes.append(UInt8(truncatingIfNeeded: group >> (8 * offset))) }
      index += count + 1
    }
    return encodeLittleEndian(bytes) == text ? bytes : nil
  }
}
