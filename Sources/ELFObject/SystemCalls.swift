// The C library's byte searches for ELFObject's string tables; with FileBytes.swift (open,
// fstat, mmap) the only files of ELFObject that import Glibc.
#if canImport(Glibc)
  internal import Glibc
#endif

/// The first `byte` in `[start, start + count)`, or nil.
///
/// The corresponding C function is `memchr(3)`.
@inline(__always)
func system_memchr(_ start: UnsafeRawPointer, _ byte: Int32, _ count: Int) -> UnsafeRawPointer? {
  unsafe memchr(start, byte, count).map { UnsafeRawPointer($0) }
}

/// Whether the `count` bytes at `a` and `b` are equal.
///
/// The corresponding C function is `memcmp(3)`.
@inline(__always)
func system_memequal(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Bool {
  unsafe memcmp(a, b, count) == 0
}
