import Foundation

extension Secret {
  /// The secret in Unicode Normalization Form C, as NIST SP 800-63B asks before hashing, so
  /// that the same password typed on different keyboards hashes the same. Bytes that are not
  /// valid UTF-8 are kept as they are.
  func nfcNormalized() -> Secret {
    withUnsafeBytes { bytes in
      guard let text = String(validating: bytes, as: UTF8.self) else { return self }
      let normalized = text.precomposedStringWithCanonicalMapping
      if normalized.utf8.elementsEqual(bytes) { return self }
      return Secret(normalized)
    }
  }

  /// The number of Unicode code points after NFC normalization (invalid UTF-8 counts bytes).
  var codePointCount: Int {
    withUnsafeBytes { bytes in
      guard let text = String(validating: bytes, as: UTF8.self) else { return bytes.count }
      return text.unicodeScalars.count
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
