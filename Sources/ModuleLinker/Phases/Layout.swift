import ELFObject
import LKMBase

// Phase 3 of a link: fixup plan → layout. Every kept allocated section, COMMON symbol, stub,
// thunk, GOT slot and host copy gets an offset in one image of three page-aligned segments:
// text (r-x), read-only data (r--) and data (rw-). Nothing here depends on where the image
// will be mapped.

/// How far a 32-bit PC-relative reference can be trusted to reach from anywhere in an image:
/// ±2 GiB less 1 MiB for addends.
let pcReach: UInt64 = (1 << 31) - (1 << 20)
/// The largest image: every internal PC-relative reference must reach.
let maximumImageSize = 1 << 30
/// The largest section alignment honoured.
let maximumAlignment: UInt64 = 1 << 20

/// Phase 3's value: the image's offsets.
struct Layout {
  /// Per section (flat, as ``SymbolTable/sectionBase`` indexes it): its offset, or -1 when it
  /// is not in the image.
  var sectionOffset: [Int]
  /// COMMON globals' offsets, by global id.
  var commonOffsets: [Int: Int] = [:]
  /// The offset of each host copy, in ``FixupPlan/hostCopies`` order.
  var hostCopyOffsets: [Int] = []
  var text = 0..<0
  var rodata = 0..<0
  var data = 0..<0
  /// Stubs (8 bytes each, by candidate ordinal), then thunks (16 bytes each).
  var stubArea = 0
  var thunkArea = 0
  /// The GOT: the slots of GOT references, then one per stub candidate, then one per thunk.
  var gotArea = 0
  var ehFrameArea: Int?
  /// The module's TLS block: each thread-local section's offset in it (by flat section index),
  /// its size and alignment, and where its initialization image (the `.tdata` sections, at
  /// their block offsets) is in the image.
  var threadLocalOffset: [Int: Int] = [:]
  var threadLocalSize = 0
  var threadLocalAlignment = 1
  var threadLocalImage = 0
  var threadLocalInitSize = 0
  /// The GOT's thread-local entries (``FixupPlan/threadLocalEntries``), after its slots.
  var threadLocalArea = 0
  var dsoHandleOffset = 0
  /// The image's size, whole pages.
  var size = 0
  var alignment = UInt64(pageSize)

  enum SegmentKind: UInt8 { case none, text, rodata, ehFrame, data, bss, tdata, tbss }
}

