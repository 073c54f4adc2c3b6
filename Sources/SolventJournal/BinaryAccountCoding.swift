import SolventCore
import SolventEngine
import SolventRisk

/// A hand-written path for `EngineAccount`, the snapshot's bulk type, inside the binary state
/// coder (`BinaryStateCoding`): the same bytes the synthesized `Codable` conformances write
/// through the generic coder, so the format (`SOLVBIN1`) is unchanged and every snapshot on disk
/// still restores, without the generic coder's per-container costs (existential containers,
/// metadata lookups, retain/release per value; BENCHMARKS.md "solvent bench").
///
/// Layout of one account (keys are the synthesized `CodingKeys`, interned in the key table as the
/// generic path interns them, in declaration order): a keyed container of `account` (keyed: `id`,
/// `settle`, `collateral` [keyed: `asset`, `amount`], `positions` [keyed: `instrument`,
/// `quantity`, `entryPrice`, `leverage` (nil or a decimal), `marginMode` ({`cross`: {}} or
/// {`isolated`: {`margin`}})]), `leverage` (a keyed container with integer keys), `isolated`
/// (unkeyed integers), `orders` (unkeyed strings), `procedures` (unkeyed, pool key then state,
/// each a one-case keyed container), `socializedLoss`, `badDebt`, `writtenOff`, `indexVersion`,
/// `mode` (nil or a string).
///
/// Decoding accepts exactly that layout; anything else (an older body without `mode`, a key
/// written inline, entries in another order, a value of another tag) makes it give up and the
/// generic decoder read the account, so what decodes and what is refused is what the generic
/// decoder decides (BinaryAccountCodingTests compare both over random states; the FuzzSnapshot
/// harness reaches this path through `EngineState`).
enum BinaryAccountField: Int, CaseIterable {
    case account, id, settle, collateral, asset, amount, positions, instrument, quantity, entryPrice, leverage, marginMode
    case cross, isolated, margin, orders, procedures, normal, warning, called, deadline, liquidating, untilCured
    case socializedLoss, badDebt, writtenOff, indexVersion, mode

    var name: String { String(describing: self) }
}

/// A coding key named by its text (the fast path's keys go through the generic key interning).
struct BinaryNamedKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension BinaryEncodingCore {
    /// Writes the key of field `f`: its interned id once known, else through `writeKey`.
    @inline(__always) func writeField(_ f: BinaryAccountField) {
        let cached = accountKeyIDs[f.rawValue]
        if cached >= 0 {
            writeVarint(UInt64(cached) << 2)
            return
        }
        let name = f.name
        writeKey(BinaryNamedKey(stringValue: name))
        if let id = keyIDs[name] { accountKeyIDs[f.rawValue] = id }
    }

    @inline(__always) func writeDecimal(_ value: FixedDecimal) {
        write128(Tag.decimal, UInt64(truncatingIfNeeded: value.raw), UInt64(truncatingIfNeeded: value.raw >> 64))
    }

    /// A one-case keyed container with no associated values: `{name: {}}`.
    @inline(__always) func writeBareCase(_ f: BinaryAccountField) {
        bytes.append(Tag.keyed)
        writeField(f)
        bytes.append(Tag.keyed)
        bytes.append(Tag.end)
        bytes.append(Tag.end)
    }

