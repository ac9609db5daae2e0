import CUMKSystem

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A failed file-system call: what was attempted, on which file, and the `errno`.
package struct StoreIOError: Error, Hashable, Sendable {
  /// The call, such as `write` or `fsync`.
  package var operation: String
  /// The file or directory.
  package var path: String
  /// The `errno` value.
  package var code: Int32
  /// Why the store refuses to trust the file or directory (a symbolic link, another owner,
  /// permissions for others), when that is the failure; `nil` for a failed call.
  package var insecurity: String?

  package init(_ operation: String, _ path: String, _ code: Int32) {
    self.operation = operation
    self.path = path
    self.code = code
  }

  /// A file or directory the store refuses to trust.
  package init(insecure path: String, _ why: String) {
    self.init("check", path, EPERM)
    insecurity = why
  }
}

/// The file-system calls the file store makes, so that tests can record their order, inject
/// faults and simulate crashes (see `SimulatedDisk` in the tests). ``PosixFileSystem`` is
/// the real one.
package protocol StoreFileSystem: Sendable {
  /// Creates a directory with mode 0700, or accepts an existing one only if it is a real
  /// directory (not a symbolic link), owned by this process's user, with no permissions for
  /// group or others; anything else fails with ``StoreIOError/insecurity`` set.
  func createDirectory(_ path: String) throws(StoreIOError)
  /// The names in a directory (without `.` and `..`).
  func contentsOfDirectory(_ path: String) throws(StoreIOError) -> [String]
  /// Opens a file, never through a symbolic link; with `create`, creates it with mode 0600 if
  /// missing; with `truncate`, empties it. An existing file owned by this user with
  /// permissions for others is set to 0600; one owned by another user is refused.
  func open(_ path: String, create: Bool, truncate: Bool) throws(StoreIOError) -> any StoreFile
  /// Creates a new file with mode 0600, failing if anything already has the name (`O_EXCL`).
  func createExclusively(_ path: String) throws(StoreIOError) -> any StoreFile
  /// Atomically replaces `destination` with `source`.
  func rename(_ source: String, to destination: String) throws(StoreIOError)
  /// Removes a file.
  func remove(_ path: String) throws(StoreIOError)
  /// Makes the directory's entries (creations, renames, removals) durable.
  func syncDirectory(_ path: String) throws(StoreIOError)
  /// Whether a file exists at `path`.
  func fileExists(_ path: String) -> Bool
  /// An identity of the file at `path` (device and inode), `nil` if there is none.
  func fileIdentity(_ path: String) -> UInt64?
}

/// An open file of a ``StoreFileSystem``.
package protocol StoreFile: AnyObject, Sendable {
  /// The path the file was opened with.
  var path: String { get }
  /// The current size in bytes.
  func size() throws(StoreIOError) -> Int
  /// The current size, and whether the file still has a name (another process may have
  /// removed it), in one call.
  func status() throws(StoreIOError) -> (size: Int, isLinked: Bool)
  /// The file's identity, comparable with ``StoreFileSystem/fileIdentity(_:)``.
  func identity() throws(StoreIOError) -> UInt64
  /// Reads up to `buffer.count` bytes at `offset`; returns how many were read (0 at the end).
  func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(StoreIOError)
    -> Int
  /// Writes up to `bytes.count` bytes at `offset`; returns how many were written, which may be
  /// fewer (a short write), never zero without an error.
  func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(StoreIOError) -> Int
  /// Makes the file's data (and the size) durable: `fdatasync`, or `F_FULLFSYNC` on Darwin.
  func sync() throws(StoreIOError)
  /// Writes all of `bytes` at `offset` and makes them durable: what ``writeAll(_:at:)`` then
  /// ``sync()`` do (the default), or the same in fewer steps where the platform allows.
  ///
  /// For the log's commits, whose layout allows more than a plain write: the file holds only
  /// zeros from `offset` to its end, and nothing before `offset` changes while this runs (the
  /// store's lock is held). `fileSize` is the file's size, which the write must not change.
  func writeDurably(_ bytes: UnsafeRawBufferPointer, at offset: Int, fileSize: Int)
    throws(StoreIOError)
  /// Sets the size.
  func truncate(to size: Int) throws(StoreIOError)
  /// Takes an advisory lock on the whole file, waiting for it (`flock`).
  func lock(exclusive: Bool) throws(StoreIOError)
  /// Releases the advisory lock.
  func unlock()
  /// A 64-bit counter shared by every process that maps this file (the first 8 bytes,
  /// `mmap` with `MAP_SHARED`).
  func sharedCounter() throws(StoreIOError) -> any SharedCounter
  /// Closes the file (idempotent).
  func close()
}

