import Dispatch

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// Reading and writing whole store files: snapshots, audit segments and the log's header.
/// Format: `Documentation/StoreFormat.md`.
struct StoreFiles {
  let fileSystem: any StoreFileSystem
  let directory: String
  /// The size of the zero-filled chunks logs are preallocated in.
  var logChunkSize = 1 << 20
  /// How much of a snapshot is read at once (more if one frame is larger).
  var snapshotReadSize = 4 << 20

  func path(_ name: String) -> String { directory + "/" + name }

  // MARK: Snapshot

  /// What a snapshot says besides the directory's state.
  struct Manifest: Equatable {
    var generation: UInt64
    /// The sequence number of the last commit the snapshot includes.
    var sequence: UInt64
    /// Sealed audit segments, oldest first: number and event count.
    var auditSegments: [(number: UInt64, events: UInt64)]
    var nextAuditSegment: UInt64

    static func == (lhs: Manifest, rhs: Manifest) -> Bool {
      lhs.generation == rhs.generation && lhs.sequence == rhs.sequence
        && lhs.nextAuditSegment == rhs.nextAuditSegment
        && lhs.auditSegments.elementsEqual(rhs.auditSegments) { $0 == $1 }
    }
  }

  /// The bytes of a snapshot of `state` (its users, policies and throttles; not its audit
  /// events, which live in segments).
  static func encodeSnapshot(_ state: DirectoryState, manifest: Manifest) -> [UInt8] {
    var bytes = StoreFormat.fileHeader(.snapshot)
    bytes.reserveCapacity(state.byID.count * 200 + 4096)
    StoreFormat.appendFrame(to: &bytes) { writer in
      writer.byte(StoreFormat.Tag.header.rawValue)
      writer.varint(manifest.generation)
      writer.varint(manifest.sequence)
      writer.varint(manifest.nextAuditSegment)
      writer.varint(UInt64(manifest.auditSegments.count))
      for segment in manifest.auditSegments {
        writer.varint(segment.number)
        writer.varint(segment.events)
      }
      writer.varint(UInt64(state.byID.count))
    }
    // Users in username order, so loading appends to the ordered index without searching,
    // in frames of about 64 KiB.
    var chunk: [DirectoryEntry] = []
    func flush() {
      guard !chunk.isEmpty else { return }
      StoreFormat.appendFrame(to: &bytes) { writer in
        writer.byte(StoreFormat.Tag.users.rawValue)
        writer.varint(UInt64(chunk.count))
        for entry in chunk { entry.record.encode(into: &writer) }
      }
      chunk.removeAll(keepingCapacity: true)
    }
    state.ordered.forEachAscending(after: nil) { entry in
      chunk.append(entry)
      if chunk.count == OrderedEntries.maximumChunk { flush() }
      return true
    }
    flush()
    let policies = state.sortedPolicies()
    StoreFormat.appendFrame(to: &bytes) { writer in
      writer.byte(StoreFormat.Tag.policies.rawValue)
      writer.varint(UInt64(policies.count))
      for policy in policies { writer.policy(policy) }
    }
    StoreFormat.appendFrame(to: &bytes) { writer in
      writer.byte(StoreFormat.Tag.throttles.rawValue)
      writer.varint(UInt64(state.throttles.count))
      for (key, value) in state.throttles { writer.throttle(key, value) }
    }
    StoreFormat.appendFrame(to: &bytes) { writer in
      writer.byte(StoreFormat.Tag.end.rawValue)
      writer.varint(UInt64(state.byID.count))
      writer.varint(UInt64(policies.count))
      writer.varint(UInt64(state.throttles.count))
    }
    return bytes
  }

