import Testing
import UserManagementKit

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// The file store trusts only a directory that only its user controls (security review,
/// issue 10 item 8).
@Suite("File store: the directory and files it trusts")
struct FileStoreTrustTests {
  static func mode(_ path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return try #require(attributes[.posixPermissions] as? Int)
  }

  @Test(
    "A directory that gives group or others access is refused, with the fix",
    arguments: [
      0o777, 0o755, 0o750,
    ])
  func wideDirectoryIsRefused(_ permissions: Int) throws {
    let temporary = try TemporaryDirectory()
    try FileManager.default.createDirectory(
      atPath: temporary.store, withIntermediateDirectories: false,
      attributes: [.posixPermissions: permissions])
    try FileManager.default.setAttributes(
      [.posixPermissions: permissions], ofItemAtPath: temporary.store)
    #expect {
      _ = try FileDirectoryStore(directory: temporary.store)
    } throws: { error in
      guard let error = error as? UserManagementError else { return false }
      return error.code == .insecureStore && error.message.contains("chmod 700")
        && error.storeLocation?.file == temporary.store
    }
    // Nothing was written into it.
    #expect(try FileManager.default.contentsOfDirectory(atPath: temporary.store).isEmpty)
  }

  @Test("A symbolic link to a directory is refused")
  func symbolicLinkIsRefused() throws {
    let temporary = try TemporaryDirectory()
    let real = temporary.path + "/real"
    try FileManager.default.createDirectory(
      atPath: real, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
    try FileManager.default.createSymbolicLink(atPath: temporary.store, withDestinationPath: real)
    #expect {
      _ = try FileDirectoryStore(directory: temporary.store)
    } throws: { error in
      (error as? UserManagementError)?.code == .insecureStore
    }
  }

  @Test("A private directory made by the host is accepted")
  func privateDirectoryIsAccepted() throws {
    let temporary = try TemporaryDirectory()
    try FileManager.default.createDirectory(
      atPath: temporary.store, withIntermediateDirectories: false,
      attributes: [.posixPermissions: 0o700])
    let store = try FileDirectoryStore(directory: temporary.store)
    store.close()
  }

  @Test("A store file that others can read is restricted to its owner when opened")
  func wideFilesAreRestricted() throws {
    let temporary = try TemporaryDirectory()
    try FileDirectoryStore(directory: temporary.store).close()
    let files = try FileManager.default.contentsOfDirectory(atPath: temporary.store)
    #expect(!files.isEmpty)
    for name in files {
      try FileManager.default.setAttributes(
        [.posixPermissions: 0o644], ofItemAtPath: temporary.store + "/" + name)
    }
    try FileDirectoryStore(directory: temporary.store).close()
    for name in files {
      #expect(try Self.mode(temporary.store + "/" + name) == 0o600, "\(name)")
    }
  }

  @Test("A store file with a second hard link is refused")
  func hardLinkedFilesAreRefused() throws {
    let temporary = try TemporaryDirectory()
    try FileDirectoryStore(directory: temporary.store).close()
    try FileManager.default.linkItem(
      atPath: temporary.store + "/LOCK", toPath: temporary.path + "/planted")
    #expect {
      _ = try FileDirectoryStore(directory: temporary.store)
    } throws: { error in
      (error as? UserManagementError)?.code == .insecureStore
    }
  }
}
