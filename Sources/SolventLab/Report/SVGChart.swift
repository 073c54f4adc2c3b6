import SolventCore
import SolventRisk

/// A small, dependency-free SVG chart (lines or grouped bars) for self-contained reports.
public struct SVGChart: Sendable {
    public enum Style: Sendable { case line, bars, scatter }

    public struct Series: Sendable {
        public var name: String
        public var color: String
        public var points: [(x: Double, y: Double)]
        /// Scatter style: join the points with a line (a frontier), and label each point.
        public var connect = false
        public var labels: [String] = []
        public init(name: String, color: String, points: [(x: Double, y: Double)], connect: Bool = false, labels: [String] = []) {
            self.name = name
            self.color = color
            self.points = points
            self.connect = connect
            self.labels = labels
        }
    }

    public var id: String
    public var title: String
    public var yLabel: String
    public var series: [Series]
    public var style: Style = .line
    /// x values are epoch milliseconds (labelled as dates); otherwise plain numbers.
    public var timeAxis = true
    /// Format of y tick labels: a fraction shown as a percentage.
    public var percent = false
    /// Format of x tick labels (non-time axis): a fraction shown as a percentage.
    public var xPercent = false
    /// Label of the x axis (non-time axis).
    public var xLabel = ""
    public var width = 920.0
    public var height = 280.0

    public init(id: String, title: String, yLabel: String, series: [Series], style: Style = .line, timeAxis: Bool = true, percent: Bool = false) {
        self.id = id
        self.title = title
        self.yLabel = yLabel
        self.series = series
        self.style = style
        self.timeAxis = timeAxis
        self.percent = percent
    }

    public func render() -> String {
        let left = 78.0, right = 16.0, top = 34.0, bottom = 40.0
        let plotW = width - left - right, plotH = height - top - bottom
        let xs = series.flatMap { $0.points.map(\.x) }, ys = series.flatMap { $0.points.map(\.y) }.filter { $0.isFinite }
        var minX = xs.min() ?? 0, maxX = xs.max() ?? 1
        if minX == maxX { minX -= 1; maxX += 1 }
        var minY = min(0, ys.min() ?? 0), maxY = ys.max() ?? 1
        if minY == maxY { maxY = minY + 1 }
        let ticks = Self.niceTicks(minY, maxY)
        minY = min(minY, ticks.first ?? minY)
        maxY = max(maxY, ticks.last ?? maxY)
        func px(_ x: Double) -> Double { left + (x - minX) / (maxX - minX) * plotW }
        func py(_ y: Double) -> Double { top + (1 - (y - minY) / (maxY - minY)) * plotH }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" data-plot=\"\(Self.escape(id))\" viewBox=\"0 0 \(Self.f(width)) \(Self.f(height))\" role=\"img\" aria-label=\"\(Self.escape(title))\">"
        svg += "<title>\(Self.escape(title))</title>"
        svg += "<text x=\"\(Self.f(left))\" y=\"18\" class=\"chart-title\">\(Self.escape(title))</text>"
        // Grid and y ticks.
        for tick in ticks {
            let y = py(tick)
            svg += "<line x1=\"\(Self.f(left))\" x2=\"\(Self.f(left + plotW))\" y1=\"\(Self.f(y))\" y2=\"\(Self.f(y))\" class=\"grid\"/>"
            svg += "<text x=\"\(Self.f(left - 6))\" y=\"\(Self.f(y + 4))\" class=\"tick\" text-anchor=\"end\">\(label(tick))</text>"
        }
        svg += "<text transform=\"translate(14 \(Self.f(top + plotH / 2))) rotate(-90)\" class=\"axis\" text-anchor=\"middle\">\(Self.escape(yLabel))</text>"
        // x ticks: 6 evenly spaced.
        for k in 0...5 {
            let x = minX + (maxX - minX) * Double(k) / 5
            let text = timeAxis ? String(Timestamp.formatISO8601(Int64(x)).prefix(10)) : label(x, percentAxis: xPercent)
            let anchor = k == 0 ? "start" : (k == 5 ? "end" : "middle")
            svg += "<text x=\"\(Self.f(px(x)))\" y=\"\(Self.f(top + plotH + 18))\" class=\"tick\" text-anchor=\"\(anchor)\">\(text)</text>"
        }
        if !timeAxis && !xLabel.isEmpty {
            svg += "<text x=\"\(Self.f(left + plotW / 2))\" y=\"\(Self.f(height - 4))\" class=\"axis\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>"
        }
        svg += "<line x1=\"\(Self.f(left))\" x2=\"\(Self.f(left + plotW))\" y1=\"\(Self.f(py(max(minY, 0))))\" y2=\"\(Self.f(py(max(minY, 0))))\" class=\"axis-line\"/>"
        switch style {
        case .line:
            for s in series where !s.points.isEmpty {
                let path = s.points.filter { $0.y.isFinite }.enumerated().map { k, p in "\(k == 0 ? "M" : "L")\(Self.f(px(p.x))),\(Self.f(py(p.y)))" }.joined()
                svg += "<path d=\"\(path)\" fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"1.6\" data-series=\"\(Self.escape(s.name))\"/>"
            }
        case .scatter:
            for s in series where !s.points.isEmpty {
                if s.connect {
                    let path = s.points.filter { $0.y.isFinite }.enumerated().map { k, p in "\(k == 0 ? "M" : "L")\(Self.f(px(p.x))),\(Self.f(py(p.y)))" }.joined()
                    svg += "<path d=\"\(path)\" fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"1.6\" stroke-dasharray=\"5 3\" data-series=\"\(Self.escape(s.name))\"/>"
                }
                for (k, p) in s.points.enumerated() where p.y.isFinite {
                    svg += "<circle cx=\"\(Self.f(px(p.x)))\" cy=\"\(Self.f(py(p.y)))\" r=\"\(s.connect ? 3 : 5)\" fill=\"\(s.color)\" data-series=\"\(Self.escape(s.name))\"/>"
                    if k < s.labels.count, !s.labels[k].isEmpty {
                        svg += "<text x=\"\(Self.f(px(p.x) + 7))\" y=\"\(Self.f(py(p.y) - 6))\" class=\"tick\">\(Self.escape(s.labels[k]))</text>"
                    }
                }
            }
        case .bars:
            let allX = Array(Set(xs)).sorted()
            let slot = plotW / Double(max(allX.count, 1))
            let barW = max(1, slot * 0.8 / Double(max(series.count, 1)))
            for (k, s) in series.enumerated() {
                for p in s.points where p.y != 0 {
                    let x = px(p.x) - slot * 0.4 + Double(k) * barW
                    let y0 = py(0), y1 = py(p.y)
                    svg += "<rect x=\"\(Self.f(x))\" y=\"\(Self.f(min(y0, y1)))\" width=\"\(Self.f(barW))\" height=\"\(Self.f(max(0.5, abs(y1 - y0))))\" fill=\"\(s.color)\" data-series=\"\(Self.escape(s.name))\"/>"
                }
            }
        }
        // Legend.
        var lx = left + plotW
        for s in series.reversed() {
            let w = Double(s.name.count) * 6.6 + 22
            lx -= w
            svg += "<rect x=\"\(Self.f(lx))\" y=\"9\" width=\"10\" height=\"10\" fill=\"\(s.color)\"/><text x=\"\(Self.f(lx + 14))\" y=\"18\" class=\"legend\">\(Self.escape(s.name))</text>"
        }
        svg += "</svg>"
        return svg
    }

