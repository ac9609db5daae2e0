import Foundation

extension Secret {
  /// The secret in Unicode Normalization Form C, as NIST SP 800-63B asks before hashing, so
  /// that the same password typed on different keyboards hashes the same. Bytes that are not
  /// valid UTF-8 are kept as they are.
  ///
  /// ASCII text is already in NFC and is returned as it is, without any copy. Other text is
  /// normalized through `String` (Foundation's canonical mapping): those intermediate copies
  /// are Swift-managed memory that cannot be erased, a residual the security model states.
  func nfcNormalized() -> Secret {
    withUnsafeBytes { bytes in
      if bytes.allSatisfy({ $0 < 0x80 }) { return self }
      guard let text = String(validating: bytes, as: UTF8.self) else { return self }
      let normalized = text.precomposedStringWithCanonicalMapping
      if normalized.utf8.elementsEqual(bytes) { return self }
      return Secret(normalized)
    }
  }

  /// Checks a password the way our PHC formats store it — NFC first — and, if that fails and
  /// NFC changed it, as the raw bytes another system would have hashed. A raw-bytes match asks
  /// for a rehash, so the stored hash becomes a normalized one.
  func verifyNormalizedThenRaw(
    strongEnough: Bool, _ matches: (Secret) throws(UserManagementError) -> Bool
  ) throws(UserManagementError) -> PasswordVerification {
    let normalized = nfcNormalized()
    if try matches(normalized) { return strongEnough ? .valid : .validNeedsRehash }
    if normalized != self, try matches(self) { return .validNeedsRehash }
    return .invalid
  }

  /// The number of Unicode code points (invalid UTF-8 counts bytes), counted on the bytes
  /// without making a `String` of the secret.
  var codePointCount: Int {
    withUnsafeBytes { bytes in
      var decoder = UTF8()
      var iterator = bytes.makeIterator()
      var count = 0
      while true {
        switch decoder.decode(&iterator) {
        case .scalarValue: count += 1
        case .emptyInput: return count
        case .error: return bytes.count
        }
      }
    }
  }

  /// The secret as text for policy checks that compare with words; `nil` for invalid UTF-8.
  func withText<R>(_ body: (String) -> R) -> R? {
    withUnsafeBytes { bytes in
      guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
      return body(text)
    }
  }
}
