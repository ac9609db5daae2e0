#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// Any JSON value, for reading other systems' exports, whose shapes vary by version and by
/// what their administrators chose to include.
enum MigrationJSON: Decodable, Hashable, Sendable {
  case null
  case bool(Bool)
  case number(Double)
  case string(String)
  case array([MigrationJSON])
  case object([String: MigrationJSON])

  init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let value = try? container.decode(Bool.self) {
      self = .bool(value)
    } else if let value = try? container.decode(Double.self) {
      self = .number(value)
    } else if let value = try? container.decode(String.self) {
      self = .string(value)
    } else if let value = try? container.decode([MigrationJSON].self) {
      self = .array(value)
    } else {
      self = .object(try container.decode([String: MigrationJSON].self))
    }
  }

  /// Parses one JSON document, or returns `nil`.
  static func parse(_ bytes: some Collection<UInt8>) -> MigrationJSON? {
    try? JSONDecoder().decode(MigrationJSON.self, from: Data(bytes))
  }

  /// The member named `key` of an object; `nil` for anything else or a missing member.
  subscript(key: String) -> MigrationJSON? {
    if case .object(let members) = self { return members[key] }
    return nil
  }

  /// A string's value; `nil` for anything else, including `null`.
  var string: String? {
    if case .string(let value) = self { return value }
    return nil
  }

  /// A boolean's value; `nil` for anything else.
  var bool: Bool? {
    if case .bool(let value) = self { return value }
    return nil
  }

  /// An integral number's value, or a string of decimal digits read as one; `nil` otherwise.
  var integer: Int? {
    switch self {
    case .number(let value):
      guard value.isFinite, value.rounded() == value, abs(value) < 9.0e15 else { return nil }
      return Int(value)
    case .string(let text):
      guard text.utf8.count <= 18 else { return nil }
      return Int(text)
    default:
      return nil
    }
  }

  /// An array's elements; `nil` for anything else.
  var array: [MigrationJSON]? {
    if case .array(let values) = self { return values }
    return nil
  }

  /// The strings of an array of strings, skipping other elements; empty for anything else.
  var strings: [String] {
    array?.compactMap(\.string) ?? []
  }
}
