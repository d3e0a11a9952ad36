public import ELFObject

/// A cache of linked images on disk, like prelink's or dyld's closures: a load that hits maps
/// the laid-out, relocated image and patches only what depends on where it is.
///
/// **Keys.** An entry is found by a hash of what a link depends on: the inputs' bytes (for a
/// mapped file, its hash is remembered by device, inode, size and times once the file is more
/// than two seconds old, so an unchanged file is not read again), each provider's
/// ``SymbolProvider/cacheIdentity`` (the host libraries' GNU build IDs), the link options that
/// change the image (``LinkOptions/allowUndefined``, ``LinkOptions/entry``,
/// ``LinkOptions/callBinding``, whether ``LinkOptions/regions`` are used, whether there is a
/// ``LinkOptions/threadLocalStorage`` reservation), the names of the
/// ``LinkOptions/runtimeArchives`` and the linker's own build ID. A runtime archive the link
/// read (libgcc.a) is not in the key, which would mean finding it on every link: the entry
/// records its file's device, inode, size and times (in nanoseconds), and a hit whose file is
/// not that file any more is a miss.
///
/// **What is stored.** The image after relocation and before anything runs, and what a load
/// redoes: every fixup whose value depends on the base or on an external's address, the GOT
/// slots, thunks and `__dso_handle` that hold such addresses, the stub candidates (each decided
/// again at the new base: a stub is written only where the target is out of reach, as a fresh
/// link does), the IFUNC resolvers to run and the host objects to copy. A hit looks every
/// external up again: one that now comes from another provider, or is of another kind or size,
/// makes the entry a miss, as does anything that no longer fits. A cached image is byte for
/// byte what a fresh link at the same address makes.
///
/// **Files.** One file per entry, `KEY.lkmimg` (a header, the metadata, then the image at a page
/// boundary, its long runs of zeros left as holes), mapped copy-on-write where the file system
/// allows executable mappings and read into fresh memory where it does not (`noexec`). Writers
/// write a temporary file and rename it, so concurrent writers are safe and readers never see a
/// partial entry. After each store the least recently used entries go until the directory is
/// within ``sizeLimit``. The directory must be its owner's alone.
public final class ImageCache: @unchecked Sendable {
  /// Where the entries are.
  public let directory: String
  /// The most disk space the entries may take, in bytes.
  public let sizeLimit: Int
  /// Whether entries are mapped (else read: the directory is on a `noexec` mount, or
  /// `anonymousImages` was asked for).
  let mapsFiles: Bool

  /// 256 MiB.
  public static let defaultSizeLimit = 256 << 20

  /// Uses (and makes, mode 0700) `directory`. With `anonymousImages`, a hit reads the image
  /// into fresh anonymous memory instead of mapping the entry's file, as on a `noexec` file
  /// system: perf attributes samples to /tmp/perf-PID.map only in anonymous memory (in a
  /// mapped file it looks for the file's own symbols).
  ///
  /// - Throws: ``LinkError`` when the directory cannot be made, is not a directory, belongs to
  ///   another user or is writable by others.
  public init(
    directory: String, sizeLimit: Int = ImageCache.defaultSizeLimit, anonymousImages: Bool = false
  ) throws(LinkError) {
    try CacheFiles.prepareDirectory(directory)
    self.directory = directory
    self.sizeLimit = sizeLimit
    self.mapsFiles = !anonymousImages && !CacheFiles.isNoExec(directory)
  }

  /// The directory a tool uses by default: `$XDG_CACHE_HOME/lkm`, else `$HOME/.cache/lkm`.
  public static var standardDirectory: String? {
    if let xdg = CacheFiles.environment("XDG_CACHE_HOME"), xdg.hasPrefix("/") {
      return xdg + "/lkm"
    }
    if let home = CacheFiles.environment("HOME"), home.hasPrefix("/") {
      return home + "/.cache/lkm"
    }
    return nil
  }

  /// Whether `LKM_NO_CACHE` turns caching off (any value but empty and `0`).
  public static var disabledByEnvironment: Bool {
    guard let value = CacheFiles.environment("LKM_NO_CACHE") else { return false }
    return !value.isEmpty && value != "0"
  }

  /// The cache a tool uses unless told otherwise: in ``standardDirectory``, or nil when
  /// `LKM_NO_CACHE` is set or the directory cannot be used.
  public static func standard(anonymousImages: Bool = false) -> ImageCache? {
    guard !disabledByEnvironment, let directory = standardDirectory else { return nil }
    return try? ImageCache(directory: directory, anonymousImages: anonymousImages)
  }

  /// Removes every entry.
  public func removeAll() { CacheFiles.removeAll(directory) }

  func entryPath(_ key: ContentHash) -> String { directory + "/" + key.hex + ".lkmimg" }
}

