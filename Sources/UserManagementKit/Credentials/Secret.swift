import UMKCrypto

/// A password, API password or other secret held in memory.
///
/// `Secret` is built so that a secret cannot leak by accident:
/// - `description`, `debugDescription`, string interpolation and `dump` print `<redacted>`;
/// - encoding it with an `Encoder` throws instead of writing the value;
/// - equality runs in constant time;
/// - its bytes live in one heap buffer that is overwritten with zeros when the last copy of
///   the secret goes away.
///
/// Create one from what the person typed; hand it to ``UserDirectory``; never turn it back
/// into a `String` except to show a generated secret to the one person who asked for it
/// (``revealForDisplay()``).
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
  CustomReflectable, Decodable, Encodable
{
  private let storage: SecretStorage

  /// Creates a secret from a string's UTF-8 bytes, exactly as given (no normalization).
  ///
  /// - Parameter string: The secret text.
  public init(_ string: String) {
    self.init(bytes: string.utf8)
  }

  /// Creates a secret from raw bytes.
  ///
  /// Bytes in contiguous memory (an array, a slice of one, a native string's UTF-8) are copied
  /// straight into the secret's buffer. Any other sequence is gathered first, and that
  /// intermediate copy is overwritten before it is freed.
  ///
  /// - Parameter bytes: The secret bytes.
  public init(bytes: some Sequence<UInt8>) {
    if let storage = bytes.withContiguousStorageIfAvailable({
      SecretStorage(UnsafeRawBufferPointer($0))
    }) {
      self.storage = storage
    } else {
      var gathered = [UInt8](bytes)
      storage = gathered.withUnsafeBytes { SecretStorage($0) }
      Platform.secureZero(bytes: &gathered)
    }
  }

  /// The number of bytes in the secret's UTF-8 form.
  public var byteCount: Int { storage.count }

  /// Calls `body` with the secret's bytes. Do not copy them out of the closure.
  ///
  /// - Parameter body: A closure that reads the bytes.
  /// - Returns: What `body` returns.
  /// - Throws: What `body` throws.
  public func withUnsafeBytes<R, E: Error>(
    _ body: (UnsafeRawBufferPointer) throws(E) -> R
  ) throws(E) -> R {
    try body(storage.bytes)
  }

  /// Returns the secret as a string, for showing a generated secret once to the person who
  /// asked for it. Anything else (logging, storing, sending) must not call this.
  ///
  /// - Returns: The secret's text (invalid UTF-8 is repaired with replacement characters).
  public func revealForDisplay() -> String {
    String(decoding: storage.bytes, as: UTF8.self)
  }

  /// Always `<redacted>`.
  public var description: String { "<redacted>" }
  /// Always `Secret(<redacted>)`.
  public var debugDescription: String { "Secret(<redacted>)" }
  /// A mirror with no children, so `dump` and reflection show nothing.
  public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }

  /// Compares two secrets in time that depends only on their lengths.
  ///
  /// - Parameters:
  ///   - lhs: A secret.
  ///   - rhs: Another secret.
  /// - Returns: Whether both hold the same bytes.
  public static func == (lhs: Secret, rhs: Secret) -> Bool {
    ConstantTime.equals(lhs.storage.bytes, rhs.storage.bytes)
  }

  /// Decodes a secret from a string (for example, from a request body).
  ///
  /// - Parameter decoder: The decoder.
  /// - Throws: `DecodingError` if the value is not a string.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    self.init(try container.decode(String.self))
  }

  /// Refuses to encode: a secret is never serialized.
  ///
  /// - Parameter encoder: The encoder.
  /// - Throws: Always `EncodingError.invalidValue`.
  public func encode(to encoder: any Encoder) throws {
    throw EncodingError.invalidValue(
      "<redacted>",
      EncodingError.Context(
        codingPath: encoder.codingPath, debugDescription: "Secrets are never serialized."))
  }
}

/// The heap buffer behind a ``Secret``.
///
/// `@unchecked Sendable` is safe because the buffer is written only in `init` (before the
/// object is shared) and in `deinit` (after the last reference is gone); in between it is only
/// read, so no two threads ever race on it.
final class SecretStorage: @unchecked Sendable {
  let bytes: UnsafeRawBufferPointer
  private let mutable: UnsafeMutableRawBufferPointer

  var count: Int { bytes.count }

  init(_ source: UnsafeRawBufferPointer) {
    let buffer = UnsafeMutableRawBufferPointer.allocate(
      byteCount: max(source.count, 1), alignment: 16)
    buffer.copyMemory(from: source)
    mutable = buffer
    bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<source.count])
  }

  deinit {
    // Overwrite before freeing so the secret does not linger in freed memory.
    Platform.secureZero(mutable)
    mutable.deallocate()
  }
}
