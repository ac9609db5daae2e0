/// CRC-32C computed a bit at a time from its definition (the reflected Castagnoli polynomial
/// 0x82F63B78): the independent reference the store's checksums are tested against, and what
/// tests use to write frames whose checksums match.
func bitwiseCRC32C<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
  var crc: UInt32 = 0xFFFF_FFFF
  for byte in bytes {
    crc ^= UInt32(byte)
    for _ in 0..<8 { crc = (crc >> 1) ^ (0x82F6_3B78 & (0 &- (crc & 1))) }
  }
  return ~crc
}