  /// A snapshot read and checked, its users decoded but not indexed yet (so that opening
  /// can index them together with the log's, once).
  struct Snapshot {
    /// Its policies and throttle counters; no users.
    var state: DirectoryState
    var manifest: Manifest
    /// Its users, frame by frame, in ascending username order if the file is sound (each
    /// frame ready to be a chunk of the ordered index).
    var users: [[OrderedEntries.Element]]
    /// The file offset of each frame of `users`.
    var userFrameOffsets: [Int]
    /// The file's size.
    var bytes: Int
    var version: UInt16
    /// The users replaced by the log's later versions of them, if the snapshot was read
    /// replacing them (``readSnapshot(_:replacing:)``).
    var replacements = Replacements()
  }

  /// Reads and checks a whole snapshot, and decodes its users (see ``Snapshot``).
  ///
  /// The file is read a piece at a time (``snapshotReadSize``) into one buffer, and each
  /// piece's whole frames are checked and decoded before the next is read. The snapshot is
  /// never in memory whole: opening a large store needs no more memory than its state, and
  /// reads into memory already touched, which a virtual machine may otherwise have to back
  /// page by page.
  ///
  /// - Parameters:
  ///   - generation: The snapshot's generation.
  ///   - log: The log's users: each snapshot user the log holds is replaced, as soon as it is
  ///     decoded, by the log's last version of it (see ``Snapshot/replacements``), which
  ///     then stands where the snapshot's stood in ``Snapshot/users``.
  /// - Returns: The snapshot.
  /// - Throws: ``UserManagementError/Code/corruptStore`` where the file is damaged,
  ///   ``UserManagementError/Code/unsupportedStoreFormat`` for a newer format, or
  ///   ``UserManagementError/Code/storageFailure`` if it cannot be read.
  func readSnapshot(_ generation: UInt64, replacing log: LogUsers? = nil)
    throws(UserManagementError) -> Snapshot
  {
    let name = StoreFormat.snapshotName(generation)
    // Read, not mapped: a mapping turns a media error or a file truncated behind our back into
    // SIGBUS, where reading gives a typed error.
    let file: any StoreFile
    do {
      file = try fileSystem.open(path(name), create: false, truncate: false)
    } catch {
      throw .storage(error)
    }
    defer { file.close() }
    let fileSize: Int
    do {
      fileSize = try file.size()
    } catch {
      throw .storage(error)
    }
    var reader = PieceReader(file, size: max(StoreFormat.fileHeaderSize, snapshotReadSize))
    try reader.advance(past: 0)
    let version = try StoreFormat.checkHeader(reader.bytes, kind: .snapshot, file: name)
    var state = DirectoryState()
    var manifest: Manifest?
    var ended = false
    var counts = (users: 0, policies: 0, throttles: 0)
    var expectedUsers = 0
    var users: [[OrderedEntries.Element]] = []
    var userFrameOffsets: [Int] = []
    var replacements = Replacements()
    var position = StoreFormat.fileHeaderSize
    while true {
      var userFrames: [UserFrame] = []
      let pieceOffset = reader.start
      let stop = try StoreFormat.scanWholeFrames(
        reader.bytes, from: position, file: name, fileOffset: pieceOffset, more: !reader.atEnd
      ) { payload, offset throws(UserManagementError) in
        var reader = ByteReader(payload)
        // Made only if thrown: made for every frame, it cost more than the frame's reading.
        func bad() -> UserManagementError {
          .corruptStore(
            file: name, offset: pieceOffset + offset, "a record does not decode")
        }
        guard !ended, let tag = reader.byte().flatMap(StoreFormat.Tag.init(rawValue:)) else {
          throw bad()
        }
        if manifest == nil && tag != .header { throw bad() }
        switch tag {
        case .header:
          guard manifest == nil,
            let (read, users) = Self.decodeHeader(&reader, payload: payload, fileSize: fileSize)
          else { throw bad() }
          expectedUsers = users
          manifest = read
        case .users:
          guard let count = reader.varint(), count <= UInt64(payload.count) else { throw bad() }
          // Decoded below, the piece's frames together.
          let start = offset + 8
          userFrames.append(
            UserFrame(
              offset: pieceOffset + offset, payload: start..<start + payload.count,
              count: Int(count)))
          counts.users += Int(count)
        case .policies:
          guard let count = reader.varint(), count <= UInt64(payload.count) else { throw bad() }
          for _ in 0..<count {
            guard let policy = reader.policy() else { throw bad() }
            state.load(policy: policy, id: policy.id)
          }
          counts.policies += Int(count)
          guard reader.isAtEnd else { throw bad() }
        case .throttles:
          guard let count = reader.varint(), count <= UInt64(payload.count) else { throw bad() }
          for _ in 0..<count {
            guard let (key, value) = reader.throttle() else { throw bad() }
            state.setThrottle(key, value)
          }
          counts.throttles += Int(count)
          guard reader.isAtEnd else { throw bad() }
        case .end:
          guard let users = reader.varint(), let policies = reader.varint(),
            let throttles = reader.varint(), reader.isAtEnd, users == UInt64(counts.users),
            policies == UInt64(counts.policies), throttles == UInt64(counts.throttles),
            counts.users == expectedUsers
          else { throw bad() }
          ended = true
        case .commit, .auditEvents:
          throw bad()
        }
      }
      if !userFrames.isEmpty {
        if users.isEmpty { users.reserveCapacity(expectedUsers / OrderedEntries.maximumChunk + 1) }
        // Two threads for a large snapshot, each piece's frames shared between them.
        let workers = expectedUsers >= 20_000 ? min(2, Platform.activeProcessorCount) : 1
        users += try Self.decodeUsers(
          reader.bytes, userFrames, workers: workers, file: name, replacing: log,
          replacements: &replacements)
        userFrameOffsets += userFrames.map(\.offset)
      }
      if reader.atEnd { break }
      try reader.advance(past: stop)
      position = 0
    }
    let size = reader.start + reader.count
    guard ended, let manifest, manifest.generation == generation else {
      throw .corruptStore(file: name, offset: size, "the snapshot is incomplete")
    }
    return Snapshot(
      state: state, manifest: manifest, users: users, userFrameOffsets: userFrameOffsets,
      bytes: size, version: version, replacements: replacements)
  }

