// lkmrun's thin wrappers over the C library for Debugging.swift and LinkAdvice.swift; with
// LkmRun.swift (signals, the compiler's popen, the program's process) the only files of lkmrun
// that import Glibc.
import Glibc

/// The lines of a small text file (`/proc/self/status`), or nil if it does not open.
///
/// The corresponding C functions are `fopen(3)` and `fgets(3)`.
func system_readLines(_ path: String) -> [String]? {
  guard let file = unsafe fopen(path, "r") else { return nil }
  defer { unsafe fclose(file) }
  var lines: [String] = []
  var line = [CChar](repeating: 0, count: 256)
  while unsafe fgets(&line, Int32(line.count), file) != nil { lines.append(String(cString: line)) }
  return lines
}

/// A library opened lazily, as an address; nil if it does not open.
///
/// The corresponding C function is `dlopen(3)` with `RTLD_LAZY`.
func system_dlopen(_ name: String) -> UInt? {
  unsafe dlopen(name, RTLD_LAZY).map { UInt(bitPattern: $0) }
}

/// Whether the library at `handle` (from ``system_dlopen(_:)``) defines `name`.
///
/// The corresponding C function is `dlsym(3)`.
func system_dlsymDefines(_ handle: UInt, _ name: String) -> Bool {
  unsafe dlsym(UnsafeMutableRawPointer(bitPattern: handle), name) != nil
}

/// Frees memory the C library allocated.
///
/// The address `name` has in the library at `handle` (from ``system_dlopen(_:)``), or in the
/// global scope (`RTLD_DEFAULT`) when `handle` is nil; nil if it is not defined there.
///
/// The corresponding C function is `dlsym(3)`.
func system_dlsymAddress(_ handle: UInt?, _ name: String) -> UInt? {
  unsafe dlsym(handle.flatMap { unsafe UnsafeMutableRawPointer(bitPattern: $0) }, name).map {
    UInt(bitPattern: $0)
  }
}

/// The corresponding C function is `free(3)`.
func system_free(_ pointer: UnsafeMutableRawPointer?) { unsafe free(pointer) }
