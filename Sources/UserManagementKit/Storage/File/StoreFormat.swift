import CUMKSystem

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// The on-disk format of ``FileDirectoryStore``, specified in `Documentation/StoreFormat.md`.
///
/// Every file starts with a 16-byte header (magic, format version, kind, checksum) followed
/// by *frames*: `length (u32 LE) · CRC-32C of the length (u32 LE) · payload · CRC-32C of the
/// payload (u32 LE)`. The first byte of a payload is its tag.
enum StoreFormat {
  /// The format this code writes. Files of a newer version are refused; a store of an older
  /// version is migrated when it is opened (rewritten as a new generation).
  ///
  /// Version 2 preallocates the log in zero-filled chunks and writes commits over the zeros in
  /// place, the first zero frame header marking the end; version 1 appended to a log that
  /// ended with its last frame. Snapshots and audit segments are laid out alike in both.
  static let currentVersion: UInt16 = 2
  // The size of the chunks a log is preallocated in (real zeros, written and synced) is
  // `FileDirectoryStore.Options.logChunkSize`: 1 MiB unless a test says otherwise.
  static let magic: [UInt8] = Array("UMKSTORE".utf8)
  static let fileHeaderSize = 16
  static let frameOverhead = 12
  /// Frames larger than this are refused as corrupt (a length field is never trusted to
  /// allocate more).
  static let maximumPayload = 1 << 30
  /// The granularity at which a disk may lose or keep an unsynced write (a sector); zeros an
  /// interrupted append leaves start at a multiple of it.
  static let sectorSize = 512
  /// The longest run of zero bytes a commit may hold. Shorter than a sector, so that a run of
  /// zeros a sector long inside a frame can only be a sector the disk never wrote.
  static let maximumZeroRun = 255

  enum FileKind: UInt8 {
    case snapshot = 0x53  // "S"
    case log = 0x4C  // "L"
    case auditSegment = 0x41  // "A"
  }

  enum Tag: UInt8 {
    case header = 0x48  // "H"
    case users = 0x55  // "U"
    case policies = 0x50  // "P"
    case throttles = 0x54  // "T"
    case end = 0x45  // "E"
    case commit = 0x43  // "C"
    case auditEvents = 0x41  // "A"
  }

  static let lockFileName = "LOCK"

  static func snapshotName(_ generation: UInt64) -> String { "snapshot-" + number(generation) }
  static func logName(_ generation: UInt64) -> String { "log-" + number(generation) }
  static func auditName(_ segment: UInt64) -> String { "audit-" + number(segment) }

  /// A 16-digit decimal, so names sort in numeric order.
  static func number(_ value: UInt64) -> String {
    let digits = String(value)
    return String(repeating: "0", count: max(0, 16 - digits.count)) + digits
  }

