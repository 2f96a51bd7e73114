// One test process runs every suite of `swift test`, in parallel on this host's cores. Tests that
// run a real cluster (processes exchanging UDP frames on absolute deadlines) measure how this
// host keeps time, so nothing else heavy may run beside them: two clusters at once on two cores
// — or a cluster beside a debug-built fault campaign — stall nodes for milliseconds and turn the
// host's overload into protocol "faults". The gate is a readers–writer lock over the host:
//
//   - `.hostExclusive` (the real-process suites): each test case waits until no other holder is
//     left, then runs alone;
//   - `.hostShared` (every CPU-heavy suite): any number run together, but not beside an exclusive
//     test; a shared request made while an exclusive one waits queues behind it (first come,
//     first served), so the real-process tests are not starved.
//
// Light tests (well under a second of CPU) take no part. An exit test's child process is a new
// process with its own, empty gate.

import Testing

/// The readers–writer lock, first come first served.
public actor HostGate {
    public static let shared = HostGate()
    public init() {}

    private var sharedHolders = 0
    private var exclusiveHeld = false
    private var waiting: [(exclusive: Bool, resume: CheckedContinuation<Void, Never>)] = []

    private func grantable(_ exclusive: Bool) -> Bool {
        exclusive ? !exclusiveHeld && sharedHolders == 0 : !exclusiveHeld
    }

    private func take(_ exclusive: Bool) {
        if exclusive { exclusiveHeld = true } else { sharedHolders += 1 }
    }

    public func acquire(exclusive: Bool) async {
        if waiting.isEmpty && grantable(exclusive) {
            take(exclusive)
            return
        }
        await withCheckedContinuation { waiting.append((exclusive, $0)) }
    }

    public func release(exclusive: Bool) {
        if exclusive {
            precondition(exclusiveHeld, "HostGate: exclusive release without a holder")
            exclusiveHeld = false
        } else {
            precondition(sharedHolders > 0, "HostGate: shared release without a holder")
            sharedHolders -= 1
        }
        while let first = waiting.first, grantable(first.exclusive) {
            waiting.removeFirst()
            take(first.exclusive)
            first.resume.resume()
        }
    }

    /// Holders and waiters now, for tests of the gate itself.
    public var state: (shared: Int, exclusive: Bool, waiting: Int) { (sharedHolders, exclusiveHeld, waiting.count) }

    /// Runs `body` holding the gate.
    public nonisolated func holding<T: Sendable>(exclusive: Bool, _ body: @Sendable () async throws -> T) async rethrows -> T {
        await acquire(exclusive: exclusive)
        do {
            let value = try await body()
            await release(exclusive: exclusive)
            return value
        } catch {
            await release(exclusive: exclusive)
            throw error
        }
    }
}

/// The trait: applied to a suite, it wraps each of its test cases (recursively) in the gate.
public struct HostGateTrait: SuiteTrait, TestTrait, TestScoping {
    public let exclusive: Bool
    public var isRecursive: Bool { true }

    public func provideScope(for test: Test, testCase: Test.Case?,
                             performing function: @Sendable () async throws -> Void) async throws {
        try await HostGate.shared.holding(exclusive: exclusive, function)
    }
}

extension Trait where Self == HostGateTrait {
    /// Runs each test case alone on this host (no shared or other exclusive holder beside it).
    public static var hostExclusive: Self { HostGateTrait(exclusive: true) }
    /// Runs each test case beside other shared ones, never beside an exclusive one.
    public static var hostShared: Self { HostGateTrait(exclusive: false) }
}
