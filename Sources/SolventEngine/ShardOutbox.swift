public import SolventCore

/// Which shard an engine is (docs/cluster.md, "Stage 2 — accounts over shards"): shard `index`
/// of `count`. `1 of 1` (the default, `.single`) is today's engine, byte for byte: it keeps no
/// shard state and emits no outbox message. Shard `fundShard` (0) holds the insurance fund and
/// the ADL queue; an account belongs to shard `ShardAssignment.shard(of:count:)`.
public struct ShardConfiguration: Sendable, Hashable, Codable {
    /// This engine's shard, 0 ..< `count`.
    public var index: Int
    /// How many shards the venue has, 1 ... `ShardAssignment.maximumShards`.
    public var count: Int

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// One shard: today's engine.
    public static let single = ShardConfiguration(index: 0, count: 1)
    /// The shard that holds the insurance fund and ranks ADL counterparties.
    public static let fundShard = 0

    /// Whether the venue is split (more than one shard).
    public var isSharded: Bool { count > 1 }
    /// Whether this is the fund shard.
    public var isFundShard: Bool { index == Self.fundShard }

    /// Whether `account` belongs to this shard.
    public func owns(_ account: String) -> Bool { ShardAssignment.shard(of: account, count: count) == index }

    /// Why the configuration is invalid (field, reason), or nil.
    public func problem() -> (field: String, reason: String)? {
        if count < 1 || count > ShardAssignment.maximumShards { return ("count", "must be in 1...\(ShardAssignment.maximumShards), got \(count)") }
        if index < 0 || index >= count { return ("index", "must be in 0..<\(count), got \(index)") }
        return nil
    }
}

/// One account in a shard's ADL ranking of an instrument (`adl_candidates`).
public struct AdlCandidate: Sendable, Hashable, Codable {
    public var account: String
    /// Signed contracts held (+ long).
    public var quantity: FixedDecimal
    /// The ADL score (`Engine.adlRanking`: PnL% × effective leverage when profitable, PnL% ÷ it when not).
    public var score: FixedDecimal
    /// Unrealized PnL of the position at the mark (settle units; the weight of a socialized loss when > 0).
    public var profit: FixedDecimal
    /// The account's settle asset symbol.
    public var settle: String

    public init(account: String, quantity: FixedDecimal, score: FixedDecimal, profit: FixedDecimal, settle: String) {
        self.account = account
        self.quantity = quantity
        self.score = score
        self.profit = profit
        self.settle = settle
    }
}

/// One account's share of a socialized loss (`socialize`).
public struct SocializeCharge: Sendable, Hashable, Codable {
    public var account: String
    /// Charged to the account (settle units, > 0).
    public var amount: FixedDecimal

    public init(account: String, amount: FixedDecimal) {
        self.account = account
        self.amount = amount
    }
}

/// A liquidation's deficit claimed from the insurance fund (`fund_draw`). The bankrupt pool's
/// shard has already closed the account and credited `amount`; the fund shard pays it (fund,
/// then what the fills beyond the fund's reach would have left to ADL or the backstop, then
/// socialized loss, then bad debt borne by the clearing side).
public struct FundDraw: Sendable, Hashable, Codable {
    /// Settle asset symbol.
    public var asset: String
    /// The deficit (settle units, > 0).
    public var amount: FixedDecimal
    /// The bankrupt account.
    public var account: String
    /// The bankrupt position's instrument ("" for a deficit no position left).
    public var symbol: String
    /// +1 when the bankrupt position was long, −1 when short (0 without a position).
    public var side: Int
    /// The bankrupt position's bankruptcy price (as the step used it), nil without a position.
    public var bankruptcyPrice: FixedDecimal?
    /// The step's fills (price, contracts > 0) in execution order: the fund shard replays the
    /// single-node book walk over them to find what the fund could not have paid for.
    public var fills: [BookLevel]

    public init(asset: String, amount: FixedDecimal, account: String, symbol: String = "", side: Int = 0,
                bankruptcyPrice: FixedDecimal? = nil, fills: [BookLevel] = []) {
        self.asset = asset
        self.amount = amount
        self.account = account
        self.symbol = symbol
        self.side = side
        self.bankruptcyPrice = bankruptcyPrice
        self.fills = fills
    }
}

