import LKMDevice
import LKMHostMount
import LKMToolSupport

// lkmctl mount --host DIR FSTYPE PATH: the kernel mount, then its server (lkm-mount) mounting
// DIR through FUSE; and what lkmctl umount does to the host mounts of a path it unmounts.

/// Mounts `fstype` on `path` in the kernel and `path` on the host directory `host`; if the
/// host mount cannot be made, the kernel mount is undone and lkmctl fails with
/// `lkmctl: HOST: why`, exit 1.
func mountOnHost(_ device: DeviceOption, host: String, fstype: String, path: String) {
  let devicePath = DeviceClient.defaultPath(device.device)
  let directory: String
  switch system_hostDirectory(host) {
  case .success(let path): directory = path
  case .failure(let error): BSD.err(1, host, error.text)
  }
  if HostMounts.mountType(at: directory) != nil {
    BSD.errx(1, "\(host): already a mount point on the host")
  }
  let client = process(device)
  system(client, path) { k throws(SyscallError) in try k.mount(fstype, path) }
  do {
    try HostMounts.start(
      device: devicePath, hostDirectory: directory, kernelPath: path, fileSystem: fstype)
  } catch {
    _ = try? client.unmount(path)
    BSD.errx(1, "\(host): \(error.message)")
  }
}

/// Ends the host mounts of the kernel path `path` (after it was unmounted in the kernel):
/// their servers unmount the host directories before lkmctl returns.
func endHostMounts(_ device: DeviceOption, kernelPath path: String) {
  let devicePath = DeviceClient.defaultPath(device.device)
  HostMounts.endAll(device: devicePath, wait: 5) { !$0.isDevices && $0.kernelPath == path }
}

/// `, on the host at DIR` for each host mount of `path`.
func hostMountNote(_ device: DeviceOption, kernelPath path: String) -> String {
  let devicePath = DeviceClient.defaultPath(device.device)
  return HostMounts.records(device: devicePath)
    .filter { !$0.isDevices && $0.kernelPath == path && HostMounts.serverAlive($0.pid) }
    .map { ", on the host at \($0.hostDirectory)" }.joined()
}