    /// Writes `record` as the synthesized conformances would (see the type's documentation).
    func writeAccount(_ record: EngineAccount) {
        let account = record.account
        bytes.append(Tag.keyed)
        writeField(.account)
        bytes.append(Tag.keyed)
        writeField(.id); writeString(account.id)
        writeField(.settle); writeSigned(Int64(account.settle))
        writeField(.collateral)
        bytes.append(Tag.unkeyed)
        for c in account.collateral {
            bytes.append(Tag.keyed)
            writeField(.asset); writeSigned(Int64(c.asset))
            writeField(.amount); writeDecimal(c.amount)
            bytes.append(Tag.end)
        }
        bytes.append(Tag.end)
        writeField(.positions)
        bytes.append(Tag.unkeyed)
        for p in account.positions {
            bytes.append(Tag.keyed)
            writeField(.instrument); writeSigned(Int64(p.instrument))
            writeField(.quantity); writeDecimal(p.quantity)
            writeField(.entryPrice); writeDecimal(p.entryPrice)
            writeField(.leverage)
            if let leverage = p.leverage { writeDecimal(leverage) } else { bytes.append(Tag.null) }
            writeField(.marginMode)
            switch p.marginMode {
            case .cross: writeBareCase(.cross)
            case .isolated(let margin):
                bytes.append(Tag.keyed)
                writeField(.isolated)
                bytes.append(Tag.keyed)
                writeField(.margin); writeDecimal(margin)
                bytes.append(Tag.end)
                bytes.append(Tag.end)
            }
            bytes.append(Tag.end)
        }
        bytes.append(Tag.end)
        bytes.append(Tag.end)  // account
        writeField(.leverage)
        bytes.append(Tag.keyed)
        for (i, l) in record.leverage {
            writeVarint(2)
            writeVarint(UInt64(bitPattern: (Int64(i) << 1) ^ (Int64(i) >> 63)))
            writeDecimal(l)
        }
        bytes.append(Tag.end)
        writeField(.isolated)
        bytes.append(Tag.unkeyed)
        for i in record.isolated { writeSigned(Int64(i)) }
        bytes.append(Tag.end)
        writeField(.orders)
        bytes.append(Tag.unkeyed)
        for o in record.orders { writeString(o) }
        bytes.append(Tag.end)
        writeField(.procedures)
        bytes.append(Tag.unkeyed)
        for (key, state) in record.procedures {
            switch key {
            case .cross: writeBareCase(.cross)
            case .isolated(let i):
                bytes.append(Tag.keyed)
                writeField(.isolated)
                bytes.append(Tag.keyed)
                writeField(.instrument); writeSigned(Int64(i))
                bytes.append(Tag.end)
                bytes.append(Tag.end)
            }
            switch state {
            case .normal: writeBareCase(.normal)
            case .warning: writeBareCase(.warning)
            case .called(let deadline, let amount):
                bytes.append(Tag.keyed)
                writeField(.called)
                bytes.append(Tag.keyed)
                writeField(.deadline); writeSigned(deadline)
                writeField(.amount); writeDecimal(amount)
                bytes.append(Tag.end)
                bytes.append(Tag.end)
            case .liquidating(let untilCured):
                bytes.append(Tag.keyed)
                writeField(.liquidating)
                bytes.append(Tag.keyed)
                writeField(.untilCured); bytes.append(untilCured ? Tag.trueValue : Tag.falseValue)
                bytes.append(Tag.end)
                bytes.append(Tag.end)
            }
        }
        bytes.append(Tag.end)
        writeField(.socializedLoss); writeDecimal(record.socializedLoss)
        writeField(.badDebt); writeDecimal(record.badDebt)
        writeField(.writtenOff); writeDecimal(record.writtenOff)
        writeField(.indexVersion); writeSigned(record.snapshotIndexVersion)
        writeField(.mode)
        if let mode = record.mode { writeString(mode.rawValue) } else { bytes.append(Tag.null) }
        bytes.append(Tag.end)
    }
}

/// The fast decoder met something other than the layout it reads: the generic decoder decides.
struct BinaryAccountFallback: Error {}

extension BinaryDecodingCore {
    /// The key-table ids of the account's field names (−1: not in the table), computed once.
    func accountFieldIDs() -> [Int] {
        if let ids = accountKeyIDs { return ids }
        var first: [String: Int] = [:]
        for (k, name) in keys.enumerated() where first[name] == nil { first[name] = k }
        let ids = BinaryAccountField.allCases.map { first[$0.name] ?? -1 }
        accountKeyIDs = ids
        return ids
    }