/// The body of a cross-shard message (docs/cluster.md, the table of cross-shard effects).
public enum OutboxBody: Sendable, Hashable, Codable {
    /// Account shard → fund shard: a deficit the fund pays.
    case fundDraw(FundDraw)
    /// Account shard → fund shard: a liquidation fee (a pool's surplus) for the fund.
    case fundCredit(asset: String, amount: FixedDecimal, account: String)
    /// Fund shard → the counterparty's shard: close `quantity` (signed, the counterparty's
    /// trade: + buys) of `account`'s position in `symbol` at `price` (the bankrupt's bankruptcy price).
    case adlReduce(account: String, symbol: String, quantity: FixedDecimal, price: FixedDecimal, bankruptAccount: String, deficitCovered: FixedDecimal)
    /// Fund shard → a shard: charge each named account its share of a socialized loss.
    case socialize(asset: String, symbol: String, bankruptAccount: String, charges: [SocializeCharge])
    /// Every non-fund shard → fund shard: its ADL ranking of `symbol`, highest first.
    case adlCandidates(symbol: String, candidates: [AdlCandidate])

    /// The body's `type` in the scenario shape.
    public var typeName: String {
        switch self {
        case .fundDraw: "fund_draw"
        case .fundCredit: "fund_credit"
        case .adlReduce: "adl_reduce"
        case .socialize: "socialize"
        case .adlCandidates: "adl_candidates"
        }
    }

    /// Whether the body goes to the fund shard (else it comes from it).
    public var isForFundShard: Bool {
        switch self {
        case .fundDraw, .fundCredit, .adlCandidates: true
        case .adlReduce, .socialize: false
        }
    }

    /// The money the body moves from its sender's books to its receiver's, per asset symbol
    /// (negative: from the receiver to the sender): what is in flight while it is undelivered.
    public var transfer: (asset: String, amount: FixedDecimal)? {
        switch self {
        case .fundDraw(let draw): (draw.asset, -draw.amount)
        case .fundCredit(let asset, let amount, _): (asset, amount)
        case .socialize(let asset, _, _, let charges): (asset, -charges.reduce(FixedDecimal.zero) { $0 + $1.amount })
        case .adlReduce, .adlCandidates: nil
        }
    }
}

/// A journaled cross-shard message: emitted by its sender as an `outbox_message` event, delivered
/// by appending `EngineCommand.deliver` to the receiver's journal. `id` is `s<from>-<n>`, `n` the
/// sender's message counter from 1: unique, deterministic, replayed identically.
public struct OutboxMessage: Sendable, Hashable, Codable {
    public var id: String
    public var from: Int
    public var to: Int
    public var body: OutboxBody

    public init(id: String, from: Int, to: Int, body: OutboxBody) {
        self.id = id
        self.from = from
        self.to = to
        self.body = body
    }

    /// The id of sender `shard`'s `n`th message.
    public static func id(shard: Int, number: Int64) -> String { "s\(shard)-\(number)" }

    /// The command that delivers the message to its receiver (`to`), at `time`; the message id
    /// is also the idempotency key.
    public func deliverCommand(at time: Int64) -> TimedCommand {
        TimedCommand(time: time, command: .deliver(messageID: id, fromShard: from, body: body), key: id)
    }

    /// The message an `outbox_message` event carries (nil for any other event).
    public init?(event: EngineEvent) {
        guard event.kind == .outboxMessage, let id = event.text("id"),
              case .integer(let from)? = event["from_shard"], case .integer(let to)? = event["to_shard"],
              case .object(let fields)? = event["body"] else { return nil }
        var writer = JSONWriter()
        EventValue.object(fields).write(into: &writer)
        guard let json = try? JSONParser.parse(writer.bytes),
              let body = try? OutboxBody.decode(JSONReader(json, path: "body")) else { return nil }
        self.init(id: id, from: Int(from), to: Int(to), body: body)
    }

    /// The `outbox_message` event's fields.
    var eventFields: [(String, EventValue)] {
        [("id", .text(id)), ("from_shard", .integer(Int64(from))), ("to_shard", .integer(Int64(to))), ("body", .object(body.eventFields))]
    }
}

extension OutboxBody {
    /// The body as event fields (the scenario shape of `deliver`'s `body`).
    var eventFields: [(String, EventValue)] {
        var f: [(String, EventValue)] = [("type", .text(typeName))]
        switch self {
        case .fundDraw(let d):
            f += [("asset", .text(d.asset)), ("amount", .decimal(d.amount)), ("account", .text(d.account)), ("symbol", .text(d.symbol)),
                  ("side", .integer(Int64(d.side))), ("bankruptcy_price", .optionalDecimal(d.bankruptcyPrice)),
                  ("fills", .list(d.fills.map { [("price", .decimal($0.price)), ("quantity", .decimal($0.quantity))] }))]
        case let .fundCredit(asset, amount, account):
            f += [("asset", .text(asset)), ("amount", .decimal(amount)), ("account", .text(account))]
        case let .adlReduce(account, symbol, quantity, price, bankrupt, covered):
            f += [("account", .text(account)), ("symbol", .text(symbol)), ("quantity", .decimal(quantity)), ("price", .decimal(price)),
                  ("bankrupt_account", .text(bankrupt)), ("deficit_covered", .decimal(covered))]
        case let .socialize(asset, symbol, bankrupt, charges):
            f += [("asset", .text(asset)), ("symbol", .text(symbol)), ("bankrupt_account", .text(bankrupt)),
                  ("charges", .list(charges.map { [("account", .text($0.account)), ("amount", .decimal($0.amount))] }))]
        case let .adlCandidates(symbol, candidates):
            f += [("symbol", .text(symbol)),
                  ("candidates", .list(candidates.map { [("account", .text($0.account)), ("quantity", .decimal($0.quantity)),
                                                         ("score", .decimal($0.score)), ("profit", .decimal($0.profit)), ("settle", .text($0.settle))] }))]
        }
        return f
    }