  /// The manifest of a snapshot, read from its header frame alone, or `nil` if that frame
  /// cannot be read or is not sound (``readSnapshot(_:replacing:)`` says why).
  func readManifest(_ generation: UInt64) -> Manifest? {
    guard
      let file = try? fileSystem.open(
        path(StoreFormat.snapshotName(generation)), create: false, truncate: false)
    else { return nil }
    defer { file.close() }
    guard let fileSize = try? file.size() else { return nil }
    // The header frame is small: a few numbers, and two for each sealed audit segment. (The
    // buffer doubles while the frame does not fit.)
    var reader = PieceReader(file, size: 64 << 10)
    guard (try? reader.advance(past: 0)) != nil,
      (try? StoreFormat.checkHeader(reader.bytes, kind: .snapshot, file: "")) != nil
    else { return nil }
    while true {
      switch StoreFormat.frame(in: reader.bytes, at: StoreFormat.fileHeaderSize) {
      case .whole(let payload, _):
        var frame = ByteReader(payload)
        guard frame.byte() == StoreFormat.Tag.header.rawValue,
          let (manifest, _) = Self.decodeHeader(&frame, payload: payload, fileSize: fileSize),
          manifest.generation == generation
        else { return nil }
        return manifest
      case .cut where !reader.atEnd:
        guard (try? reader.advance(past: 0)) != nil else { return nil }
      case .cut, .damaged:
        return nil
      }
    }
  }

