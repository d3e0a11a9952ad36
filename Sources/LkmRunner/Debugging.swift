// lkmrun's program made visible to gdb (GDB's JIT interface: `gdb --args lkmrun prog.o` with
// a pending breakpoint stops in it), to perf (--perf-map) and to crash reports (symbolize).
import LKMBase
import ModuleDebugInfo
import ModuleLinker

/// The program's objects as registered with gdb (or read for a crash line), the module, and
/// the inputs it was linked from.
nonisolated(unsafe) var programDebugInfo: ModuleDebugInfo?
nonisolated(unsafe) var programModule: LoadedModule?
nonisolated(unsafe) var programPaths: [String] = []

/// Registers the linked program with a debugger (before any of its code runs) when one traces
/// lkmrun (`gdb --args lkmrun prog.o`), and with `perfMap` writes /tmp/perf-PID.map of its
/// functions (left for perf report after exit).
///
/// What a debugger needs, a copy of every object with its load addresses and its DWARF, is made
/// only for a debugger (or a crash line, on first need): a run nobody debugs reads its inputs
/// once, or not at all when its image comes from the cache. The inputs are read again for it
/// (a link from the cache did not parse them); one that cannot be read is left out.
func registerForDebugging(_ module: LoadedModule, paths: [String], perfMap: Bool) {
  unsafe programModule = module
  unsafe programPaths = paths
  if isTraced() {
    let info = ModuleDebugInfo(module: module, inputs: paths.compactMap { try? LinkInput.read($0) })
    info.register()
    unsafe programDebugInfo = info
  }
  if perfMap {
    let map = PerfMap()
    if unsafe !map.add(key: 0, functions: programDebugInfo?.functions ?? module.functions) {
      writeStandardError("lkmrun: cannot write \(map.path)\n")
    }
  }
}

/// Whether a debugger (or any tracer) traces this process: `TracerPid` in /proc/self/status.
func isTraced() -> Bool {
  guard let lines = system_readLines("/proc/self/status") else { return false }
  for text in lines {
    if text.hasPrefix("TracerPid:") {
      return text.dropFirst("TracerPid:".count).trimmingCharacters() != "0"
    }
  }
  return false
}

/// `main+0x12 (prog.c:7)` for an address in the program lkmrun runs (the line when its object
/// has DWARF), `main+0x12` without; nil for an address outside it.
///
/// Not async-signal-safe (it allocates, reads the inputs and DWARF with libdw): from a crash
/// handler, call it once, knowing that a crash inside malloc may not come back.
func symbolize(_ address: UInt64) -> String? {
  guard let module = unsafe programModule, module.contains(address) else { return nil }
  if unsafe programDebugInfo == nil {
    unsafe programDebugInfo = unsafe ModuleDebugInfo(
      module: module, inputs: programPaths.compactMap { try? LinkInput.read($0) })
  }
  if let info = unsafe programDebugInfo { return info.describe(address, in: module) }
  return module.symbolize(address)
}

extension Substring {
  /// Without leading and trailing spaces, tabs and newlines.
  func trimmingCharacters() -> String {
    var s = self
    while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
    while let c = s.last, c == " " || c == "\t" || c == "\n" { s.removeLast() }
    return String(s)
  }
}