/// A counter in memory shared between processes.
package protocol SharedCounter: AnyObject, Sendable {
  /// The current value (acquire).
  func load() -> UInt64
  /// Sets the value (release).
  func store(_ value: UInt64)
}

extension StoreFile {
  package func writeDurably(_ bytes: UnsafeRawBufferPointer, at offset: Int, fileSize: Int)
    throws(StoreIOError)
  {
    try writeAll(bytes, at: offset)
    try sync()
  }

  /// Writes all of `bytes` at `offset`, continuing after short writes.
  func writeAll(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(StoreIOError) {
    var done = 0
    while done < bytes.count {
      let written = try write(UnsafeRawBufferPointer(rebasing: bytes[done...]), at: offset + done)
      guard written > 0 else { throw StoreIOError("write", path, EIO) }
      done += written
    }
  }

  /// Reads `count` bytes at `offset` (fewer only at the end of the file) into an array that
  /// is not zeroed first: for whole files, whose bytes are all overwritten by the read.
  func readUninitialized(count: Int, at offset: Int) throws(StoreIOError) -> [UInt8] {
    var failure: StoreIOError?
    let result = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
      Platform.preferHugePages(UnsafeMutableRawBufferPointer(buffer))
      var done = 0
      while done < count {
        let read: Int
        do throws(StoreIOError) {
          read = try self.read(
            into: UnsafeMutableRawBufferPointer(
              start: buffer.baseAddress.map { $0 + done }, count: count - done),
            at: offset + done)
        } catch {
          failure = error
          break
        }
        if read == 0 { break }
        done += read
      }
      // Only what was read counts as initialized (bytes are trivial: nothing to clean up).
      initialized = done
    }
    if let failure { throw failure }
    return result
  }

  /// Reads `count` bytes at `offset` (fewer only at the end of the file).
  func read(count: Int, at offset: Int) throws(StoreIOError) -> [UInt8] {
    var result = [UInt8](repeating: 0, count: count)
    var done = 0
    while done < count {
      let read = try result.withMutableBytes { buffer throws(StoreIOError) in
        try self.read(
          into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]), at: offset + done)
      }
      if read == 0 { break }
      done += read
    }
    if done < count { result.removeSubrange(done...) }
    return result
  }
}

