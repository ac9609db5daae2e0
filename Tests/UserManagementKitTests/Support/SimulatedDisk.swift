import Dispatch
import UserManagementKit

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A file system in memory that models what survives a crash, records every call, and fails
/// calls on demand — the test double behind the file store's durability tests.
///
/// The model: a file's *data* is what reads return; its *durable* bytes are the data as of its
/// last `sync`. A directory's *entries* are what lookups see; its *durable entries* are the
/// entries as of its last `syncDirectory`. A crash keeps only durable entries, and for each
/// file its durable bytes plus, depending on the ``Tear``, some or none of what was written
/// after them.
final class SimulatedDisk: StoreFileSystem, Sendable {
  /// What happens to bytes written but not synced when the machine crashes.
  enum Tear: CaseIterable, Sendable {
    /// They are lost.
    case drop
    /// They all reached the disk.
    case keep
    /// The first half of them reached the disk.
    case half
    /// The file kept its new size, but the new bytes read as zeros from the first sector
    /// boundary past their middle (the disk wrote whole sectors, in order, and stopped).
    case zeroed
    /// The file kept its new size, but the first whole sector of the new bytes reads as zeros
    /// while the sectors after it arrived (written out of order).
    case hole
  }

  /// The sector size of the simulated disk.
  static let sectorSize = 512

  /// Options that compact often, for tests on a simulated disk.
  static let storeOptions: FileDirectoryStore.Options = {
    var options = FileDirectoryStore.Options(minimumCompactionLogSize: 4096)
    // Small chunks, so that the workloads cross chunk boundaries of the preallocated log.
    options.logChunkSize = 1024
    // A small read size, so that opening cuts the snapshot's frames at every point (a piece
    // ends inside a frame's header, its payload or its checksum, and a frame outgrows it).
    options.snapshotReadSize = 40
    return options
  }()

  /// Opens a store in `/store` on this disk.
  func openStore() throws(UserManagementError) -> FileDirectoryStore {
    try FileDirectoryStore(directory: "/store", options: Self.storeOptions, fileSystem: self)
  }

  /// A call the disk refuses.
  struct Fault: Sendable {
    /// Fail the call with this number (counting every call from 0).
    var atCall: Int
    /// The `errno` to fail with.
    var code: Int32 = EIO
    /// Keep failing every later call too.
    var persistent = false
    /// For a write: write half of the bytes, report that, and fail the next call instead.
    var shortWrite = false
  }

  private struct Node {
    var data: [UInt8] = []
    var durable: [UInt8] = []
    var counter: UInt64 = 0
  }

  private struct State {
    var nodes: [Int: Node] = [:]
    var entries: [String: Int] = [:]
    var durableEntries: [String: Int] = [:]
    var directories: Set<String> = []
    var nextNode = 0
    var calls = 0
    var trace: [String] = []
    var fault: Fault?
    var failing = false
    /// Mutating calls left before the simulated crash, if one is planned.
    var mutationsBeforeCrash: Int?
    var crashed = false
    var bytesRead: [String: Int] = [:]
    var logSyncGate: DispatchSemaphore?
    /// Whether calls made on a thread that runs a Swift task are recorded.
    var watchingTasks = false
    var callsOnTasks: [String] = []
  }

  private let state = Locked(State())

  init() {}

  // MARK: Test controls

  /// Every mutating call so far, e.g. `write log-0000000000000001 48@200`.
  var trace: [String] { state.withLock { $0.trace } }

  /// Forgets the trace.
  func clearTrace() { state.withLock { $0.trace.removeAll() } }

  /// How many calls have been made.
  var calls: Int { state.withLock { $0.calls } }

  /// Bytes read per file name since the last ``resetReadCounts()``.
  var bytesRead: [String: Int] { state.withLock { $0.bytesRead } }

  func resetReadCounts() { state.withLock { $0.bytesRead.removeAll() } }

  /// Makes every sync of a log file wait until ``releaseLogSyncs()``.
  func holdLogSyncs() {
    state.withLock { $0.logSyncGate = DispatchSemaphore(value: 0) }
  }

  /// Lets held and future log syncs proceed.
  func releaseLogSyncs() {
    let gate = state.withLock { state in
      defer { state.logSyncGate = nil }
      return state.logSyncGate
    }
    for _ in 0..<64 { gate?.signal() }
  }

  /// Starts (or restarts, forgetting what was recorded) recording every call made on a thread
  /// that is running a Swift concurrency task — a cooperative-pool thread, where the store must
  /// not block — other than a store's writer queue. Work the store hands to a Dispatch queue
  /// runs on a thread with no current task.
  func recordCallsOnTasks() {
    state.withLock {
      $0.watchingTasks = true
      $0.callsOnTasks.removeAll()
    }
  }

