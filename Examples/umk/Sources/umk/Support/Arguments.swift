import ArgumentParser
import Foundation
import UserManagementKit

/// `on` or `off`.
enum OnOff: String, ExpressibleByArgument, CaseIterable {
  /// On.
  case on
  /// Off.
  case off
}

/// `active` or `inactive`.
enum StatusArgument: String, ExpressibleByArgument, CaseIterable {
  /// Active.
  case active
  /// Inactive.
  case inactive

  /// The library's status.
  var value: UserStatus { self == .active ? .active : .inactive }
}

/// `admin` or `general`.
enum RoleArgument: String, ExpressibleByArgument, CaseIterable {
  /// An administrator.
  case admin
  /// A General User.
  case general

  /// The library's role.
  var value: Role { self == .admin ? .admin : .generalUser }
}

/// Times on the command line (`audit --since`).
enum ISO8601Time {
  /// Parses `2026-01-31`, `2026-01-31T12:00:00Z`, or the same with fractional seconds.
  ///
  /// - Parameter text: The argument.
  /// - Returns: The time.
  /// - Throws: `ValidationError` (exit 64) for anything else.
  static func parse(_ text: String) throws -> Date {
    let styles = [
      Date.ISO8601FormatStyle(includingFractionalSeconds: true), Date.ISO8601FormatStyle(),
      Date.ISO8601FormatStyle().year().month().day().dateSeparator(.dash),
    ]
    guard let date = styles.lazy.compactMap({ try? Date(text, strategy: $0) }).first else {
      throw ValidationError("Use an ISO 8601 time such as 2026-01-31T12:00:00Z or 2026-01-31.")
    }
    return date
  }
}
