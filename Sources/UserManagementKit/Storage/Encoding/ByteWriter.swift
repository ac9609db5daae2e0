#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// Appends the compact binary encoding used for stored records: unsigned LEB128 varints,
/// length-prefixed UTF-8 strings, raw UUID bytes and IEEE 754 doubles, all little-endian.
struct ByteWriter {
  var bytes: [UInt8]

  init(bytes: [UInt8] = []) {
    self.bytes = bytes
  }

  mutating func byte(_ value: UInt8) {
    bytes.append(value)
  }

  mutating func varint(_ value: UInt64) {
    var rest = value
    while rest >= 0x80 {
      bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
      rest >>= 7
    }
    bytes.append(UInt8(rest))
  }

  mutating func string(_ value: String) {
    var value = value
    value.withUTF8 { utf8 in
      varint(UInt64(utf8.count))
      bytes.append(contentsOf: utf8)
    }
  }

  mutating func uuid(_ value: UUID) {
    withUnsafeBytes(of: value.uuid) { bytes.append(contentsOf: $0) }
  }

  mutating func double(_ value: Double) {
    var bits = value.bitPattern.littleEndian
    withUnsafeBytes(of: &bits) { bytes.append(contentsOf: $0) }
  }

  /// A date as its seconds since 2001-01-01 (the representation `Date` keeps, so the value
  /// round-trips exactly).
  mutating func date(_ value: Date) {
    double(value.timeIntervalSinceReferenceDate)
  }
}

/// Reads what ``ByteWriter`` wrote; every read is bounds-checked and returns `nil` on
/// malformed input instead of trapping.
struct ByteReader {
  let bytes: UnsafeRawBufferPointer
  var offset = 0

  init(_ bytes: UnsafeRawBufferPointer) {
    self.bytes = bytes
  }

  var isAtEnd: Bool { offset == bytes.count }

  /// The bytes not read yet.
  var remaining: Int { bytes.count - offset }

  mutating func byte() -> UInt8? {
    guard offset < bytes.count else { return nil }
    defer { offset += 1 }
    return bytes[offset]
  }

  mutating func varint() -> UInt64? {
    var result: UInt64 = 0
    var shift: UInt64 = 0
    while shift < 64 {
      guard let next = byte() else { return nil }
      result |= UInt64(next & 0x7F) << shift
      if next & 0x80 == 0 { return result }
      shift += 7
    }
    return nil
  }

  mutating func string() -> String? {
    guard let length = varint(), length <= UInt64(bytes.count - offset) else { return nil }
    let end = offset + Int(length)
    defer { offset = end }
    // The bytes were written from a String and are covered by a checksum; decoding (which
    // would replace, never trap on, invalid UTF-8) is several times faster than validating.
    let raw = UnsafeRawBufferPointer(rebasing: bytes[offset..<end])
    return String(decoding: raw.assumingMemoryBound(to: UInt8.self), as: UTF8.self)
  }

  /// Moves past `count` bytes (not negative); `false` (and no move) if fewer remain.
  mutating func skip(_ count: Int) -> Bool {
    precondition(count >= 0, "a reader only moves forward")
    guard bytes.count - offset >= count else { return false }
    offset += count
    return true
  }

  /// Moves past a string as ``string()`` reads it, without making it; `false` where
  /// ``string()`` gives `nil`.
  mutating func skipString() -> Bool {
    guard let length = varint(), length <= UInt64(bytes.count - offset) else { return false }
    offset += Int(length)
    return true
  }

  mutating func uuid() -> UUID? {
    guard bytes.count - offset >= 16 else { return nil }
    var raw: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    withUnsafeMutableBytes(of: &raw) { target in
      target.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + 16]))
    }
    offset += 16
    return UUID(uuid: raw)
  }

  mutating func double() -> Double? {
    guard bytes.count - offset >= 8 else { return nil }
    var bits: UInt64 = 0
    withUnsafeMutableBytes(of: &bits) { target in
      target.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + 8]))
    }
    offset += 8
    return Double(bitPattern: UInt64(littleEndian: bits))
  }

  mutating func date() -> Date? {
    double().map { Date(timeIntervalSinceReferenceDate: $0) }
  }
}
