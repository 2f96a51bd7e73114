// `takt checkpoint-stress DIR` (hidden: not in the usage list): the child process of the kill -9
// test of stable storage (Tests/TaktCLITests/CheckpointKillTests.swift), and a way to measure the
// latency of a durable save on a machine.
//
// It opens the checkpoint store "stress" in DIR, loads the newest checkpoint (checking that its
// payload is the one that belongs to its generation), prints "start G" with G = that generation
// + 1 (1 when there is none), then saves G, G + 1, … in a tight loop and prints each generation
// on its own line (one write(2), unbuffered) right after `save` returned for it. So when the
// process is killed, every generation it printed was committed, and the one after the last
// printed may have been. With --count N it stops after N saves and prints the save latency
// (median, p99, maximum) on standard error.
//
// The payload of generation g is `CheckpointStress.fill(_:generation:)`: a length and bytes
// derived from g alone, so a loader can tell that a payload belongs to its generation.

import TaktPlatform
import TaktTime

public enum CheckpointStress {
    public static let name = "checkpoint-stress"
    /// The store's name inside DIR.
    public static let storeName = "stress"

    static let usage = "takt checkpoint-stress DIR [--count N] [--capacity BYTES]"
    static let options: [OptionSpec] = [
        OptionSpec(["--count"], value: "N", help: "stop after N saves and print the save latency (default: run until killed)"),
        OptionSpec(["--capacity"], value: "BYTES", help: "largest payload, 1–16777216 (default 65536); payloads vary in length up to it"),
    ]

    /// Fills the start of `buffer` with generation `generation`'s payload and returns its length:
    /// between 1 and `buffer.count` bytes, both the length and the bytes a function of the
    /// generation alone. PRECONDITION: `buffer` is not empty.
    public static func fill(_ buffer: inout [UInt8], generation: UInt64) -> Int {
        precondition(!buffer.isEmpty, "a payload buffer holds at least one byte")
        var state = generation &* 0x9E37_79B9_7F4A_7C15 ^ 0xD1B5_4A32_D192_ED03
        let length = 1 + Int((generation &* 2_654_435_761) % UInt64(buffer.count))
        for i in 0..<length {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407  // 64-bit LCG (Knuth's MMIX constants)
            buffer[i] = UInt8(truncatingIfNeeded: state >> 56)
        }
        return length
    }

    /// Whether `payload` is the one `fill` makes for `generation` (with a buffer of `capacity`).
    public static func payloadMatches(_ payload: [UInt8], generation: UInt64, capacity: Int) -> Bool {
        var expected = [UInt8](repeating: 0, count: capacity)
        let length = fill(&expected, generation: generation)
        return payload.count == length && payload[...] == expected[0..<length]
    }

    static func run(_ arguments: [String], console: inout Console) -> Int32 {
        let parsed: ParsedArguments
        do { parsed = try parseArguments(arguments, options: options) } catch {
            console.err.write("error: \(error.message)\nusage: \(usage)\n")
            return ExitStatus.usage
        }
        guard parsed.positionals.count == 1 else {
            console.err.write("error: one directory expected\nusage: \(usage)\n")
            return ExitStatus.usage
        }
        let count = parsed.value("--count").map { Int($0) } ?? .some(Int.max)
        let capacity = parsed.value("--capacity").map { Int($0) } ?? .some(65_536)
        guard let count, count > 0, let capacity, (1...16_777_216).contains(capacity) else {
            console.err.write("error: --count is a positive integer, --capacity 1–16777216\nusage: \(usage)\n")
            return ExitStatus.usage
        }
        let store: CheckpointStore
        do throws(PlatformError) {
            store = try CheckpointStore(directory: parsed.positionals[0], name: storeName, capacity: capacity)
        } catch {
            console.err.write("error: \(error)\n")
            return ExitStatus.usage
        }
        let report = store.load()
        for rejection in report.rejected { console.err.write("checkpoint-stress: ignored \(rejection)\n") }
        if let newest = report.newest, !payloadMatches(newest.payload, generation: newest.generation, capacity: capacity) {
            console.err.write("error: loaded generation \(newest.generation) with a payload that is not its own\n")
            return ExitStatus.failure
        }
        if report.newest?.generation == .max {
            console.err.write("error: the loaded generation is the last one (UInt64.max)\n")
            return ExitStatus.failure
        }
        var generation = (report.newest?.generation ?? 0) + 1
        console.out.write("start \(generation)\n")
        var payload = [UInt8](repeating: 0, count: capacity)
        var latencies: [Int64] = []
        latencies.reserveCapacity(count == Int.max ? 0 : count)
        var saved = 0
        while saved < count {
            let length = fill(&payload, generation: generation)
            let start = MonotonicClock.now()
            let result: Result<Void, PlatformError> = payload.withUnsafeBytes { bytes in
                do throws(PlatformError) {
                    try store.save(UnsafeRawBufferPointer(rebasing: bytes[0..<length]), generation: generation)
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
            if case .failure(let error) = result {
                console.err.write("error: \(error)\n")
                return ExitStatus.failure
            }
            if count != Int.max { latencies.append((MonotonicClock.now() - start).nanoseconds) }
            console.out.write("\(generation)\n")
            generation += 1
            saved += 1
        }
        latencies.sort()
        func microseconds(_ rank: Int) -> String {
            let ns = latencies[min(rank, latencies.count - 1)]
            return "\(ns / 1_000).\(String(ns % 1_000 / 100)) µs"
        }
        console.err.write("checkpoint-stress: \(latencies.count) saves (payload 1–\(capacity) bytes): median \(microseconds(latencies.count / 2)), "
                          + "p99 \(microseconds(latencies.count * 99 / 100)), max \(microseconds(latencies.count - 1))\n")
        return ExitStatus.success
    }
}
