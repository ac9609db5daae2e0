#if canImport(FoundationEssentials)
  public import FoundationEssentials
#else
  public import Foundation
#endif

/// A named access-control policy: a set of permissions assigned to General Users.
public struct Policy: Hashable, Sendable, Codable, Identifiable {
  /// The permanent identifier.
  public let id: PolicyID
  /// The unique name (compared case-insensitively), as shown in the console.
  public var name: String
  /// What the policy is for.
  public var description: String
  /// The grants.
  public var permissions: [Permission]
  /// Incremented by every change.
  public var version: UInt64
  /// When the policy was created.
  public let createdAt: Date
  /// When the policy last changed.
  public var updatedAt: Date

  /// Creates a policy value. Hosts create policies through ``UserDirectory``; storage
  /// implementations use this to rebuild stored policies.
  ///
  /// - Parameters:
  ///   - id: The identifier.
  ///   - name: The name.
  ///   - description: The description.
  ///   - permissions: The grants.
  ///   - version: The version, starting at 1.
  ///   - createdAt: The creation time.
  ///   - updatedAt: The last change time.
  public init(
    id: PolicyID, name: String, description: String, permissions: [Permission],
    version: UInt64, createdAt: Date, updatedAt: Date
  ) {
    self.id = id
    self.name = name
    self.description = description
    self.permissions = permissions
    self.version = version
    self.createdAt = createdAt
    self.updatedAt = updatedAt
  }

  /// The uniqueness key of the name.
  public var nameKey: String { Policy.nameKey(name) }

  /// Returns the uniqueness key of a policy name: lowercased.
  ///
  /// - Parameter name: A policy name.
  /// - Returns: The key two names are compared by.
  public static func nameKey(_ name: String) -> String { name.lowercased() }

  /// The policy's content in the console's JSON shape.
  public var document: PolicyDocument {
    PolicyDocument(name: name, description: description, permissions: permissions)
  }
}

/// A policy's content in the console's JSON shape:
/// `{"name": …, "description": …, "permissions": [{"resourceType": …, "allowed": […],
/// "resourceIds": […]}]}`.
///
/// Use it to create or update policies and to import or export them.
public struct PolicyDocument: Hashable, Sendable, Codable {
  /// The policy's name, unique case-insensitively.
  public var name: String
  /// What the policy is for.
  public var description: String
  /// The grants.
  public var permissions: [Permission]

  /// Creates a policy document.
  ///
  /// - Parameters:
  ///   - name: The name.
  ///   - description: The description.
  ///   - permissions: The grants.
  public init(name: String, description: String = "", permissions: [Permission]) {
    self.name = name
    self.description = description
    self.permissions = permissions
  }

  private enum CodingKeys: String, CodingKey {
    case name, description, permissions
  }

