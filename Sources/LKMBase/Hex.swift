/// Formats a number as `0x…` hex, the form every message uses.
@inlinable
public func hex<T: BinaryInteger>(_ value: T) -> String {
  "0x" + String(value, radix: 16)
}