  /// The calls made on a thread running a Swift task since ``recordCallsOnTasks()``.
  var callsOnTasks: [String] { state.withLock { $0.callsOnTasks } }

  /// Records `description` if it is made on a thread running a Swift task and recording is on.
  /// A store's writer queue is exempt: a task there prefers the store's `writerExecutor`,
  /// whose thread is the store's own, not the pool's.
  fileprivate func noteThread(_ description: String) {
    let onTask = withUnsafeCurrentTask { $0 != nil }
    guard onTask, !FileDirectoryStore.isOnAnyWriter else { return }
    state.withLock { state in
      if state.watchingTasks { state.callsOnTasks.append(description) }
    }
  }

  /// Plans a fault.
  func inject(_ fault: Fault?) {
    state.withLock {
      $0.fault = fault
      $0.failing = false
    }
  }

  /// Crash (every call fails from then on) when `count` more mutating calls have been made.
  func crash(afterMutations count: Int) {
    state.withLock { $0.mutationsBeforeCrash = count }
  }

  /// Whether the planned crash happened.
  var hasCrashed: Bool { state.withLock { $0.crashed } }

  /// The disk as a new machine would find it after a crash now.
  func afterCrash(_ tear: Tear) -> SimulatedDisk {
    let image = state.withLock { state in
      var result = State()
      result.directories = state.directories
      result.nextNode = state.nextNode
      for (path, id) in state.durableEntries {
        guard let node = state.nodes[id] else { continue }
        result.entries[path] = id
        result.durableEntries[path] = id
        let data = Self.survivor(durable: node.durable, written: node.data, tear: tear)
        result.nodes[id] = Node(data: data, durable: data)
      }
      return result
    }
    let disk = SimulatedDisk()
    disk.state.withLock { $0 = image }
    return disk
  }

  /// What a file holds after a crash: its durable bytes, plus what `tear` keeps of the bytes
  /// written since its last sync — appended past the durable end (a log of format 1, or a
  /// growing file) or written over bytes it had (a preallocated log of format 2). The
  /// unsynced bytes are the range from the first to the last byte that differs (and any new
  /// length); a tear keeps a prefix of that range, or all of it but a sector, or none, and
  /// the rest reads as the old bytes (zeros past the durable end).
  static func survivor(durable: [UInt8], written: [UInt8], tear: Tear) -> [UInt8] {
    if written.count < durable.count {
      // Truncated since the last sync: the cut survives only if everything did.
      return tear == .keep ? written : durable
    }
    var old = durable
    old.append(contentsOf: [UInt8](repeating: 0, count: written.count - durable.count))
    guard let first = old.indices.first(where: { old[$0] != written[$0] }) else {
      // Nothing changed but (perhaps) the length, with zeros: a lost size change is dropped.
      return tear == .drop ? durable : written
    }
    let end = (old.indices.last { old[$0] != written[$0] } ?? first) + 1
    // The length the file has after the crash: a size change survives unless dropped.
    let length = tear == .drop ? durable.count : written.count
    var result = old
    let kept: Range<Int>
    switch tear {
    case .drop:
      kept = first..<first
    case .keep:
      kept = first..<end
    case .half:
      kept = first..<first + (end - first) / 2
    case .zeroed:
      let middle = first + (end - first) / 2
      let boundary = min(end, (middle + sectorSize - 1) / sectorSize * sectorSize)
      kept = first..<boundary
    case .hole:
      kept = first..<end
    }
    result.replaceSubrange(kept, with: written[kept])
    if tear == .hole {
      let sector = (first + sectorSize - 1) / sectorSize * sectorSize
      if sector + sectorSize <= end {
        result.replaceSubrange(
          sector..<sector + sectorSize, with: old[sector..<sector + sectorSize])
      }
    }
    if tear == .half && written.count > durable.count && first >= durable.count {
      // An append cut short: the file ends where the written half does (as format 1 saw it).
      return Array(result.prefix(max(durable.count, kept.upperBound)))
    }
    return Array(result.prefix(max(length, tear == .drop ? 0 : kept.upperBound)))
  }

  /// A copy of the disk as it is (no crash), with no faults planned.
  func copy() -> SimulatedDisk {
    let image = state.withLock { state in
      var copy = state
      copy.fault = nil
      copy.failing = false
      copy.mutationsBeforeCrash = nil
      copy.crashed = false
      copy.trace = []
      return copy
    }
    let disk = SimulatedDisk()
    disk.state.withLock { $0 = image }
    return disk
  }

  /// The current contents of a file, by name (without the directory).
  func contents(of name: String) -> [UInt8]? {
    state.withLock { state in
      state.entries.first { $0.key.hasSuffix("/" + name) }.flatMap { state.nodes[$0.value]?.data }
    }
  }