  /// Decodes a document; a missing `description` reads as empty.
  ///
  /// - Parameter decoder: The decoder.
  /// - Throws: `DecodingError` when `name` or `permissions` is missing or mistyped.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    name = try container.decode(String.self, forKey: .name)
    description = try container.decodeIfPresent(String.self, forKey: .description) ?? ""
    permissions = try container.decode([Permission].self, forKey: .permissions)
  }

  /// The longest description accepted, in characters.
  public static let maximumDescriptionLength = 1000
  /// The longest description accepted, in bytes of UTF-8.
  public static let maximumDescriptionBytes = 4000
  /// The longest resource type accepted, in characters (at most four bytes of UTF-8 each).
  public static let maximumResourceTypeLength = 100
  /// The longest resource id accepted in a selector, in characters (at most four bytes of
  /// UTF-8 each).
  public static let maximumResourceIDLength = 256
  /// The most permissions one policy may hold.
  public static let maximumPermissionCount = 100
  /// The most actions one permission may list.
  public static let maximumActionCount = 32
  /// The most resource selectors one permission may list.
  public static let maximumSelectorCount = 1000

  /// Returns the document trimmed and validated.
  ///
  /// - Returns: The normalized document.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/invalidPolicy``
  ///   naming the offending field (`name`, `description`, `permissions[2].allowed`, …).
  public func validated() throws(UserManagementError) -> PolicyDocument {
    var result = self
    do {
      result.name = try PersonName.validate(name, field: "name")
    } catch {
      throw Self.invalid("name", error.context["reason"] ?? "invalid", error.message)
    }
    result.description = description.trimmingWhitespace()
    if result.description.utf8.count > Self.maximumDescriptionBytes
      || result.description.count > Self.maximumDescriptionLength
    {
      throw Self.invalid(
        "description", "too_long",
        "The description must be at most \(Self.maximumDescriptionLength) characters "
          + "(\(Self.maximumDescriptionBytes) bytes).")
    }
    if result.description.unicodeScalars.contains(where: {
      $0.properties.generalCategory == .control && $0 != "\n"
    }) {
      throw Self.invalid(
        "description", "control_character",
        "The description must not contain control characters other than line breaks.")
    }
    if permissions.isEmpty {
      throw Self.invalid("permissions", "empty", "A policy needs at least one permission.")
    }
    // Counts bound a policy's whole size: every version of it is kept in the audit trail.
    if permissions.count > Self.maximumPermissionCount {
      throw Self.invalid(
        "permissions", "too_many",
        "A policy may hold at most \(Self.maximumPermissionCount) permissions.")
    }
    for (index, permission) in permissions.enumerated() {
      let field = "permissions[\(index)]"
      let type = permission.resourceType
      if type.isEmpty || type.utf8.count > 4 * Self.maximumResourceTypeLength
        || type.count > Self.maximumResourceTypeLength
        || type.unicodeScalars.contains(where: {
          $0.properties.generalCategory == .control || $0 == " "
        })
      {
        throw Self.invalid(
          field + ".resourceType", "invalid",
          "\(field).resourceType must be 1–\(Self.maximumResourceTypeLength) characters without "
            + "spaces or control characters.")
      }
      if permission.allowed.isEmpty {
        throw Self.invalid(field + ".allowed", "empty", "\(field).allowed must not be empty.")
      }
      if permission.allowed.count > Self.maximumActionCount {
        throw Self.invalid(
          field + ".allowed", "too_many",
          "\(field).allowed may list at most \(Self.maximumActionCount) actions.")
      }
      if permission.resourceIds.count > Self.maximumSelectorCount {
        throw Self.invalid(
          field + ".resourceIds", "too_many",
          "\(field).resourceIds may list at most \(Self.maximumSelectorCount) selectors.")
      }
      for action in permission.allowed where !action.isWellFormed {
        throw Self.invalid(
          field + ".allowed", "invalid_action",
          "\(field).allowed has an invalid action; use \"view\", \"edit\", \"delete\", \"*\" "
            + "or a lowercase name.")
      }
      if permission.resourceIds.isEmpty {
        throw Self.invalid(
          field + ".resourceIds", "empty", "\(field).resourceIds must not be empty.")
      }
      for selector in permission.resourceIds {
        let id: String
        switch selector {
        case .any: continue
        case .id(let value):
          // Such an id would be written to JSON as "*" or "parent:…", which reads back as a
          // wider selector: a grant on one literal id must never widen in an export.
          if value.utf8.elementsEqual("*".utf8)
            || value.utf8.starts(with: ResourceSelector.parentPrefix.utf8)
          {
            throw Self.invalid(
              field + ".resourceIds", "reserved_id",
              "\(field).resourceIds has an id that reads as a selector in JSON (\"*\" or "
                + "\"parent:…\"); use .any or .childrenOf instead.")
          }
          id = value
        case .childrenOf(let value): id = value
        }
        // An id that starts with a combining mark would join the character before it in the
        // JSON form (`parent:` + a mark no longer starts with `parent:` to `String`).
        if id.isEmpty || id.unicodeScalars.first.map(Self.isCombiningMark) == true
          || id.utf8.count > 4 * Self.maximumResourceIDLength
          || id.count > Self.maximumResourceIDLength
          || id.unicodeScalars.contains(where: {
            $0.properties.generalCategory == .control
          })
        {
          throw Self.invalid(
            field + ".resourceIds", "invalid_id",
            "\(field).resourceIds has an empty id, one longer than "
              + "\(Self.maximumResourceIDLength) characters, or one with control characters.")
        }
      }
    }
    return result
  }

  private static func isCombiningMark(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .nonspacingMark, .spacingMark, .enclosingMark: true
    default: false
    }
  }

  private static func invalid(_ field: String, _ reason: String, _ message: String)
    -> UserManagementError
  {
    UserManagementError(.invalidPolicy, message, context: ["field": field, "reason": reason])
  }
}

