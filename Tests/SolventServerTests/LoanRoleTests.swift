import SolventCore
import SolventEngine
import SolventServer
import Testing

/// `borrow` and `repay` are an account key's own collateral moves (docs/loans.md): permitted on
/// its own account only; feeders may not; the operator may.
@Suite struct LoanRoleTests {
    @Test func borrowAndRepayAreTheAccountsOwn() {
        func permitted(_ role: Role, _ command: EngineCommand) -> Bool {
            let (action, account) = Action.of(command, orderOwner: nil)
            return role.permits(action, account: account, boundAccount: "alice")
        }
        let commands: [(EngineCommand, EngineCommand)] = [
            (.borrow(account: "alice", asset: "USDT", amount: 1), .borrow(account: "bob", asset: "USDT", amount: 1)),
            (.repay(account: "alice", asset: "USDT", amount: 1), .repay(account: "bob", asset: "USDT", amount: 1)),
        ]
        for (own, other) in commands {
            #expect(Action.of(own, orderOwner: nil).action == .moveCollateral)
            #expect(permitted(.account, own) && !permitted(.account, other))
            #expect(!permitted(.priceFeeder, own) && !permitted(.fillFeeder, own) && permitted(.operator_, own))
        }
        #expect(commands.count == 2)
    }
}
