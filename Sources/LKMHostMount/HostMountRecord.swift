internal import Glibc

/// One host mount, as its server (lkm-mount) records it next to the device, in
/// `host-mounts/PID`: whoever finds the record later (lkmctl umount, lkmd stopping, a kernel
/// reboot, the next lkmd after one that was killed) can end the server and unmount the host
/// directory.
public struct HostMountRecord: Sendable, Equatable {
  /// The server's process id.
  public var pid: Int32
  /// The host directory FUSE mounts (absolute).
  public var hostDirectory: String
  /// The kernel's directory it shows (`/mem`, `/dev`).
  public var kernelPath: String
  /// The file system type mounted on `kernelPath` in the kernel, or `dev` for the kernel's
  /// /dev (which belongs to no mount and survives kernel reboots).
  public var fileSystem: String
  /// The record's file.
  public var file: String = ""

  public init(pid: Int32, hostDirectory: String, kernelPath: String, fileSystem: String) {
    self.pid = pid
    self.hostDirectory = hostDirectory
    self.kernelPath = kernelPath
    self.fileSystem = fileSystem
  }

  /// Whether this is the export of the kernel's /dev (`lkmd --host-dev`).
  public var isDevices: Bool { fileSystem == "dev" }

  /// `key=value` lines.
  var text: String {
    "pid=\(pid)\nhost=\(hostDirectory)\nkernel=\(kernelPath)\ntype=\(fileSystem)\n"
  }

  /// Parses `text`; nil if a field is missing.
  init?(parsing text: String, file: String) {
    var fields: [Substring: Substring] = [:]
    for line in text.split(separator: "\n") {
      guard let eq = line.firstIndex(of: "=") else { continue }
      fields[line[..<eq]] = line[line.index(after: eq)...]
    }
    guard let pid = fields["pid"].flatMap({ Int32($0) }), let host = fields["host"],
      let kernel = fields["kernel"], let type = fields["type"]
    else { return nil }
    self.init(
      pid: pid, hostDirectory: String(host), kernelPath: String(kernel), fileSystem: String(type))
    self.file = file
  }
}