    func label(_ value: Double, percentAxis: Bool? = nil) -> String {
        if percentAxis ?? percent { return Self.compact(value * 100) + "%" }
        return Self.compact(value)
    }

    /// 1234567 → 1.23M, 0.00452 → 0.0045.
    static func compact(_ v: Double) -> String {
        let a = abs(v)
        if a >= 1e9 { return DoubleBoundary.text((v / 1e7).rounded() / 100) + "B" }
        if a >= 1e6 { return DoubleBoundary.text((v / 1e4).rounded() / 100) + "M" }
        if a >= 1e4 { return DoubleBoundary.text((v / 10).rounded() / 100) + "K" }
        if a >= 10 || a == 0 { return DoubleBoundary.text(v.rounded()) }
        var scale = 100.0
        while a * scale < 10 && scale < 1e12 { scale *= 10 }
        return DoubleBoundary.text((v * scale).rounded() / scale)
    }

    /// About five round ticks covering [low, high].
    static func niceTicks(_ low: Double, _ high: Double) -> [Double] {
        let span = high - low
        guard span > 0, span.isFinite else { return [low] }
        let raw = span / 5
        var magnitude = 1.0
        while magnitude * 10 <= raw { magnitude *= 10 }
        while magnitude > raw { magnitude /= 10 }
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var ticks: [Double] = []
        var t = (low / step).rounded(.down) * step
        while t <= high + step * 0.5 && ticks.count < 12 {
            ticks.append(t)
            t += step
        }
        return ticks
    }

    static func f(_ v: Double) -> String { DoubleBoundary.text((v * 10).rounded() / 10) }

    /// Text safe inside HTML/SVG elements and attributes.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}
