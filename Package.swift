// swift-tools-version: 6.2
import PackageDescription

// Settings every Swift target shares (see ../shared/STYLE.md §3). Strict memory safety: every
// use of an unsafe construct carries an `unsafe` mark, and scripts/check-unsafe keeps the marks
// in the places scripts/unsafe-places lists.
let settings: [SwiftSetting] = [
  .strictMemorySafety(), .treatWarning("StrictMemorySafety", as: .error),
  .enableUpcomingFeature("InternalImportsByDefault"),
  .enableUpcomingFeature("MemberImportVisibility"),
  // Concrete type metadata through accessor functions, not mangled names: the first use of
  // each type in a process (an Array's storage class, a Dictionary's) then costs a call
  // instead of the runtime's demangling (about 10,000 instructions a type: 1.0 M of a cold
  // link of SQLite).
  .unsafeFlags(["-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors"]),
]

// The tools' linking: the Swift runtime linked in (-static-stdlib), as lkmrun and
// lkm-sandbox-child do, so that a start loads and relocates no libswiftCore.so,
// libFoundationEssentials.so or libdispatch.so: start-up is most of a modstat or an lkmctl.
// libstdc++ is linked in too (`staticLibstdcxx`): the runtime's -lstdc++ finds the linker
// script Sources/StaticLibstdcxx/libstdc++.so first, which names libstdc++.a, so that a start
// does not load libstdc++.so.6 (its 1,600 symbol lookups and constructors were a third of
// lkmrun's start-up); the runtime's --exclude-libs ALL keeps its symbols hidden.
let staticLibstdcxx = "-L\(Context.packageDirectory)/Sources/StaticLibstdcxx"
let toolLinking: [LinkerSetting] = [.unsafeFlags(["-static-stdlib", staticLibstdcxx])]
// lkmctl and lkmd keep ArgumentParser, which imports FoundationEssentials: linked in too, with
// the two libraries it needs that its archive does not name.
let parserToolLinking: [LinkerSetting] = [
  .unsafeFlags([
    "-static-stdlib", staticLibstdcxx, "-Xlinker", "-l_FoundationCollections", "-Xlinker",
    "-l_FoundationCShims",
  ])
]

