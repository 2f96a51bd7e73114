// The membership vector: one bit per node of the cluster, bit i = node i (REFERENCE.md §3).
//
// It is part of every node's C-state and of every frame. Its capacity is the schedule's node count,
// fixed at start-up; the storage (⌈capacity/64⌉ words) is allocated once by `init` and never
// again: every mutating operation works in place (the vector is uniquely referenced by its owner;
// copying it and then mutating the copy would allocate, as for any Swift array, so the protocol
// keeps one vector per role and mutates it in place).
//
// Invariant: bits at positions ≥ capacity are 0, so two vectors with the same members are equal
// and the wire encoding never has padding bits set (the decoder rejects frames that do).

/// A fixed-capacity set of node indices `0..<capacity`, stored as a bit vector.
/// Programmer errors (an index outside `0..<capacity`, mixing capacities) TRAP.
public struct MembershipVector: Sendable, Equatable, CustomStringConvertible {
    /// The largest cluster the wire format supports (the schedule language's limit).
    public static let maximumCapacity = 4096

    /// The number of nodes (bits). Fixed at init.
    public let capacity: Int
    /// Bit i of the vector is bit (i % 64) of `words[i / 64]`.
    private(set) var words: [UInt64]  // readable within TaktProtocol (BroadcastPlan's flat copies)

    /// An empty vector for `capacity` nodes. PRECONDITION 1 ≤ capacity ≤ 4096. Allocates once.
    public init(capacity: Int) {
        precondition(capacity >= 1 && capacity <= Self.maximumCapacity,
                     "membership capacity \(capacity) outside 1...\(Self.maximumCapacity)")
        self.capacity = capacity
        words = [UInt64](repeating: 0, count: (capacity + 63) / 64)
    }

    /// A vector for `capacity` nodes holding `members`. PRECONDITION every member < capacity.
    public init(capacity: Int, members: some Sequence<Int>) {
        self.init(capacity: capacity)
        for node in members { insert(node) }
    }

    /// ⌈capacity / 8⌉: the bytes the vector takes in a frame (FrameLayout.membershipBytes).
    public var byteCount: Int { (capacity + 7) / 8 }

    /// Whether `node` is a member. PRECONDITION 0 ≤ node < capacity.
    public func contains(_ node: Int) -> Bool {
        precondition(node >= 0 && node < capacity, "node \(node) outside 0..<\(capacity)")
        return words[node >> 6] & (1 << UInt64(node & 63)) != 0
    }

    /// Makes `node` a member. PRECONDITION 0 ≤ node < capacity.
    public mutating func insert(_ node: Int) {
        precondition(node >= 0 && node < capacity, "node \(node) outside 0..<\(capacity)")
        words[node >> 6] |= 1 << UInt64(node & 63)
    }

    /// Removes `node`. PRECONDITION 0 ≤ node < capacity.
    public mutating func remove(_ node: Int) {
        precondition(node >= 0 && node < capacity, "node \(node) outside 0..<\(capacity)")
        words[node >> 6] &= ~(1 << UInt64(node & 63))
    }

    /// Removes every node.
    public mutating func removeAll() {
        for w in words.indices { words[w] = 0 }
    }

    /// Makes every node `0..<capacity` a member.
    public mutating func insertAll() {
        for w in words.indices { words[w] = ~0 }
        let tailBits = capacity & 63
        if tailBits != 0 { words[words.count - 1] = (1 << UInt64(tailBits)) - 1 }
    }

    /// The number of members.
    public var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// Whether every member of `self` is a member of `other` (same capacity). Allocates nothing.
    public func isSubset(of other: MembershipVector) -> Bool {
        precondition(capacity == other.capacity, "membership capacities differ")
        for i in 0..<words.count where words[i] & ~other.words[i] != 0 { return false }
        return true
    }

    /// Byte `index` of the wire encoding: nodes 8·index … 8·index+7, least significant bit first.
    /// PRECONDITION 0 ≤ index < byteCount.
    public func byte(at index: Int) -> UInt8 {
        precondition(index >= 0 && index < byteCount, "membership byte \(index) outside 0..<\(byteCount)")
        return UInt8(truncatingIfNeeded: words[index >> 3] >> UInt64((index & 7) * 8))
    }

    /// Sets byte `index` of the vector from its wire encoding. PRECONDITION 0 ≤ index < byteCount,
    /// and no bit of `value` names a node ≥ capacity (callers check padding first).
    mutating func setByte(at index: Int, to value: UInt8) {
        precondition(index >= 0 && index < byteCount, "membership byte \(index) outside 0..<\(byteCount)")
        precondition(index != byteCount - 1 || value & ~Self.lastByteMask(capacity: capacity) == 0,
                     "membership padding bits set")
        let shift = UInt64((index & 7) * 8)
        words[index >> 3] = (words[index >> 3] & ~(0xFF << shift)) | (UInt64(value) << shift)
    }

    /// The bits of the last wire byte that name nodes (the others are padding and must be 0).
    static func lastByteMask(capacity: Int) -> UInt8 {
        let used = capacity & 7
        return used == 0 ? 0xFF : UInt8((1 << used) - 1)
    }

    /// Writes the `byteCount`-byte wire encoding at `offset`. PRECONDITION it fits in `buffer`.
    func write(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) {
        precondition(offset >= 0 && buffer.count - offset >= byteCount, "membership does not fit the buffer")
        let wholeWords = byteCount / 8
        for w in 0..<wholeWords {
            buffer.storeBytes(of: words[w].littleEndian, toByteOffset: offset + 8 * w, as: UInt64.self)
        }
        for index in (8 * wholeWords)..<byteCount { buffer[offset + index] = byte(at: index) }
    }

    /// Feeds the `byteCount`-byte wire encoding to `crc`.
    func update(_ crc: inout CRC32C) {
        let wholeWords = byteCount / 8
        for w in 0..<wholeWords { crc.update(littleEndian: words[w]) }
        for index in (8 * wholeWords)..<byteCount { crc.update(byte: byte(at: index)) }
    }

    /// Whether the wire encoding equals the `byteCount` bytes of `buffer` at `offset`.
    /// The caller guarantees the bytes are in bounds.
    func equalsEncoding(in buffer: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        let wholeWords = byteCount / 8
        for w in 0..<wholeWords
        where UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: offset + 8 * w, as: UInt64.self)) != words[w] {
            return false
        }
        for index in (8 * wholeWords)..<byteCount where buffer[offset + index] != byte(at: index) { return false }
        return true
    }

    /// The members, ascending, as `{0, 3, 7}`.
    public var description: String {
        "{" + (0..<capacity).filter { contains($0) }.map(String.init).joined(separator: ", ") + "}"
    }
}
