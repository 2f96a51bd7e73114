// A durable checkpoint save allocates nothing: the store's buffer and file names are allocated
// once, at init, and every system call works on them (openat/renameat relative to the directory's
// descriptor, so no path is built per save). Counted on the calling thread over 200 saves after
// two warm-up saves (the first builds CRC-32C's tables; the second is the first to find a previous
// generation, which instantiates some type metadata once).

import CTaktAllocationCounter
import Glibc
import Testing
import TaktTestSupport
import TaktPlatform

@Suite("Allocation budget: checkpoint save", .hostShared)
struct CheckpointAllocationTests {
    @Test func saveAllocatesNothing() throws {
        var template = Array("/tmp/takt-checkpoint-alloc-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        let directory = String(cString: try #require(made))
        defer {
            for file in ["n.a", "n.b", "n.tmp"] { unlink(directory + "/" + file) }
            rmdir(directory)
        }
        let store = try CheckpointStore(directory: directory, name: "n", capacity: 4_096)
        let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: 4_096, alignment: 8)
        defer { payload.deallocate() }
        payload.initializeMemory(as: UInt8.self, repeating: 0x3C)
        var before: UInt64 = 0
        var generation: UInt64 = 1
        while generation <= 202 {  // not `for … in 1...202`: a debug build's range iterator allocates
            defer { generation += 1 }
            if generation == 3 { before = takt_allocations_on_this_thread() }
            payload.storeBytes(of: generation, toByteOffset: 0, as: UInt64.self)
            // Lengths vary, so every slot is rewritten with a different size.
            try store.save(UnsafeRawBufferPointer(rebasing: payload[0..<Int(generation * 37 % 4_097)]), generation: generation)
        }
        let after = takt_allocations_on_this_thread()
        #expect(after - before == 0, "\(after - before) allocations in 200 saves")
        #expect(store.load().newest?.generation == 202)
    }
}