    /// Writes the body object (canonical command encoding).
    public func writeCanonical(into w: inout JSONWriter) {
        EventValue.object(eventFields).write(into: &w)
    }

    /// Decodes a body object (`deliver`'s `body`); every rejection names the JSON path.
    public static func decode(_ r: JSONReader) throws(InputError) -> OutboxBody {
        let typeReader = try r.required("type")
        let type = try typeReader.string()
        func text(_ name: String) throws(InputError) -> String { try r.required(name).nonEmptyString() }
        func list(_ name: String) throws(InputError) -> [JSONReader] {
            guard let reader = try r.optional(name) else { return [] }
            return try reader.elements().enumerated().map { JSONReader($1, path: "\(reader.path)[\($0)]") }
        }
        switch type {
        case "fund_draw":
            var fills: [BookLevel] = []
            for item in try list("fills") {
                fills.append(BookLevel(price: try item.required("price").messageDecimal(positive: true), quantity: try item.required("quantity").messageDecimal(positive: true)))
            }
            let sideReader = try r.optional("side")
            let side = try sideReader?.integer() ?? 0
            guard side >= -1 && side <= 1 else { throw sideReader!.error("must be -1, 0 or 1") }
            let bp = try r.optional("bankruptcy_price")?.messageDecimal(positive: true)
            return .fundDraw(FundDraw(asset: try text("asset"), amount: try r.required("amount").messageDecimal(positive: true), account: try text("account"),
                                      symbol: try r.optional("symbol")?.string() ?? "", side: Int(side), bankruptcyPrice: bp, fills: fills))
        case "fund_credit":
            return .fundCredit(asset: try text("asset"), amount: try r.required("amount").messageDecimal(positive: true), account: try text("account"))
        case "adl_reduce":
            return .adlReduce(account: try text("account"), symbol: try text("symbol"), quantity: try r.required("quantity").messageDecimal(),
                              price: try r.required("price").messageDecimal(positive: true), bankruptAccount: try text("bankrupt_account"),
                              deficitCovered: try r.optional("deficit_covered")?.messageDecimal(nonNegative: true) ?? .zero)
        case "socialize":
            var charges: [SocializeCharge] = []
            for item in try list("charges") {
                charges.append(SocializeCharge(account: try item.required("account").nonEmptyString(), amount: try item.required("amount").messageDecimal(positive: true)))
            }
            return .socialize(asset: try text("asset"), symbol: try r.optional("symbol")?.string() ?? "",
                              bankruptAccount: try text("bankrupt_account"), charges: charges)
        case "adl_candidates":
            var candidates: [AdlCandidate] = []
            for item in try list("candidates") {
                candidates.append(AdlCandidate(account: try item.required("account").nonEmptyString(), quantity: try item.required("quantity").messageDecimal(),
                                               score: try item.required("score").messageDecimal(), profit: try item.required("profit").messageDecimal(),
                                               settle: try item.required("settle").nonEmptyString()))
            }
            return .adlCandidates(symbol: try text("symbol"), candidates: candidates)
        default:
            throw typeReader.error("unknown message body \"\(type)\" (fund_draw, fund_credit, adl_reduce, socialize, adl_candidates)")
        }
    }
}

extension JSONReader {
    /// A decimal of a message body: anywhere in `FixedDecimal`'s range (a sender booked it — a
    /// deficit, a profit, a saturated ADL score — so the 10^15 bound of client input does not
    /// apply; `Engine.deliveryRangeProblem` bounds the amounts at 10^18).
    func messageDecimal(positive: Bool = false, nonNegative: Bool = false) throws(InputError) -> FixedDecimal {
        let text: String
        switch value {
        case .string(let s): text = s
        case .number(let s): text = s
        default: throw error("expected a decimal string, found \(value.typeName)")
        }
        let parsed: FixedDecimal
        do { parsed = try FixedDecimal(parsing: text) } catch { throw self.error(error.description) }
        if positive && !parsed.isPositive { throw error("must be positive, got \(parsed)") }
        if nonNegative && parsed.isNegative { throw error("must not be negative, got \(parsed)") }
        return parsed
    }
}
