// libFuzzer target for the schedule front end (lexer, parser, elaborator, validator).
//
// Fuzz build (Tools/fuzz.sh): compiled with -sanitize=fuzzer,address and -DTAKT_FUZZING; main
// hands control to libFuzzer's driver. Normal build: a replayer that runs every file given as an
// argument through the same entry point (crashers become regression inputs).

import CTaktFuzzSupport
import Foundation
import TaktSchedule

/// One input: check it, and assert the invariants that must hold for every input. Exported under
/// libFuzzer's name as well, in case the toolchain links libFuzzer's own `main`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzScheduleOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let text = String(decoding: bytes, as: UTF8.self)
    let result = ScheduleChecker.check(text)
    if result.valid { precondition(result.schedule != nil && result.errorCount == 0) }
    for d in result.diagnostics { precondition(d.location.line >= 1 && d.location.column >= 1) }
    precondition(result.diagnostics.count <= 201)
    return 0
}

@main
struct FuzzSchedule {
    static func main() {
        #if TAKT_FUZZING
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzScheduleOneInput(data, size) })
        #else
        var count = 0
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                print("cannot read \(path)")
                exit(2)
            }
            let bytes = [UInt8](data)
            _ = bytes.withUnsafeBufferPointer { fuzzScheduleOneInput($0.baseAddress, $0.count) }
            count += 1
        }
        print("replayed \(count) input\(count == 1 ? "" : "s") without a crash")
        #endif
    }
}
