// Where the tests find the project's files, and the shipped schedules checked and elaborated.

import Foundation
import TaktSchedule
import Testing

/// The package root, found from this file's path (Tests/TaktTestSupport/Repository.swift).
public let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// `Schedules/NAME`, validated: its schedule and derived results (the test fails if it is invalid).
public func loadSchedule(_ name: String) throws -> (Schedule, DerivedResults) {
    let result = ScheduleChecker.check(try String(contentsOfFile: packageRoot + "/Schedules/" + name, encoding: .utf8))
    return (try #require(result.schedule), try #require(result.derived))
}