extension PolicyDocument {
  /// Parses one policy document, or a JSON array of them, in the console's JSON shape.
  ///
  /// - Parameter json: UTF-8 JSON.
  /// - Returns: The documents, validated.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/invalidPolicy``
  ///   when the JSON cannot be parsed or a document is invalid; the message says which.
  public static func decodeList(from json: some Collection<UInt8>) throws(UserManagementError)
    -> [PolicyDocument]
  {
    let data = Data(json)
    let decoder = JSONDecoder()
    let documents: [PolicyDocument]
    if data.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "[") {
      do {
        documents = try decoder.decode([PolicyDocument].self, from: data)
      } catch {
        throw UserManagementError(
          .invalidPolicy, "The policy JSON could not be read: \(describe(error)).")
      }
    } else {
      do {
        documents = [try decoder.decode(PolicyDocument.self, from: data)]
      } catch {
        throw UserManagementError(
          .invalidPolicy, "The policy JSON could not be read: \(describe(error)).")
      }
    }
    return try validated(documents)
  }

  /// Validates documents, naming the first invalid one by its position.
  ///
  /// - Parameter documents: The documents.
  /// - Returns: The documents, each ``validated()``.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/invalidPolicy``,
  ///   whose `context["index"]` is the position (from 0) of the invalid document.
  public static func validated(_ documents: [PolicyDocument]) throws(UserManagementError)
    -> [PolicyDocument]
  {
    var validated: [PolicyDocument] = []
    for (index, document) in documents.enumerated() {
      do {
        validated.append(try document.validated())
      } catch {
        var context = error.context
        context["index"] = String(index)
        throw UserManagementError(
          .invalidPolicy,
          "Policy #\(index + 1) (\(DisplayText.quoted(document.name))): \(error.message)",
          context: context)
      }
    }
    return validated
  }

  /// Encodes documents as a pretty-printed JSON array with sorted keys.
  ///
  /// - Parameter documents: The documents.
  /// - Returns: UTF-8 JSON.
  public static func encodeList(_ documents: [PolicyDocument]) -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    // Encoding plain strings and arrays cannot fail; fall back to an empty array regardless.
    return (try? Array(encoder.encode(documents))) ?? Array("[]".utf8)
  }

  private static func describe(_ error: any Error) -> String {
    guard let error = error as? DecodingError else { return "invalid JSON" }
    switch error {
    case .keyNotFound(let key, let context):
      return "missing key \"\(key.stringValue)\" at \(path(context.codingPath))"
    case .typeMismatch(_, let context), .valueNotFound(_, let context):
      return "wrong type at \(path(context.codingPath))"
    case .dataCorrupted(let context):
      return context.codingPath.isEmpty
        ? "invalid JSON" : "invalid value at \(path(context.codingPath))"
    @unknown default:
      return "invalid JSON"
    }
  }

  private static func path(_ codingPath: [any CodingKey]) -> String {
    if codingPath.isEmpty { return "the top level" }
    return codingPath.map { key in
      key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)"
    }.joined()
  }
}
