import Foundation
import SolventCore
import SolventEngine
import SolventTestSupport
import Testing

/// Events name a portfolio account's one pool `"portfolio"` (Engine+EventPoolName.swift,
/// docs/scenarios.md "Events"), as the summary does; standard accounts keep `cross` and
/// `isolated:<symbol>`.
@Suite struct PortfolioPoolNameEventTests {
    /// The ORACLE2 writer with the fed marks trusted through the crash (tolerance 0.5): a margin
    /// call, a partial liquidation with fee contributions, then the bankrupt pool's liquidation and
    /// the fund's draw — every one names the pool "portfolio".
    @Test func portfolioAccountEventsSayPortfolio() throws {
        let (_, events) = try StaleOptionMarkTests.run(StaleOptionMarkTests.oracleScenario(extraParameters: #", "option_mark_tolerance": "0.5""#))
        let pooled = events.filter { $0.account == "writer" && $0["pool"] != nil }
        #expect(pooled.allSatisfy { $0.text("pool") == "portfolio" }, "\(pooled.map(\.json))")
        let kinds = Set(pooled.map(\.kind))
        #expect(kinds.isSuperset(of: [.marginCall, .liquidationStarted, .insuranceFundContribution, .insuranceFundDraw, .liquidationEnded]), "\(kinds)")
        #expect(pooled.count >= 5)
    }

    /// Standard accounts are unchanged: in the standard-account examples every pooled event
    /// names `cross` or an isolated pool; the covered-call lender's accounts are portfolio ones.
    @Test func standardAccountEventsSayCross() throws {
        var checked = 0
        for name in ["partial-liquidation.json", "crash-adl.json", "short-squeeze-socialized.json"] {
            let (_, events) = try runScenario(name)
            let pooled = events.filter { $0["pool"] != nil }
            #expect(pooled.allSatisfy { $0.text("pool") == "cross" || ($0.text("pool") ?? "").hasPrefix("isolated:") }, "\(name)")
            checked += pooled.count
        }
        #expect(checked > 0)
        let (_, lender) = try runScenario("covered-call-lender.json")
        let pooled = lender.filter { $0["pool"] != nil }
        #expect(!pooled.isEmpty && pooled.allSatisfy { $0.text("pool") == "portfolio" })
    }
}