    /// The account at `p` and the offset past it, or nil when the bytes are not exactly the
    /// layout `writeAccount` writes (then the generic decoder reads them).
    func fastAccount(at p: Int) -> (EngineAccount, Int)? {
        let ids = accountFieldIDs()
        var q = p
        do {
            let record = try readAccount(&q, ids)
            return (record, q)
        } catch {
            return nil
        }
    }

    @inline(__always) func expect(_ tag: UInt8, _ p: inout Int) throws {
        guard try byte(p) == tag else { throw BinaryAccountFallback() }
        p += 1
    }

    @inline(__always) func expect(_ f: BinaryAccountField, _ p: inout Int, _ ids: [Int]) throws {
        let id = ids[f.rawValue]
        guard id >= 0, try varint(&p) == UInt64(id) << 2 else { throw BinaryAccountFallback() }
    }

    @inline(__always) func atEnd(_ p: inout Int) throws -> Bool {
        guard try byte(p) == Tag.end else { return false }
        p += 1
        return true
    }

    @inline(__always) func readDecimal(_ p: inout Int) throws -> FixedDecimal {
        let (value, end) = try decodeValue(FixedDecimal.self, at: p)
        p = end
        return value
    }

    @inline(__always) func readInt(_ p: inout Int) throws -> Int {
        let (value, end) = try integer(Int.self, p)
        p = end
        return value
    }

    static let poolCases: [BinaryAccountField] = [.cross, .isolated]
    static let procedureCases: [BinaryAccountField] = [.normal, .warning, .called, .liquidating]

    /// The opening of a one-case keyed container, `{name: {`, for one of `cases`; returns which
    /// (the caller reads the case's fields and the two end bytes).
    func readCase(_ p: inout Int, _ ids: [Int], _ cases: [BinaryAccountField]) throws -> BinaryAccountField {
        try expect(Tag.keyed, &p)
        let v = try varint(&p)
        guard v & 3 == 0, let f = cases.first(where: { ids[$0.rawValue] >= 0 && UInt64(ids[$0.rawValue]) << 2 == v }) else { throw BinaryAccountFallback() }
        try expect(Tag.keyed, &p)
        return f
    }