  /// The number in a name such as `snapshot-0000000000000003`, if it has that prefix.
  static func parseNumber(_ name: String, prefix: String) -> UInt64? {
    guard name.hasPrefix(prefix) else { return nil }
    let digits = name.dropFirst(prefix.count)
    guard digits.count == 16, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
      return nil
    }
    return UInt64(digits)
  }

  // MARK: Writing

  static func fileHeader(_ kind: FileKind) -> [UInt8] {
    var bytes = magic
    bytes.append(UInt8(truncatingIfNeeded: currentVersion))
    bytes.append(UInt8(truncatingIfNeeded: currentVersion >> 8))
    bytes.append(kind.rawValue)
    bytes.append(0)
    appendUInt32(crc(bytes[...]), to: &bytes)
    return bytes
  }

  /// Appends one frame whose payload is written by `body` into `bytes`.
  static func appendFrame(to bytes: inout [UInt8], _ body: (inout ByteWriter) -> Void) {
    let start = bytes.count
    bytes.append(contentsOf: [0, 0, 0, 0, 0, 0, 0, 0])
    // Move the buffer into the writer and back, never copy it: `bytes` may be a whole
    // snapshot, and a copy per frame would make writing one quadratic.
    var writer = ByteWriter()
    swap(&bytes, &writer.bytes)
    body(&writer)
    swap(&bytes, &writer.bytes)
    let length = bytes.count - start - 8
    bytes.withUnsafeMutableBytes { raw in
      raw.storeBytes(of: UInt32(length).littleEndian, toByteOffset: start, as: UInt32.self)
      let lengthCRC = cumk_crc32c(0, raw.baseAddress.map { $0 + start }, 4)
      raw.storeBytes(of: lengthCRC.littleEndian, toByteOffset: start + 4, as: UInt32.self)
    }
    let payloadCRC = bytes.withUnsafeBytes { raw in
      cumk_crc32c(0, raw.baseAddress.map { $0 + start + 8 }, length)
    }
    appendUInt32(payloadCRC, to: &bytes)
  }

  static func appendUInt32(_ value: UInt32, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
  }

  static func crc(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    bytes.withUnsafeBytes { cumk_crc32c(0, $0.baseAddress, $0.count) }
  }

  // MARK: Reading

  /// Where a scan of frames stopped.
  enum ScanEnd: Equatable {
    /// At the end of the file after a complete frame, or (in the live log) where nothing but
    /// zeros follows a complete frame: the preallocated rest of the log.
    case clean
    /// At a frame that an interrupted append left behind: the file ends inside it, or it and
    /// everything after it are zeros where its checksum should be. Its bytes start here.
    case tornTail(at: Int)
  }

  /// Checks a file header; returns the format version.
  @discardableResult
  static func checkHeader(_ bytes: UnsafeRawBufferPointer, kind: FileKind, file: String)
    throws(UserManagementError) -> UInt16
  {
    guard bytes.count >= fileHeaderSize, bytes.prefix(8).elementsEqual(magic) else {
      throw .corruptStore(file: file, offset: 0, "it does not start with a store header")
    }
    // The checksum first: a flipped bit in the version field is damage, not a newer format.
    guard loadUInt32(bytes, at: 12) == cumk_crc32c(0, bytes.baseAddress, 12) else {
      throw .corruptStore(file: file, offset: 0, "its header checksum does not match")
    }
    let version = UInt16(bytes[8]) | UInt16(bytes[9]) << 8
    guard version <= currentVersion else {
      throw UserManagementError(
        .unsupportedStoreFormat,
        "\(file) has store format version \(version); this library reads versions up to "
          + "\(currentVersion). Use a newer version of UserManagementKit.",
        context: ["file": file, "version": String(version)])
    }
    guard bytes[10] == kind.rawValue, bytes[11] == 0, version >= 1 else {
      throw .corruptStore(file: file, offset: 8, "its header names another kind of file")
    }
    return version
  }

  /// `value` rounded up to a multiple of `chunk` (itself if `chunk` is not positive), at
  /// least one chunk.
  static func roundUp(_ value: Int, to chunk: Int) -> Int {
    guard chunk > 0 else { return value }
    return max(chunk, (value + chunk - 1) / chunk * chunk)
  }

  /// Where the run of zero bytes that ends `bytes` starts (`bytes.count` if the last byte is
  /// not zero): everything a writer left after the last non-zero byte of a log.
  static func startOfTrailingZeros(_ bytes: UnsafeRawBufferPointer) -> Int {
    var end = bytes.count
    // Eight bytes at a time over the long zero tail of a preallocated log.
    while end >= 8 && bytes.loadUnaligned(fromByteOffset: end - 8, as: UInt64.self) == 0 {
      end -= 8
    }
    while end > 0 && bytes[end - 1] == 0 { end -= 1 }
    return end
  }

  static func loadUInt32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
    UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
      | UInt32(bytes[offset + 3]) << 24
  }

  /// Calls `body` with each frame's payload and offset, from `start` to the end of `bytes`.
  ///
  /// - Parameters:
  ///   - bytes: The whole file.
  ///   - start: Where the first frame starts.
  ///   - file: The file's name, for errors.
  ///   - allowTornTail: Whether the last frame may be an interrupted append (true only for
  ///     the live log); otherwise such a frame is corruption.
  ///   - fileOffset: Where `bytes` starts in the file (sector boundaries are file offsets).
  ///   - body: Called with each payload and the offset of its frame.
  /// - Returns: How the scan ended.
  /// - Throws: ``UserManagementError/Code/corruptStore`` for a damaged frame, or what `body`
  ///   throws.
  static func scanFrames(
    _ bytes: UnsafeRawBufferPointer, from start: Int, file: String, allowTornTail: Bool,
    fileOffset: Int = 0, _ body: (UnsafeRawBufferPointer, Int) throws(UserManagementError) -> Void
  ) throws(UserManagementError) -> ScanEnd {
    var offset = start
    let size = bytes.count
    // Where the run of zero bytes that ends the file begins (`size` if the last byte is not
    // zero): what an append leaves when the file grew but its data never reached the disk.
    let trailingZeros = max(start, startOfTrailingZeros(bytes))
    func zerosToEnd(from position: Int) -> Bool {
      position >= trailingZeros
    }
    /// Whether a frame that failed a check at `offset` is an unfinished append (see
    /// `Documentation/StoreFormat.md`, "The exact torn-tail rule"). `end` is where the frame
    /// ends if its header is intact, `nil` if not.
    func isUnfinishedAppend(end: Int?) -> Bool {
      if zerosToEnd(from: offset) { return true }  // Zeros from its first byte on.
      guard let end else {
        // The header is damaged, so the frame's extent is unknown. Only a header the disk
        // never wrote (zeros, or the file — or the zeros that end it — beginning inside it)
        // can be an unfinished write, and only if no intact frame follows: a flipped bit in
        // a middle frame's header must not pass for a torn tail and take the frames after it
        // along.
        if size - offset < 8 || zerosToEnd(from: offset + 8) { return true }
        let header = bytes[offset..<offset + 8]
        guard header.allSatisfy({ $0 == 0 }) else { return false }
        return !hasIntactFrame(after: offset)
      }
      // Nothing but zeros may follow it: a write in progress is always the last thing.
      guard zerosToEnd(from: min(end, size)) else { return false }
      if end > size { return true }  // The file ends inside the frame.
      if trailingZeros >= end - 4 && trailingZeros < end {
        // Only (part of) the checksum is zero, so the payload is all there: it is torn only
        // if what survives of the checksum matches it.
        let payload = UnsafeRawBufferPointer(rebasing: bytes[(offset + 8)..<(end - 4)])
        let expected = cumk_crc32c(0, payload.baseAddress, payload.count)
        for index in (end - 4)..<trailingZeros
        where bytes[index] != UInt8(truncatingIfNeeded: expected >> (8 * (index - end + 4))) {
          return false
        }
        return true
      }
      // The zeros that end the file begin inside its payload: the write stopped there, over
      // the preallocated zeros (or, in a log of format 1, the file grew but the sectors from
      // there on never reached the disk). Its checksum is then zeros, which the payload's
      // real checksum is not but once in 2^32.
      if trailingZeros < end - 4 { return true }
      // … or a whole sector of zeros inside it, written out of order around it (the writer
      // refuses commits that hold such a run, so a frame it wrote never does).
      let firstSector = (fileOffset + offset + sectorSize - 1) / sectorSize * sectorSize
      var sector = firstSector - fileOffset
      while sector + sectorSize <= end {
        if bytes[sector..<sector + sectorSize].allSatisfy({ $0 == 0 }) { return true }
        sector += sectorSize
      }
      return false
    }
    /// Whether an intact frame (both checksums matching) starts anywhere after `position`.
    func hasIntactFrame(after position: Int) -> Bool {
      var candidate = position + 1
      while candidate + frameOverhead < size {
        let length = Int(loadUInt32(bytes, at: candidate))
        if length > 0, candidate + frameOverhead + length <= size,
          loadUInt32(bytes, at: candidate + 4)
            == cumk_crc32c(0, bytes.baseAddress.map { $0 + candidate }, 4),
          loadUInt32(bytes, at: candidate + 8 + length)
            == cumk_crc32c(0, bytes.baseAddress.map { $0 + candidate + 8 }, length)
        {
          return true
        }
        candidate += 1
      }
      return false
    }
    func damaged(_ end: Int?, _ detail: String) throws(UserManagementError) -> ScanEnd {
      guard allowTornTail, isUnfinishedAppend(end: end) else {
        throw .corruptStore(file: file, offset: offset, detail)
      }
      return .tornTail(at: offset)
    }
    while offset < size {
      // The live log's end: nothing but zeros from here on (its preallocated rest). A frame
      // never starts with eight zero bytes, let alone consists of zeros.
      if allowTornTail && offset >= trailingZeros { return .clean }
      switch frame(in: bytes, at: offset) {
      case .whole(let payload, let end):
        try body(payload, offset)
        offset = end
      case .cut(let end):
        return try damaged(end, FrameAt.cutDetail(end))
      case .damaged(let end, let detail):
        return try damaged(end, detail)
      }
    }
    return .clean
  }

  /// Calls `body` with the payload and offset of each frame that `bytes` holds whole, from
  /// `start` on: ``scanFrames(_:from:file:allowTornTail:fileOffset:_:)`` for a file read a
  /// piece at a time, whose last frame may go on past `bytes`. No frame may be torn.
  ///
  /// - Parameters:
  ///   - bytes: A piece of the file, starting at `fileOffset`.
  ///   - start: Where in `bytes` the first frame starts.
  ///   - file: The file's name, for errors.
  ///   - fileOffset: Where `bytes` starts in the file.
  ///   - more: Whether the file goes on past `bytes`. If it does not, a frame cut short by
  ///     the end of `bytes` is corruption.
  ///   - body: Called with each payload and the offset of its frame in `bytes`.
  /// - Returns: Where the first frame that goes on past `bytes` starts (`bytes.count` if
  ///   none does).
  /// - Throws: ``UserManagementError/Code/corruptStore`` for a damaged frame (at its file
  ///   offset), or what `body` throws.
  static func scanWholeFrames(
    _ bytes: UnsafeRawBufferPointer, from start: Int, file: String, fileOffset: Int, more: Bool,
    _ body: (UnsafeRawBufferPointer, Int) throws(UserManagementError) -> Void
  ) throws(UserManagementError) -> Int {
    var offset = start
    while offset < bytes.count {
      switch frame(in: bytes, at: offset) {
      case .whole(let payload, let end):
        try body(payload, offset)
        offset = end
      case .cut(let end):
        guard more else {
          throw .corruptStore(file: file, offset: fileOffset + offset, FrameAt.cutDetail(end))
        }
        return offset
      case .damaged(_, let detail):
        throw .corruptStore(file: file, offset: fileOffset + offset, detail)
      }
    }
    return offset
  }

  /// What starts at an offset of a file's bytes: a frame, checked.
  enum FrameAt {
    /// A whole frame whose checksums match: its payload, and where the frame ends.
    case whole(UnsafeRawBufferPointer, end: Int)
    /// A frame the bytes end inside: where it would end, `nil` if its header is cut.
    case cut(end: Int?)
    /// A damaged frame: where it ends if its header is intact, and what is wrong.
    case damaged(end: Int?, String)

    /// What a frame cut short at the end of a file is.
    static func cutDetail(_ end: Int?) -> String {
      end == nil ? "the file ends inside a record's header" : "the file ends inside a record"
    }
  }

  /// Checks the frame that starts at `offset` of `bytes` (`offset < bytes.count`).
  static func frame(in bytes: UnsafeRawBufferPointer, at offset: Int) -> FrameAt {
    guard bytes.count - offset >= 8 else { return .cut(end: nil) }
    let length = Int(loadUInt32(bytes, at: offset))
    let lengthCRC = loadUInt32(bytes, at: offset + 4)
    guard lengthCRC == cumk_crc32c(0, bytes.baseAddress.map { $0 + offset }, 4) else {
      return .damaged(end: nil, "a record's length checksum does not match")
    }
    guard length > 0, length <= maximumPayload else {
      return .damaged(end: nil, "a record has an impossible length")
    }
    let end = offset + 8 + length + 4
    guard end <= bytes.count else { return .cut(end: end) }
    let payload = UnsafeRawBufferPointer(rebasing: bytes[(offset + 8)..<(offset + 8 + length)])
    guard loadUInt32(bytes, at: offset + 8 + length) == cumk_crc32c(0, payload.baseAddress, length)
    else {
      return .damaged(end: end, "a record's checksum does not match")
    }
    return .whole(payload, end: end)
  }
}

extension UserManagementError {
  /// A store file whose bytes are not what this library wrote.
  static func corruptStore(file: String, offset: Int, _ detail: String) -> UserManagementError {
    UserManagementError(
      .corruptStore,
      "The store file \(file) is damaged at byte \(offset): \(detail). Restore it from a "
        + "backup; the store does not guess at damaged data.",
      context: ["file": file, "offset": String(offset)])
  }
}

extension Array where Element == UInt8 {
  /// `withUnsafeBytes` for a closure with a typed error (the standard library's rethrows
  /// erases the type).
  func withBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
    let result = withUnsafeBytes { raw in Result { () throws(E) -> R in try body(raw) } }
    return try result.get()
  }

  /// `withUnsafeMutableBytes` for a closure with a typed error.
  mutating func withMutableBytes<R, E: Error>(
    _ body: (UnsafeMutableRawBufferPointer) throws(E) -> R
  ) throws(E) -> R {
    let result = withUnsafeMutableBytes { raw in Result { () throws(E) -> R in try body(raw) } }
    return try result.get()
  }
}