  /// Decodes a snapshot's header frame after its tag: the manifest, and how many users the
  /// snapshot holds.
  private static func decodeHeader(
    _ reader: inout ByteReader, payload: UnsafeRawBufferPointer, fileSize: Int
  ) -> (Manifest, users: Int)? {
    guard let generation = reader.varint(), let sequence = reader.varint(),
      let next = reader.varint(), let segmentCount = reader.varint(),
      segmentCount <= UInt64(payload.count)
    else { return nil }
    var segments: [(UInt64, UInt64)] = []
    for _ in 0..<segmentCount {
      guard let number = reader.varint(), let events = reader.varint() else { return nil }
      segments.append((number, events))
    }
    guard let users = reader.varint(), users <= UInt64(fileSize), reader.isAtEnd else {
      return nil
    }
    let manifest = Manifest(
      generation: generation, sequence: sequence, auditSegments: segments,
      nextAuditSegment: next)
    return (manifest, Int(users))
  }

  /// A file read from its start a piece at a time, into one buffer that is reused.
  struct PieceReader: ~Copyable {
    let file: any StoreFile
    /// Holds the file's bytes from `start`, `count` of them.
    private var buffer: UnsafeMutableRawBufferPointer
    /// The file offset of the buffer's first byte.
    private(set) var start = 0
    /// How many bytes of the buffer hold the file's.
    private(set) var count = 0
    /// Whether the buffer holds the file's last byte.
    private(set) var atEnd = false

    init(_ file: any StoreFile, size: Int) {
      self.file = file
      buffer = .allocate(byteCount: max(1, size), alignment: 64)
    }

    deinit { buffer.deallocate() }

    /// The file's bytes in the buffer, from ``start``.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: buffer[0..<count]) }

