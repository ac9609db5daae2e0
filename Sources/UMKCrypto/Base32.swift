/// Base32 encoding (RFC 4648, §6): the alphabet `A–Z 2–7`, as used for authenticator secrets.
///
/// ```swift
/// let text = Base32.encode(secret)  // "JBSWY3DPEHPK3PXP", unpadded by default
/// let secret = Base32.decode("jbsw y3dp ehpk 3pxp")  // nil if malformed
/// ```
///
/// Decoding is lenient where people are involved and strict otherwise: it accepts lowercase
/// letters, spaces and hyphens anywhere (secrets are often typed in groups), and optional `=`
/// padding; it rejects every other character, padding that is misplaced or of the wrong length,
/// lengths no encoding has, and encodings whose unused trailing bits are not zero.
public enum Base32 {
  private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

  /// Encodes bytes as uppercase Base32.
  ///
  /// - Parameters:
  ///   - bytes: The bytes to encode.
  ///   - padded: Whether to pad with `=` to a multiple of 8 characters; `false` by default, as
  ///     authenticator apps expect.
  /// - Returns: The encoding: 8 characters for every 5 bytes, the last group shortened (or
  ///   padded).
  public static func encode(_ bytes: some Sequence<UInt8>, padded: Bool = false) -> String {
    var output: [UInt8] = []
    var buffer: UInt32 = 0
    var bitCount = 0
    for byte in bytes {
      buffer = (buffer &<< 8) | UInt32(byte)
      bitCount &+= 8
      while bitCount >= 5 {
        bitCount &-= 5
        output.append(alphabet[Int((buffer &>> UInt32(bitCount)) & 0x1f)])
      }
    }
    if bitCount > 0 {
      output.append(alphabet[Int((buffer &<< UInt32(5 &- bitCount)) & 0x1f)])
    }
    if padded {
      while !output.count.isMultiple(of: 8) { output.append(UInt8(ascii: "=")) }
    }
    return String(decoding: output, as: UTF8.self)
  }

  /// Decodes Base32 text.
  ///
  /// - Parameter string: The encoding, in uppercase or lowercase letters, optionally padded
  ///   with `=`, with any number of spaces and hyphens anywhere.
  /// - Returns: The decoded bytes (empty for text with no data characters), or `nil` if the text
  ///   holds any other character, has data after padding, has padding of the wrong length, has a
  ///   number of data characters no encoding has (1, 3 or 6 modulo 8), or has non-zero unused
  ///   bits in its last character.
  public static func decode(_ string: some StringProtocol) -> [UInt8]? {
    var output: [UInt8] = []
    var buffer: UInt32 = 0
    var bitCount = 0
    var characterCount = 0
    var paddingCount = 0
    for character in string.utf8 {
      let value: UInt8
      switch character {
      case UInt8(ascii: " "), UInt8(ascii: "-"):
        continue
      case UInt8(ascii: "="):
        paddingCount &+= 1
        continue
      case UInt8(ascii: "A")...UInt8(ascii: "Z"):
        value = character &- UInt8(ascii: "A")
      case UInt8(ascii: "a")...UInt8(ascii: "z"):
        value = character &- UInt8(ascii: "a")
      case UInt8(ascii: "2")...UInt8(ascii: "7"):
        value = character &- UInt8(ascii: "2") &+ 26
      default:
        return nil
      }
      // Data after padding.
      guard paddingCount == 0 else { return nil }
      characterCount &+= 1
      buffer = (buffer &<< 5) | UInt32(value)
      bitCount &+= 5
      if bitCount >= 8 {
        bitCount &-= 8
        output.append(UInt8(truncatingIfNeeded: buffer &>> UInt32(bitCount)))
      }
      buffer &= (1 &<< UInt32(bitCount)) &- 1
    }
    // The padding a final group of this many characters needs; nil marks impossible lengths.
    let expectedPadding: Int? =
      switch characterCount % 8 {
      case 0: 0
      case 2: 6
      case 4: 4
      case 5: 3
      case 7: 1
      default: nil
      }
    guard let expectedPadding else { return nil }
    guard paddingCount == 0 || paddingCount == expectedPadding else { return nil }
    // Canonical encodings leave the unused bits of the last character zero.
    guard buffer == 0 else { return nil }
    return output
  }
}
