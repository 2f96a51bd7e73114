// The discrete-event scheduler's queue: a binary min-heap on (true time, insertion sequence), so
// events at the same instant run in the order they were scheduled and every run is deterministic.
// Storage is reserved at start-up from the scenario's bounds; `push` traps past the capacity
// (a programmer error: the bound is computed from the schedule), so the loop never reallocates.

public struct EventQueue<Payload: Sendable>: Sendable {
    public struct Entry: Sendable {
        public var time: Int64
        public var sequence: UInt64
        public var payload: Payload
    }

    private var heap: [Entry] = []
    private var nextSequence: UInt64 = 0
    public let capacity: Int

    public init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
        heap.reserveCapacity(capacity)
    }

    public var count: Int { heap.count }
    public var isEmpty: Bool { heap.isEmpty }
    public var nextTime: Int64? { heap.first?.time }

    @inline(__always)
    private static func before(_ a: Entry, _ b: Entry) -> Bool {
        a.time < b.time || (a.time == b.time && a.sequence < b.sequence)
    }

    public mutating func push(_ payload: Payload, at time: Int64) {
        precondition(heap.count < capacity, "event queue capacity \(capacity) exceeded")
        let entry = Entry(time: time, sequence: nextSequence, payload: payload)
        nextSequence &+= 1  // &+: 2^64 events never happen; wrap would only reorder ties
        heap.append(entry)
        // Sift up by moving parents into the hole (one store per level instead of a swap).
        heap.withUnsafeMutableBufferPointer { h in
            var i = h.count - 1
            while i > 0 {
                let parent = (i - 1) / 2
                guard Self.before(entry, h[parent]) else { break }
                h[i] = h[parent]
                i = parent
            }
            h[i] = entry
        }
    }

    public mutating func pop() -> Entry? {
        guard let last = heap.popLast() else { return nil }
        guard !heap.isEmpty else { return last }
        return heap.withUnsafeMutableBufferPointer { h in
            let top = h[0]
            // Sift `last` down from the root through the hole.
            let count = h.count
            var i = 0
            while true {
                let l = 2 * i + 1
                if l >= count { break }
                var child = l
                if l + 1 < count && Self.before(h[l + 1], h[l]) { child = l + 1 }
                guard Self.before(h[child], last) else { break }
                h[i] = h[child]
                i = child
            }
            h[i] = last
            return top
        }
    }
}
