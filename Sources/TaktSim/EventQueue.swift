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
    private func less(_ a: Int, _ b: Int) -> Bool {
        heap[a].time < heap[b].time || (heap[a].time == heap[b].time && heap[a].sequence < heap[b].sequence)
    }

    public mutating func push(_ payload: Payload, at time: Int64) {
        precondition(heap.count < capacity, "event queue capacity \(capacity) exceeded")
        heap.append(Entry(time: time, sequence: nextSequence, payload: payload))
        nextSequence &+= 1  // &+: 2^64 events never happen; wrap would only reorder ties
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if !less(i, parent) { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    public mutating func pop() -> Entry? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < heap.count && less(l, smallest) { smallest = l }
            if r < heap.count && less(r, smallest) { smallest = r }
            if smallest == i { break }
            heap.swapAt(i, smallest)
            i = smallest
        }
        return top
    }
}
