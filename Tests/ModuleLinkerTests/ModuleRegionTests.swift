import ELFObject
import Foundation
import LKMBase
import ModuleLinker
import TestSupport
import Testing

/// The mappings of this process that overlap `range`, as `(start, end, perms)`.
func mappings(overlapping range: Range<UInt64>) throws -> [(UInt64, UInt64, String)] {
  // /proc/self/maps is made a page at a time: a read that races another thread's mmap or
  // munmap can miss a line. Read until two reads in a row agree on the range.
  var last = try readMappings(overlapping: range)
  for _ in 0..<20 {
    let again = try readMappings(overlapping: range)
    if again.elementsEqual(last, by: { $0 == $1 }) { return again }
    last = again
  }
  return last
}

private func readMappings(overlapping range: Range<UInt64>) throws -> [(UInt64, UInt64, String)] {
  let text = try String(contentsOfFile: "/proc/self/maps", encoding: .utf8)
  var found: [(UInt64, UInt64, String)] = []
  for line in text.split(separator: "\n") {
    let fields = line.split(separator: " ", omittingEmptySubsequences: true)
    let bounds = fields[0].split(separator: "-")
    guard bounds.count == 2, fields.count > 1, let start = UInt64(bounds[0], radix: 16),
      let end = UInt64(bounds[1], radix: 16)
    else {
      continue
    }
    if start < range.upperBound && end > range.lowerBound {
      found.append((start, end, String(fields[1])))
    }
  }
  return found
}

/// Links `paths` against the host into `regions`.
func link(_ paths: [String], regions: [ModuleRegion]) throws -> LoadedModule {
  var options = LinkOptions(providers: [try HostSymbolProvider(libraries: [])])
  options.regions = regions
  return try ModuleLinker(options: options).link(paths.map { try LinkInput.read($0) })
}

/// An address of the C library's data (what default-PIE modules reach PC-relatively).
func libcDataAddress() -> UInt64 {
  unsafe UInt64(UInt(bitPattern: dlsym(UnsafeMutableRawPointer(bitPattern: 0), "stdout")))
}

/// A -fno-pic object whose 32-bit absolute references (R_X86_64_32S) need it below 2 GiB.
let lowSource = """
  #include <string.h>
  static int table[4] = {1, 2, 3, 4};
  __attribute__((noinline)) int get(int i) { return table[i]; }
  int main(int argc, char **argv) { return get(argc + 1) + (int)strlen("abc"); }
  """

@Suite("Module regions", .serialized)
struct ModuleRegionTests {
  static func expectInside(_ module: LoadedModule, _ region: ModuleRegion) {
    #expect(region.range.contains(module.baseAddress))
    #expect(module.baseAddress + UInt64(module.size) <= region.range.upperBound)
  }

  @Test("a default-PIE object goes in a region near the host's data, and runs")
  func pie() throws {
    let path = try compileC(
      """
      #include <stdio.h>
      int main(void) { return fileno(stdout) + 40; }
      """)
    let region = try ModuleRegion(reserving: 64 << 20, near: libcDataAddress())
    let module = try link([path], regions: [region])
    Self.expectInside(module, region)
    #expect(module.callMain("main", arguments: ["m"]) == 41)
  }

  @Test("a -fPIC object goes in a region anywhere, and runs")
  func pic() throws {
    let path = try compileC(
      """
      #include <stdlib.h>
      static int values[] = {5, 6, 7};
      int *pick = &values[2];
      int main(void) { return *pick + abs(-35); }
      """, flags: "-O2 -fPIC")
    let region = try ModuleRegion(reserving: 16 << 20)
    let module = try link([path], regions: [region])
    Self.expectInside(module, region)
    #expect(module.callMain("main", arguments: ["m"]) == 42)
  }

