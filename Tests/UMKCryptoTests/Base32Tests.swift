import Testing
import UMKCrypto

@Suite("Base32 (RFC 4648 §6)")
struct Base32Tests {
  /// RFC 4648 §10.
  static let rfc4648: [(data: String, encoding: String)] = [
    ("", ""),
    ("f", "MY======"),
    ("fo", "MZXQ===="),
    ("foo", "MZXW6==="),
    ("foob", "MZXW6YQ="),
    ("fooba", "MZXW6YTB"),
    ("foobar", "MZXW6YTBOI======"),
  ]

  @Test func rfc4648TestVectors() {
    for (data, encoding) in Self.rfc4648 {
      let bytes = Array(data.utf8)
      #expect(Base32.encode(bytes, padded: true) == encoding, "\(data)")
      let unpadded = String(encoding.prefix { $0 != "=" })
      #expect(Base32.encode(bytes) == unpadded, "\(data)")
      #expect(Base32.decode(encoding) == bytes, "\(encoding)")
      #expect(Base32.decode(unpadded) == bytes, "\(unpadded)")
      #expect(Base32.decode(encoding.lowercased()) == bytes, "\(encoding) lowercased")
    }
  }

  @Test func decodingIgnoresSpacesAndHyphens() {
    let secret = Array("Hello!\u{DE}\u{AD}\u{BE}\u{EF}".utf8)
    let encoded = Base32.encode(secret)
    #expect(Base32.decode(encoded) == secret)
    // Grouped in fours, as authenticator setup screens show secrets.
    var grouped = ""
    for (index, character) in encoded.enumerated() {
      if index > 0 && index.isMultiple(of: 4) { grouped += " " }
      grouped.append(character)
    }
    #expect(Base32.decode(grouped) == secret)
    #expect(Base32.decode(grouped.lowercased()) == secret)
    #expect(Base32.decode(grouped.replacingSpaces(with: "-")) == secret)
    #expect(Base32.decode("  mzxw-6ytb oi  ") == Array("foobar".utf8))
    #expect(Base32.decode("MZXW6YTBOI == ====") == Array("foobar".utf8))
    #expect(Base32.decode("   ") == [])
    #expect(Base32.decode("-") == [])
  }

  @Test func rejectsOtherCharacters() {
    for text in [
      "MZXW6YT0", "MZXW6YT1", "MZXW6YT8", "MZXW6YT9", "MZXW6YT+", "MZXW6YT/", "MZXW6YT_",
      "MZXW\t6YTB", "MZXW\n6YTB", "MZXW6YTB.", "MZXW6YTB\u{0}", "MZXW6YT\u{C9}", "MZXW6YTB\u{FF21}",
    ] {
      #expect(Base32.decode(text) == nil, "\(text.debugDescription)")
    }
  }

  @Test func rejectsImpossibleLengthsAndPadding() {
    // 1, 3 and 6 characters in the last group are no encoding of whole bytes.
    for text in ["M", "MZX", "MZXW6Y", "MZXW6YTBO", "MZXW6YTBOIA", "MZXW6YTBOIAAAA"] {
      #expect(Base32.decode(text) == nil, "\(text)")
    }
    for text in [
      "MY=====",  // too little padding
      "MY=======",  // too much
      "MZXQ=",
      "MZXW6YTB=",  // padding after a complete group
      "========",
      "=",
      "MY==MY==",  // data after padding
      "M=Y=====",
      "=MY======",
    ] {
      #expect(Base32.decode(text) == nil, "\(text)")
    }
  }

  @Test func rejectsNonZeroTrailingBits() {
    // "MY" encodes 0x66 with two unused zero bits; "MZ" sets one of them.
    #expect(Base32.decode("MY") == [0x66])
    #expect(Base32.decode("MZ") == nil)
    #expect(Base32.decode("MZ======") == nil)
    #expect(Base32.decode("MZXR") == nil)  // "fo" is MZXQ
    #expect(Base32.decode("MZXW7") == nil)  // "foo" is MZXW6
    #expect(Base32.decode("MZXW6YR") == nil)  // "foob" is MZXW6YQ
  }

  @Test func roundTripsEveryLength() {
    for length in 0...80 {
      let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 73 &+ length &* 5) }
      let unpadded = Base32.encode(bytes)
      let padded = Base32.encode(bytes, padded: true)
      #expect(padded.count.isMultiple(of: 8))
      #expect(unpadded.count == (length * 8 + 4) / 5)
      #expect(padded.hasPrefix(unpadded))
      #expect(!unpadded.contains("="))
      #expect(unpadded.allSatisfy { "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".contains($0) })
      #expect(Base32.decode(unpadded) == bytes, "length \(length)")
      #expect(Base32.decode(padded) == bytes, "length \(length)")
      #expect(Base32.decode(padded.lowercased()) == bytes, "length \(length)")
      #expect(Base32.decode(Substring(padded)) == bytes, "length \(length)")
    }
  }
}

extension String {
  fileprivate func replacingSpaces(with replacement: Character) -> String {
    String(map { $0 == " " ? replacement : $0 })
  }
}