  /// Replaces a file's contents (durably), as an operator or a disk error might.
  func setContents(of name: String, to bytes: [UInt8]) {
    state.withLock { state in
      guard let (_, id) = state.entries.first(where: { $0.key.hasSuffix("/" + name) }) else {
        return
      }
      state.nodes[id]?.data = bytes
      state.nodes[id]?.durable = bytes
    }
  }

  /// The names of the files in the store directory.
  func names() -> [String] {
    state.withLock { state in
      state.entries.keys.map { String($0.split(separator: "/").last ?? "") }.sorted()
    }
  }

  // MARK: Calls

  /// Counts a call and decides whether it fails; `mutating` calls also count toward a crash.
  private func enter(_ description: String, mutating: Bool, write: Bool = false)
    throws(StoreIOError) -> Bool
  {
    noteThread(description)
    return try state.withLock { state throws(StoreIOError) -> Bool in
      let call = state.calls
      state.calls += 1
      if state.crashed { throw StoreIOError(description, "crashed", EIO) }
      if mutating, let left = state.mutationsBeforeCrash {
        if left == 0 {
          state.crashed = true
          throw StoreIOError(description, "crashed", EIO)
        }
        state.mutationsBeforeCrash = left - 1
      }
      if state.failing {
        if state.fault?.persistent != true { state.failing = false }
        throw StoreIOError(description, "injected", state.fault?.code ?? EIO)
      }
      if let fault = state.fault, fault.atCall == call {
        if fault.shortWrite && write {
          state.failing = fault.persistent
          if !fault.persistent { state.fault = Fault(atCall: call + 1, code: fault.code) }
          return true
        }
        state.failing = fault.persistent
        throw StoreIOError(description, "injected", fault.code)
      }
      if mutating { state.trace.append(description) }
      return false
    }
  }

  private static func name(_ path: String) -> String {
    String(path.split(separator: "/").last ?? "")
  }

  private static func parent(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return String(path[..<slash])
  }

  func createDirectory(_ path: String) throws(StoreIOError) {
    _ = try enter("mkdir", mutating: false)
    state.withLock { _ = $0.directories.insert(path) }
  }

  func contentsOfDirectory(_ path: String) throws(StoreIOError) -> [String] {
    _ = try enter("list", mutating: false)
    return state.withLock { state in
      state.entries.keys.filter { Self.parent($0) == path }.map { Self.name($0) }
    }
  }

  func open(_ path: String, create: Bool, truncate: Bool) throws(StoreIOError) -> any StoreFile {
    let exists = state.withLock { $0.entries[path] != nil }
    if !exists && !create { throw StoreIOError("open", path, ENOENT) }
    if !exists || truncate {
      _ = try enter("create \(Self.name(path))", mutating: true)
    } else {
      _ = try enter("open", mutating: false)
    }
    let id = state.withLock { state -> Int in
      if let id = state.entries[path] {
        if truncate { state.nodes[id]?.data = [] }
        return id
      }
      let id = state.nextNode
      state.nextNode += 1
      state.nodes[id] = Node()
      state.entries[path] = id
      return id
    }
    return SimulatedFile(disk: self, node: id, path: path)
  }

  func createExclusively(_ path: String) throws(StoreIOError) -> any StoreFile {
    if state.withLock({ $0.entries[path] != nil }) { throw StoreIOError("open", path, EEXIST) }
    return try open(path, create: true, truncate: false)
  }

  func rename(_ source: String, to destination: String) throws(StoreIOError) {
    _ = try enter("rename \(Self.name(source)) \(Self.name(destination))", mutating: true)
    try state.withLock { state throws(StoreIOError) in
      guard let id = state.entries.removeValue(forKey: source) else {
        throw StoreIOError("rename", source, ENOENT)
      }
      state.entries[destination] = id
    }
  }

  func remove(_ path: String) throws(StoreIOError) {
    _ = try enter("remove \(Self.name(path))", mutating: true)
    state.withLock { _ = $0.entries.removeValue(forKey: path) }
  }

  func syncDirectory(_ path: String) throws(StoreIOError) {
    _ = try enter("syncdir", mutating: true)
    state.withLock { state in
      state.durableEntries = state.durableEntries.filter { Self.parent($0.key) != path }
      for (entry, id) in state.entries where Self.parent(entry) == path {
        state.durableEntries[entry] = id
      }
    }
  }

  func fileExists(_ path: String) -> Bool {
    noteThread("exists")
    return state.withLock { $0.entries[path] != nil }
  }