/// What the cache did for one link.
public enum CacheOutcome: Sendable, Equatable {
  /// The image came from the cache: nothing was linked.
  case hit
  /// Linked and stored; `missed` says why there was no hit (no entry, or why one was refused).
  case stored(missed: String)
  /// Linked and not stored: `missed` says why there was no hit, `reason` why nothing was
  /// stored.
  case notStored(missed: String, reason: String)

  /// Whether the image came from the cache.
  public var isHit: Bool { self == .hit }
}

extension ImageCache {
  /// The key of a link of inputs with these hashes (each with its kind: 1 object, 2 archive).
  func key(_ inputs: [(kind: UInt8, hash: ContentHash)], _ options: LinkOptions) -> ContentHash {
    var w = ByteWriter()
    w.u64(CacheEntry.magic)
    w.string(CacheFiles.linkerIdentity)
    w.bool(options.allowUndefined)
    w.optionalString(options.entry)
    w.bool(!options.regions.isEmpty)
    w.bool(options.effectiveCallBinding == .throughStubs)
    // With a reservation, __tls_get_addr is the linker's. A module with thread-local storage is
    // never stored, so the reservation's place does not matter.
    w.bool(options.threadLocalStorage != nil)
    w.u32(UInt32(options.providers.count))
    for provider in options.providers { w.string(provider.cacheIdentity) }
    w.u32(UInt32(options.runtimeArchives.count))
    for archive in options.runtimeArchives { w.string(archive.name) }
    w.u32(UInt32(inputs.count))
    for (kind, hash) in inputs {
      w.u8(kind)
      w.u64(hash.high)
      w.u64(hash.low)
    }
    return ContentHash(w.bytes)
  }

  /// The hash of the bytes `range` of `bytes`: for a whole mapped file, remembered by the
  /// file's identity once the file has not changed for two seconds (a change within the same
  /// tick of the kernel's clock could otherwise keep its times).
  func contentHash(_ bytes: FileBytes, _ range: Range<Int>) -> ContentHash {
    guard range == 0..<bytes.count, let identity = bytes.identity else {
      return bytes.contentHash(range)
    }
    var w = ByteWriter()
    w.u64(identity.device)
    w.u64(identity.inode)
    w.u64(UInt64(bitPattern: identity.size))
    w.u64(UInt64(bitPattern: identity.modified))
    w.u64(UInt64(bitPattern: identity.changed))
    let path = directory + "/" + ContentHash(w.bytes).hex + ".id"
    if let known = CacheFiles.readSmall(path, limit: 64), known.count == w.bytes.count + 16,
      Array(known[0..<w.bytes.count]) == w.bytes
    {
      let value = unsafe known.withUnsafeBytes { raw in
        unsafe (
          raw.loadUnaligned(fromByteOffset: w.bytes.count, as: UInt64.self),
          raw.loadUnaligned(fromByteOffset: w.bytes.count + 8, as: UInt64.self)
        )
      }
      return ContentHash(high: UInt64(littleEndian: value.0), low: UInt64(littleEndian: value.1))
    }
    let hash = bytes.contentHash()
    let settled = CacheFiles.now() - 2_000_000_000
    if identity.changed < settled && identity.modified < settled,
      FileIdentity.of(bytes.name) == identity
    {
      var record = w
      record.u64(hash.high)
      record.u64(hash.low)
      try? CacheFiles.writeSmall(path, record.bytes, directory: directory)
    }
    return hash
  }

  /// The hashes of link inputs.
  func inputHashes(_ inputs: [LinkInput]) -> [(kind: UInt8, hash: ContentHash)] {
    inputs.map { input in
      switch input {
      case .object(let object): (1, contentHash(object.bytes, object.byteRange))
      case .archive(let archive): (2, contentHash(archive.bytes, 0..<archive.bytes.count))
      }
    }
  }

  /// Stores the entry of a fresh link under `key`; what went wrong if it could not.
  func store(
    _ key: ContentHash, _ record: CacheRecord, _ image: borrowing MappedImage
  ) -> String? {
    let meta = record.entry.encode(
      tables: record.tables, fixups: record.fixups, fixupCount: record.fixupCount)
    let imageOffset =
      (CacheEntry.headerSize + meta.count + pageSize - 1) / pageSize * pageSize
    var head = ByteWriter()
    head.u64(CacheEntry.magic)
    head.u32(1)
    head.u32(0)
    head.u64(key.high)
    head.u64(key.low)
    head.int(imageOffset)
    head.int(record.entry.size)
    head.int(meta.count)
    head.u64(ContentHash(meta).low)
    head.bytes += meta
    let path = entryPath(key)
    do {
      try CacheFiles.writeEntry(
        path, head: head.bytes, image: image, imageOffset: imageOffset,
        zeroRuns: record.entry.zeroRuns, directory: directory)
    } catch {
      return error.message
    }
    CacheFiles.evict(directory, limit: sizeLimit, keep: path)
    return nil
  }
}
