// Where every message copy travels, computed once from the schedule (atomic broadcast, MARS
// §10.6; REFERENCE.md §4). For each round of the cluster cycle and each slot: the copies the
// slot's frame carries (message, copy index, payload offset), the instances whose first copy is
// sent there (their origination: the destination set must be ⊆ the membership at that point),
// and the instances whose last copy ends there (delivered at the slot's end + Π, in the order
// (first send instant, sender, message)). Flattened into arrays indexed by position, so the
// per-slot path only reads; a class, so that handing the plan around costs one reference count,
// not one per array.

import TaktSchedule
import TaktTime

public final class BroadcastPlan: Sendable {
    public struct Copy: Sendable, Equatable {
        public var message: Int
        public var copy: Int
        public var payloadOffset: Int
    }

    public struct MessageInfo: Sendable {
        public var sender: Int
        public var size: Int
        public var copies: Int
        public var periodRounds: Int64
        public var phaseRounds: Int64
        public var destinations: MembershipVector
        /// (rounds after the first copy's round, slot) of each copy.
        public var copyPositions: [(roundOffset: Int64, slot: Int)]
    }

    public let cycleRounds: Int64
    public let slotCount: Int
    public let messages: [MessageInfo]
    /// Per (cycle round ρ, slot s) at index ρ·slotCount + s: ranges into the flat arrays below.
    private let copyRanges: [Range<Int>]
    private let originRanges: [Range<Int>]
    private let completionRanges: [Range<Int>]
    private let payloadLengths: [Int]
    private let copies: [Copy]
    private let origins: [Int]       // message indices
    private let completions: [Int]   // message indices, in delivery order
    // Per message, flat (the per-slot path reads these instead of copying a MessageInfo).
    private let sizes: [Int]
    private let senders: [Int]
    private let destinationSets: [MembershipVector]
    /// The destination sets' words, contiguous: message m's words at m·wordsPerSet (cache-friendly
    /// for the origination check every node makes in every slot).
    private let destinationWords: [UInt64]
    private let wordsPerSet: Int
    private let phases: [UInt64]       // phase mod period
    private let periods: [UInt64]
    private let copyOffsets: [[Int64]] // round offset of each copy

    public init(schedule: Schedule, mode: Int) {
        let slots = schedule.modes[mode].slots
        let cycle = schedule.cluster.cycleRounds
        let slotTotal = slots.count
        cycleRounds = cycle
        slotCount = slots.count
        let n = schedule.nodes.count
        var infos: [MessageInfo] = []
        for message in schedule.messages {
            let targets = Analysis.copySlots(of: message, in: slots)
            let positions = targets.isEmpty ? [] : (0..<message.copies).map { Analysis.copyPosition($0, slots: targets) }
            infos.append(MessageInfo(sender: message.sender, size: Int(message.size.bytes), copies: message.copies,
                                     periodRounds: message.periodRounds, phaseRounds: message.phaseRounds,
                                     destinations: MembershipVector(capacity: n, members: message.destinations),
                                     copyPositions: positions))
        }
        messages = infos
        sizes = infos.map(\.size)
        senders = infos.map(\.sender)
        destinationSets = infos.map(\.destinations)
        wordsPerSet = (n + 63) / 64
        destinationWords = infos.flatMap(\.destinations.words)
        phases = infos.map { UInt64(IntegerMath.floorMod($0.phaseRounds, $0.periodRounds)) }
        periods = infos.map { UInt64($0.periodRounds) }
        copyOffsets = infos.map { $0.copyPositions.map(\.roundOffset) }
        let cells = Int(cycle) * slotTotal
        var copyCells = [[Copy]](repeating: [], count: cells)
        var originCells = [[Int]](repeating: [], count: cells)
        var completionCells = [[(firstRound: Int64, firstSlot: Int, message: Int)]](repeating: [], count: cells)
        func cell(_ round: Int64, _ slot: Int) -> Int { Int(IntegerMath.floorMod(round, cycle)) * slotTotal + slot }
        for (m, info) in infos.enumerated() where !info.copyPositions.isEmpty {
            var start = IntegerMath.floorMod(info.phaseRounds, info.periodRounds)
            while start < cycle {
                for (j, position) in info.copyPositions.enumerated() {
                    let c = cell(start + position.roundOffset, position.slot)
                    let offset = copyCells[c].reduce(0) { $0 + infos[$1.message].size }
                    copyCells[c].append(Copy(message: m, copy: j, payloadOffset: offset))
                }
                let first = info.copyPositions[0], last = info.copyPositions[info.copies - 1]
                originCells[cell(start + first.roundOffset, first.slot)].append(m)
                completionCells[cell(start + last.roundOffset, last.slot)].append((start + first.roundOffset, first.slot, m))
                start += info.periodRounds
            }
        }
        var copyRanges: [Range<Int>] = [], originRanges: [Range<Int>] = [], completionRanges: [Range<Int>] = []
        var flatCopies: [Copy] = [], flatOrigins: [Int] = [], flatCompletions: [Int] = []
        var payloadLengths: [Int] = []
        for c in 0..<cells {
            copyRanges.append(flatCopies.count..<(flatCopies.count + copyCells[c].count))
            flatCopies += copyCells[c]
            payloadLengths.append(copyCells[c].reduce(0) { $0 + infos[$1.message].size })
            originRanges.append(flatOrigins.count..<(flatOrigins.count + originCells[c].count))
            flatOrigins += originCells[c]
            // Total order: by first send instant (round, then slot), then message index (the sender
            // of every instance completing in one slot is that slot's sender).
            let ordered = completionCells[c].sorted { ($0.firstRound, $0.firstSlot, $0.message) < ($1.firstRound, $1.firstSlot, $1.message) }
            completionRanges.append(flatCompletions.count..<(flatCompletions.count + ordered.count))
            flatCompletions += ordered.map(\.message)
        }
        self.copyRanges = copyRanges
        self.originRanges = originRanges
        self.completionRanges = completionRanges
        self.payloadLengths = payloadLengths
        self.copies = flatCopies
        self.origins = flatOrigins
        self.completions = flatCompletions
    }

