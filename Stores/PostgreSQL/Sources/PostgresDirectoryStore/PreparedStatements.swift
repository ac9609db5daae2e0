import Foundation
import PostgresNIO

// The lookups `UserDirectory` makes on every operation, prepared once per connection.

struct ProfileByID: PostgresPreparedStatement {
  static let sql = "SELECT profile::text FROM umk_users WHERE id = $1"
  typealias Row = String
  var id: UUID

  func makeBindings() throws -> PostgresBindings {
    var bindings = PostgresBindings()
    bindings.append(id)
    return bindings
  }

  func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(String.self) }
}

struct ProfileByUsername: PostgresPreparedStatement {
  static let sql = "SELECT profile::text FROM umk_users WHERE username_key = $1"
  typealias Row = String
  var key: String

  func makeBindings() throws -> PostgresBindings {
    var bindings = PostgresBindings()
    bindings.append(key)
    return bindings
  }

  func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(String.self) }
}

struct RecordByID: PostgresPreparedStatement {
  static let sql = "SELECT profile::text, credentials::text FROM umk_users WHERE id = $1"
  typealias Row = (String, String)
  var id: UUID

  func makeBindings() throws -> PostgresBindings {
    var bindings = PostgresBindings()
    bindings.append(id)
    return bindings
  }

  func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode((String, String).self) }
}

struct RecordByUsername: PostgresPreparedStatement {
  static let sql =
    "SELECT profile::text, credentials::text FROM umk_users WHERE username_key = $1"
  typealias Row = (String, String)
  var key: String

  func makeBindings() throws -> PostgresBindings {
    var bindings = PostgresBindings()
    bindings.append(key)
    return bindings
  }

  func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode((String, String).self) }
}
