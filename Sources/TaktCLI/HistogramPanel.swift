// One histogram panel of an SVG picture, shared by the benchmarks' pictures (`takt bench jitter
// --svg`, `takt bench latency --svg`): counts on a log scale, log10(count + 1), so single outliers
// stay visible next to thousands of ordinary samples; the x axis either logarithmic (1 ns to
// 10^decades ns: lateness spans many decades) or linear over [low, high] (latencies and reading
// errors sit in a narrow band), samples above `high` gathered in one overflow bar at the right;
// percentiles and bounds marked as labelled vertical lines.

import Foundation
import TaktTime

struct HistogramPanel {
    enum Axis {
        /// 1 ns … 10^decades ns.
        case logarithmic(decades: Int)
        /// low … high ns; samples above high go to the overflow bar, below low to the first bin.
        case linear(low: Int64, high: Int64)
    }

    struct Marker {
        var label: String
        var value: Interval
        var color: String
        /// Dashed (a percentile of the samples) or solid (a bound or another measurement).
        var dashed = true
        /// Which line of labels at the top of the panel (0, 1, 2 …), so neighbours do not overlap.
        var row = 0
        /// The label to the left of the line (for a marker at the right edge).
        var labelOnLeft = false
    }

    var axis: Axis
    var left: Double
    var top: Double
    var width: Double
    var height: Double
    var bins = 120

    /// Bin counts of `samples` (any order) and how many lay above the axis (linear axes only).
    func counts(_ samples: [Interval]) -> (counts: [Int], overflow: Int) {
        var counts = [Int](repeating: 0, count: bins)
        var overflow = 0
        for s in samples {
            switch axis {
            case .logarithmic(let decades):
                counts[min(bins - 1, Int(log10(max(Double(s.nanoseconds), 1)) / Double(decades) * Double(bins)))] += 1
            case .linear(let low, let high):
                if s.nanoseconds > high { overflow += 1; continue }
                let span = Double(max(high - low, 1))
                counts[max(0, min(bins - 1, Int(Double(s.nanoseconds - low) / span * Double(bins))))] += 1
            }
        }
        return (counts, overflow)
    }

    /// The x coordinate of a value.
    func x(_ value: Interval) -> Double {
        switch axis {
        case .logarithmic(let decades):
            return left + log10(max(Double(value.nanoseconds), 1)) / Double(decades) * width
        case .linear(let low, let high):
            let fraction = Double(value.nanoseconds - low) / Double(max(high - low, 1))
            return left + max(0, min(1, fraction)) * width
        }
    }

    /// The bars, the axis with its labels, the count label, and the markers. `noun` names what is
    /// counted ("wake-ups", "deliveries") in the tooltips and the y label.
    func render(_ samples: [Interval], markers: [Marker], noun: String) -> String {
        let (counts, overflow) = self.counts(samples)
        let maxCount = Double(max(counts.max() ?? 1, overflow, 1))
        let countDecades = max(1.0, log10(maxCount).rounded(.up))
        func barHeight(_ c: Int) -> Double { log10(Double(c) + 1) / (countDecades + 0.3) * height }
        let bottom = top + height
        var svg = ""
        for (b, c) in counts.enumerated() where c > 0 {
            let h = barHeight(c)
            let x = left + Double(b) / Double(bins) * width
            svg += "<rect x=\"\(fmt(x))\" y=\"\(fmt(bottom - h))\" width=\"\(fmt(width / Double(bins) - 0.5))\" height=\"\(fmt(h))\" fill=\"#4477aa\"><title>\(c) \(noun)</title></rect>\n"
        }
        if overflow > 0, case .linear(_, let high) = axis {
            let h = barHeight(overflow)
            svg += "<rect x=\"\(fmt(left + width + 6))\" y=\"\(fmt(bottom - h))\" width=\"8\" height=\"\(fmt(h))\" fill=\"#aa3377\"><title>\(overflow) \(noun) above \(Interval(nanoseconds: high))</title></rect>\n"
            svg += "<text x=\"\(fmt(left + width + 10))\" y=\"\(fmt(bottom + 15))\" text-anchor=\"middle\" fill=\"#aa3377\">&gt;</text>\n"
        }
        svg += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(bottom))\" x2=\"\(fmt(left + width))\" y2=\"\(fmt(bottom))\" stroke=\"black\"/>\n"
        for tick in ticks() {
            svg += "<text x=\"\(fmt(x(tick)))\" y=\"\(fmt(bottom + 15))\" text-anchor=\"middle\">\(tick)</text>\n"
        }
        let middle = top + height / 2
        svg += "<text x=\"\(fmt(left - 50))\" y=\"\(fmt(middle))\" transform=\"rotate(-90 \(fmt(left - 50)) \(fmt(middle)))\" text-anchor=\"middle\">\(noun) (log)</text>\n"
        for m in markers {
            let x = x(m.value)
            let labelY = top + 12 + Double(m.row) * 15
            svg += "<line x1=\"\(fmt(x))\" y1=\"\(fmt(labelY - 10))\" x2=\"\(fmt(x))\" y2=\"\(fmt(bottom))\" stroke=\"\(m.color)\"\(m.dashed ? " stroke-dasharray=\"4 3\"" : "")/>\n"
            svg += "<text x=\"\(fmt(m.labelOnLeft ? x - 3 : x + 3))\" y=\"\(fmt(labelY))\" fill=\"\(m.color)\"\(m.labelOnLeft ? " text-anchor=\"end\"" : "")>\(m.label) \(m.value)</text>\n"
        }
        return svg
    }

    /// The opening of a picture: the svg element, a white background, a title line.
    static func documentStart(width: Double, height: Double, left: Double, title: String) -> String {
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        svg += "<text x=\"\(fmt(left))\" y=\"22\" font-size=\"15\">\(SVGTimeline.escape(title))</text>\n"
        return svg
    }

    /// Axis labels: each decade of a logarithmic axis; 1-2-5 steps on a linear one.
    func ticks() -> [Interval] {
        switch axis {
        case .logarithmic(let decades):
            return (0...decades).map { Interval(nanoseconds: Int64(pow(10, Double($0)))) }
        case .linear(let low, let high):
            let step = HistogramPanel.niceStep(Swift.max(high - low, 1) / 4)
            var tick = (low / step) * step
            if tick < low { tick += step }
            var result: [Interval] = []
            while tick <= high { result.append(Interval(nanoseconds: tick)); tick += step }
            return result
        }
    }

    /// The smallest 1, 2 or 5 × 10^k ns at least `raw` (≥ 1 ns).
    static func niceStep(_ raw: Int64) -> Int64 {
        var power: Int64 = 1
        while true {
            for factor: Int64 in [1, 2, 5] where factor * power >= raw { return factor * power }
            if power > Int64.max / 100 { return power }
            power *= 10
        }
    }
}

/// One decimal place, for SVG coordinates.
func fmt(_ v: Double) -> String { String(format: "%.1f", v) }
