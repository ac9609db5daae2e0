// Every platform-specific call of the library lives in this file.
#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

enum Platform {
  /// Overwrites memory with zeros in a way the optimizer may not remove.
  static func secureZero(_ buffer: UnsafeMutableRawBufferPointer) {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return }
    #if canImport(Darwin)
      _ = memset_s(base, buffer.count, 0, buffer.count)
    #elseif canImport(Glibc) || canImport(Musl)
      explicit_bzero(base, buffer.count)
    #else
      for index in buffer.indices { buffer[index] = 0 }
    #endif
  }

  /// The number of processors currently available to the process.
  static var activeProcessorCount: Int {
    #if canImport(Glibc) || canImport(Musl) || canImport(Darwin)
      let count = sysconf(Int32(_SC_NPROCESSORS_ONLN))
      return count > 0 ? Int(count) : 1
    #else
      return 1
    #endif
  }
}
