/// Base64 encoding and strict decoding (RFC 4648) in several alphabets and padding styles.
///
/// ```swift
/// let text = Base64.encode(salt, variant: .standardUnpadded)  // as in PHC strings
/// let salt = Base64.decode(text, variant: .standardUnpadded)  // nil if malformed
/// ```
///
/// Decoding is strict: it rejects characters outside the variant's alphabet (including
/// whitespace and line breaks), missing or misplaced padding, padding in unpadded variants,
/// impossible lengths, and non-canonical encodings whose unused trailing bits are not zero. As a
/// result every byte string has exactly one accepted encoding per variant.
public enum Base64 {
  /// An alphabet and padding convention.
  public struct Variant: Sendable, Hashable, CustomStringConvertible {
    /// A short name for the variant, for example `"standard"`.
    public let name: String

    /// Whether encodings are padded with `=` to a multiple of four characters (and decoding
    /// requires that padding).
    public let usesPadding: Bool

    /// The 64 ASCII characters for the values 0 through 63.
    let alphabet: [UInt8]

    /// Maps each ASCII byte to its value, or `invalid`.
    let decodingTable: [UInt8]

    static var invalid: UInt8 { 0xFF }

    private init(name: String, characters62and63: String, usesPadding: Bool) {
      self.init(
        name: name,
        alphabet:
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789\(characters62and63)",
        usesPadding: usesPadding)
    }

    private init(name: String, alphabet alphabetText: String, usesPadding: Bool) {
      let alphabet = Array(alphabetText.utf8)
      var table = [UInt8](repeating: Self.invalid, count: 256)
      for (value, character) in alphabet.enumerated() {
        table[Int(character)] = UInt8(value)
      }
      self.name = name
      self.usesPadding = usesPadding
      self.alphabet = alphabet
      self.decodingTable = table
    }

    /// RFC 4648 §4: `A–Z a–z 0–9 + /`, padded with `=`.
    public static let standard = Variant(
      name: "standard", characters62and63: "+/", usesPadding: true)

    /// RFC 4648 §4 alphabet without padding (RFC 4648 §3.2). PHC string format hashes use this.
    public static let standardUnpadded = Variant(
      name: "standardUnpadded", characters62and63: "+/", usesPadding: false)

    /// RFC 4648 §5 URL- and filename-safe alphabet: `A–Z a–z 0–9 - _`, padded with `=`.
    public static let urlSafe = Variant(
      name: "urlSafe", characters62and63: "-_", usesPadding: true)

    /// RFC 4648 §5 URL- and filename-safe alphabet without padding.
    public static let urlSafeUnpadded = Variant(
      name: "urlSafeUnpadded", characters62and63: "-_", usesPadding: false)

    /// Passlib's "adapted base64": the standard alphabet with `.` instead of `+`, unpadded.
    /// Used by passlib's `$pbkdf2-sha256$` style hashes.
    public static let passlibAdapted = Variant(
      name: "passlibAdapted", characters62and63: "./", usesPadding: false)

    /// The alphabet of bcrypt's modular crypt strings (`$2b$…`): `. / A–Z a–z 0–9`, in that
    /// order (so `.` is 0 and `9` is 63), unpadded, with the standard bit order. Decoding is as
    /// strict as for the other variants: a bcrypt salt's 22nd character must leave its low four
    /// bits zero, and a hash's 31st character its low two bits.
    public static let bcrypt = Variant(
      name: "bcrypt", alphabet: "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
      usesPadding: false)

    /// Compares variants by name.
    ///
    /// - Parameters:
    ///   - lhs: A variant.
    ///   - rhs: Another variant.
    /// - Returns: `true` if both are the same variant.
    public static func == (lhs: Variant, rhs: Variant) -> Bool {
      lhs.name == rhs.name
    }

    /// Feeds the variant's name into `hasher`.
    ///
    /// - Parameter hasher: The hasher to feed.
    public func hash(into hasher: inout Hasher) {
      hasher.combine(name)
    }

    /// The variant's name.
    public var description: String { name }
  }

