/// A parsed `application/x-www-form-urlencoded` body or query string: fields in order, a name
/// possibly repeated (a multiple `<select>`).
struct FormData: Sendable {
  /// The fields in the order sent.
  private(set) var fields: [(name: String, value: String)]

  /// Why a body could not be read as a form.
  struct Problem: Error, Sendable, Equatable {
    /// The message shown to the person.
    let message: String
  }

  /// The longest value a field may have, in bytes, unless the caller allows more.
  static let maximumFieldBytes = 4096

  /// Parses an encoded form.
  ///
  /// - Parameters:
  ///   - encoded: The bytes of the body or query.
  ///   - maximumFieldBytes: The longest value accepted.
  ///   - maximumFields: The most fields accepted.
  /// - Throws: ``Problem`` for malformed encoding, invalid UTF-8, or a field too long.
  init(
    parsing encoded: some Collection<UInt8>, maximumFieldBytes: Int = FormData.maximumFieldBytes,
    maximumFields: Int = 200
  ) throws(Problem) {
    fields = []
    guard !encoded.isEmpty else { return }
    for pair in encoded.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
      guard fields.count < maximumFields else {
        throw Problem(message: "The form has too many fields.")
      }
      let parts = pair.split(
        separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
      let name = try Self.decode(Array(parts[0]), limit: 256)
      let value = try Self.decode(parts.count > 1 ? Array(parts[1]) : [], limit: maximumFieldBytes)
      fields.append((name, value))
    }
  }

  private static func decode(_ bytes: some Collection<UInt8>, limit: Int) throws(Problem) -> String
  {
    var output: [UInt8] = []
    output.reserveCapacity(min(bytes.count, limit))
    var index = bytes.startIndex
    while index != bytes.endIndex {
      let byte = bytes[index]
      if byte == UInt8(ascii: "+") {
        output.append(0x20)
      } else if byte == UInt8(ascii: "%") {
        let first = bytes.index(after: index)
        guard first != bytes.endIndex, bytes.index(after: first) != bytes.endIndex,
          let high = hexValue(bytes[first]), let low = hexValue(bytes[bytes.index(after: first)])
        else {
          throw Problem(message: "The form was not encoded correctly.")
        }
        output.append(high << 4 | low)
        index = bytes.index(after: bytes.index(after: first))
        guard output.count <= limit else { throw tooLong(limit) }
        continue
      } else {
        output.append(byte)
      }
      guard output.count <= limit else { throw tooLong(limit) }
      index = bytes.index(after: index)
    }
    guard let text = String(validating: output, as: UTF8.self) else {
      throw Problem(message: "The form contains text that is not valid UTF-8.")
    }
    return text
  }

  private static func tooLong(_ limit: Int) -> Problem {
    Problem(message: "A field is longer than \(limit) bytes; nothing was changed.")
  }

  private static func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
  }

  /// The first value of a field, or `nil`.
  subscript(name: String) -> String? {
    fields.first { $0.name == name }?.value
  }

  /// Every value of a field.
  func all(_ name: String) -> [String] {
    fields.filter { $0.name == name }.map(\.value)
  }

  /// Fields not in `allowed`, for refusing forged forms.
  func unexpectedFields(allowed: Set<String>) -> [String] {
    fields.map(\.name).filter { !allowed.contains($0) }
  }

  /// A field's value, trimmed, or `""`.
  func text(_ name: String) -> String {
    (self[name] ?? "").trimmingCharacters(in: [" ", "\t", "\r", "\n", "\r\n"])
  }
}

extension String {
  /// The string without leading and trailing characters from `set`.
  func trimmingCharacters(in set: Set<Character>) -> String {
    var slice = Substring(self)
    while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
    while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
    return String(slice)
  }
}
