import Testing
import UMKCrypto

/// RFC 4648 §10 test vectors (standard alphabet, padded).
private let rfc4648: [(String, String)] = [
  ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="),
  ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
]

private let allVariants: [Base64.Variant] = [
  .standard, .standardUnpadded, .urlSafe, .urlSafeUnpadded, .passlibAdapted,
]

@Suite("Base64 (RFC 4648)")
struct Base64Tests {
  @Test(arguments: rfc4648)
  func rfc4648Vectors(plain: String, encoded: String) {
    let bytes = Array(plain.utf8)
    let unpadded = String(encoded.filter { $0 != "=" })
    #expect(Base64.encode(bytes) == encoded)
    #expect(Base64.encode(bytes, variant: .standard) == encoded)
    #expect(Base64.encode(bytes, variant: .urlSafe) == encoded)
    #expect(Base64.encode(bytes, variant: .standardUnpadded) == unpadded)
    #expect(Base64.encode(bytes, variant: .urlSafeUnpadded) == unpadded)
    #expect(Base64.encode(bytes, variant: .passlibAdapted) == unpadded)
    #expect(Base64.decode(encoded) == bytes)
    #expect(Base64.decode(encoded, variant: .urlSafe) == bytes)
    #expect(Base64.decode(unpadded, variant: .standardUnpadded) == bytes)
    #expect(Base64.decode(unpadded, variant: .urlSafeUnpadded) == bytes)
    #expect(Base64.decode(unpadded, variant: .passlibAdapted) == bytes)
  }

  @Test func alphabetsDifferOnlyInCharacters62And63() {
    let bytes: [UInt8] = [0xfb, 0xef, 0xff]
    #expect(Base64.encode(bytes, variant: .standard) == "++//")
    #expect(Base64.encode(bytes, variant: .urlSafe) == "--__")
    #expect(Base64.encode(bytes, variant: .passlibAdapted) == "..//")
    #expect(Base64.encode([0xfb, 0xef], variant: .passlibAdapted) == "..8")
    #expect(Base64.decode("..8", variant: .passlibAdapted) == [0xfb, 0xef])
    #expect(Base64.decode("++8", variant: .passlibAdapted) == nil)
    #expect(Base64.decode("--__", variant: .standard) == nil)
    #expect(Base64.decode("++//", variant: .urlSafe) == nil)
  }

  @Test(arguments: allVariants)
  func roundTripsEveryLength(_ variant: Base64.Variant) {
    var generator = SystemRandomNumberGenerator()
    for length in 0...100 {
      let bytes = (0..<length).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
      let encoded = Base64.encode(bytes, variant: variant)
      #expect(
        encoded.utf8.count == (variant.usesPadding ? (length + 2) / 3 * 4 : (length * 4 + 2) / 3))
      #expect(Base64.decode(encoded, variant: variant) == bytes, "length \(length)")
      #expect(Base64.decode(ascii: Array(encoded.utf8), variant: variant) == bytes)
    }
  }

  @Test(arguments: [
    "Zg=", "Zg", "Zg===", "Z===", "Z", "Zm9vY", "=Zm9", "Zg==Zg==", "Zm9v=", "Zm9v====",
    "Zh==", "Zm9=", "Zm-v", "Zm_v", "Zm.v", "Zm9v\n", " Zm9v", "Zm9v ", "Zm 9v", "Zm9v\0",
    "Zm9vé", "Zm9\u{0}", "====",
  ])
  func standardRejectsMalformedInput(_ text: String) {
    #expect(Base64.decode(text, variant: .standard) == nil)
  }

  @Test(arguments: [
    "Zg==", "Zm8=", "Z", "Zm9vY", "Zh", "Zm9", "Zm+v", "Zm/v", "Zm9v\n", "Zm.v", "Zg=Z",
  ])
  func urlSafeUnpaddedRejectsMalformedInput(_ text: String) {
    #expect(Base64.decode(text, variant: .urlSafeUnpadded) == nil)
  }

  @Test(arguments: ["Zg==", "Zm+v", "Zh", "Zm9", "Z", "Zm-v", "Zm_v"])
  func passlibRejectsMalformedInput(_ text: String) {
    #expect(Base64.decode(text, variant: .passlibAdapted) == nil)
  }

  @Test func unpaddedStandardRejectsPadding() {
    #expect(Base64.decode("Zg==", variant: .standardUnpadded) == nil)
    #expect(Base64.decode("Zg", variant: .standardUnpadded) == [0x66])
    #expect(Base64.decode("", variant: .standardUnpadded) == [])
  }

  @Test func nonCanonicalTrailingBitsAreRejected() {
    // "Zg==" is canonical for "f"; "Zh==" through "Zv==" decode to the same byte if the unused
    // low bits were ignored.
    #expect(Base64.decode("Zg==") == [0x66])
    for character in "hijklmnopqrstuv" {
      #expect(Base64.decode("Z\(character)==") == nil)
    }
    #expect(Base64.decode("Zm8=") == Array("fo".utf8))
    for character in "9+/" {
      #expect(Base64.decode("Zm\(character)=") == nil)
    }
  }

  @Test func variantsAreNamedValues() {
    #expect(Base64.Variant.standard == .standard)
    #expect(Base64.Variant.standard != .standardUnpadded)
    #expect(Base64.Variant.passlibAdapted.description == "passlibAdapted")
    #expect(!Base64.Variant.passlibAdapted.usesPadding)
    #expect(Set(allVariants).count == allVariants.count)
  }
}