    /// Drops the first `consumed` bytes, keeps the rest and reads after them until the buffer
    /// is full or the file ends. If nothing is dropped from a full buffer (one frame fills
    /// it), the buffer doubles first.
    mutating func advance(past consumed: Int) throws(UserManagementError) {
      let kept = count - consumed
      if consumed > 0 && kept > 0 {
        // `copyMemory` moves: the ranges may overlap.
        UnsafeMutableRawBufferPointer(rebasing: buffer[0..<kept])
          .copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[consumed..<count]))
      }
      start += consumed
      count = kept
      if count == buffer.count {
        let larger = UnsafeMutableRawBufferPointer.allocate(
          byteCount: buffer.count * 2, alignment: 64)
        UnsafeMutableRawBufferPointer(rebasing: larger[0..<count])
          .copyMemory(from: UnsafeRawBufferPointer(buffer))
        buffer.deallocate()
        buffer = larger
      }
      while count < buffer.count && !atEnd {
        let read: Int
        do {
          read = try file.read(
            into: UnsafeMutableRawBufferPointer(rebasing: buffer[count...]), at: start + count)
        } catch {
          throw .storage(error)
        }
        if read == 0 { atEnd = true }
        count += read
      }
    }
  }

  /// A frame of users in a snapshot: where it is, and how many users it holds.
  struct UserFrame {
    /// The frame's file offset.
    var offset: Int
    /// Where its payload is in the bytes read.
    var payload: Range<Int>
    var count: Int
  }

  /// Decodes the users of `frames`, their payloads in `raw`, on `workers` threads, each user
  /// the log holds replaced by the log's last version of it (noted in `replacements`).
  ///
  /// - Returns: For each frame, its users in order.
  static func decodeUsers(
    _ raw: UnsafeRawBufferPointer, _ frames: [UserFrame], workers: Int, file: String,
    replacing log: LogUsers? = nil, replacements: inout Replacements
  ) throws(UserManagementError) -> [[OrderedEntries.Element]] {
    let results = Locked([[OrderedEntries.Element]?](repeating: nil, count: frames.count))
    let failure = Locked<Int?>(nil)
    let replaced = Locked(Replacements())
    // The buffer outlives this call (`concurrentPerform` returns when every worker is done);
    // workers read disjoint frames of it.
    let base = UInt(bitPattern: raw.baseAddress)
    let length = raw.count
    let decode: @Sendable (Int) -> Void = { worker in
      let bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: base), count: length)
      var index = worker
      var policySets = PolicySetCache()
      // A decoded user (its entry and strings) takes about 2.5 times its encoding; more
      // would leave prepared memory unused, whose block headers count in the peak RSS.
      var encoded = 0
      for frame in stride(from: worker, to: frames.count, by: workers) {
        encoded += frames[frame].payload.count
      }
      var mine = Replacements()
      defer { replaced.withLock { $0.add(mine) } }
      // Looked up for every user: the table itself, not the whole of `log`.
      let updated = log?.updated
      Platform.withPreparedAllocations(bytes: encoded * 5 / 2) {
        while index < frames.count {
          let frame = frames[index]
          var reader = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[frame.payload]))
          _ = reader.byte()
          _ = reader.varint()
          var entries: [OrderedEntries.Element] = []
          entries.reserveCapacity(frame.count)
          for _ in 0..<frame.count {
            // The record moves into its entry without being copied.
            let entry = UserRecord.decode(&reader, policySets: &policySets) {
              DirectoryEntry($0)
            }
            guard let entry else { break }
            if let updated, let newer = updated[entry.record.id] {
              // The snapshot's version goes as soon as it is decoded: the log's stands in
              // its place (the same username, if the files agree).
              mine.note(entry, replacedBy: newer, allowed: LogUsers.mayReplace(entry, with: newer))
              entries.append(OrderedEntries.Element(newer))
            } else {
              entries.append(OrderedEntries.Element(entry))
            }
          }
          if entries.count != frame.count || !reader.isAtEnd {
            failure.withLock { $0 = min($0 ?? index, index) }
            return
          }
          results.withLock { $0[index] = entries }
          index += workers
        }
      }
    }
    if workers == 1 {
      decode(0)
    } else {
      DispatchQueue.concurrentPerform(iterations: workers, execute: decode)
    }
    if let bad = failure.withLock({ $0 }) {
      throw .corruptStore(file: file, offset: frames[bad].offset, "a record does not decode")
    }
    replacements.add(replaced.withLock { $0 })
    return results.withLock { $0.map { $0 ?? [] } }
  }

  // MARK: Audit segments

  static func encodeAuditSegment(_ log: CompactAuditLog, number: UInt64) -> [UInt8] {
    var bytes = StoreFormat.fileHeader(.auditSegment)
    StoreFormat.appendFrame(to: &bytes) { writer in
      writer.byte(StoreFormat.Tag.header.rawValue)
      writer.varint(number)
      writer.varint(UInt64(log.count))
    }
    var index = 0
    while index < log.count {
      let end = min(log.count, index + 512)
      StoreFormat.appendFrame(to: &bytes) { writer in
        writer.byte(StoreFormat.Tag.auditEvents.rawValue)
        writer.varint(UInt64(end - index))
        for position in index..<end {
          log.event(at: position)?.encode(into: &writer)
        }
      }
      index = end
    }
    StoreFormat.appendFrame(to: &bytes) { writer in
      writer.byte(StoreFormat.Tag.end.rawValue)
      writer.varint(UInt64(log.count))
    }
    return bytes
  }

  /// Appends the events of a sealed segment to `log`.
  func readAuditSegment(_ number: UInt64, events expected: UInt64, into log: inout CompactAuditLog)
    throws(UserManagementError)
  {
    let name = StoreFormat.auditName(number)
    let bytes = try readWholeFile(name)
    try bytes.withBytes { raw throws(UserManagementError) in
      try StoreFormat.checkHeader(raw, kind: .auditSegment, file: name)
      var sawHeader = false
      var ended = false
      var count: UInt64 = 0
      _ = try StoreFormat.scanFrames(
        raw, from: StoreFormat.fileHeaderSize, file: name, allowTornTail: false
      ) { payload, offset throws(UserManagementError) in
        var reader = ByteReader(payload)
        func bad() -> UserManagementError {
          .corruptStore(
            file: name, offset: offset, "a record does not decode")
        }
        guard !ended, let tag = reader.byte() else { throw bad() }
        switch StoreFormat.Tag(rawValue: tag) {
        case .header where !sawHeader:
          guard reader.varint() == number, reader.varint() == expected, reader.isAtEnd else {
            throw bad()
          }
          sawHeader = true
        case .auditEvents where sawHeader:
          guard let events = reader.varint(), events <= UInt64(payload.count) else { throw bad() }
          for _ in 0..<events {
            guard let event = AuditEvent(decoding: &reader) else { throw bad() }
            log.append(event)
          }
          guard reader.isAtEnd else { throw bad() }
          count += events
        case .end where sawHeader:
          guard reader.varint() == count, count == expected, reader.isAtEnd else { throw bad() }
          ended = true
        default:
          throw bad()
        }
      }
      guard ended else {
        throw .corruptStore(file: name, offset: raw.count, "the audit segment is incomplete")
      }
    }
  }

  // MARK: Log

  static func encodeLogHeader(generation: UInt64, baseSequence: UInt64) -> [UInt8] {
    var bytes = StoreFormat.fileHeader(.log)
    StoreFormat.appendFrame(to: &bytes) { writer in
      writer.byte(StoreFormat.Tag.header.rawValue)
      writer.varint(generation)
      writer.varint(baseSequence)
    }
    return bytes
  }

  /// A new log: its header and `H` frame, then zeros up to the first multiple of `chunkSize`
  /// (the preallocated space commits are written over).
  static func encodeNewLog(generation: UInt64, baseSequence: UInt64, chunkSize: Int) -> [UInt8] {
    var bytes = encodeLogHeader(generation: generation, baseSequence: baseSequence)
    // An array of zeros, not `repeatElement`: appending a `Repeated` goes element by element,
    // which an unoptimized build (tests, ThreadSanitizer) takes seconds over for 1 MiB.
    bytes += [UInt8](
      repeating: 0, count: StoreFormat.roundUp(bytes.count, to: chunkSize) - bytes.count)
    return bytes
  }

  // MARK: Whole files

  func readWholeFile(_ name: String) throws(UserManagementError) -> [UInt8] {
    do {
      let file = try fileSystem.open(path(name), create: false, truncate: false)
      defer { file.close() }
      return try readAll(file)
    } catch {
      throw .storage(error)
    }
  }

  func readAll(_ file: any StoreFile, from offset: Int = 0) throws(StoreIOError) -> [UInt8] {
    let size = try file.size()
    guard size > offset else { return [] }
    return try file.readUninitialized(count: size - offset, at: offset)
  }

  /// Writes a file atomically: to `name.tmp`, synced, then renamed over `name`. The caller
  /// syncs the directory. The temporary is always a new file (`O_EXCL`, mode 0600): a stale
  /// one left by a crash is removed first, never written through.
  func writeAtomically(_ name: String, _ bytes: [UInt8]) throws(StoreIOError) {
    let temporary = path(name + ".tmp")
    try fileSystem.remove(temporary)
    let file = try fileSystem.createExclusively(temporary)
    defer { file.close() }
    try bytes.withBytes { raw throws(StoreIOError) in try file.writeAll(raw, at: 0) }
    try file.sync()
    try fileSystem.rename(temporary, to: path(name))
  }
}

extension UserManagementError {
  /// A failed file-system call, as the store reports it.
  static func storage(_ error: StoreIOError) -> UserManagementError {
    if let insecurity = error.insecurity {
      return UserManagementError(
        .insecureStore, "The store refuses \(error.path): it \(insecurity).",
        context: ["file": error.path, "reason": insecurity])
    }
    let reason = Platform.errorDescription(error.code)
    return UserManagementError(
      .storageFailure,
      "The store could not \(error.operation) \(error.path): \(reason).",
      context: ["file": error.path, "operation": error.operation, "errno": String(error.code)])
  }
}
