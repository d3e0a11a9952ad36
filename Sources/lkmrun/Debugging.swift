// lkmrun's program made visible to gdb (GDB's JIT interface: `gdb --args lkmrun prog.o` with
// a pending breakpoint stops in it), to perf (--perf-map) and to crash reports (symbolize).
import ModuleDebugInfo
import ModuleLinker

/// The program's objects as registered with gdb, and the module, for symbolize.
nonisolated(unsafe) var programDebugInfo: ModuleDebugInfo?
nonisolated(unsafe) var programModule: LoadedModule?

/// Registers the linked program with a debugger (before any of its code runs) and, with
/// `perfMap`, writes /tmp/perf-PID.map of its functions (left for perf report after exit).
///
/// The inputs are read again for it (a link from the cache did not parse them); one that
/// cannot be read is left out.
func registerForDebugging(_ module: LoadedModule, paths: [String], perfMap: Bool) {
  let inputs = paths.compactMap { try? LinkInput.read($0) }
  let info = ModuleDebugInfo(module: module, inputs: inputs)
  info.register()
  programDebugInfo = info
  programModule = module
  if perfMap {
    let map = PerfMap()
    if !map.add(key: 0, functions: info.functions) {
      writeStandardError("lkmrun: cannot write \(map.path)\n")
    }
  }
}

/// `main+0x12 (prog.c:7)` for an address in the program lkmrun runs (the line when its object
/// has DWARF), `main+0x12` without; nil for an address outside it.
///
/// Not async-signal-safe (it allocates, and reads DWARF with libdw): from a crash handler, call
/// it once, knowing that a crash inside malloc may not come back.
func symbolize(_ address: UInt64) -> String? {
  guard let module = programModule, module.contains(address) else { return nil }
  if let info = programDebugInfo { return info.describe(address, in: module) }
  return module.symbolize(address)
}
