// swift-tools-version:6.0
// Takt: a clock-driven, time-triggered real-time runtime.
// No package dependencies: the toolchain's own modules only (see Docs/architecture.md).
import PackageDescription

let package = Package(
    name: "Takt",
    products: [
        .executable(name: "takt", targets: ["takt"]),
        .library(name: "TaktTime", targets: ["TaktTime"]),
        .library(name: "TaktSchedule", targets: ["TaktSchedule"]),
    ],
    targets: [
        // Core: stdlib only (enforced by TidyTests).
        .target(name: "TaktTime"),
        .target(name: "TaktSchedule", dependencies: ["TaktTime"]),
        // The command-line front end as a library, so tests drive it in-process.
        .target(name: "TaktCLI", dependencies: ["TaktTime", "TaktSchedule"]),
        .executableTarget(name: "takt", dependencies: ["TaktCLI"], path: "Tools/takt"),
        // libFuzzer target for the schedule parser; built normally it replays files given as arguments.
        .executableTarget(name: "takt-fuzz-schedule", dependencies: ["TaktSchedule", "CTaktFuzzSupport"], path: "Tools/fuzz-schedule"),
        .target(name: "CTaktFuzzSupport", path: "Tools/fuzz-support"),
        .testTarget(name: "TaktTimeTests", dependencies: ["TaktTime"]),
        .testTarget(name: "TaktScheduleTests", dependencies: ["TaktSchedule", "TaktTime"]),
        .testTarget(name: "TaktCLITests", dependencies: ["TaktCLI", "TaktSchedule", "TaktTime"]),
    ],
    swiftLanguageModes: [.v6]
)
