// Stable storage as the framework sees it: a node's checkpoint, saved atomically and read back
// after a restart. The real runtime stores it in files (TaktPlatform's CheckpointStore: write a
// temporary copy, fsync, rename, fsync the directory, with a checksum); the simulator keeps it in
// memory that outlives the simulated crash. Either way: `load` returns the newest checkpoint that
// was completely saved, or nothing — never a torn one.

/// Where a node keeps the state it must not lose across a crash.
public protocol StableStorage {
    /// Saves `bytes` as generation `generation` (increasing); returns false if it could not.
    mutating func save(_ bytes: UnsafeRawBufferPointer, generation: UInt64) -> Bool
    /// Copies the newest complete checkpoint into `buffer` (at most buffer.count bytes) and
    /// returns its generation and length, or nil when there is none.
    mutating func load(into buffer: UnsafeMutableRawBufferPointer) -> (generation: UInt64, length: Int)?
}

/// Stable storage in memory that survives a simulated crash (the simulation host owns it).
/// A reference type: the node's application and the host share it.
public final class MemoryStorage: StableStorage {
    private var bytes: [UInt8] = []
    private var generation: UInt64?
    /// Saves made so far, and the newest generation saved.
    public private(set) var saves = 0
    public var newestGeneration: UInt64? { generation }

    public init() {}

    public func save(_ bytes: UnsafeRawBufferPointer, generation: UInt64) -> Bool {
        if self.bytes.count != bytes.count { self.bytes = [UInt8](repeating: 0, count: bytes.count) }
        self.bytes.withUnsafeMutableBytes { target in
            if let source = bytes.baseAddress, bytes.count > 0 { target.baseAddress!.copyMemory(from: source, byteCount: bytes.count) }
        }
        self.generation = generation
        saves += 1
        return true
    }

    public func load(into buffer: UnsafeMutableRawBufferPointer) -> (generation: UInt64, length: Int)? {
        guard let generation, bytes.count <= buffer.count else { return nil }
        bytes.withUnsafeBytes { source in
            if let base = source.baseAddress, source.count > 0 { buffer.baseAddress!.copyMemory(from: base, byteCount: source.count) }
        }
        return (generation, bytes.count)
    }
}
