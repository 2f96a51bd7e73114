// The demo's physical plant: two tanks in cascade, a pump filling the upper one, the upper one
// draining into the lower one through an orifice, the lower one draining out — the classic
// coupled-tanks level loop. The controller holds the LOWER tank's level at a setpoint by driving
// the pump.
//
//   A·dh1/dt = q_pump − k1·√h1            q_pump = u·qmax, u ∈ [0, 1] (the actuator command)
//   A·dh2/dt = k1·√h1 − k2·√h2 − q_leak   q_leak: the disturbance (a valve opened on tank 2)
//
// Torricelli's outflow (√h) makes the loop non-linear; around a level h the time constant of one
// tank is 2A√h/k (≈ 1.4 s at h = 2 with the values below), so the loop's response — a setpoint step,
// a disturbance — plays out within seconds and a demo of half a minute shows it. The level sensor
// adds noise (Irwin–Hall: the sum of 12 uniforms, ≈ Gaussian) from a seeded generator, so a
// simulated run is reproducible bit for bit. Integration: explicit Euler in steps of at most 1 ms,
// ample for time constants of seconds. Levels are clamped to [0, height] (a tank neither goes
// negative nor holds more than it can).

import TaktSim

public struct TwoTankPlant: Sendable {
    public struct Parameters: Sendable, Equatable {
        /// Cross-section of each tank (m²), outflow coefficients (m^2.5/s), pump capacity (m³/s).
        public var area = 0.25
        public var k1 = 0.5
        public var k2 = 0.5
        public var maximumFlow = 1.5
        /// Tank height (m) and the sensor noise's standard deviation (m).
        public var height = 4.0
        public var noise = 0.004
        public init() {}
    }

    public var parameters: Parameters
    /// Levels of the upper and lower tank (m).
    public private(set) var upper: Double
    public private(set) var lower: Double
    /// The pump command in effect (0…1) and the leak (m³/s) in effect.
    public var command: Double
    public var leak: Double
    /// Plant time (s) since the start.
    public private(set) var time: Double
    private var random: SimulationRandom

    /// A plant at rest at the levels the pump command `command` holds in steady state.
    public init(parameters: Parameters = Parameters(), command: Double, seed: UInt64) {
        self.parameters = parameters
        let q = command * parameters.maximumFlow
        upper = (q / parameters.k1) * (q / parameters.k1)
        lower = (q / parameters.k2) * (q / parameters.k2)
        self.command = command
        leak = 0
        time = 0
        random = SimulationRandom(seed: seed ^ 0x7A4B_1E5D_0C3F_9A21)
    }

    /// The pump command that holds the lower tank at `level` in steady state (no leak).
    public static func steadyCommand(forLevel level: Double, parameters: Parameters = Parameters()) -> Double {
        parameters.k2 * level.squareRoot() / parameters.maximumFlow
    }

    /// Advances the plant to `time` (seconds; a time at or before the current one changes nothing).
    public mutating func advance(to target: Double) {
        let p = parameters
        let u = min(1, max(0, command))
        while time < target {
            let dt = min(0.001, target - time)
            let outUpper = p.k1 * max(0, upper).squareRoot()
            let outLower = p.k2 * max(0, lower).squareRoot()
            upper = min(p.height, max(0, upper + dt * (u * p.maximumFlow - outUpper) / p.area))
            lower = min(p.height, max(0, lower + dt * (outUpper - outLower - leak) / p.area))
            time += dt
        }
    }

    /// A reading of the lower tank's level: the true level plus sensor noise.
    public mutating func measureLower() -> Double {
        var sum = 0.0
        for _ in 0..<12 { sum += Double(random.next() >> 11) / Double(1 << 53) }
        return lower + (sum - 6) * parameters.noise
    }
}
