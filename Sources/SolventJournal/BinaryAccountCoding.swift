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

    /// Writes `record` as the synthesized conformances would (see the type's documentation).
    func writeAccount(_ record: EngineAccount) {
        // Into the coder's scratch buffer, appended to `bytes` once: appending byte by byte to an
        // array costs a uniqueness and a capacity check each (and to the class's `bytes`, an
        // exclusivity check too).
        var s = BinaryAccountSink(core: self)
        defer { s.finish() }
        let account = record.account
        s.byte(BinaryStateCoding.Tag.keyed)
        s.field(.account)
        s.byte(BinaryStateCoding.Tag.keyed)
        s.field(.id); s.string(account.id)
        s.field(.settle); s.signed(Int64(account.settle))
        s.field(.collateral)
        s.byte(BinaryStateCoding.Tag.unkeyed)
        for c in account.collateral {
            s.byte(BinaryStateCoding.Tag.keyed)
            s.field(.asset); s.signed(Int64(c.asset))
            s.field(.amount); s.decimal(c.amount)
            s.byte(BinaryStateCoding.Tag.end)
        }
        s.byte(BinaryStateCoding.Tag.end)
        s.field(.positions)
        s.byte(BinaryStateCoding.Tag.unkeyed)
        for p in account.positions {
            s.byte(BinaryStateCoding.Tag.keyed)
            s.field(.instrument); s.signed(Int64(p.instrument))
            s.field(.quantity); s.decimal(p.quantity)
            s.field(.entryPrice); s.decimal(p.entryPrice)
            s.field(.leverage)
            if let leverage = p.leverage { s.decimal(leverage) } else { s.byte(BinaryStateCoding.Tag.null) }
            s.field(.marginMode)
            switch p.marginMode {
            case .cross: s.bareCase(.cross)
            case .isolated(let margin):
                s.byte(BinaryStateCoding.Tag.keyed)
                s.field(.isolated)
                s.byte(BinaryStateCoding.Tag.keyed)
                s.field(.margin); s.decimal(margin)
                s.byte(BinaryStateCoding.Tag.end)
                s.byte(BinaryStateCoding.Tag.end)
            }
            s.byte(BinaryStateCoding.Tag.end)
        }
        s.byte(BinaryStateCoding.Tag.end)
        s.byte(BinaryStateCoding.Tag.end)  // account
        s.field(.leverage)
        s.byte(BinaryStateCoding.Tag.keyed)
        for (i, l) in record.leverage {
            s.varint(2)
            s.varint(UInt64(bitPattern: (Int64(i) << 1) ^ (Int64(i) >> 63)))
            s.decimal(l)
        }
        s.byte(BinaryStateCoding.Tag.end)
        s.field(.isolated)
        s.byte(BinaryStateCoding.Tag.unkeyed)
        for i in record.isolated { s.signed(Int64(i)) }
        s.byte(BinaryStateCoding.Tag.end)
        s.field(.orders)
        s.byte(BinaryStateCoding.Tag.unkeyed)
        for o in record.orders { s.string(o) }
        s.byte(BinaryStateCoding.Tag.end)
        s.field(.procedures)
        s.byte(BinaryStateCoding.Tag.unkeyed)
        for (key, state) in record.procedures {
            switch key {
            case .cross: s.bareCase(.cross)
            case .isolated(let i):
                s.byte(BinaryStateCoding.Tag.keyed)
                s.field(.isolated)
                s.byte(BinaryStateCoding.Tag.keyed)
                s.field(.instrument); s.signed(Int64(i))
                s.byte(BinaryStateCoding.Tag.end)
                s.byte(BinaryStateCoding.Tag.end)
            }
            switch state {
            case .normal: s.bareCase(.normal)
            case .warning: s.bareCase(.warning)
            case .called(let deadline, let amount):
                s.byte(BinaryStateCoding.Tag.keyed)
                s.field(.called)
                s.byte(BinaryStateCoding.Tag.keyed)
                s.field(.deadline); s.signed(deadline)
                s.field(.amount); s.decimal(amount)
                s.byte(BinaryStateCoding.Tag.end)
                s.byte(BinaryStateCoding.Tag.end)
            case .liquidating(let untilCured):
                s.byte(BinaryStateCoding.Tag.keyed)
                s.field(.liquidating)
                s.byte(BinaryStateCoding.Tag.keyed)
                s.field(.untilCured); s.byte(untilCured ? Tag.trueValue : Tag.falseValue)
                s.byte(BinaryStateCoding.Tag.end)
                s.byte(BinaryStateCoding.Tag.end)
            }
        }
        s.byte(BinaryStateCoding.Tag.end)
        s.field(.socializedLoss); s.decimal(record.socializedLoss)
        s.field(.badDebt); s.decimal(record.badDebt)
        s.field(.writtenOff); s.decimal(record.writtenOff)
        s.field(.indexVersion); s.signed(record.snapshotIndexVersion)
        s.field(.mode)
        if let mode = record.mode { s.string(mode.rawValue) } else { s.byte(BinaryStateCoding.Tag.null) }
        s.byte(BinaryStateCoding.Tag.end)
    }
}