/// The real file system, through POSIX calls.
package struct PosixFileSystem: StoreFileSystem {
  /// How many commits this process wrote to a log with a direct write (for tests that check
  /// the direct path is the one taken).
  package static let directWrites = Locked(0)

  package init() {}

  package func createDirectory(_ path: String) throws(StoreIOError) {
    if mkdir(path, 0o700) != 0 {
      let code = errno
      guard code == EEXIST else { throw StoreIOError("mkdir", path, code) }
    }
    // Whether new or not, the directory is checked through a descriptor opened without
    // following a symbolic link, so what is checked is what the name refers to now.
    let descriptor = systemOpen(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
    guard descriptor >= 0 else {
      let code = errno
      if code == ELOOP || code == ENOTDIR {
        throw StoreIOError(insecure: path, "is a symbolic link or not a directory")
      }
      throw StoreIOError("open", path, code)
    }
    defer { _ = systemClose(descriptor) }
    var info = stat()
    guard fstat(descriptor, &info) == 0 else { throw StoreIOError("fstat", path, errno) }
    guard info.st_uid == geteuid() else {
      throw StoreIOError(insecure: path, "is owned by another user (uid \(info.st_uid))")
    }
    let permissions = Int(info.st_mode) & 0o777
    guard permissions & 0o077 == 0 else {
      throw StoreIOError(
        insecure: path,
        "gives group or others access (mode \(String(permissions, radix: 8))); "
          + "run `chmod 700 \(path)`")
    }
  }

  package func contentsOfDirectory(_ path: String) throws(StoreIOError) -> [String] {
    guard let directory = opendir(path) else { throw StoreIOError("opendir", path, errno) }
    defer { closedir(directory) }
    var names: [String] = []
    while true {
      errno = 0
      guard let entry = readdir(directory) else {
        // readdir returns nil at the end and on an error; only errno tells them apart.
        if errno != 0 { throw StoreIOError("readdir", path, errno) }
        break
      }
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      if name != "." && name != ".." { names.append(name) }
    }
    return names
  }

  package func open(_ path: String, create: Bool, truncate: Bool) throws(StoreIOError)
    -> any StoreFile
  {
    var flags = O_RDWR | O_CLOEXEC | O_NOFOLLOW
    if create { flags |= O_CREAT }
    if truncate { flags |= O_TRUNC }
    let descriptor = systemOpen(path, flags, 0o600)
    guard descriptor >= 0 else { throw StoreIOError("open", path, errno) }
    let file = PosixFile(descriptor: descriptor, path: path)
    try file.restrictToOwner()
    return file
  }

  package func createExclusively(_ path: String) throws(StoreIOError) -> any StoreFile {
    let descriptor = systemOpen(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_CREAT | O_EXCL, 0o600)
    guard descriptor >= 0 else { throw StoreIOError("open", path, errno) }
    let file = PosixFile(descriptor: descriptor, path: path)
    // The process's umask may have cleared bits of 0600, never added any; this is a no-op
    // unless something else is wrong.
    try file.restrictToOwner()
    return file
  }

  package func rename(_ source: String, to destination: String) throws(StoreIOError) {
    guard systemRename(source, destination) == 0 else {
      throw StoreIOError("rename", source, errno)
    }
  }

  package func remove(_ path: String) throws(StoreIOError) {
    guard unlink(path) == 0 || errno == ENOENT else { throw StoreIOError("unlink", path, errno) }
  }

  package func fileExists(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0
  }

  package func fileIdentity(_ path: String) -> UInt64? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return UInt64(truncatingIfNeeded: info.st_ino) ^ UInt64(truncatingIfNeeded: info.st_dev) << 48
  }

  package func syncDirectory(_ path: String) throws(StoreIOError) {
    let descriptor = systemOpen(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)
    guard descriptor >= 0 else { throw StoreIOError("open", path, errno) }
    defer { _ = systemClose(descriptor) }
    guard fsync(descriptor) == 0 else { throw StoreIOError("fsync", path, errno) }
  }
}

/// `open(2)` under a name that does not collide with ``PosixFileSystem/open(_:create:truncate:)``.
private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 {
  open(path, flags, mode)
}

private func systemRename(_ source: String, _ destination: String) -> Int32 {
  rename(source, destination)
}

private func systemClose(_ descriptor: Int32) -> Int32 {
  close(descriptor)
}

/// An open file descriptor.
///
/// `@unchecked Sendable` is sound because the descriptor is an integer the kernel owns and its
/// calls are thread-safe; the one mutable field, `descriptor`, is written only by `close`,
/// which the store calls once, after every other use of the file has ended (its owner
/// serializes them).
private final class PosixFile: StoreFile, @unchecked Sendable {
  private var descriptor: Int32
  let path: String
  /// Direct writes of the log's commits (see ``writeDurably(_:at:fileSize:)``).
  private let direct = Locked(DirectWrites())

  init(descriptor: Int32, path: String) {
    self.descriptor = descriptor
    self.path = path
  }

  deinit { close() }

  /// Refuses a file of another user, and takes group and other permissions off one of ours
  /// (a stale file from an older version or a copy made with a wide umask).
  func restrictToOwner() throws(StoreIOError) {
    var info = stat()
    guard fstat(descriptor, &info) == 0 else { throw StoreIOError("fstat", path, errno) }
    guard info.st_uid == geteuid() else {
      throw StoreIOError(insecure: path, "is owned by another user (uid \(info.st_uid))")
    }
    // A hard link planted while the directory was open to others would let the store write
    // through it to a file elsewhere: only a regular file with one name is ours (or none: a
    // file another process removed just after this one opened it).
    guard (info.st_mode & S_IFMT) == S_IFREG, info.st_nlink <= 1 else {
      throw StoreIOError(insecure: path, "is not a regular file with a single link")
    }
    if Int(info.st_mode) & 0o077 != 0 {
      guard fchmod(descriptor, 0o600) == 0 else { throw StoreIOError("fchmod", path, errno) }
    }
  }

  // Size and links never ask for the timestamps (see `cumk_size_and_links`): catching up
  // checks the log this way, and a stat with timestamps would slow the next commit's sync.
  func size() throws(StoreIOError) -> Int {
    Int(try sizeAndLinks().size)
  }

  func status() throws(StoreIOError) -> (size: Int, isLinked: Bool) {
    let (size, links) = try sizeAndLinks()
    return (Int(size), links > 0)
  }

