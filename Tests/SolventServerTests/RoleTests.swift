import SolventServer
import Testing

@Suite struct RoleTests {
    /// An account key acts only on its own account; feeders only publish; the operator does everything.
    @Test func permissions() {
        #expect(Role.account.permits(.readAccount, account: "alice", boundAccount: "alice"))
        #expect(!Role.account.permits(.readAccount, account: "bob", boundAccount: "alice"))
        #expect(!Role.account.permits(.moveCollateral, account: "alice", boundAccount: nil))
        #expect(!Role.account.permits(.changeParameters, account: "alice", boundAccount: "alice"))
        #expect(Role.priceFeeder.permits(.publishPrices))
        #expect(!Role.priceFeeder.permits(.moveCollateral, account: "alice", boundAccount: "alice"))
        #expect(Role.fillFeeder.permits(.publishFills) && !Role.fillFeeder.permits(.moveCollateral))
        for action in Action.allCases { #expect(Role.operator_.permits(action)) }
    }
}
