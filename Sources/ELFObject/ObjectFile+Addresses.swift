extension ObjectFile {
  /// A copy of the object's bytes with `sh_addr` of the given sections set, so that a debugger
  /// (gdb's add-symbol-file, or its JIT interface) relocates the debug information itself.
  ///
  /// - Parameter addresses: section index → load address.
  public func withSectionAddresses(_ addresses: [Int: UInt64]) -> [UInt8] {
    var copy = unsafe Array(
      UnsafeRawBufferPointer(start: bytes.base + byteRange.lowerBound, count: byteRange.count))
    // The header was validated: e_shoff and the table lie inside the object.
    let shoff = unsafe copy.withUnsafeBytes {
      unsafe Int($0.loadUnaligned(fromByteOffset: 40, as: UInt64.self))
    }
    for (index, address) in addresses where index > 0 && index < sections.count {
      let field = shoff + index * 64 + 16
      guard field + 8 <= copy.count else { continue }
      unsafe withUnsafeBytes(of: address.littleEndian) { raw in
        for i in 0..<8 { copy[field + i] = unsafe raw[i] }
      }
    }
    return copy
  }
}