/// The bytes of one account being written, in the coder's scratch buffer (see `writeAccount`):
/// raw stores after one capacity check per value, appended to the coder's `bytes` by `finish`
/// (and before a field name is interned, which the coder writes itself).
struct BinaryAccountSink {
    typealias Tag = BinaryStateCoding.Tag
    /// The coder's scratch buffer, taken for this account (RawByteBuffer: one capacity check per value).
    var out: RawByteBuffer
    /// The coder's `accountKeyIDs`, refreshed when a field name is interned.
    var ids: [Int]
    let core: BinaryEncodingCore

    init(core: BinaryEncodingCore) {
        self.core = core
        out = core.scratch
        out.count = 0
        ids = core.accountKeyIDs
    }

    /// Appends the pending bytes to the coder's `bytes` and hands the (maybe grown) buffer back.
    mutating func finish() {
        flush()
        core.scratch = out
    }

    @inline(__always) mutating func flush() {
        if out.count > 0 { core.bytes.append(contentsOf: out.bytes) }
        out.count = 0
    }

    @inline(__always) mutating func byte(_ value: UInt8) { out.byte(value) }

    @inline(__always) mutating func varint(_ value: UInt64) {
        out.reserve(10)
        var v = value
        while v >= 0x80 {
            out.reservedByte(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.reservedByte(UInt8(v))
    }

    /// Field `f`'s key; a name not yet interned goes through the coder's `writeField`.
    @inline(__always) mutating func field(_ f: BinaryAccountField) {
        let id = ids[f.rawValue]
        if id >= 0 {
            varint(UInt64(id) << 2)
            return
        }
        flush()
        core.writeField(f)
        ids = core.accountKeyIDs
    }

    @inline(__always) mutating func signed(_ value: Int64) {
        byte(Tag.signed)
        varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    @inline(__always) mutating func decimal(_ value: FixedDecimal) {
        out.reserve(17)
        out.reservedByte(Tag.decimal)
        let raw = UnsafeMutableRawPointer(out.base + out.count)
        raw.storeBytes(of: UInt64(truncatingIfNeeded: value.raw).littleEndian, as: UInt64.self)
        raw.storeBytes(of: UInt64(truncatingIfNeeded: value.raw >> 64).littleEndian, toByteOffset: 8, as: UInt64.self)
        out.count += 16
    }

    mutating func string(_ value: String) {
        byte(Tag.string)
        var value = value
        value.withUTF8 { utf8 in
            varint(UInt64(utf8.count))
            out.append(utf8)
        }
    }

    /// A one-case keyed container with no associated values: `{name: {}}`.
    @inline(__always) mutating func bareCase(_ f: BinaryAccountField) {
        byte(Tag.keyed)
        field(f)
        byte(Tag.keyed)
        byte(Tag.end)
        byte(Tag.end)
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
        var leverage: InstrumentMap<FixedDecimal> = [:]
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