  private func sizeAndLinks() throws(StoreIOError) -> (size: Int64, links: UInt64) {
    var size: Int64 = 0
    var links: UInt64 = 0
    guard cumk_size_and_links(descriptor, &size, &links) == 0 else {
      throw StoreIOError("statx", path, errno)
    }
    return (size, links)
  }

  func identity() throws(StoreIOError) -> UInt64 {
    var info = stat()
    guard fstat(descriptor, &info) == 0 else { throw StoreIOError("fstat", path, errno) }
    return UInt64(truncatingIfNeeded: info.st_ino) ^ UInt64(truncatingIfNeeded: info.st_dev) << 48
  }

  func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(StoreIOError)
    -> Int
  {
    while true {
      let result = pread(descriptor, buffer.baseAddress, buffer.count, off_t(offset))
      if result >= 0 { return result }
      if errno != EINTR { throw StoreIOError("pread", path, errno) }
    }
  }

  func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(StoreIOError) -> Int {
    // The copy of the last block kept for direct writes may no longer match the file.
    direct.withLock { $0.forgetTail() }
    while true {
      let result = pwrite(descriptor, bytes.baseAddress, bytes.count, off_t(offset))
      if result > 0 || (result == 0 && bytes.isEmpty) { return result }
      if result == 0 { throw StoreIOError("pwrite", path, EIO) }
      if errno != EINTR { throw StoreIOError("pwrite", path, errno) }
    }
  }

  func sync() throws(StoreIOError) {
    #if canImport(Darwin)
      // fsync on Darwin leaves data in the drive's cache; F_FULLFSYNC flushes it.
      if fcntl(descriptor, F_FULLFSYNC) == 0 { return }
      // Fall back to fsync only where F_FULLFSYNC is not supported, never after an I/O error.
      let code = errno
      guard code == ENOTSUP || code == EINVAL, fsync(descriptor) == 0 else {
        throw StoreIOError("fsync", path, code == ENOTSUP || code == EINVAL ? errno : code)
      }
    #else
      guard fdatasync(descriptor) == 0 else { throw StoreIOError("fdatasync", path, errno) }
    #endif
  }

  /// On Linux, a commit goes to the log in one direct, synchronous write (`O_DIRECT` and
  /// `O_DSYNC`, through a second descriptor of the same file) of the whole blocks it touches
  /// (4 KiB, or the file system's direct I/O alignment if larger): the bytes of the first
  /// block before `offset` (which the file already holds, kept from the previous commit or
  /// read back), the commit, and zeros to the last block's end (which the file also already
  /// holds). The data reaches the disk without the page cache's writeback, and one system call
  /// waits for it, instead of `pwrite` and `fdatasync`. A write that would change the size, a
  /// file system without direct I/O, and other platforms take the default path.
  ///
  /// The block's earlier bytes must equal what is on disk, so the kept copy is dropped on any
  /// other write through this file, and used only when the commit starts exactly where the
  /// last direct write ended; otherwise they are read back.
  func writeDurably(_ bytes: UnsafeRawBufferPointer, at offset: Int, fileSize: Int)
    throws(StoreIOError)
  {
    let written = try direct.withLock { state throws(StoreIOError) -> Bool in
      guard !bytes.isEmpty, let (target, block) = state.descriptor(for: descriptor) else {
        return false
      }
      let first = offset - offset % block
      let end = StoreFormat.roundUp(offset + bytes.count, to: block)
      guard end <= fileSize else { return false }
      let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: end - first, alignment: block)
      defer { buffer.deallocate() }
      buffer.initializeMemory(as: UInt8.self, repeating: 0)
      let prefix = offset - first
      if prefix > 0 {
        if state.tailOffset == first && state.tail.count == prefix {
          state.tail.withUnsafeBytes { buffer.copyMemory(from: $0) }
        } else {
          let head = try read(count: prefix, at: first)
          guard head.count == prefix else { throw StoreIOError("pread", path, EIO) }
          head.withUnsafeBytes { buffer.copyMemory(from: $0) }
        }
      }
      UnsafeMutableRawBufferPointer(rebasing: buffer[prefix...]).copyMemory(from: bytes)
      state.forgetTail()
      var done = 0
      while done < buffer.count {
        let result = pwrite(
          target, buffer.baseAddress.map { $0 + done }, buffer.count - done, off_t(first + done))
        if result > 0 && (result % block == 0 || done + result == buffer.count) {
          done += result
          continue
        }
        let code = result < 0 ? errno : EIO
        if result < 0 && code == EINTR { continue }
        if result < 0 && (code == EINVAL || code == EOPNOTSUPP) {
          // The file system refuses direct writes after all (an alignment it did not report,
          // say). Whatever part went through holds the same bytes as the file or the frame's,
          // so the ordinary write and sync below, which the file will take from now on, still
          // leave exactly the frame written.
          state.disable()
          return false
        }
        throw StoreIOError("pwrite", path, code)
      }
      let last = offset + bytes.count
      let tailStart = last - last % block
      state.tailOffset = tailStart
      state.tail = Array(
        UnsafeRawBufferPointer(rebasing: buffer[(tailStart - first)..<(last - first)]))
      PosixFileSystem.directWrites.withLock { $0 += 1 }
      return true
    }
    if !written {
      try writeAll(bytes, at: offset)
      try sync()
    }
  }

  func truncate(to size: Int) throws(StoreIOError) {
    direct.withLock { $0.forgetTail() }
    guard ftruncate(descriptor, off_t(size)) == 0 else {
      throw StoreIOError("ftruncate", path, errno)
    }
  }

  func lock(exclusive: Bool) throws(StoreIOError) {
    while flock(descriptor, exclusive ? LOCK_EX : LOCK_SH) != 0 {
      if errno != EINTR { throw StoreIOError("flock", path, errno) }
    }
  }

  func unlock() {
    _ = flock(descriptor, LOCK_UN)
  }

  func sharedCounter() throws(StoreIOError) -> any SharedCounter {
    let length = 4096
    let current = try size()
    if current < length {
      // Real zeros, not a hole: the first store into a sparse page of a full disk would kill
      // the process (SIGBUS) instead of failing here.
      let zeros = [UInt8](repeating: 0, count: length - current)
      try zeros.withBytes { raw throws(StoreIOError) in try writeAll(raw, at: current) }
    }
    guard
      let address = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0),
      address != MAP_FAILED
    else { throw StoreIOError("mmap", path, errno) }
    return MappedCounter(address: address, length: length)
  }

  func close() {
    direct.withLock { $0.close() }
    if descriptor >= 0 {
      _ = systemClose(descriptor)
      descriptor = -1
    }
  }
}

