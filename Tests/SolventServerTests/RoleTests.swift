import Foundation
import SolventCore
import SolventEngine
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
        for action in Action.allCases where action != .deliverMessages { #expect(Role.operator_.permits(action)) }
        // `deliver` (a cross-shard message, docs/cluster.md stage 2) is internal: no client role may submit it.
        for role in Role.allCases {
            #expect(!role.permits(.deliverMessages, account: "alice", boundAccount: "alice"))
            let (action, _) = Action.of(.deliver(messageID: "s1-1", fromShard: 1, body: .fundCredit(asset: "USDT", amount: 1, account: "a")), orderOwner: nil)
            #expect(!role.permits(action, account: nil, boundAccount: nil))
        }
    }

    /// Commands are classified on their typed value: an account key's own orders (placed or
    /// cancelled) and funds are its own; nothing else is.
    @Test func typedCommands() {
        func permitted(_ role: Role, _ command: EngineCommand, owner: String? = nil) -> Bool {
            let (action, account) = Action.of(command, orderOwner: owner)
            return role.permits(action, account: account, boundAccount: "alice")
        }
        #expect(permitted(.account, .cancelOrder(id: "o1"), owner: "alice"))
        #expect(!permitted(.account, .cancelOrder(id: "o1"), owner: "bob"))
        #expect(!permitted(.account, .cancelOrder(id: "o1"), owner: nil))
        #expect(permitted(.account, .placeOrder(id: "o", account: "alice", symbol: "X", quantity: 1, price: 1, reduceOnly: false)))
        #expect(!permitted(.account, .placeOrder(id: "o", account: "bob", symbol: "X", quantity: 1, price: 1, reduceOnly: false)))
        #expect(permitted(.account, .withdraw(account: "alice", asset: "USDT", amount: 1)))
        #expect(!permitted(.account, .withdraw(account: "bob", asset: "USDT", amount: 1)))
        #expect(!permitted(.account, .fill(account: "alice", symbol: "X", quantity: 1, price: 1, fee: 0, orderID: nil)))
        #expect(!permitted(.account, .tick) && !permitted(.priceFeeder, .tick) && !permitted(.fillFeeder, .tick) && permitted(.operator_, .tick))
        #expect(permitted(.priceFeeder, .markPrice(symbol: "X", price: 1, sourceTime: 0)) && !permitted(.fillFeeder, .markPrice(symbol: "X", price: 1, sourceTime: 0)))
        #expect(permitted(.fillFeeder, .cancelOrder(id: "o1"), owner: "bob") && !permitted(.priceFeeder, .cancelOrder(id: "o1"), owner: "bob"))
        #expect(!permitted(.account, .chainDeposit(account: "alice", asset: "BTC", amount: 1, settle: nil, chain: "btc", height: 1, blockHash: "h")))
    }

    /// A key created by another process (`solvent keys create` while the server runs) is
    /// recognized by the running store; unknown keys stay unknown; files are mode 0600.
    @Test func keysCreatedElsewhereAreSeen() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("solvent-keys-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let running = try APIKeyStore(directory: folder)
        let operatorKey = try await running.create(role: .operator_, account: nil)
        try await Task.sleep(for: .milliseconds(20))  // a distinct modification time
        let cli = try APIKeyStore(directory: folder)
        let aliceKey = try await cli.create(role: .account, account: "alice")
        #expect(await running.principal(for: aliceKey)?.account == "alice")
        #expect(await running.principal(for: operatorKey)?.role == .operator_)
        #expect(await running.principal(for: "slv_nope") == nil)
        let mode = try FileManager.default.attributesOfItem(atPath: folder + "/keys.json")[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }
}
