// Modules' thread-local storage in the kernel: the static reservation of kern_tls.c, and the
// initializer that hands each module's initial values to it (every kernel thread copies them
// in when it next enters module code).
internal import CLKM
import ModuleLinker

/// Gives kern_tls.c a module's initial thread-local values.
struct KernelTLSInitializer: StaticTLSInitializer {
  func install(threadPointerOffset: Int, image: [UInt8], zeros: Int) -> Bool {
    unsafe image.withUnsafeBytes { bytes in
      unsafe clkm_tls_install(threadPointerOffset, bytes.baseAddress, bytes.count, zeros) == 0
    }
  }

  func release(threadPointerOffset: Int) { clkm_tls_release(threadPointerOffset) }
}

extension Bridge {
  /// The kernel's static TLS reservation (`CLKM_TLS_RESERVE` bytes of the kernel's own TLS
  /// block), shared by every module.
  static let threadLocalStorage = unsafe StaticTLS(
    address: UInt(bitPattern: clkm_tls_reserve_address()), size: Int(CLKM_TLS_RESERVE),
    alignment: Int(CLKM_TLS_ALIGNMENT), initializer: KernelTLSInitializer())
}