/// The second descriptor of a ``PosixFile`` for direct writes, and the bytes of the last block
/// its last direct write ended in.
private struct DirectWrites: Sendable {
  /// The direct descriptor: `nil` until the first direct write opens it, then the descriptor,
  /// or -1 if direct writes are not possible.
  private var direct: Int32?
  /// The unit of direct writes: their offsets, sizes and buffers are multiples of it.
  private var alignment = 4096
  /// Where the block `tail` begins: the file's bytes from there to the end of the last
  /// direct write, or -1 if not known.
  var tailOffset = -1
  var tail: [UInt8] = []

  /// The direct descriptor of the file `descriptor`, opening it on first use; `nil` if direct
  /// writes are not possible.
  mutating func descriptor(for descriptor: Int32) -> (Int32, alignment: Int)? {
    if direct == nil {
      var needed: UInt32 = 0
      direct = descriptor >= 0 ? cumk_open_direct_sync(descriptor, &needed) : -1
      alignment = Int(needed)
    }
    guard let direct, direct >= 0, alignment > 0 else { return nil }
    return (direct, alignment)
  }

  mutating func forgetTail() {
    tailOffset = -1
    tail = []
  }

  /// Stops direct writes for good.
  mutating func disable() {
    close()
    direct = -1
  }

  mutating func close() {
    if let direct, direct >= 0 { _ = systemClose(direct) }
    direct = -1
    forgetTail()
  }
}

/// A counter in a shared mapping of the lock file.
///
/// `@unchecked Sendable` is sound because the mapped memory is only accessed through
/// `cumk_shared_load`/`cumk_shared_store`, which are atomic, and the mapping lives until
/// `deinit`, when no other reference exists.
private final class MappedCounter: SharedCounter, @unchecked Sendable {
  private let address: UnsafeMutableRawPointer
  private let length: Int

  init(address: UnsafeMutableRawPointer, length: Int) {
    self.address = address
    self.length = length
  }

  deinit { munmap(address, length) }

  func load() -> UInt64 {
    cumk_shared_load(address.assumingMemoryBound(to: UInt64.self))
  }

  func store(_ value: UInt64) {
    cumk_shared_store(address.assumingMemoryBound(to: UInt64.self), value)
  }
}
