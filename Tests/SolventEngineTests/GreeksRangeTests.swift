import Foundation
import SolventCore
import SolventEngine
import SolventRisk
import Testing

/// Greeks beyond the decimal range (Engine+Greeks.swift, docs/options.md "Greeks"): a position's
/// greek that does not fit is absent (nil, JSON null), not 0; a total with an absent member
/// saturates with the sign of the positions' sum and is flagged `saturated`.
@Suite struct GreeksRangeTests {
    /// Long 1e9 calls and 1e9 puts at the money (F = K = 1) with a fed vol of 1e-12, T ≈ 30 days
    /// (0.0822 years): per unit Γ = n(d1)/(F·σ·√T) with d1 = σ√T/2 ≈ 0, so ≈ 0.39894/(1e-12 ·
    /// 0.28669) ≈ 1.3916e12; × 1e9 units ≈ 1.39e21 > FixedDecimal's ~1.7e20: absent for both.
    /// Delta (≈ 0.5e9 and −0.5e9) fits; vega per vol point ≈ 1e9·n(0)·√T/100 ≈ 1.14e6 fits.
    @Test func outOfRangePositionGreeksAreAbsentAndTotalsFlagged() throws {
        var engine = try AttackSession15Tests.tinyStrikeEngine(vol: "0.000000000001")
        let t = OptionBook.startTime + 1_000
        for symbol in ["X-1-C", "X-1-P"] {
            let events = engine.apply(at(t, .fill(account: "a", symbol: symbol, quantity: dec("1000000000"), price: dec("0.00000001"), fee: .zero, orderID: nil)))
            #expect(!events.contains { $0.kind == .rejected }, "\(events.map(\.json))")
        }
        let greeks = try #require(engine.greeks(of: "a"))
        #expect(greeks.positions.count == 2)
        var checked = 0
        for p in greeks.positions {
            #expect(p.gamma == nil, "\(p)")  // beyond the range: absent, not 0
            #expect(p.delta != nil && p.vega != nil && p.theta != nil, "\(p)")
            checked += 1
        }
        #expect(checked == 2)
        let total = try #require(greeks.totals.first)
        #expect(greeks.totals.count == 1 && total.gamma == FixedDecimal.max && total.saturated, "\(greeks.totals)")
        let json = greeks.json
        #expect(json.contains("\"gamma\":null") && json.contains("\"saturated\":true"), "\(json)")
        #expect(engine.invariantViolation() == nil)
    }

    /// A short position's absent gamma saturates the total at the negative end: short 5e6 calls
    /// at a vol of 1e-14 (within the 1e6 collateral's standard short-option margin, 0.15·F per
    /// unit): Γ ≈ −5e6 · 0.39894/(1e-14 · 0.28669) ≈ −6.96e20, beyond the range.
    @Test func shortAbsentGammaSaturatesNegative() throws {
        var engine = try AttackSession15Tests.tinyStrikeEngine(vol: "0.00000000000001")
        let t = OptionBook.startTime + 1_000
        _ = engine.apply(at(t, .fill(account: "a", symbol: "X-1-C", quantity: dec("-5000000"), price: dec("0.00000001"), fee: .zero, orderID: nil)))
        let greeks = try #require(engine.greeks(of: "a"))
        guard greeks.positions.count == 1, greeks.positions[0].quantity == dec("-5000000") else { Issue.record("the short fill was refused: \(greeks.positions)"); return }
        #expect(greeks.positions[0].gamma == nil)
        #expect(greeks.totals.first?.gamma == FixedDecimal.min && greeks.totals.first?.saturated == true, "\(greeks.totals)")
    }
}
