import Testing
import UserManagementKitTesting

@testable import UserManagementKit

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// `writeDurably`, the log's durable write (on Linux, direct writes of whole blocks whose
/// earlier bytes are kept or read back), against a model of the file's bytes.
@Suite("FileDirectoryStore: direct writes of the log")
struct FileStoreDirectWriteTests {
  /// Two descriptors of one file — as two stores of one directory have — take turns writing
  /// frames of random sizes at the end of what is written, over preallocated zeros, by direct
  /// writes and by ordinary writes, sometimes reopened (losing what they kept) and sometimes
  /// after a frame was written and cleared again (a failed commit's zeros). After every step
  /// the file must read back exactly as the model says.
  @Test func turnsOfTwoDescriptorsMatchAModel() throws {
    let temporary = try TemporaryDirectory()
    let path = temporary.path + "/log"
    let fileSystem = PosixFileSystem()
    let size = 256 * 1024
    do {
      let file = try fileSystem.open(path, create: true, truncate: true)
      let zeros = [UInt8](repeating: 0, count: size)
      try zeros.withUnsafeBytes { try file.writeAll($0, at: 0) }
      try file.sync()
      file.close()
    }
    var files = [
      try fileSystem.open(path, create: false, truncate: false),
      try fileSystem.open(path, create: false, truncate: false),
    ]
    var model = [UInt8](repeating: 0, count: size)
    var end = 0
    var random = SeededRandomNumberGenerator(seed: 0x5EED_D12E)
    let directBefore = PosixFileSystem.directWrites.withLock { $0 }
    var step = 0
    while end < size - 10_000 {
      step += 1
      let writer = Int.random(in: 0..<2, using: &random)
      let length = Int.random(in: 1...(step % 10 == 0 ? 9_000 : 300), using: &random)
      // Frames never hold a zero byte at their ends in the store; any nonzero pattern will do.
      let frame = (0..<length).map { _ in UInt8.random(in: 1...255, using: &random) }
      switch Int.random(in: 0..<10, using: &random) {
      case 0:
        // An ordinary write and sync (the path of a frame that grows the log).
        try frame.withUnsafeBytes { try files[writer].writeAll($0, at: end) }
        try files[writer].sync()
      case 1:
        // A frame written, then cleared as a failed commit's is: the end does not move.
        try frame.withUnsafeBytes {
          try files[writer].writeDurably($0, at: end, fileSize: size)
        }
        let zeros = [UInt8](repeating: 0, count: length)
        try zeros.withUnsafeBytes { try files[writer].writeAll($0, at: end) }
        continue
      case 2:
        // A descriptor reopened: whatever it kept is gone.
        files[writer].close()
        files[writer] = try fileSystem.open(path, create: false, truncate: false)
        try frame.withUnsafeBytes {
          try files[writer].writeDurably($0, at: end, fileSize: size)
        }
      default:
        try frame.withUnsafeBytes {
          try files[writer].writeDurably($0, at: end, fileSize: size)
        }
      }
      model.replaceSubrange(end..<(end + length), with: frame)
      end += length
      let reader = files[Int.random(in: 0..<2, using: &random)]
      let onDisk = try reader.readUninitialized(count: size, at: 0)
      guard onDisk == model else {
        let first = model.indices.first { onDisk[$0] != model[$0] } ?? -1
        Issue.record("step \(step): the file differs from the model at byte \(first)")
        return
      }
    }
    #expect(step > 100)
    #if os(Linux)
      // This machine's file systems take direct writes (ext4; tmpfs since Linux 6.6): the test
      // must have exercised them, not only the ordinary path.
      #expect(PosixFileSystem.directWrites.withLock { $0 } > directBefore)
    #endif
    for file in files { file.close() }
  }
}
