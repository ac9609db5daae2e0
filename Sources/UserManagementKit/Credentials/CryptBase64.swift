/// The base64 of crypt(3) and phpass: the alphabet `./0-9A-Za-z` (`.` is 0, `z` is 63), with
/// each group of three bytes read as a little-endian 24-bit number and written six bits at a
/// time, lowest first. SHA-crypt and Drupal choose which bytes form each group.
enum CryptBase64 {
  /// The 64 characters, in value order.
  static let alphabet: [UInt8] = Array(
    "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

  /// Whether every byte of `text` is in ``alphabet``.
  static func isEncoded(_ text: some Sequence<UInt8>) -> Bool {
    text.allSatisfy { alphabet.contains($0) }
  }

  /// The value of one character, or `nil` outside ``alphabet``.
  static func value(of character: UInt8) -> Int? {
    alphabet.firstIndex(of: character)
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
}
