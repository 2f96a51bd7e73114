// libFuzzer target for the frame decoder (Sources/TaktProtocol/Frame.swift, Docs/wire-format.md).
//
// Every input is decoded twice with one fixed codec (12 nodes, so the membership vector has 4
// padding bits; two modes of 4 and 2 slots; payloads up to 64 bytes): as a receiver holding the
// fixed C-state below, and as an integrating node without C-state. Neither may trap, and a frame
// either accepts must re-encode to exactly the same bytes.
//
// Fuzz build (Tools/fuzz.sh frame): -sanitize=fuzzer,address and -DTAKT_FUZZING; main hands control
// to libFuzzer's driver. Normal build: `takt-fuzz-frame FILE…` replays files through the same entry
// point; `takt-fuzz-frame --write-seeds DIR` writes the seed corpus (Tests/Fuzz/frame-seeds).
// Tests/TaktProtocolTests/FuzzReplayTests.swift repeats the fixture below; keep them equal.

import CTaktFuzzSupport
import Foundation
import TaktProtocol
import TaktTime

let fuzzCodec = FrameCodec(nodeCount: 12, slotCountPerMode: [4, 2], maximumPayloadBytes: 64)
let fuzzCState = CState(scheduleIdentity: 0x0123_4567_89AB_CDEF, mode: 0, round: 1_000, slot: 2,
                        membership: MembershipVector(capacity: 12, members: [0, 1, 2, 3, 5, 8, 11]))

/// Re-encodes a valid view with `cState` and traps unless the bytes are identical.
func reencodeAndCompare(_ view: FrameView, cState: CState) {
    var membership = MembershipVector(capacity: fuzzCodec.nodeCount)
    view.copyMembership(into: &membership)
    precondition(membership == cState.membership)
    precondition(view.bytes.count == fuzzCodec.frameBytes(payloadBytes: view.payload.count))
    withUnsafeTemporaryAllocation(byteCount: fuzzCodec.maximumFrameBytes, alignment: 8) { buffer in
        let length = fuzzCodec.encode(header: view.header, membership: membership, payload: view.payload,
                                      cState: cState, into: buffer)
        precondition(length == view.bytes.count, "re-encoded length \(length) ≠ \(view.bytes.count)")
        for i in 0..<length { precondition(buffer[i] == view.bytes[i], "re-encoded byte \(i) differs") }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrameOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    if case .valid(let view) = fuzzCodec.decode(bytes, expectedCState: fuzzCState) {
        precondition(view.header.round == fuzzCState.round && view.header.mode == fuzzCState.mode)
        reencodeAndCompare(view, cState: fuzzCState)
        precondition(fuzzCodec.decodeForIntegration(bytes).view != nil, "valid for a receiver but not for integration")
    }
    if case .valid(let view) = fuzzCodec.decodeForIntegration(bytes) {
        var adopted = CState(scheduleIdentity: 0, mode: 0, round: 0, slot: 0, membership: MembershipVector(capacity: 12))
        view.copyCState(into: &adopted)
        reencodeAndCompare(view, cState: adopted)
        precondition(fuzzCodec.decode(bytes, expectedCState: adopted).view != nil, "adopted C-state does not verify")
    }
    return 0
}

/// The seed corpus: valid frames, some for the fixed C-state, some only for integration.
func writeSeeds(to directory: String) {
    struct Seed { var name: String; var flags: FrameFlags; var cState: CState; var sender: Int; var lateness: Int64; var payload: [UInt8] }
    var other = fuzzCState
    other.mode = 1
    other.slot = 1
    other.round = 5
    other.membership.remove(2)
    var all = fuzzCState
    all.round = .max
    all.slot = 3
    all.membership.insertAll()
    var pending = fuzzCState
    pending.pendingMode = 1
    let seeds = [
        Seed(name: "integration-pending-mode", flags: [.carriesCState], cState: pending, sender: 3, lateness: 5,
             payload: [1, 2, 3, 4]),
        Seed(name: "expected-empty", flags: [], cState: fuzzCState, sender: 2, lateness: 0, payload: []),
        Seed(name: "expected-full", flags: [.carriesCState], cState: fuzzCState, sender: 2, lateness: -1_234,
             payload: (0..<64).map { UInt8($0 &* 37 & 0xFF) }),
        Seed(name: "expected-coldstart", flags: [.coldStart, .carriesCState], cState: fuzzCState, sender: 11,
             lateness: 950, payload: Array("takt!!!".utf8)),
        Seed(name: "integration-mode1", flags: [.carriesCState], cState: other, sender: 5, lateness: 17,
             payload: Array(repeating: 0xA5, count: 16)),
        Seed(name: "integration-all-members", flags: [], cState: all, sender: 0, lateness: Int64(Int32.max),
             payload: [0, 0xFF, 0x7F]),
    ]
    for seed in seeds {
        let header = FrameHeader(flags: seed.flags, mode: seed.cState.mode, scheduleIdentity: seed.cState.scheduleIdentity,
                                 round: seed.cState.round, slot: seed.cState.slot, sender: seed.sender,
                                 sendLateness: .nanoseconds(seed.lateness), pendingMode: seed.cState.pendingMode)
        var frame = [UInt8](repeating: 0, count: fuzzCodec.maximumFrameBytes)
        let length = seed.payload.withUnsafeBytes { payload in
            frame.withUnsafeMutableBytes { fuzzCodec.encode(header: header, membership: seed.cState.membership,
                                                            payload: payload, cState: seed.cState, into: $0) }
        }
        let path = directory + "/" + seed.name + ".frame"
        guard FileManager.default.createFile(atPath: path, contents: Data(frame[0..<length])) else {
            print("cannot write \(path)")
            exit(2)
        }
    }
    print("wrote \(seeds.count) seeds to \(directory)")
}

@main
struct FuzzFrame {
    static func main() {
        #if TAKT_FUZZING
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzFrameOneInput(data, size) })
        #else
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "--write-seeds" {
            guard arguments.count == 2 else {
                print("usage: takt-fuzz-frame --write-seeds DIR | takt-fuzz-frame FILE…")
                exit(2)
            }
            writeSeeds(to: arguments[1])
            return
        }
        var count = 0
        for path in arguments {
            guard let data = FileManager.default.contents(atPath: path) else {
                print("cannot read \(path)")
                exit(2)
            }
            let bytes = [UInt8](data)
            _ = bytes.withUnsafeBufferPointer { fuzzFrameOneInput($0.baseAddress, $0.count) }
            count += 1
        }
        print("replayed \(count) input\(count == 1 ? "" : "s") without a crash")
        #endif
    }
}
