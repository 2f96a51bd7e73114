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
        .library(name: "TaktProtocol", targets: ["TaktProtocol"]),
    ],
    targets: [
        // Core: stdlib only (enforced by TidyTests).
        .target(name: "TaktTime"),
        .target(name: "TaktSchedule", dependencies: ["TaktTime"]),
        .target(name: "TaktProtocol", dependencies: ["TaktTime", "TaktSchedule"]),
        // The deterministic simulator (stdlib only as well: one seeded PRNG, no clocks, no threads).
        .target(name: "TaktSim", dependencies: ["TaktTime", "TaktSchedule", "TaktProtocol"]),
        // The command-line front end as a library, so tests drive it in-process.
        .target(name: "TaktCLI", dependencies: ["TaktTime", "TaktSchedule", "TaktSim", "TaktProtocol", "TaktPlatform", "TaktRuntime", "TaktControl", "TaktDemo"]),
        .executableTarget(name: "takt", dependencies: ["TaktCLI"], path: "Tools/takt"),
        // The only module that touches Linux: clocks, sleeps, real-time set-up, UDP media (Docs/platform.md).
        .target(name: "TaktPlatform", dependencies: ["TaktTime", "TaktProtocol", "CTaktPlatform"]),
        // Its C side: recvmmsg/sendmmsg, CMSG, ppoll, CPU sets, prctl (Swift's Glibc lacks _GNU_SOURCE).
        .target(name: "CTaktPlatform"),
        // The process-control framework: state messages, tasks, voting, replication (stdlib only).
        .target(name: "TaktControl", dependencies: ["TaktTime", "TaktSchedule", "TaktProtocol"]),
        // The replicated level-control demo (plant model, TMR controller tasks): stdlib only, so the
        // same code runs in the simulator and in real node processes.
        .target(name: "TaktDemo", dependencies: ["TaktControl", "TaktSim", "TaktProtocol", "TaktSchedule", "TaktTime"]),
        // The real runtime: the periodic executive driving TaktProtocol over a TaktPlatform medium.
        .target(name: "TaktRuntime", dependencies: ["TaktTime", "TaktSchedule", "TaktProtocol", "TaktPlatform"]),
        // libFuzzer target for the schedule parser; built normally it replays files given as arguments.
        .executableTarget(name: "takt-fuzz-schedule", dependencies: ["TaktSchedule", "CTaktFuzzSupport"], path: "Tools/fuzz-schedule"),
        // libFuzzer target for the frame decoder; built normally it replays files, or writes seeds.
        .executableTarget(name: "takt-fuzz-frame", dependencies: ["TaktProtocol", "CTaktFuzzSupport"], path: "Tools/fuzz-frame"),
        .target(name: "CTaktFuzzSupport", path: "Tools/fuzz-support"),
        // Test-only: the host gate (real-cluster tests run alone, other suites share the host), the
        // seeded PRNG and the package root / shipped-schedule loader of every test target.
        .target(name: "TaktTestSupport", dependencies: ["TaktSchedule"], path: "Tests/TaktTestSupport"),
        .testTarget(name: "TaktTimeTests", dependencies: ["TaktTestSupport", "TaktTime"]),
        .testTarget(name: "TaktScheduleTests", dependencies: ["TaktTestSupport", "TaktSchedule", "TaktTime"]),
        .testTarget(name: "TaktProtocolTests", dependencies: ["TaktTestSupport", "TaktProtocol", "TaktSchedule", "TaktTime"]),
        .testTarget(name: "TaktSimTests", dependencies: ["TaktTestSupport", "TaktSim", "TaktTime"]),
        // Test-only: counts heap allocations per thread, to prove the per-round path allocates nothing.
        .target(name: "CTaktAllocationCounter", path: "Tests/CTaktAllocationCounter"),
        .testTarget(name: "TaktAllocationTests", dependencies: ["TaktTestSupport", "CTaktAllocationCounter", "TaktProtocol", "TaktSchedule", "TaktTime", "TaktPlatform", "TaktRuntime"]),
        .testTarget(name: "TaktPlatformTests", dependencies: ["TaktTestSupport", "TaktPlatform", "TaktTime"]),
        .testTarget(name: "TaktRuntimeTests", dependencies: ["TaktTestSupport", "TaktRuntime", "TaktPlatform", "TaktProtocol", "TaktSchedule", "TaktTime", "CTaktAllocationCounter"]),
        .testTarget(name: "TaktControlTests", dependencies: ["TaktTestSupport", "TaktControl", "TaktProtocol", "TaktSchedule", "TaktTime", "CTaktAllocationCounter"]),
        .testTarget(name: "TaktDemoTests", dependencies: ["TaktTestSupport", "TaktDemo", "TaktControl", "TaktSim", "TaktProtocol", "TaktSchedule", "TaktTime", "CTaktAllocationCounter"]),
        .testTarget(name: "TaktCLITests", dependencies: ["TaktTestSupport", "TaktCLI", "TaktSchedule", "TaktTime", "TaktPlatform", "TaktRuntime"]),
    ],
    swiftLanguageModes: [.v6]
)