extension Layout {
  /// Phase 3: lays the module out.
  ///
  /// - Throws: sections too large or too aligned, thread-local sections: fatal in a check too
  ///   (the layout cannot go on without them).
  static func lay(_ table: SymbolTable, _ plan: FixupPlan, problems: inout Problems)
    throws(LinkError) -> Layout
  {
    let sectionTotal = table.discarded.count
    var layout = Layout(sectionOffset: [Int](repeating: -1, count: sectionTotal))
    var errors: [LinkError] = []
    var maxAlign = UInt64(pageSize)
    var cursor: UInt64 = 0
    let limit = UInt64(maximumImageSize)

    // Each section's segment, once.
    var kinds = [SegmentKind](repeating: .none, count: sectionTotal)
    for (o, object) in table.objects.enumerated() {
      let base = table.sectionBase[o]
      for s in 1..<max(object.sectionCount, 1) where !table.discarded[base + s] {
        let flags = object.sectionFlags(s)
        guard flags & SectionFlags.alloc != 0 else { continue }
        let type = object.sectionType(s)
        if flags & SectionFlags.tls != 0 && table.threadLocalStorage != nil {
          kinds[base + s] = type == SectionType.nobits ? .tbss : .tdata
        } else if flags & SectionFlags.execInstr != 0 {
          kinds[base + s] = .text
        } else if type == SectionType.nobits {
          kinds[base + s] = .bss
        } else if flags & SectionFlags.write != 0 {
          kinds[base + s] = .data
        } else if type == SectionType.x86_64Unwind || object.sectionName(s, equals: ".eh_frame") {
          kinds[base + s] = .ehFrame
        } else {
          kinds[base + s] = .rodata
        }
      }
    }

    func place(_ kind: SegmentKind) {
      for (o, object) in table.objects.enumerated() {
        let base = table.sectionBase[o]
        for s in 0..<object.sectionCount where kinds[base + s] == kind {
          let flags = object.sectionFlags(s)
          let alignment = object.sectionAlignment(s)
          let size = object.sectionSize(s)
          if flags & SectionFlags.tls != 0 {
            errors.append(
              LinkError(
                .unsupportedFeature,
                "\(object.name): section '\(object.sectionName(s))' holds thread-local variables (__thread), which are not supported"
              ))
            continue
          }
          if alignment > maximumAlignment {
            errors.append(
              LinkError(
                .tooLarge,
                "\(object.name): section '\(object.sectionName(s))' alignment \(hex(alignment)) exceeds \(hex(maximumAlignment))"
              ))
            continue
          }
          guard size <= limit, cursor <= limit else {
            errors.append(
              LinkError(
                .tooLarge,
                "\(object.name): section '\(object.sectionName(s))' of \(hex(size)) bytes makes the module larger than \(hex(limit)) bytes"
              ))
            continue
          }
          maxAlign = max(maxAlign, alignment)
          cursor = (cursor + alignment - 1) & ~(alignment - 1)
          layout.sectionOffset[base + s] = Int(cursor)
          cursor += size
        }
      }
    }
    func pageAlign() { cursor = (cursor + UInt64(pageSize) - 1) & ~UInt64(pageSize - 1) }

    // Text, then stubs (8 bytes each) and thunks (16 bytes each).
    place(.text)
    cursor = (cursor + 15) & ~15
    layout.stubArea = Int(cursor)
    cursor += UInt64(plan.stubs.count * 8)
    layout.thunkArea = Int(cursor)
    cursor += UInt64(table.thunks.count * 16)
    layout.text = 0..<Int(cursor)
    pageAlign()

    // Read-only data, host copies, .eh_frame (contiguous, zero-terminated), GOT.
    let rodataStart = cursor
    place(.rodata)
    for id in plan.hostCopies {
      cursor = (cursor + 15) & ~15
      layout.hostCopyOffsets.append(Int(cursor))
      cursor += table.provided(id)?.size ?? 0
    }
    // The TLS block: .tdata (its initialization image, here, relocated like any section and
    // copied into the static TLS reservation at load), then .tbss (zeros, not in the image).
    var tlsCursor = 0
    for kind in [SegmentKind.tdata, .tbss] {
      for (o, object) in table.objects.enumerated() {
        let base = table.sectionBase[o]
        for s in 0..<object.sectionCount where kinds[base + s] == kind {
          let alignment = Int(min(object.sectionAlignment(s), maximumAlignment))
          let size = object.sectionSize(s)
          guard size <= limit else {
            errors.append(
              LinkError(
                .tooLarge,
                "\(object.name): thread-local section '\(object.sectionName(s))' of \(hex(size)) bytes is too large"
              ))
            continue
          }
          layout.threadLocalAlignment = max(layout.threadLocalAlignment, alignment)
          tlsCursor = (tlsCursor + alignment - 1) & ~(alignment - 1)
          layout.threadLocalOffset[base + s] = tlsCursor
          tlsCursor += Int(size)
        }
      }
      if kind == .tdata { layout.threadLocalInitSize = tlsCursor }
    }
    layout.threadLocalSize = tlsCursor
    if layout.threadLocalInitSize > 0 {
      let alignment = UInt64(layout.threadLocalAlignment)
      cursor = (cursor + alignment - 1) & ~(alignment - 1)
      maxAlign = max(maxAlign, alignment)
      layout.threadLocalImage = Int(cursor)
      for (section, offset) in layout.threadLocalOffset where kinds[section] == .tdata {
        layout.sectionOffset[section] = Int(cursor) + offset
      }
      cursor += UInt64(layout.threadLocalInitSize)
    }
    var frames: [(Int, Int)] = []
    for (o, object) in table.objects.enumerated() {
      let base = table.sectionBase[o]
      for s in 0..<object.sectionCount where kinds[base + s] == .ehFrame { frames.append((o, s)) }
    }
    if !frames.isEmpty {
      cursor = (cursor + 7) & ~7
      layout.ehFrameArea = Int(cursor)
      for (o, s) in frames {
        let object = table.objects[o]
        let size = object.sectionSize(s)
        guard size <= limit, cursor <= limit else {
          errors.append(
            LinkError(
              .tooLarge,
              "\(object.name): section '\(object.sectionName(s))' of \(hex(size)) bytes makes the module larger than \(hex(limit)) bytes"
            ))
          continue
        }
        cursor = (cursor + 3) & ~3
        layout.sectionOffset[table.sectionBase[o] + s] = Int(cursor)
        cursor += size
      }
      cursor = (cursor + 3) & ~3
      cursor += 4  // terminator
    }
    cursor = (cursor + 7) & ~7
    layout.gotArea = Int(cursor)
    cursor += UInt64(max(plan.slotTargets.count + plan.stubs.count + table.thunks.count, 1) * 8)
    layout.threadLocalArea = Int(cursor)
    cursor += UInt64(plan.threadLocalAreaSize)
    layout.rodata = Int(rodataStart)..<Int(cursor)
    pageAlign()

    // Data, bss, COMMON, __dso_handle.
    let dataStart = cursor
    place(.data)
    place(.bss)
    for id in table.globals.indices where table.globals[id].kind == .common {
      let g = table.globals[id]
      let align = g.commonAlignment
      maxAlign = max(maxAlign, align)
      cursor = (cursor + align - 1) & ~(align - 1)
      layout.commonOffsets[id] = Int(cursor)
      guard g.commonSize <= limit else {
        errors.append(
          LinkError(
            .tooLarge, "COMMON symbol '\(g.name)' of \(hex(g.commonSize)) bytes is too large"))
        continue
      }
      cursor += g.commonSize
    }
    cursor = (cursor + 7) & ~7
    layout.dsoHandleOffset = Int(cursor)
    cursor += 8
    if cursor > limit {
      errors.append(
        LinkError(
          .tooLarge,
          "module image of \(hex(cursor)) bytes exceeds the \(hex(limit)) bytes a module may span"))
    }
    layout.data = Int(dataStart)..<Int(cursor)
    pageAlign()
    layout.size = Int(cursor)
    layout.alignment = maxAlign
    try problems.fatal(errors)
    return layout
  }

  /// The GOT slot a stub candidate's stub jumps through.
  func stubSlot(_ ordinal: Int, _ plan: FixupPlan) -> Int { plan.slotTargets.count + ordinal }

  /// The GOT slot thunk `k` jumps through.
  func thunkSlot(_ k: Int, _ plan: FixupPlan) -> Int {
    plan.slotTargets.count + plan.stubs.count + k
  }
}
