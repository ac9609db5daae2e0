import Testing
@_spi(Testing) import UMKCrypto

@Suite("AES-256 (FIPS 197) and AES-256-CTR (NIST SP 800-38A)")
struct AES256Tests {
  /// FIPS 197, appendix C.3.
  @Test func fips197AppendixC3() throws {
    let key = Array(UInt8(0)...UInt8(0x1f))
    let plaintext = try hexBytes("00112233445566778899aabbccddeeff")
    #expect(
      try AES256.encryptBlock(plaintext, key: key).hex == "8ea2b7ca516745bfeafc49904b496089")
  }

  /// NIST SP 800-38A, F.5.5 (CTR-AES256.Encrypt) and F.5.6 (CTR-AES256.Decrypt).
  @Test func sp800_38aF55() throws {
    let key = try hexBytes("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4")
    let counter = try hexBytes("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")
    let plaintext = try hexBytes(
      "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
        + "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710")
    let ciphertext =
      "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5"
      + "2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6"
    let encrypted = try AES256.CTR.crypt(key: key, iv: counter, bytes: plaintext)
    #expect(encrypted.hex == ciphertext)
    #expect(try AES256.CTR.crypt(key: key, iv: counter, bytes: encrypted) == plaintext)
    // A partial final block uses a prefix of the key stream.
    let partial = try AES256.CTR.crypt(key: key, iv: counter, bytes: plaintext.prefix(37))
    #expect(partial.hex == String(ciphertext.prefix(74)))
    #expect(try AES256.CTR.crypt(key: key, iv: counter, bytes: []).isEmpty)
  }

  @Test func parameterLengths() {
    let key = [UInt8](repeating: 7, count: 32)
    let iv = [UInt8](repeating: 0, count: 16)
    for badKey in [[], [UInt8](repeating: 7, count: 16), [UInt8](repeating: 7, count: 33)] {
      do {
        _ = try AES256.CTR.crypt(key: badKey, iv: iv, bytes: [1])
        Issue.record("accepted a \(badKey.count)-byte key")
      } catch {
        #expect(error.code == .keyLengthOutOfRange)
      }
    }
    for badIV in [[], [UInt8](repeating: 0, count: 12), [UInt8](repeating: 0, count: 17)] {
      do {
        _ = try AES256.CTR.crypt(key: key, iv: badIV, bytes: [1])
        Issue.record("accepted a \(badIV.count)-byte counter block")
      } catch {
        #expect(error.code == .inputLengthOutOfRange)
      }
    }
    #expect(AES256.keyByteCount == 32)
    #expect(AES256.blockByteCount == 16)
  }
}
