import ArgumentParser
import ELFObject
import LKMInterface
import LKMKernel
import LKMLoader
import LKMToolSupport
import ModuleLinker

/// `lkmctl modinfo FILE...`: what a module object is, read from the file without a kernel.
struct ModInfo: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "modinfo",
    abstract:
      "Describe module objects without a kernel: name, type, entry, exports and the symbols they need.",
    discussion:
      "The objects go through the ELF reader as modload's do. The name and type are those of the module's MOD_* declaration; the entry is found by modload's rule (-e, else xxxinit, else BASENAME_lkmentry); the symbols it needs are what the kernel (or another module) must export."
  )

  @Option(
    name: .customShort("e"),
    help: ArgumentHelp("The entry function, as modload -e.", valueName: "entry"))
  var entry: String?
  @Argument(
    help: ArgumentHelp(
      "The module's object, then any others that make the module (as modload takes them).",
      valueName: "file"))
  var files: [String]

  func run() {
    var request = LoadRequest(inputs: [], entry: entry)
    do { request.inputs = try ModuleLoad.readInputs(files) } catch {
      for line in error.lines { BSD.write("lkmctl: \(line)\n") }
      BSD.exit(error.status)
    }
    let inputs: [LinkInput]
    switch Kernel.parse(request.inputs) {
    case .success(let parsed): inputs = parsed
    case .failure(let error):
      for line in error.lines { BSD.write("lkmctl: \(line)\n") }
      BSD.exit(1)
    }
    var out = "\(files[0]):\n"
    let declaration = ModInfo.declaration(inputs)
    if let declaration {
      let type = ModuleType(rawValue: declaration.type)?.modstatName ?? "type \(declaration.type)"
      out += "  module   \(declaration.name ?? "?") (\(type))\n"
    } else {
      out += "  module   none: no MOD_* declaration (_module)\n"
    }
    var problems: [String] = []
    switch Kernel.entryName(of: request, in: inputs) {
    case .success(let name): out += "  entry    \(name)\n"
    case .failure(let error):
      out += "  entry    none\n"
      problems += error.lines
    }
    var exports: [String] = []
    var needs: [String] = []
    var defined: Set<String> = []
    for case .object(let object) in inputs {
      for i in object.symbols.indices where i != 0 {
        let binding = object.symbolBinding(i)
        guard binding != SymbolBinding.local else { continue }
        let name = object.symbolName(i)
        if object.symbols[i].isUndefined {
          needs.append(name)
        } else {
          exports.append(name)
          defined.insert(name)
        }
      }
    }
    needs = Array(Set(needs).subtracting(defined)).sorted()
    exports = Array(Set(exports)).sorted()
    out += "  exports  \(exports.isEmpty ? "nothing" : exports.joined(separator: " "))\n"
    out += "  needs    \(needs.isEmpty ? "nothing" : needs.joined(separator: " "))\n"
    let kernel = LinkHints.kernelExportNames
    for name in needs where !kernel.contains(name) {
      if let hint = LinkHints.hint(for: name) { out += "  note     \(name): \(hint)\n" }
    }
    BSD.write(out, to: 1)
    for line in problems { BSD.write("lkmctl: \(line)\n") }
    if !problems.isEmpty { BSD.exit(1) }
  }

  /// The module's declaration: `_module`'s lkm_type, and its lkm_name (the string the
  /// relocation at `_module + 8` points to), read from the first object that defines it.
  static func declaration(_ inputs: [LinkInput]) -> (type: Int32, name: String?)? {
    for case .object(let object) in inputs {
      for i in object.symbols.indices where i != 0 && object.symbolName(i) == "_module" {
        let section = object.symbolSection(i)
        guard section > 0, section < object.sectionCount, !object.section(section).isNoBits
        else { continue }
        let value = Int(object.symbolValue(i))
        let base = object.sectionFileOffset(section)
        guard value + 16 <= Int(object.sectionSize(section)) else { continue }
        let type = Int32(bitPattern: load(object, base + value, UInt32.self))
        var name: String?
        for relocations in object.relocationSections where relocations.target == section {
          for entry in relocations.entries where entry.offset == UInt64(value + 8) {
            let target = Int(entry.symbolIndex)
            guard target > 0, target < object.symbolCount else { continue }
            let stringSection = object.symbolSection(target)
            guard stringSection > 0, stringSection < object.sectionCount else { continue }
            let start =
              Int(object.symbolValue(target)) + Int(entry.addend)
            name = string(object, section: stringSection, at: start)
          }
        }
        return (type, name)
      }
    }
    return nil
  }

  static func load<T: FixedWidthInteger>(_ object: ObjectFile, _ offset: Int, _: T.Type) -> T {
    object.bytes.loadLittleEndian(T.self, at: offset)
  }

  /// The NUL-terminated string at `offset` of a section (at most 64 bytes), or nil.
  static func string(_ object: ObjectFile, section: Int, at offset: Int) -> String? {
    let size = Int(object.sectionSize(section))
    guard offset >= 0, offset < size, !object.section(section).isNoBits else { return nil }
    let base = object.sectionFileOffset(section)
    var bytes: [UInt8] = []
    var k = offset
    while k < size && bytes.count < 64 {
      let b = object.bytes.loadLittleEndian(UInt8.self, at: base + k)
      if b == 0 { return String(decoding: bytes, as: UTF8.self) }
      bytes.append(b)
      k += 1
    }
    return nil
  }
}