  @Test("a -fno-pic object goes in the region below 2 GiB, not in the one above")
  func lowObject() throws {
    let path = try compileC(lowSource, flags: "-O2 -fno-pic")
    let object = try ObjectFile(path: path)
    #expect(
      object.relocationSections.contains { $0.entries.contains { $0.type == 11 } },
      "no R_X86_64_32S: the object does not need low placement")
    let high = try ModuleRegion(reserving: 16 << 20, within: (1 << 32)...0x7fff_0000_0000)
    let low = try ModuleRegion(reserving: 16 << 20, within: 0x10000...0x7fff_ffff)
    let module = try link([path], regions: [high, low])
    Self.expectInside(module, low)
    #expect(module.baseAddress + UInt64(module.size) <= 1 << 31)
    #expect(module.callMain("main", arguments: ["m"]) == 6)
  }

  @Test("a dropped module's range is reserved again (PROT_NONE), not unmapped, and reused")
  func releaseReReserves() throws {
    let path = try compileC("int main(void) { return 7; }", flags: "-O2 -fPIC")
    let region = try ModuleRegion(reserving: 4 << 20)
    let before = region.freeBytes
    var module: LoadedModule? = try link([path], regions: [region])
    let range = module!.baseAddress..<(module!.baseAddress + UInt64(module!.size))
    #expect(region.freeBytes == before - UInt64(range.count))
    #expect(try mappings(overlapping: range).contains { $0.2.hasPrefix("r-x") })
    module = nil
    let after = try mappings(overlapping: range)
    #expect(!after.isEmpty, "the range was unmapped")
    for (start, end, perms) in after {
      #expect(perms == "---p", "\(hex(start))-\(hex(end)) is \(perms), not reserved")
    }
    if let low = after.map(\.0).min(), let high = after.map(\.1).max() {
      #expect(low <= range.lowerBound && high >= range.upperBound)
    }
    #expect(region.freeBytes == before)
    let again = try link([path], regions: [region])
    #expect(again.baseAddress == range.lowerBound)
    #expect(again.callMain("main", arguments: []) == 7)
  }

  @Test("a check plans the module inside the regions and gives the range back")
  func check() throws {
    let path = try compileC("int data[100]; int main(void) { return data[3]; }", flags: "-O2 -fPIC")
    let region = try ModuleRegion(reserving: 4 << 20)
    var options = LinkOptions(providers: [try HostSymbolProvider(libraries: [])])
    options.regions = [region]
    options.entry = "main"
    let report = ModuleLinker(options: options).check([try LinkInput.read(path)])
    #expect(report.isLinkable, "\(report.problems)")
    #expect(!report.placements.isEmpty)
    for placement in report.placements {
      #expect(
        region.range.contains(placement.address), "\(placement.name) at \(hex(placement.address))")
    }
    #expect(region.range.contains(report.entryAddress ?? 0))
    #expect(region.freeBytes == UInt64(region.range.count))
  }

  @Test("a full region is a clear error")
  func exhaustion() throws {
    let path = try compileC(
      "char big[1 << 20]; int main(void) { return big[12345]; }", flags: "-O2 -fPIC")
    let region = try ModuleRegion(reserving: 256 << 10)
    let error = #expect(throws: LinkError.self) { try link([path], regions: [region]) }
    #expect(error?.code == .unplaceable)
    #expect(
      error?.message
        == "no room for the module's 0x103000 bytes in the module regions \(Self.label(region)): "
        + "0x40000 bytes are free, not in one piece large enough")
  }

  @Test("an object that must sit below 2 GiB fails clearly in regions above it")
  func lowObjectInHighRegion() throws {
    let path = try compileC(lowSource, flags: "-O2 -fno-pic")
    let region = try ModuleRegion(reserving: 16 << 20, within: (1 << 32)...0x7fff_0000_0000)
    let error = #expect(throws: LinkError.self) { try link([path], regions: [region]) }
    #expect(error?.code == .unplaceable)
    let message = error?.message ?? ""
    #expect(
      message.hasPrefix("no room for the module's ")
        && message.contains(
          "in the module regions \(Self.label(region)): none lies below 2 GiB, where R_X86_64_32S at "
        ) && message.hasSuffix("need it; recompile with -fPIC"), "\(message)")
  }

  @Test("a default-PIE object naming host data fails clearly in a region out of its reach")
  func unreachableData() throws {
    let path = try compileC(
      """
      #include <stdio.h>
      int main(void) { return fileno(stdout); }
      """)
    let region = try ModuleRegion(reserving: 16 << 20, within: 0x10000...0x7fff_ffff)
    #expect(libcDataAddress() > 1 << 33, "the host's data is low: the test proves nothing")
    let error = #expect(throws: LinkError.self) { try link([path], regions: [region]) }
    #expect(error?.code == .unplaceable)
    #expect(
      error?.message.contains(
        "none lies within ±2 GiB of 'stdout' at 0x") == true, "\(error?.message ?? "")")
  }

  @Test("modules linked at once on several threads get disjoint ranges of one region")
  func concurrentLinks() throws {
    let path = try compileC("int main(void) { return 3; }", flags: "-O2 -fPIC")
    let region = try ModuleRegion(reserving: 8 << 20)
    let input = try LinkInput.read(path)
    let host = try HostSymbolProvider(libraries: [])
    nonisolated(unsafe) var modules = [LoadedModule?](repeating: nil, count: 8)
    let lock = NSLock()
    DispatchQueue.concurrentPerform(iterations: 8) { i in
      var options = LinkOptions(providers: [host])
      options.regions = [region]
      let module = try? ModuleLinker(options: options).link([input])
      lock.lock()
      unsafe modules[i] = module
      lock.unlock()
    }
    let linked = unsafe modules.compactMap { $0 }
    #expect(linked.count == 8)
    let ranges = linked.map { $0.baseAddress..<($0.baseAddress + UInt64($0.size)) }.sorted {
      $0.lowerBound < $1.lowerBound
    }
    for (a, b) in zip(ranges, ranges.dropFirst()) { #expect(a.upperBound <= b.lowerBound) }
    for module in linked {
      Self.expectInside(module, region)
      #expect(module.callMain("main", arguments: []) == 3)
    }
  }

  static func label(_ region: ModuleRegion) -> String {
    "[\(hex(region.range.lowerBound)), \(hex(region.range.upperBound)))"
  }
}
