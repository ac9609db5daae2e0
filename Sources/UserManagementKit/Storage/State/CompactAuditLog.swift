/// Audit events kept in memory in their compact binary form.
///
/// Events are appended to segments of about 1 MiB, so the log grows without the doubling
/// reallocation of one big array, and each event costs its encoded size plus 12 bytes of
/// index.
struct CompactAuditLog {
  private static let segmentSize = 1 << 20
  private var segments: [[UInt8]] = []
  /// For each event: segment index in the high 32 bits, offset in the low 32 bits.
  private var locations: [UInt64] = []
  /// End offset of each event within its segment, aligned with `locations`.
  private var ends: [UInt32] = []

  var count: Int { locations.count }

  mutating func append(_ event: AuditEvent) {
    if segments.isEmpty || segments[segments.count - 1].count >= Self.segmentSize {
      var segment: [UInt8] = []
      // Slack past the nominal size, so the event that crosses it rarely reallocates.
      segment.reserveCapacity(Self.segmentSize + Self.segmentSize / 16)
      segments.append(segment)
    }
    // Encode straight into the last segment: move it out, append, move it back.
    let segment = segments.count - 1
    var writer = ByteWriter(bytes: segments.removeLast())
    let offset = writer.bytes.count
    event.encode(into: &writer)
    let end = writer.bytes.count
    segments.append(writer.bytes)
    locations.append(UInt64(segment) << 32 | UInt64(offset))
    ends.append(UInt32(end))
  }

  /// Appends events already encoded, copying their bytes: the format this log holds events
  /// in, which decode to the same events (their bytes may differ from what encoding the
  /// events would give: a damaged string reads back repaired either way).
  mutating func append(_ encoded: EncodedAuditEvents) {
    var start = 0
    for end in encoded.ends {
      if segments.isEmpty || segments[segments.count - 1].count >= Self.segmentSize {
        var segment: [UInt8] = []
        segment.reserveCapacity(Self.segmentSize + Self.segmentSize / 16)
        segments.append(segment)
      }
      let segment = segments.count - 1
      let offset = segments[segment].count
      segments[segment].append(contentsOf: encoded.bytes[start..<Int(end)])
      locations.append(UInt64(segment) << 32 | UInt64(offset))
      ends.append(UInt32(segments[segment].count))
      start = Int(end)
    }
  }

  /// Removes the events from `count` on (only to undo appends whose commit failed to reach
  /// the disk).
  mutating func truncate(to count: Int) {
    guard count < locations.count else { return }
    let firstRemoved = locations[count]
    locations.removeSubrange(count...)
    ends.removeSubrange(count...)
    let segment = Int(firstRemoved >> 32)
    let offset = Int(firstRemoved & 0xFFFF_FFFF)
    segments.removeSubrange((segment + 1)...)
    segments[segment].removeSubrange(offset...)
  }

  /// The event at `index`, or `nil` if its bytes do not decode (which would be a bug).
  func event(at index: Int) -> AuditEvent? {
    let location = locations[index]
    let segment = Int(location >> 32)
    let start = Int(location & 0xFFFF_FFFF)
    let end = Int(ends[index])
    return segments[segment].withUnsafeBytes { bytes in
      var reader = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
      guard let event = AuditEvent(decoding: &reader), reader.isAtEnd else { return nil }
      return event
    }
  }
}

/// Audit events as a store's log holds them, checked but not made into values: opening keeps
/// the log's events this way until they join the state's ``CompactAuditLog``, which holds
/// events in the same format, so that they are neither decoded nor encoded again.
struct EncodedAuditEvents {
  /// The events' bytes, one after another.
  private(set) var bytes: [UInt8] = []
  /// Where each event ends in `bytes`.
  private(set) var ends: [UInt32] = []

  var count: Int { ends.count }

  /// Reads `count` events from `reader`, checking each as ``AuditEvent/init(decoding:)``
  /// would; `nil` if one does not decode.
  init?(reading count: Int, from reader: inout ByteReader) {
    let start = reader.offset
    ends.reserveCapacity(count)
    for _ in 0..<count {
      guard AuditEvent.skip(&reader) else { return nil }
      ends.append(UInt32(reader.offset - start))
    }
    bytes = Array(UnsafeRawBufferPointer(rebasing: reader.bytes[start..<reader.offset]))
  }

  init() {}
}
