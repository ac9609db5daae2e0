/// Random tokens and their constant-time comparison, for CSRF tokens and form drafts.
enum Tokens {
  /// A fresh token: 32 bytes from the system's CSPRNG, URL-safe base64 without padding.
  static func make() -> String {
    var generator = SystemRandomNumberGenerator()
    let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    return base64URL(bytes)
  }

  /// Compares two tokens in time that depends only on their lengths, not on where they differ.
  ///
  /// - Parameters:
  ///   - presented: The token the request carried.
  ///   - expected: The session's token.
  /// - Returns: Whether they are equal (and the expected one is not empty).
  static func equal(_ presented: String, _ expected: String) -> Bool {
    let a = Array(presented.utf8)
    let b = Array(expected.utf8)
    guard !b.isEmpty, a.count == b.count else { return false }
    var difference: UInt8 = 0
    for index in 0..<a.count { difference |= a[index] ^ b[index] }
    return difference == 0
  }

  static func base64URL(_ bytes: [UInt8]) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    var output: [UInt8] = []
    var index = 0
    while index + 3 <= bytes.count {
      let value =
        UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
      for shift in [18, 12, 6, 0] { output.append(alphabet[Int(value >> UInt32(shift) & 63)]) }
      index += 3
    }
    let rest = bytes.count - index
    if rest > 0 {
      var value = UInt32(bytes[index]) << 16
      if rest == 2 { value |= UInt32(bytes[index + 1]) << 8 }
      let count = rest == 1 ? 2 : 3
      for shift in [18, 12, 6].prefix(count) {
        output.append(alphabet[Int(value >> UInt32(shift) & 63)])
      }
    }
    return String(decoding: output, as: UTF8.self)
  }
}
