import Testing
import UserManagementKitTesting

@testable import UserManagementKit

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// Opening a store checks the log's audit events with `AuditEvent.skip` and keeps their bytes
/// instead of decoding them: skipping must accept exactly the bytes decoding accepts, and end
/// where decoding ends, or a damaged log would open (or a sound one be refused).
@Suite("Audit events kept encoded")
struct AuditEventEncodingTests {
  /// Events covering every branch of the encoding: both actors, both targets, known and other
  /// actions and fields, secret changes, and changes with either value missing.
  private static let events: [AuditEvent] = {
    let time = Date(timeIntervalSinceReferenceDate: 812_345_678.25)
    let user = UserID(rawValue: UUID(uuid: (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)))
    let policy = PolicyID(rawValue: UUID(uuid: (9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9)))
    return [
      AuditEvent(
        id: UUID(uuid: (0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1)), time: time,
        actor: .user(user), target: .user(user, username: "ada@example.com"),
        action: .userUpdated,
        changes: [
          FieldChange(field: "firstName", oldValue: "Ada", newValue: "Augusta"),
          FieldChange(field: "lastName", oldValue: nil, newValue: "Lovelace"),
          FieldChange(field: "nickname", oldValue: "A", newValue: nil),
          .secret("password"),
        ]),
      AuditEvent(
        id: UUID(uuid: (2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2)), time: time,
        actor: .system("nightly-hr-sync"), target: .policy(policy, name: "Ünïcödé policy"),
        action: AuditAction(rawValue: "host.custom"),
        changes: [FieldChange(field: "description", oldValue: nil, newValue: nil)]),
      AuditEvent(
        id: UUID(uuid: (3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3)), time: time,
        actor: .system(""), target: .user(user, username: ""), action: .userCreated, changes: []),
    ]
  }()

  private static func encoded(_ event: AuditEvent) -> [UInt8] {
    var writer = ByteWriter()
    event.encode(into: &writer)
    return writer.bytes
  }

  /// Where decoding and skipping `bytes` end (`nil` where one refuses them).
  private static func ends(_ bytes: [UInt8]) -> (decoded: Int?, skipped: Int?) {
    bytes.withUnsafeBytes { raw in
      var decoding = ByteReader(raw)
      let decoded = AuditEvent(decoding: &decoding) == nil ? nil : decoding.offset
      var skipping = ByteReader(raw)
      let skipped = AuditEvent.skip(&skipping) ? skipping.offset : nil
      return (decoded, skipped)
    }
  }

  @Test func skippingEndsWhereDecodingEnds() {
    for event in Self.events {
      let bytes = Self.encoded(event)
      let (decoded, skipped) = Self.ends(bytes + [0xAB, 0xCD])
      #expect(decoded == bytes.count)
      #expect(skipped == bytes.count)
    }
  }

  @Test func everyCutEventIsRefusedByBoth() {
    for event in Self.events {
      let bytes = Self.encoded(event)
      for length in 0..<bytes.count {
        let (decoded, skipped) = Self.ends(Array(bytes[..<length]))
        #expect(decoded == nil, "decoding accepted \(length) of \(bytes.count) bytes")
        #expect(skipped == nil, "skipping accepted \(length) of \(bytes.count) bytes")
      }
    }
  }

  /// Every byte of every event set to values that hit each check (tags, codes, flags, lengths,
  /// and random bytes), then whatever follows it: skipping agrees with decoding on each.
  @Test func damagedEventsAreJudgedAlike() {
    var random = SeededRandomNumberGenerator(seed: 0xA0D1_7E7E)
    var refused = 0
    var accepted = 0
    for event in Self.events {
      let bytes = Self.encoded(event)
      for position in bytes.indices {
        // The first codes past the tables of fields (0x0D) and actions (0x12) among them.
        var values: [UInt8] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 0x0D, 0x11, 0x12, 0x7F, 0x80, 0xFE, 0xFF]
        for _ in 0..<8 { values.append(UInt8.random(in: 0...255, using: &random)) }
        for value in values where value != bytes[position] {
          var damaged = bytes
          damaged[position] = value
          // Room after the event, so that a longer length can still be read.
          damaged += (0..<24).map { _ in UInt8.random(in: 0...255, using: &random) }
          let (decoded, skipped) = Self.ends(damaged)
          #expect(decoded == skipped, "byte \(position) set to \(value)")
          if decoded == nil { refused += 1 } else { accepted += 1 }
        }
      }
    }
    // Both outcomes were exercised, so agreement means something.
    #expect(refused > 100)
    #expect(accepted > 100)
  }

  @Test func encodedEventsJoinTheCompactLogAsTheirValuesWould() throws {
    // Enough events to fill more than one of the compact log's segments (1 MiB each).
    var events: [AuditEvent] = []
    for index in 0..<12_000 {
      let event = Self.events[index % Self.events.count]
      events.append(
        AuditEvent(
          id: UUID(), time: event.time.addingTimeInterval(Double(index)), actor: event.actor,
          target: event.target, action: event.action, changes: event.changes))
    }
    var writer = ByteWriter()
    for event in events { event.encode(into: &writer) }
    let bytes = writer.bytes
    var kept: [EncodedAuditEvents] = []
    // The events each piece holds.
    var ranges: [Range<Int>] = []
    try bytes.withUnsafeBytes { raw in
      var reader = ByteReader(raw)
      // In pieces of uneven sizes, as commits hold them.
      var index = 0
      while index < events.count {
        let count = min(1 + index % 977, events.count - index)
        kept.append(try #require(EncodedAuditEvents(reading: count, from: &reader)))
        ranges.append(index..<(index + count))
        index += count
      }
      #expect(reader.isAtEnd)
    }
    #expect(kept.map(\.count) == ranges.map(\.count))
    var fromBytes = CompactAuditLog()
    for piece in kept { fromBytes.append(piece) }
    var fromValues = CompactAuditLog()
    for event in events { fromValues.append(event) }
    #expect(fromBytes.count == events.count)
    for index in events.indices {
      #expect(fromBytes.event(at: index) == events[index])
      #expect(fromBytes.event(at: index) == fromValues.event(at: index))
    }
    // Mixed with events appended as values, and cut back (as a failed commit's are) in the
    // middle of an encoded piece: the log still holds exactly what was kept.
    var mixed = CompactAuditLog()
    var expected: [AuditEvent] = []
    for (number, piece) in kept.prefix(6).enumerated() {
      mixed.append(events[number])
      expected.append(events[number])
      mixed.append(piece)
      expected += events[ranges[number]]
    }
    mixed.truncate(to: expected.count - 3)
    expected.removeLast(3)
    mixed.append(kept[6])
    expected += events[ranges[6]]
    #expect(mixed.count == expected.count)
    #expect((0..<mixed.count).map { mixed.event(at: $0) } == expected)
    // A damaged event among them refuses the piece.
    var damaged = Self.encoded(Self.events[0]) + Self.encoded(Self.events[1])
    damaged[Self.encoded(Self.events[0]).count + 16 + 8] = 7  // the second event's actor tag
    damaged.withUnsafeBytes { raw in
      var reader = ByteReader(raw)
      #expect(EncodedAuditEvents(reading: 2, from: &reader) == nil)
    }
  }
}