  func fileIdentity(_ path: String) -> UInt64? {
    noteThread("identity")
    return state.withLock { $0.entries[path].map { UInt64($0) } }
  }

  // MARK: File calls

  fileprivate func size(_ node: Int) throws(StoreIOError) -> Int {
    _ = try enter("size", mutating: false)
    return state.withLock { $0.nodes[node]?.data.count ?? 0 }
  }

  fileprivate func status(_ node: Int) throws(StoreIOError) -> (size: Int, isLinked: Bool) {
    _ = try enter("stat", mutating: false)
    return state.withLock {
      ($0.nodes[node]?.data.count ?? 0, $0.entries.values.contains(node))
    }
  }

  fileprivate func read(
    _ node: Int, _ path: String, into buffer: UnsafeMutableRawBufferPointer, at offset: Int
  ) throws(StoreIOError) -> Int {
    _ = try enter("read", mutating: false)
    return state.withLock { state in
      let data = state.nodes[node]?.data ?? []
      guard offset < data.count else { return 0 }
      let count = min(buffer.count, data.count - offset)
      data.withUnsafeBytes { source in
        buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<offset + count]))
      }
      state.bytesRead[Self.name(path), default: 0] += count
      return count
    }
  }

  fileprivate func write(
    _ node: Int, _ path: String, _ bytes: UnsafeRawBufferPointer, at offset: Int
  ) throws(StoreIOError) -> Int {
    let short = try enter(
      "write \(Self.name(path)) \(bytes.count)@\(offset)", mutating: true, write: true)
    let count = short ? max(1, bytes.count / 2) : bytes.count
    state.withLock { state in
      var data = state.nodes[node]?.data ?? []
      if data.count < offset + count {
        data.append(contentsOf: [UInt8](repeating: 0, count: offset + count - data.count))
      }
      data.withUnsafeMutableBytes { target in
        UnsafeMutableRawBufferPointer(rebasing: target[offset..<offset + count]).copyMemory(
          from: UnsafeRawBufferPointer(rebasing: bytes[0..<count]))
      }
      state.nodes[node]?.data = data
    }
    return count
  }

  fileprivate func sync(_ node: Int, _ path: String) throws(StoreIOError) {
    if Self.name(path).hasPrefix("log-"), !path.hasSuffix(".tmp"),
      let gate = state.withLock({ $0.logSyncGate })
    {
      gate.wait()
    }
    _ = try enter("sync \(Self.name(path))", mutating: true)
    state.withLock { state in
      if let data = state.nodes[node]?.data { state.nodes[node]?.durable = data }
    }
  }

  fileprivate func truncate(_ node: Int, _ path: String, to size: Int) throws(StoreIOError) {
    _ = try enter("truncate \(Self.name(path)) \(size)", mutating: true)
    state.withLock { state in
      guard var data = state.nodes[node]?.data else { return }
      if data.count > size {
        data.removeSubrange(size...)
      } else {
        data.append(contentsOf: [UInt8](repeating: 0, count: size - data.count))
      }
      state.nodes[node]?.data = data
    }
  }

  fileprivate func counterValue(_ node: Int) -> UInt64 {
    state.withLock { $0.nodes[node]?.counter ?? 0 }
  }

  fileprivate func setCounter(_ node: Int, _ value: UInt64) {
    state.withLock { $0.nodes[node]?.counter = value }
  }
}

/// An open file of a ``SimulatedDisk``. Locks are no-ops: tests that use the simulated disk
/// run one store at a time.
private final class SimulatedFile: StoreFile, SharedCounter, Sendable {
  let disk: SimulatedDisk
  let node: Int
  let path: String

  init(disk: SimulatedDisk, node: Int, path: String) {
    self.disk = disk
    self.node = node
    self.path = path
  }

  func size() throws(StoreIOError) -> Int { try disk.size(node) }
  func status() throws(StoreIOError) -> (size: Int, isLinked: Bool) { try disk.status(node) }
  func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(StoreIOError)
    -> Int
  {
    try disk.read(node, path, into: buffer, at: offset)
  }
  func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(StoreIOError) -> Int {
    try disk.write(node, path, bytes, at: offset)
  }
  func sync() throws(StoreIOError) { try disk.sync(node, path) }
  func truncate(to size: Int) throws(StoreIOError) { try disk.truncate(node, path, to: size) }
  func lock(exclusive: Bool) throws(StoreIOError) { disk.noteThread("lock") }
  func unlock() {}
  func sharedCounter() throws(StoreIOError) -> any SharedCounter { self }
  func identity() throws(StoreIOError) -> UInt64 { UInt64(node) }

  func close() {}
  func load() -> UInt64 { disk.counterValue(node) }
  func store(_ value: UInt64) { disk.setCounter(node, value) }
}
