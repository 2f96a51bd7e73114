// libFuzzer target for the schedule front end (lexer, parser, elaborator, validator).
//
// Fuzz build (libFuzzer provides main):
//   swift build --scratch-path .build/fuzz -c debug --product takt-fuzz-schedule \
//     -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DTAKT_FUZZING
//   .build/fuzz/debug/takt-fuzz-schedule -max_total_time=60 Tests/Fuzz/corpus-schedule
// Normal build: a replayer that runs every file given as an argument through the same entry
// point (used by tests to replay crashers and the seed corpus).

import Foundation
import TaktSchedule

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzScheduleOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let text = String(decoding: bytes, as: UTF8.self)
    let result = ScheduleChecker.check(text)
    // Invariants that must hold for every input: a valid result has a model and no errors, and
    // every diagnostic points inside the text.
    if result.valid { precondition(result.schedule != nil && result.errorCount == 0) }
    for d in result.diagnostics { precondition(d.location.line >= 1 && d.location.column >= 1) }
    return 0
}

#if !TAKT_FUZZING
@main
struct FuzzScheduleReplay {
    static func main() {
        var count = 0
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                print("cannot read \(path)")
                continue
            }
            let bytes = [UInt8](data)
            _ = bytes.withUnsafeBufferPointer { fuzzScheduleOneInput($0.baseAddress, $0.count) }
            count += 1
        }
        print("replayed \(count) input\(count == 1 ? "" : "s") without a crash")
    }
}
#endif