    @inline(__always)
    private func index(_ round: UInt64, _ slot: Int) -> Int { Int(round % UInt64(cycleRounds)) * slotCount + slot }

    // The per-slot path iterates index ranges (`for k in range { plan.copy(k) }`): iterating an
    // ArraySlice is unspecialized in debug builds and allocates; a Range<Int> never does.
    public func payloadLength(round: UInt64, slot: Int) -> Int { payloadLengths[index(round, slot)] }
    public func copyIndices(round: UInt64, slot: Int) -> Range<Int> { copyRanges[index(round, slot)] }
    public func copy(_ k: Int) -> Copy { copies[k] }
    public func originationIndices(round: UInt64, slot: Int) -> Range<Int> { originRanges[index(round, slot)] }
    public func origination(_ k: Int) -> Int { origins[k] }
    public func completionIndices(round: UInt64, slot: Int) -> Range<Int> { completionRanges[index(round, slot)] }
    public func completion(_ k: Int) -> Int { completions[k] }

    /// Convenience views for tests and tools (they may allocate; not for the per-slot path).
    public func copies(round: UInt64, slot: Int) -> [Copy] { copyIndices(round: round, slot: slot).map(copy) }
    public func originations(round: UInt64, slot: Int) -> [Int] { originationIndices(round: round, slot: slot).map(origination) }
    public func completions(round: UInt64, slot: Int) -> [Int] { completionIndices(round: round, slot: slot).map(completion) }

    /// The round in which the instance carried by `copy` sent its first copy.
    public func firstRound(ofCopy copy: Int, message: Int, in round: UInt64) -> UInt64 {
        round &- UInt64(copyOffsets[message][copy])  // ≤ round: offsets are < the period
    }

    /// The round in which the instance whose LAST copy is sent in `round` sent its first copy.
    public func firstRound(ofInstanceCompletingIn round: UInt64, message: Int) -> UInt64 {
        round &- UInt64(copyOffsets[message][copyOffsets[message].count - 1])
    }

    /// The instance number of the instance whose first copy is sent in `firstRound`.
    public func instance(message: Int, firstRound: UInt64) -> UInt64 {
        (firstRound &- phases[message]) / periods[message]
    }

    public func size(of message: Int) -> Int { sizes[message] }
    /// The slot of the message's first copy in this mode (PRECONDITION: the mode sends it).
    public func firstCopySlot(of message: Int) -> Int { messages[message].copyPositions[0].slot }
    public func sender(of message: Int) -> Int { senders[message] }
    public func isDestination(_ node: Int, of message: Int) -> Bool { destinationSets[message].contains(node) }
    /// MARS's origination condition: every destination of `message` is in `membership`.
    public func destinations(of message: Int, areIn membership: MembershipVector) -> Bool {
        precondition(membership.words.count == wordsPerSet, "membership capacity ≠ node count")
        let base = message * wordsPerSet
        for w in 0..<wordsPerSet where destinationWords[base + w] & ~membership.words[w] != 0 { return false }
        return true
    }
}
