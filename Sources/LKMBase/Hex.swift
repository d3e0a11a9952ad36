/// Formats a number as `0x…` hex, the form every message uses.
@inlinable
public func hex<T: BinaryInteger>(_ value: T) -> String {
  "0x" + String(value, radix: 16)
}

/// `bytes` as lowercase hex digits, two a byte (a GNU build ID, a hash), without the generic
/// joins that cost a process's first call tens of thousands of instructions.
public func hexDigits(_ bytes: ArraySlice<UInt8>) -> String {
  let digits: StaticString = "0123456789abcdef"
  var text: [UInt8] = []
  text.reserveCapacity(bytes.count * 2)
  for byte in bytes {
    text.append(unsafe digits.utf8Start[Int(byte >> 4)])
    text.append(unsafe digits.utf8Start[Int(byte & 15)])
  }
  return String(decoding: text, as: UTF8.self)
}
