// Stable storage under a real kill -9: `takt checkpoint-stress DIR` saves generations in a tight
// loop and prints each one after `save` returned; the test kills it with SIGKILL at random
// instants (a third timed from the spawn, so some land in start-up and the first load, a third
// from its "start" line, a third from its first committed generation, so they land among the
// saves however slow the disk is), then loads the store as a restarted node would. What must hold after every kill:
//   - a checkpoint exists as soon as any generation was ever reported;
//   - its generation is ≥ the last one reported (nothing committed is lost) and ≤ the one after
//     it (the only save that can have been in flight);
//   - its payload is the one that belongs to its generation (not torn, not another's);
//   - the next child starts from exactly that generation + 1 (it restored the checkpoint).

import Foundation
import Glibc
import Testing
import TaktTestSupport
import TaktCLI
import TaktPlatform

@Suite("Checkpoint store under kill -9 (real child processes)", .serialized, .hostExclusive)
struct CheckpointKillTests {
    static let capacity = 65_536

    /// One child: spawned, killed `delay` after its first `lines` lines of output (0: after the
    /// spawn), and reaped. Returns its "start" generation (nil if killed before it printed
    /// one), the generations it reported, its termination, and its standard error.
    func runAndKill(directory: String, delay: useconds_t, lines: Int) throws -> (start: UInt64?, reported: [UInt64], signal: Int32?, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: taktExecutable)
        p.arguments = [CheckpointStress.name, directory, "--capacity", "\(Self.capacity)"]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        var text = Data()
        if lines > 0 {
            while text.count(where: { $0 == UInt8(ascii: "\n") }) < lines {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }  // the child exited
                text.append(chunk)
            }
        }
        usleep(delay)
        kill(p.processIdentifier, SIGKILL)
        text.append(out.fileHandleForReading.readDataToEndOfFile())
        let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        var start: UInt64?
        var reported: [UInt64] = []
        for line in String(decoding: text, as: UTF8.self).split(separator: "\n") {
            if line.hasPrefix("start ") { start = UInt64(line.dropFirst(6)) } else if let g = UInt64(line) { reported.append(g) }
        }
        let signal = p.terminationReason == .uncaughtSignal ? p.terminationStatus : nil
        return (start, reported, signal, errText)
    }

    @Test func killNineAtRandomInstantsNeverLosesACommittedGeneration() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("takt-checkpoint-kill-\(getpid())").path
        try? FileManager.default.removeItem(atPath: directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var random = SystemRandomNumberGenerator()
        var lastReported: UInt64 = 0  // the highest generation any child reported committed (0: none yet)
        var lastLoaded: UInt64 = 0    // the generation the previous load found (0: none)
        var killsMidSave = 0, killsAfterInFlightRename = 0, killsBeforeStart = 0, totalReported = 0
        for kill in 0..<30 {
            let lines = kill % 3  // 0: from the spawn; 1: from "start G"; 2: from the first committed generation
            let delay = useconds_t(Int.random(in: 0...(lines == 0 ? 60_000 : 20_000), using: &random))
            let child = try runAndKill(directory: directory, delay: delay, lines: lines)
            let context = "kill \(kill) (\(["after spawn", "after start", "after the first save"][lines]) + \(delay) µs)"
            #expect(child.signal == SIGKILL, "\(context): the child ended otherwise; stderr: \(child.stderr)")
            if let start = child.start {
                #expect(start == lastLoaded + 1, "\(context): the child did not resume from the checkpoint")
                #expect(child.reported == Array(start..<start + UInt64(child.reported.count)), "\(context): gaps in \(child.reported)")
            } else {
                #expect(child.reported.isEmpty)
                killsBeforeStart += 1
            }
            lastReported = max(lastReported, child.reported.last ?? 0)
            totalReported += child.reported.count
            // What the child may have committed without reporting: the save after its last report.
            let inFlight = child.start.map { $0 + UInt64(child.reported.count) } ?? lastLoaded
            if FileManager.default.fileExists(atPath: directory + "/\(CheckpointStress.storeName).tmp") { killsMidSave += 1 }

            let report = try CheckpointStore(directory: directory, name: CheckpointStress.storeName, capacity: Self.capacity).load()
            if lastReported > 0 {
                let newest = try #require(report.newest, "\(context): nothing loaded after generation \(lastReported) was reported; rejected \(report.rejected)")
                #expect(newest.generation >= lastReported, "\(context): loaded \(newest.generation), but \(lastReported) was reported committed")
                #expect(newest.generation <= inFlight, "\(context): loaded \(newest.generation), beyond the save in flight (\(inFlight))")
                #expect(CheckpointStress.payloadMatches(newest.payload, generation: newest.generation, capacity: Self.capacity),
                        "\(context): generation \(newest.generation) has another payload (\(newest.payload.count) bytes)")
                if newest.generation > max(lastReported, lastLoaded) { killsAfterInFlightRename += 1 }
                // The slot files themselves never hold a torn checkpoint: only the temporary can.
                #expect(report.rejected.allSatisfy { if case .leftoverTemporary = $0.defect { true } else { false } }, "\(context): \(report.rejected)")
                lastLoaded = newest.generation
            } else {
                #expect(report.newest == nil || report.newest?.generation == 1)
                lastLoaded = report.newest?.generation ?? 0
            }
        }
        print("checkpoint kill -9: 30 kills, \(totalReported) generations reported, last \(lastReported); \(killsBeforeStart) kills came "
              + "before the child's first line, \(killsMidSave) left a temporary file, \(killsAfterInFlightRename) loaded the unreported save in flight (killed after its rename)")
        #expect(lastReported > 0, "no child ever committed a generation: the test measured nothing")
    }
}