    func readAccount(_ p: inout Int, _ ids: [Int]) throws -> EngineAccount {
        try expect(Tag.keyed, &p)
        try expect(.account, &p, ids)
        try expect(Tag.keyed, &p)
        try expect(.id, &p, ids)
        let (id, idEnd) = try string(p)
        p = idEnd
        try expect(.settle, &p, ids)
        let settle = try readInt(&p)
        try expect(.collateral, &p, ids)
        try expect(Tag.unkeyed, &p)
        var collateral: [CollateralBalance] = []
        while try !atEnd(&p) {
            try expect(Tag.keyed, &p)
            try expect(.asset, &p, ids)
            let asset = try readInt(&p)
            try expect(.amount, &p, ids)
            let amount = try readDecimal(&p)
            try expect(Tag.end, &p)
            collateral.append(CollateralBalance(asset: asset, amount: amount))
        }
        try expect(.positions, &p, ids)
        try expect(Tag.unkeyed, &p)
        var positions: [Position] = []
        while try !atEnd(&p) {
            try expect(Tag.keyed, &p)
            try expect(.instrument, &p, ids)
            let instrument = try readInt(&p)
            try expect(.quantity, &p, ids)
            let quantity = try readDecimal(&p)
            try expect(.entryPrice, &p, ids)
            let entry = try readDecimal(&p)
            try expect(.leverage, &p, ids)
            var leverage: FixedDecimal? = nil
            if try byte(p) == Tag.null { p += 1 } else { leverage = try readDecimal(&p) }
            try expect(.marginMode, &p, ids)
            let mode: MarginMode
            switch try readCase(&p, ids, Self.poolCases) {
            case .cross:
                mode = .cross
            default:
                try expect(.margin, &p, ids)
                mode = .isolated(margin: try readDecimal(&p))
            }
            try expect(Tag.end, &p)
            try expect(Tag.end, &p)
            try expect(Tag.end, &p)  // the position
            positions.append(Position(instrument: instrument, quantity: quantity, entryPrice: entry, leverage: leverage, marginMode: mode))
        }
        try expect(Tag.end, &p)  // account
        try expect(.leverage, &p, ids)
        try expect(Tag.keyed, &p)
        var leverage: [Int: FixedDecimal] = [:]
        while try !atEnd(&p) {
            guard try varint(&p) == 2 else { throw BinaryAccountFallback() }
            let z = try varint(&p)
            // A key beyond Int or a repeated key: the generic decoder's reading decides.
            guard let i = Int(exactly: Int64(bitPattern: (z >> 1) ^ (0 &- (z & 1)))) else { throw BinaryAccountFallback() }
            let value = try readDecimal(&p)
            guard leverage.updateValue(value, forKey: i) == nil else { throw BinaryAccountFallback() }
        }
        try expect(.isolated, &p, ids)
        try expect(Tag.unkeyed, &p)
        var isolated = Set<Int>()
        while try !atEnd(&p) { isolated.insert(try readInt(&p)) }
        try expect(.orders, &p, ids)
        try expect(Tag.unkeyed, &p)
        var orders: [String] = []
        while try !atEnd(&p) {
            let (order, end) = try string(p)
            p = end
            orders.append(order)
        }
        try expect(.procedures, &p, ids)
        try expect(Tag.unkeyed, &p)
        var procedures: [PoolKey: ProcedureState] = [:]
        while try !atEnd(&p) {
            let key: PoolKey
            switch try readCase(&p, ids, Self.poolCases) {
            case .cross: key = .cross
            default:
                try expect(.instrument, &p, ids)
                key = .isolated(instrument: try readInt(&p))
            }
            try expect(Tag.end, &p)
            try expect(Tag.end, &p)
            let state: ProcedureState
            switch try readCase(&p, ids, Self.procedureCases) {
            case .normal: state = .normal
            case .warning: state = .warning
            case .called:
                try expect(.deadline, &p, ids)
                let (deadline, end) = try signed(p)
                p = end
                try expect(.amount, &p, ids)
                state = .called(deadline: deadline, amount: try readDecimal(&p))
            default:
                try expect(.untilCured, &p, ids)
                let (untilCured, end) = try bool(p)
                p = end
                state = .liquidating(untilCured: untilCured)
            }
            try expect(Tag.end, &p)
            try expect(Tag.end, &p)
            procedures[key] = state
        }
        try expect(.socializedLoss, &p, ids)
        let socialized = try readDecimal(&p)
        try expect(.badDebt, &p, ids)
        let badDebt = try readDecimal(&p)
        try expect(.writtenOff, &p, ids)
        let writtenOff = try readDecimal(&p)
        try expect(.indexVersion, &p, ids)
        let (version, versionEnd) = try signed(p)
        p = versionEnd
        try expect(.mode, &p, ids)
        var mode: AccountMode? = nil
        if try byte(p) == Tag.null {
            p += 1
        } else {
            let (text, end) = try string(p)
            guard let parsed = AccountMode(rawValue: text) else { throw BinaryAccountFallback() }
            mode = parsed
            p = end
        }
        try expect(Tag.end, &p)
        return EngineAccount.snapshotRecord(account: Account(id: id, settle: settle, collateral: collateral, positions: positions), leverage: leverage,
                                            isolated: isolated, orders: orders, procedures: procedures, socializedLoss: socialized, badDebt: badDebt,
                                            writtenOff: writtenOff, indexVersion: version, mode: mode)
    }
}
