import ELFObject
import ModuleLinker
import Testing

@Suite("Link errors keep their cause")
struct LinkErrorCauseTests {
  @Test("a malformed input is the reader's error, kept as the cause")
  func readerErrorIsTheCause() throws {
    let error = #expect(throws: LinkError.self) {
      _ = try LinkInput.parse([0x7f, 0x45, 0x4c, 0x46], name: "short.o")
    }
    #expect(error?.code == .malformedInput)
    let cause = try #require(error?.cause as? ELFError)
    #expect(cause.file == "short.o")
    #expect(error?.message == cause.description && error?.description == cause.description)
  }

  @Test("a library that does not open has its own code, with dlerror's text as the cause")
  func libraryThatDoesNotOpen() throws {
    let error = #expect(throws: LinkError.self) {
      _ = try HostSymbolProvider(libraries: ["lkm-no-such-library"])
    }
    #expect(error?.code == .libraryUnavailable)
    let cause = try #require(error?.cause as? DynamicLoaderError)
    #expect(cause.description.contains("liblkm-no-such-library.so"))
    #expect(error?.message == "cannot open library '-llkm-no-such-library': \(cause.description)")
  }

  @Test("a cause given to a problem ends its message")
  func causeEndsTheMessage() {
    let error = LinkError(.memory, "cannot map 0x1000 bytes", cause: DynamicLoaderError("no room"))
    #expect(error.description == "cannot map 0x1000 bytes: no room")
    #expect(LinkError(.memory, "cannot map").description == "cannot map")
  }
}