let package = Package(
  name: "lkm",
  platforms: [.macOS(.v15)],
  products: [
    .library(name: "ModuleLinker", targets: ["ModuleLinker"]),
    .executable(name: "lkmrun", targets: ["lkmrun"]),
    .executable(name: "lkmrun-cxx", targets: ["lkmrun-cxx"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
  ],
  targets: [
    // libelf through a system library target: only ELFObject imports it.
    .systemLibrary(
      name: "CLibELF", pkgConfig: "libelf", providers: [.apt(["libelf-dev"])]),
    // elfutils' libdw (and libdwfl) headers through a system library target: only CDebugInfo
    // includes it, and opens libdw.so.1 with dlopen on first need (not linked: it would be
    // loaded at every start of every tool).
    .systemLibrary(name: "CLibDW"),
    // What debuggers, profilers and oopses need of module code: GDB's JIT interface
    // (__jit_debug_descriptor, kept in every executable that links it), source lines from a
    // module's DWARF (libdw) and a call-frame unwinder over .eh_frame that reads memory only
    // through its caller.
    .target(name: "CDebugInfo", dependencies: ["CLibDW"]),
    // The memory the kernel process shares with its supervisor: the message buffer (it
    // survives kernel reboots) and the kernel's status, for crash reports.
    .target(name: "CMsgbuf"),
    // The C half of the kernel: functions modules call, guarded calls, kernel tables.
    .target(name: "CLKM", dependencies: ["CMsgbuf", "CDebugInfo"], exclude: ["kernel"]),
    // The small helpers every layer shares (hex, the monotonic clock): no dependencies.
    .target(name: "LKMBase", swiftSettings: settings),
    .target(name: "ELFObject", dependencies: ["CLibELF", "LKMBase"], swiftSettings: settings),
    // dladdr1 for ModuleLinker's Image/ (the sizes and types of host symbols).
    .target(name: "CHostSymbols"),
    .target(
      name: "ModuleLinker", dependencies: ["ELFObject", "CHostSymbols", "LKMBase"],
      swiftSettings: settings),
    // A linked module made visible to gdb (its objects registered through the JIT interface),
    // perf (a /tmp/perf-PID.map) and symbolizers (file:line from its DWARF): lkm-kernel and
    // lkmrun.
    .target(
      name: "ModuleDebugInfo", dependencies: ["ModuleLinker", "ELFObject", "CDebugInfo"],
      swiftSettings: settings),
    // What the kernel's interface speaks: errno values, module status, requests, replies and
    // the framing that carries them. No dependencies: tools and the supervisor use it without
    // linking the kernel.
    .target(name: "LKMInterface", dependencies: ["LKMBase"], swiftSettings: settings),
    // The C++ runtime's demangler, for LKMKernel's messages about C++ modules.
    .target(name: "CDemangle", linkerSettings: [.linkedLibrary("stdc++")]),
    .target(
      name: "LKMKernel",
      dependencies: [
        "ModuleLinker", "ELFObject", "CLKM", "CSandbox", "LKMInterface", "CDemangle",
        "ModuleDebugInfo",
        "LKMBase",
      ],
      swiftSettings: settings),
    // A tool's side of the device: the socket and the session.
    .target(name: "LKMDevice", dependencies: ["LKMInterface"], swiftSettings: settings),
    // libseccomp through a system library target: only CSandbox includes it.
    .systemLibrary(
      name: "CSeccomp", pkgConfig: "libseccomp", providers: [.apt(["libseccomp-dev"])]),
    // The sandbox child's filter, limits and the parent's process plumbing (variadic prctl,
    // libseccomp's rules, posix_spawn with exact descriptors, memfd, pidfd, waitid).
    .target(name: "CSandbox", dependencies: ["CSeccomp"]),
    // lkm-sandbox-child's allocation forwarders (out-of-memory detection); nothing else links it.
    .target(name: "CSandboxChild"),
    // The sandbox's parent side (and the process plumbing the supervisor shares with it).
    .target(
      name: "LKMSandbox", dependencies: ["LKMInterface", "CSandbox", "LKMBase"],
      swiftSettings: settings),
    // The sandbox's child side: an embedded kernel in a filtered fork server.
    .target(
      name: "LKMSandboxChild",
      dependencies: [
        "LKMSandbox", "LKMKernel", "LKMInterface", "ModuleLinker", "ELFObject", "CSandbox",
        "LKMBase",
      ],
      swiftSettings: settings),
    .executableTarget(
      name: "lkm-sandbox-child", dependencies: ["CArguments", "LKMSandboxChild", "CSandboxChild"],
      swiftSettings: settings,
      // The Swift runtime and libstdc++ linked in: fewer mappings and dynamic relocations, so
      // that each fork and each child's read of /proc/self/maps costs less.
      // Full RELRO (-z now): the GOT is read-only before any module runs, so that a module
      // writing at random near the kernel faults instead of corrupting lazy binding.
      linkerSettings: [
        .unsafeFlags(["-static-stdlib", staticLibstdcxx, "-Xlinker", "-z", "-Xlinker", "now"])
      ]),
    .executableTarget(
      name: "modfuzz",
      dependencies: [
        "CArguments",
        "LKMSandbox", "LKMInterface", "ELFObject",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: settings),
    // lkmd's supervisor: the device, sessions, policy, the kernel process and its reboots.
    // It never maps module code.
    .target(
      name: "LKMSupervisor",
      dependencies: [
        "LKMInterface", "LKMDevice", "LKMSandbox", "CSandbox", "CMsgbuf", "LKMHostMount", "LKMBase",
      ],
      swiftSettings: settings),
    .executableTarget(
      name: "lkmd",
      dependencies: [
        "CArguments",
        "LKMSupervisor", "LKMInterface", "ModuleLinker", "LKMBase",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: settings, linkerSettings: parserToolLinking),
    // The kernel process lkmd starts (and restarts): the kernel, confined, serving the
    // supervisor over a socket pair.
    .executableTarget(
      name: "lkm-kernel",
      dependencies: ["CArguments", "LKMKernel", "LKMInterface", "ModuleLinker", "CSandbox"],
      swiftSettings: settings,
      // Full RELRO: modules cannot rewrite the kernel's GOT.
      linkerSettings: [.unsafeFlags(["-Xlinker", "-z", "-Xlinker", "now"])]),
    // libfuse 3 through a system library target: only CHostMount includes it.
    .systemLibrary(name: "CFuse3", pkgConfig: "fuse3", providers: [.apt(["libfuse3-dev"])]),
    // The FUSE file system of host mounts (libfuse's high-level API): FUSE operations as the
    // kernel's system calls through a transport its caller supplies, OpenBSD's structures and
    // numbers converted at the boundary.
    .target(name: "CHostMount", dependencies: ["CFuse3"]),
    // Host mounts outside their server: lkm-mount started and ended, its records next to the
    // device, stale host mounts cleaned up (lkmctl, lkmd).
    .target(name: "LKMHostMount", dependencies: ["LKMBase"], swiftSettings: settings),
    // The FUSE server of a host mount (lkmctl mount --host, lkmd --host-dev): a userland
    // process of the kernel, its sessions the transport of CHostMount.
    .executableTarget(
      name: "lkm-mount",
      dependencies: [
        "CArguments",
        "CHostMount", "LKMHostMount", "LKMDevice", "LKMInterface",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: settings),
    // The OpenBSD tools' err(3)/errx(3), usage and modstat's columns. Not ArgumentParser: it
    // imports FoundationEssentials, and modload, modunload and modstat parse as getopt does.
    .target(
      name: "LKMToolSupport", dependencies: ["LKMInterface", "LKMDevice"], swiftSettings: settings),
    // modload's library: a load up to the device (inputs read and parsed, the entry, the offline
    // check against a symbol file, the sandbox's trial, the output files), as libkmod is insmod's.
    .target(
      name: "LKMLoader",
      dependencies: ["LKMKernel", "LKMSandbox", "LKMInterface", "ModuleLinker", "ELFObject"],
      swiftSettings: settings),
    .executableTarget(
      name: "modload",
      dependencies: [
        "CArguments",
        "LKMDevice", "LKMInterface", "LKMKernel", "LKMLoader", "LKMToolSupport", "LKMBase",
      ],
      swiftSettings: settings, linkerSettings: toolLinking),
    .executableTarget(
      name: "modunload",
      dependencies: ["CArguments", "LKMDevice", "LKMInterface", "LKMToolSupport"],
      swiftSettings: settings, linkerSettings: toolLinking),
    .executableTarget(
      name: "modstat", dependencies: ["CArguments", "LKMDevice", "LKMInterface", "LKMToolSupport"],
      swiftSettings: settings, linkerSettings: toolLinking),
    .executableTarget(
      name: "lkmctl",
      dependencies: [
        "CArguments",
        "LKMDevice", "LKMInterface", "LKMToolSupport", "LKMKernel", "ELFObject", "ModuleLinker",
        "LKMHostMount", "LKMLoader",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: settings, linkerSettings: parserToolLinking),
    // lkmrun's copies of the C library's data objects (see hostdata.c), and lkmrun-cxx's of
    // libstdc++'s.
    // Swift's CommandLine from what glibc passes an executable's constructors, instead of the
    // runtime's search of /proc/self/maps at every start (arguments.c): executables only.
    .target(name: "CArguments"),
    .target(name: "CLkmrunHost"),
    .target(name: "CLkmrunHostCxx", dependencies: ["CLkmrunHost"]),
    // lkmrun's whole logic, for its two executables.
    .target(
      name: "LkmRunner",
      dependencies: [
        "ModuleLinker", "ELFObject", "CLkmrunHost", "ModuleDebugInfo", "CDemangle", "LKMBase",
      ],
      swiftSettings: settings),
    // Not position-independent: lkmrun sits low, with its copies of libc's data, so that
    // modules compiled -fno-pic or -mcmodel=kernel reach both. The Swift runtime linked in
    // (nothing of Foundation is in lkmrun's closure), and libstdc++ too (`staticLibstdcxx`):
    // start-up is most of a small run. A run with
    // -l stdc++ is handed over to lkmrun-cxx, which has libstdc++.so.6 and copies of its data.
    .executableTarget(
      name: "lkmrun", dependencies: ["CArguments", "LkmRunner"], swiftSettings: settings,
      linkerSettings: [
        .unsafeFlags(["-Xclang-linker", "-no-pie", "-static-stdlib", staticLibstdcxx])
      ]),
    .executableTarget(
      name: "lkmrun-cxx", dependencies: ["CArguments", "LkmRunner", "CLkmrunHostCxx"],
      swiftSettings: settings,
      linkerSettings: [.unsafeFlags(["-Xclang-linker", "-no-pie", "-static-stdlib"])]),
    .executableTarget(
      name: "lkmbench",
      dependencies: [
        "CArguments",
        "ModuleLinker", "LKMBase",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: settings),
    // What every test target shares: processes, an lkmd on a temporary device, the fixture
    // compiler, a raw device client (the product's codec), the corpora's expected.tsv files.
    .target(
      name: "TestSupport", dependencies: ["LKMInterface", "LKMDevice"], path: "Tests/TestSupport",
      swiftSettings: settings),
    .testTarget(
      name: "ELFObjectTests", dependencies: ["ELFObject", "TestSupport"], swiftSettings: settings),
    .testTarget(
      name: "ModuleLinkerTests",
      dependencies: ["ModuleLinker", "ELFObject", "LKMBase", "TestSupport"],
      swiftSettings: settings),
    .testTarget(
      name: "SandboxTests", dependencies: ["LKMSandbox", "LKMInterface", "TestSupport"],
      swiftSettings: settings),
    .testTarget(
      name: "ToolTests", dependencies: ["LKMInterface", "TestSupport"], swiftSettings: settings),
    // The device's messages: what decoders accept and refuse, and the pure parts of replies.
    .testTarget(name: "InterfaceTests", dependencies: ["LKMInterface"], swiftSettings: settings),
    // A tool's side of the device, in process: the client against a socket the test serves.
    .testTarget(
      name: "LKMDeviceTests", dependencies: ["LKMDevice", "LKMInterface", "TestSupport"],
      swiftSettings: settings),
    // The kernel's rules that need no process, called directly.
    .testTarget(
      name: "LKMKernelTests",
      dependencies: ["LKMKernel", "LKMSupervisor", "LKMInterface", "TestSupport"],
      swiftSettings: settings),
  ]
)

// The libFuzzer target (scripts/fuzz-libfuzzer): only with LKM_LIBFUZZER=1, because libFuzzer
// supplies its main and the target needs -sanitize=fuzzer to link.
if Context.environment["LKM_LIBFUZZER"] == "1" {
  package.targets.append(
    .executableTarget(
      name: "lkm-libfuzzer", dependencies: ["ELFObject", "ModuleLinker"],
      swiftSettings: settings + [.unsafeFlags(["-parse-as-library"])]))
}
