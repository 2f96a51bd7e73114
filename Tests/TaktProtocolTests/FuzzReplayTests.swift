// The frame fuzzer's seeds and crashers replay through the decoder without a trap, and the seeds
// are what they claim to be. The fixture repeats Tools/fuzz-frame/FuzzFrame.swift's; keep them equal.

import Foundation
import Testing
import TaktTestSupport
import TaktProtocol

@Suite("Frame fuzzer corpus", .hostShared)
struct FuzzReplayTests {
    static let codec = FrameCodec(nodeCount: 12, slotCountPerMode: [4, 2], maximumPayloadBytes: 64)
    static let cState = CState(scheduleIdentity: 0x0123_4567_89AB_CDEF, mode: 0, round: 1_000, slot: 2,
                               membership: MembershipVector(capacity: 12, members: [0, 1, 2, 3, 5, 8, 11]))

    @Test func seedsAndCrashersReplayCleanly() throws {
        var seeds = 0
        for dir in ["Tests/Fuzz/frame-seeds", "Tests/Fuzz/frame-crashers"] {
            let path = packageRoot + "/" + dir
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            for name in names.sorted() where !name.hasPrefix(".") {
                let bytes = [UInt8](try #require(FileManager.default.contents(atPath: path + "/" + name)))
                let asReceiver = decode(Self.codec, bytes, Self.cState)
                let forIntegration = decodeForIntegration(Self.codec, bytes)
                if dir.hasSuffix("seeds") {
                    seeds += 1
                    #expect(forIntegration == nil, "seed \(name) is not a valid frame: \(forIntegration.map(\.description) ?? "")")
                    #expect((asReceiver == nil) == name.hasPrefix("expected-"), "seed \(name): \(asReceiver.map(\.description) ?? "valid")")
                }
            }
        }
        #expect(seeds >= 5)
    }
}
