// The libFuzzer target: ObjectFile/Archive parsing and ModuleLinker linking, in process, link
// only. Built only by scripts/fuzz-libfuzzer (LKM_LIBFUZZER=1 adds this target to the package,
// with -sanitize=fuzzer,address); libFuzzer supplies main.
import ELFObject
import ModuleLinker

/// The host C library as a provider, made once (it reads /proc/self/maps).
nonisolated(unsafe) let host: HostSymbolProvider? = try? HostSymbolProvider()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  let bytes = FileBytes(Array(UnsafeBufferPointer(start: data, count: size)), name: "fuzz.o")
  let input: LinkInput
  do {
    if Archive.isArchive(bytes) {
      input = .archive(try Archive(bytes: bytes))
    } else {
      input = .object(try ObjectFile(bytes: bytes, offset: 0, count: bytes.count, name: "fuzz.o"))
    }
  } catch {
    return 0
  }
  var options = LinkOptions(providers: host.map { [$0] } ?? [])
  // Undefined symbols stay 0, so that relocation code runs for any input; resolvers never run.
  options.allowUndefined = true
  options.callResolver = { _ in nil }
  if case .archive(let archive) = input {
    // An archive alone pulls nothing: start from its first defined symbol.
    options.entry = archive.symbolIndex.keys.min()
  }
  _ = try? ModuleLinker(options: options).link([input])
  return 0
}

/// libFuzzer's driver (compiler-rt's FuzzerDriver.cpp).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
  _ argc: UnsafeMutablePointer<Int32>,
  _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
  _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32
) -> Int32

/// SwiftPM links an executable's entry under this name (and aliases main to it): hand over to
/// libFuzzer's driver.
@_cdecl("lkm_libfuzzer_main")
public func lkmLibFuzzerMain(
  _ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
  var count = argc
  var arguments = argv
  return withUnsafeMutablePointer(to: &arguments) { a in
    LLVMFuzzerRunDriver(&count, a, { fuzzOneInput($0, $1) })
  }
}
