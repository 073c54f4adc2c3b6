import Crypto
public import SolventCore

extension Engine {
    /// The canonical bytes of the state: everything that decides future behaviour, in a
    /// fixed order (accounts in creation order, dictionaries by sorted key). The at-risk
    /// index is derived data and is not part of it.
    public func canonicalState() -> [UInt8] {
        var whole: [UInt8] = []
        writeCanonicalState { whole.append(contentsOf: $0) }
        return whole
    }

    /// The bytes of `canonicalState()` handed to `sink` in order, in pieces of about 64 KiB
    /// (one reused buffer: the state hash feeds SHA-256 with them instead of building the whole
    /// text, ≈ 300 bytes per account). Their concatenation is the canonical state.
    func writeCanonicalState(_ sink: (UnsafeBufferPointer<UInt8>) -> Void) {
        var w = JSONWriter(reservingCapacity: Self.canonicalPiece + 4096)
        let s = state
        w.beginObject()
        w.key("time"); w.integer(s.time)
        w.key("commands"); w.integer(s.commandsApplied)
        w.key("events"); w.integer(s.eventSequence)
        w.key("parameter_version"); w.integer(s.parameterVersion)
        // Per-asset debt rates apart, by asset index (a dictionary's description has no fixed order).
        var described = s.parameters
        described.policy.debtRates = [:]
        // The thin-book delta hedge flag (nil = off) stays out of the text when off, so states
        // without it hash as before it existed; on, it is in the description.
        w.key("parameters"); w.string(String(describing: described).replacing(", optionDeltaHedge: nil", with: "").replacing(", optionMarkTolerance: nil", with: ""))
        if !s.parameters.policy.debtRates.isEmpty {
            w.key("debt_rates"); w.beginArray()
            for (k, r) in s.parameters.policy.debtRates.sorted(by: { $0.key < $1.key }) { w.integer(k); w.decimal(r.maintenance); w.decimal(r.initial) }
            w.endArray()
        }
        w.key("assets"); w.beginArray()
        for asset in s.market.assets { w.beginArray(); w.string(asset.symbol); w.decimal(asset.price); w.decimal(asset.haircut); w.endArray() }
        w.endArray()
        w.key("instruments"); w.beginArray()
        for (i, instrument) in s.market.instruments.enumerated() {
            w.beginObject()
            w.member("symbol", instrument.symbol)
            w.key("brackets"); w.beginArray()
            for b in instrument.brackets.brackets {
                w.beginArray(); w.decimal(b.notionalFloor); w.decimal(b.notionalCap); w.decimal(b.maxLeverage); w.decimal(b.maintenanceMarginRate); w.decimal(b.maintenanceAmount); w.endArray()
            }
            w.endArray()
            w.key("mark"); w.optionalDecimal(s.market.marks[i])
            w.key("mark_time"); w.integer(s.markSources[i]?.sourceTime ?? -1)
            w.key("index"); w.optionalDecimal(s.indexPrices[i]?.price)
            w.key("index_time"); w.integer(s.indexPrices[i]?.sourceTime ?? -1)
            w.key("bids"); w.beginArray(); for l in s.books[i].bids { w.decimal(l.price); w.decimal(l.quantity) }; w.endArray()
            w.key("asks"); w.beginArray(); for l in s.books[i].asks { w.decimal(l.price); w.decimal(l.quantity) }; w.endArray()
            let b = s.breakers[i]
            w.key("breaker"); w.beginArray()
            w.string(b.pausedReasons.joined(separator: ",")); w.integer(b.capWindowStart); w.decimal(b.capUsed)
            w.integer(b.indexWindowStart); w.optionalDecimal(b.indexWindowReference); w.bool(b.throttleReported)
            w.endArray()
            w.endObject()
        }
        w.endArray()
        w.key("accounts"); w.beginArray()
        // The accounts' text by hand, the same bytes JSONWriter wrote (CanonicalAccountWriter.swift).
        Self.flush(&w, sink)
        CanonicalAccountWriter.write(s.accounts, piece: Self.canonicalPiece, sink)
        w.endArray()
        w.key("orders"); w.beginArray()
        for (id, o) in s.orders.sorted(by: { $0.key < $1.key }) {
            w.beginArray(); w.string(id); w.integer(o.account); w.integer(o.instrument); w.decimal(o.quantity); w.decimal(o.price); w.bool(o.reduceOnly); w.decimal(o.reservedMargin); w.endArray()
            if w.bytes.count >= Self.canonicalPiece { Self.flush(&w, sink) }
        }
        w.endArray()
        w.key("totals"); w.beginArray()
        for t in s.totals {
            w.beginArray(); w.decimal(t.opening); w.decimal(t.deposited); w.decimal(t.withdrawn); w.decimal(t.insuranceFund); w.decimal(t.fees); w.decimal(t.external); w.decimal(t.socializedLoss); w.endArray()
        }
        w.endArray()
        w.key("chain_deposits"); w.beginArray()
        for d in s.chainDeposits {
            w.beginArray(); w.integer(d.account); w.integer(d.asset); w.decimal(d.amount); w.string(d.identity); w.integer(d.sequence)
            w.decimal(d.credited); w.bool(d.isFinal); w.endArray()
        }
        w.endArray()
        w.key("chain_tips"); w.beginArray(); for (chain, tip) in s.chainTips.sorted(by: { $0.key < $1.key }) { w.string(chain); w.integer(tip) }; w.endArray()
        w.key("orphaned"); w.beginArray(); for o in s.orphanedDeposits.sorted() { w.string(o) }; w.endArray()
        w.key("backlog"); w.beginArray(); for a in s.backlog.sorted() { w.integer(a) }; w.endArray()
        w.key("payouts"); w.beginArray()
        for p in s.payouts { w.beginArray(); w.integer(p.sequence); w.string(p.account); w.integer(p.asset); w.decimal(p.amount); w.endArray() }
        w.endArray()
        if let lending = s.lendingStorage { writeLending(lending, into: &w) }  // Engine+Borrowing.swift: absent until lending is used
        w.key("pending"); w.beginArray()
        for p in s.pendingChanges {
            w.integer(p.time)
            for (symbol, table) in p.change.brackets.sorted(by: { $0.key < $1.key }) {
                w.string(symbol)
                for b in table.brackets { w.decimal(b.notionalFloor); w.decimal(b.notionalCap); w.decimal(b.maxLeverage); w.decimal(b.maintenanceMarginRate); w.decimal(b.maintenanceAmount) }
            }
            for (asset, haircut) in p.change.haircuts.sorted(by: { $0.key < $1.key }) { w.string(asset); w.decimal(haircut) }
            // An update that does not name the delta hedge describes as before the field existed.
            w.string(p.change.parameters.map { String(describing: $0).replacing(", optionDeltaHedge: nil", with: "").replacing(", optionMarkTolerance: nil", with: "") } ?? "")
            let lendingText = p.change.lendingCanonicalText
            if !lendingText.isEmpty { w.string(lendingText) }
        }
        w.endArray()
        if let o = s.optionMarks, !o.isEmpty {  // OptionMarks.swift: absent without option inputs
            w.key("option_marks"); w.beginArray()
            w.integer(o.valuationTime ?? -1)
            for (i, vol) in o.impliedVols.sorted(by: { $0.key < $1.key }) { w.integer(i); w.decimal(vol) }
            w.string("settlement")
            for (i, price) in o.settlementPrices.sorted(by: { $0.key < $1.key }) { w.integer(i); w.decimal(price) }
            if let p = o.portfolioPolicy {  // a scenario's portfolio_policy (Engine+Portfolio.swift): absent with the defaults
                w.string("portfolio_policy"); w.string(p.canonicalText)  // OptionMarks.swift
            }
            if let pending = o.pendingSettlements, !pending.isEmpty {  // Engine+Expiry.swift: absent until a settlement waits
                w.string("pending_settlements"); for i in pending { w.integer(i) }
            }
            if let surfaces = o.surfaces, !surfaces.isEmpty {  // vol_surface (Engine+VolSurface.swift): absent until the first
                w.string("surfaces")
                for q in surfaces {
                    w.string(q.underlying); w.integer(q.expiry); w.integer(q.sourceTime); w.integer(Int64(q.strikes.count))
                    for (k, v) in zip(q.strikes, q.vols) { w.decimal(k); w.decimal(v) }
                    if let f0 = q.referenceForward { w.string("sticky_moneyness"); w.decimal(f0) }  // VolSurfaceSticky.swift: absent for sticky strike
                }
            }
            if let marked = o.surfaceMarked, !marked.isEmpty {  // Engine+SurfaceFollow.swift: absent until a slice prices an option
                w.string("surface_marked"); for i in marked { w.integer(i) }
            }
            if let quoted = o.quotedForwards, !quoted.isEmpty {  // Engine+StaleOptionMarks.swift: absent until an underlying moves after a fed mark
                w.string("quoted_forwards"); for (i, f) in quoted.sorted(by: { $0.key < $1.key }) { w.integer(i); w.decimal(f) }
            }
            if let model = o.modelMarked, !model.isEmpty {  // Engine+StaleOptionMarks.swift: absent until a fed mark goes stale
                w.string("model_marked"); for i in model { w.integer(i) }
            }
            w.endArray()
        }
        if let shard = s.shardStorage { writeShard(shard, into: &w) }  // Engine+Shards.swift: absent in a 1-of-1 engine
        w.endObject()
        Self.flush(&w, sink)
    }

    /// Size of the pieces `writeCanonicalState` hands out (bytes).
    static let canonicalPiece = 1 << 16

    /// Hands the writer's bytes to `sink` and empties it (its comma state stays).
    private static func flush(_ w: inout JSONWriter, _ sink: (UnsafeBufferPointer<UInt8>) -> Void) {
        w.bytes.withUnsafeBufferPointer(sink)
        w.bytes.removeAll(keepingCapacity: true)
    }

    /// SHA-256 of the canonical state, lower-case hex.
    public func stateHash() -> String {
        var hasher = SHA256()
        writeCanonicalState { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        return Array(hasher.finalize()).hexString
    }
}
