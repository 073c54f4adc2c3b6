import SolventCore
import Testing

private func d(_ text: String) -> FixedDecimal { FixedDecimal(text)! }

@Suite struct BracketTableTests {
    /// Maintenance amounts follow Binance's `cum`: amount[i] = amount[i-1] + floor[i]·(mmr[i] − mmr[i-1]).
    /// Source: Binance COIN-M example in MECHANICS.md §1 — tier 5 amount = 50 × (5% − 2.5%) + 0.56 = 1.81.
    @Test func derivedAmounts() throws {
        let table = try BracketTable(rows: [
            .init(floor: 0, cap: 50_000, maxLeverage: 125, mmr: d("0.004")),
            .init(floor: 50_000, cap: 600_000, maxLeverage: 100, mmr: d("0.005")),
            .init(floor: 600_000, cap: 3_000_000, maxLeverage: 75, mmr: d("0.0065")),
        ])
        #expect(table.brackets.map(\.maintenanceAmount) == [d("0"), d("50"), d("950")])
        let coin = try BracketTable(rows: [
            .init(floor: 0, cap: 50, maxLeverage: 20, mmr: d("0.025"), amount: d("0.56")),
            .init(floor: 50, cap: 100, maxLeverage: 10, mmr: d("0.05")),
        ])
        #expect(coin.brackets[1].maintenanceAmount == d("1.81"))
    }

    /// MM is continuous at every bracket boundary.
    @Test func continuityAtBoundaries() throws {
        let table = try BracketTable(rows: [
            .init(floor: 0, cap: 50_000, maxLeverage: 125, mmr: d("0.004")),
            .init(floor: 50_000, cap: 600_000, maxLeverage: 100, mmr: d("0.005")),
            .init(floor: 600_000, cap: 3_000_000, maxLeverage: 75, mmr: d("0.0065")),
        ])
        for i in 1..<table.brackets.count {
            let boundary = table.brackets[i].notionalFloor
            let below = table.brackets[i - 1].maintenanceMargin(notional: boundary)
            let above = table.brackets[i].maintenanceMargin(notional: boundary)
            #expect(below == above)
        }
        #expect(table.index(forNotional: d("49999.99")) == 0)
        #expect(table.index(forNotional: d("50000")) == 1)
        #expect(table.index(forNotional: d("99000000")) == 2)
    }

    /// Every malformed table is rejected with the index of the faulty bracket.
    @Test func validation() {
        let ok = BracketTable.Row(floor: 0, cap: 100, maxLeverage: 10, mmr: d("0.01"))
        #expect(throws: BracketTableError.empty) { try BracketTable(rows: []) }
        #expect(throws: BracketTableError.firstFloorNotZero) { try BracketTable(rows: [.init(floor: 1, cap: 100, maxLeverage: 10, mmr: d("0.01"))]) }
        #expect(throws: BracketTableError.gap(index: 1, floor: 150, previousCap: 100)) {
            try BracketTable(rows: [ok, .init(floor: 150, cap: 200, maxLeverage: 5, mmr: d("0.02"))])
        }
        #expect(throws: BracketTableError.overlap(index: 1, floor: 50, previousCap: 100)) {
            try BracketTable(rows: [ok, .init(floor: 50, cap: 200, maxLeverage: 5, mmr: d("0.02"))])
        }
        #expect(throws: BracketTableError.rateDecreasing(index: 1)) {
            try BracketTable(rows: [ok, .init(floor: 100, cap: 200, maxLeverage: 5, mmr: d("0.005"))])
        }
        #expect(throws: BracketTableError.leverageIncreasing(index: 1)) {
            try BracketTable(rows: [ok, .init(floor: 100, cap: 200, maxLeverage: 20, mmr: d("0.02"))])
        }
        #expect(throws: BracketTableError.rateOutOfRange(index: 0)) { try BracketTable(rows: [.init(floor: 0, cap: 1, maxLeverage: 1, mmr: 1)]) }
        #expect(throws: BracketTableError.capNotAboveFloor(index: 0)) { try BracketTable(rows: [.init(floor: 0, cap: 0, maxLeverage: 1, mmr: 0)]) }
    }
}