  /// Encodes bytes as Base64 text.
  ///
  /// - Parameters:
  ///   - bytes: The bytes to encode.
  ///   - variant: The alphabet and padding convention; defaults to ``Variant/standard``.
  /// - Returns: The encoded text (ASCII only).
  public static func encode(_ bytes: some Sequence<UInt8>, variant: Variant = .standard) -> String {
    let input = Array(bytes)
    let alphabet = variant.alphabet
    var output: [UInt8] = []
    output.reserveCapacity((input.count + 2) / 3 * 4)
    var index = 0
    while index + 3 <= input.count {
      let group =
        UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8
        | UInt32(input[index + 2])
      output.append(alphabet[Int(group >> 18)])
      output.append(alphabet[Int(group >> 12 & 0x3F)])
      output.append(alphabet[Int(group >> 6 & 0x3F)])
      output.append(alphabet[Int(group & 0x3F)])
      index += 3
    }
    switch input.count - index {
    case 1:
      let group = UInt32(input[index]) << 16
      output.append(alphabet[Int(group >> 18)])
      output.append(alphabet[Int(group >> 12 & 0x3F)])
      if variant.usesPadding {
        output.append(contentsOf: "==".utf8)
      }
    case 2:
      let group = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8
      output.append(alphabet[Int(group >> 18)])
      output.append(alphabet[Int(group >> 12 & 0x3F)])
      output.append(alphabet[Int(group >> 6 & 0x3F)])
      if variant.usesPadding {
        output.append(UInt8(ascii: "="))
      }
    default:
      break
    }
    return String(decoding: output, as: UTF8.self)
  }

  /// Decodes Base64 text strictly.
  ///
  /// - Parameters:
  ///   - text: The encoded text.
  ///   - variant: The alphabet and padding convention; defaults to ``Variant/standard``.
  /// - Returns: The decoded bytes, or `nil` if `text` is not the canonical encoding of some byte
  ///   string in `variant` (see ``Base64`` for the rules).
  public static func decode(_ text: some StringProtocol, variant: Variant = .standard) -> [UInt8]? {
    decode(ascii: Array(text.utf8), variant: variant)
  }

  /// Decodes Base64 text, given as ASCII bytes, strictly.
  ///
  /// - Parameters:
  ///   - ascii: The encoded text as ASCII bytes.
  ///   - variant: The alphabet and padding convention; defaults to ``Variant/standard``.
  /// - Returns: The decoded bytes, or `nil` if `ascii` is not the canonical encoding of some byte
  ///   string in `variant` (see ``Base64`` for the rules).
  public static func decode(ascii: [UInt8], variant: Variant = .standard) -> [UInt8]? {
    var length = ascii.count
    if variant.usesPadding {
      guard length % 4 == 0 else { return nil }
      var padding = 0
      while padding < 2, length > 0, ascii[length - 1] == UInt8(ascii: "=") {
        length -= 1
        padding += 1
      }
    }
    // Remaining "=" characters are not in the alphabet and are rejected below.
    let remainder = length % 4
    guard remainder != 1 else { return nil }

    let table = variant.decodingTable
    var output: [UInt8] = []
    output.reserveCapacity(length / 4 * 3 + 2)
    var index = 0
    while index + 4 <= length {
      let a = table[Int(ascii[index])]
      let b = table[Int(ascii[index + 1])]
      let c = table[Int(ascii[index + 2])]
      let d = table[Int(ascii[index + 3])]
      guard (a | b | c | d) & 0xC0 == 0 else { return nil }
      let group = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
      output.append(UInt8(truncatingIfNeeded: group >> 16))
      output.append(UInt8(truncatingIfNeeded: group >> 8))
      output.append(UInt8(truncatingIfNeeded: group))
      index += 4
    }
    switch remainder {
    case 2:
      let a = table[Int(ascii[index])]
      let b = table[Int(ascii[index + 1])]
      // The low four bits of the last character are not part of the byte and must be zero.
      guard (a | b) & 0xC0 == 0, b & 0x0F == 0 else { return nil }
      output.append(a << 2 | b >> 4)
    case 3:
      let a = table[Int(ascii[index])]
      let b = table[Int(ascii[index + 1])]
      let c = table[Int(ascii[index + 2])]
      // The low two bits of the last character are not part of the bytes and must be zero.
      guard (a | b | c) & 0xC0 == 0, c & 0x03 == 0 else { return nil }
      output.append(a << 2 | b >> 4)
      output.append(b << 4 | c >> 2)
    default:
      break
    }
    return output
  }
}
