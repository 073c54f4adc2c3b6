public import SolventCore

/// Why an inclusion proof does not hold (or cannot be read).
public struct ProofError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// What a holder learns from a proof that holds.
public struct VerifiedInclusion: Sendable, Hashable {
    public var account: String
    public var assets: [String]
    /// The account's claims per asset: the sum of its pieces.
    public var balances: [FixedDecimal]
    /// The tree's totals per asset, as authenticated by the root.
    public var totals: [FixedDecimal]
}

/// An account's inclusion proof (format version 2, docs/reserves.md): for each of its pieces, the
/// salt, the amounts and the sibling hashes and sums up to the root.
public struct InclusionProof: Sendable, Hashable {
    public struct Step: Sendable, Hashable {
        /// Whether the sibling is the left child (derivable from the leaf index; checked).
        public var siblingIsLeft: Bool
        public var hash: [UInt8]
        /// The sibling's sums per asset.
        public var sums: [FixedDecimal]
    }

    public struct Piece: Sendable, Hashable {
        public var leafIndex: Int
        public var salt: [UInt8]
        /// Amounts per asset of this piece (≥ 0).
        public var amounts: [FixedDecimal]
        /// From the leaf's sibling up to the root's children.
        public var path: [Step]
    }

    public var account: String
    public var assets: [String]
    public var leafCount: Int
    /// The root this proof was issued against (informative: verification takes the published root).
    public var rootHash: [UInt8]
    public var pieces: [Piece]

    /// Checks every piece against `root`: checks every field's length (a 32-byte salt, a
    /// non-empty account id, one amount and one sum per asset, 32-byte hashes), recomputes the
    /// leaf from the salt, the account id and the amounts, walks the path (sides must match the
    /// leaf index), rejects a negative amount or sum and any sum out of the decimal range, and
    /// compares the computed root.
    public func verify(root: [UInt8]) throws(ProofError) -> VerifiedInclusion {
        let n = assets.count
        if root.count != ReservesHashing.hashLength { throw ProofError("root: expected \(ReservesHashing.hashLength) bytes, found \(root.count)") }
        if account.isEmpty { throw ProofError("account: must not be empty") }
        if account.utf8.count > Int(UInt32.max) { throw ProofError("account: longer than 2^32 − 1 bytes") }
        if n < 1 { throw ProofError("assets: must name at least one asset") }
        if Set(assets).count != n { throw ProofError("assets: an asset is listed twice") }
        if assets.contains(where: \.isEmpty) { throw ProofError("assets: a symbol is empty") }
        if pieces.isEmpty { throw ProofError("pieces: the proof has no piece") }
        if leafCount < 1 || leafCount > Int(Int32.max) { throw ProofError("leaf_count: must be in 1...\(Int32.max)") }
        var balances = [FixedDecimal](repeating: .zero, count: n)
        var totals: [FixedDecimal]? = nil
        var indices = Set<Int>()
        for (p, piece) in pieces.enumerated() {
            let at = "pieces[\(p)]"
            if piece.salt.count != ReservesHashing.saltLength {
                throw ProofError("\(at).salt: expected \(ReservesHashing.saltLength) bytes, found \(piece.salt.count)")
            }
            if piece.amounts.count != n { throw ProofError("\(at).amounts: expected \(n) amounts, one per asset") }
            if piece.leafIndex < 0 || piece.leafIndex >= leafCount { throw ProofError("\(at).leaf_index: outside 0..<\(leafCount)") }
            if !indices.insert(piece.leafIndex).inserted { throw ProofError("\(at).leaf_index: two pieces claim leaf \(piece.leafIndex)") }
            var hash = ReservesHashing.leafHash(salt: piece.salt, account: account, amounts: piece.amounts)
            var sums = piece.amounts
            for j in 0..<n {
                if sums[j].isNegative { throw ProofError("\(at).amounts[\(j)]: negative amount \(sums[j])") }
                do { balances[j] = try balances[j].addingChecked(sums[j]) } catch { throw ProofError("\(at).amounts[\(j)]: out of range") }
            }
            var index = piece.leafIndex
            var count = leafCount
            var stepIndex = 0
            while count > 1 {
                let hasSibling = index % 2 == 1 || index + 1 < count
                if hasSibling {
                    guard stepIndex < piece.path.count else { throw ProofError("\(at).path: too short for leaf \(piece.leafIndex) of \(leafCount)") }
                    let step = piece.path[stepIndex]
                    let where_ = "\(at).path[\(stepIndex)]"
                    let siblingLeft = index % 2 == 1
                    if step.siblingIsLeft != siblingLeft { throw ProofError("\(where_).side: must be \(siblingLeft ? "left" : "right") at leaf index \(piece.leafIndex)") }
                    if step.sums.count != n || step.hash.count != ReservesHashing.hashLength { throw ProofError("\(where_): expected a 32-byte hash and \(n) sums") }
                    var next = [FixedDecimal](repeating: .zero, count: n)
                    for j in 0..<n {
                        if step.sums[j].isNegative { throw ProofError("\(where_).sums[\(j)]: negative sum \(step.sums[j])") }
                        do { next[j] = try sums[j].addingChecked(step.sums[j]) } catch { throw ProofError("\(where_).sums[\(j)]: the sum leaves the decimal range") }
                    }
                    hash = siblingLeft
                        ? ReservesHashing.nodeHash(left: step.hash, leftSums: step.sums, right: hash, rightSums: sums)
                        : ReservesHashing.nodeHash(left: hash, leftSums: sums, right: step.hash, rightSums: step.sums)
                    sums = next
                    stepIndex += 1
                }
                index /= 2
                count = (count + 1) / 2
            }
            if stepIndex != piece.path.count { throw ProofError("\(at).path: \(piece.path.count - stepIndex) step(s) more than the tree has") }
            let computed = ReservesHashing.rootHash(leafCount: leafCount, assets: assets, top: hash, topSums: sums)
            if computed != root { throw ProofError("\(at): the path leads to root \(computed.hexString), not \(root.hexString)") }
            totals = sums
        }
        return VerifiedInclusion(account: account, assets: assets, balances: balances, totals: totals ?? [])
    }

    /// The proof file, one JSON document.
    public func json() -> String {
        var w = JSONWriter()
        w.beginObject()
        w.key("version"); w.integer(ReservesHashing.version)
        w.member("account", account)
        w.key("assets"); w.beginArray(); for symbol in assets { w.string(symbol) }; w.endArray()
        w.key("leaf_count"); w.integer(leafCount)
        w.member("root_hash", rootHash.hexString)
        w.key("balances"); w.beginObject()
        for (j, symbol) in assets.enumerated() { w.member(symbol, pieces.reduce(FixedDecimal.zero) { $0 + $1.amounts[j] }) }
        w.endObject()
        w.key("pieces"); w.beginArray()
        for piece in pieces {
            w.beginObject()
            w.key("leaf_index"); w.integer(piece.leafIndex)
            w.member("salt", piece.salt.hexString)
            w.key("amounts"); w.beginArray(); for amount in piece.amounts { w.decimal(amount) }; w.endArray()
            w.key("path"); w.beginArray()
            for step in piece.path {
                w.beginObject()
                w.member("side", step.siblingIsLeft ? "left" : "right")
                w.member("hash", step.hash.hexString)
                w.key("sums"); w.beginArray(); for sum in step.sums { w.decimal(sum) }; w.endArray()
                w.endObject()
            }
            w.endArray()
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.string
    }

    /// Reads a proof file. Amounts and sums are written `digits[.digits]` (no sign, no exponent,
    /// at most 18 fractional digits) and may be anything in the fixed-point range (sums can
    /// exceed the 1e18 input limit); hex is exactly two digits per byte. The checks of `verify`
    /// (lengths of salts and lists, sides, ranges, the root) apply on top.
    public init(json bytes: [UInt8]) throws(InputError) {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch { throw InputError(path: "", reason: error.description) }
        let root = JSONReader(value, path: "")
        let version = try root.required("version").integer()
        if version != Int64(ReservesHashing.version) { throw try root.required("version").error("unsupported version \(version) (this verifier reads \(ReservesHashing.version))") }
        account = try root.required("account").nonEmptyString()
        assets = try root.required("assets").elements().enumerated().map { (k, v) throws(InputError) in
            try JSONReader(v, path: "assets[\(k)]").nonEmptyString()
        }
        let count = try root.required("leaf_count").integer()
        if count < 1 || count > Int64(Int32.max) { throw try root.required("leaf_count").error("must be in 1...\(Int32.max)") }
        leafCount = Int(count)
        rootHash = try Self.hex(root.required("root_hash"), bytes: 32)
        let piecesReader = try root.required("pieces")
        var pieces: [Piece] = []
        for (p, element) in try piecesReader.elements().enumerated() {
            let piece = JSONReader(element, path: "pieces[\(p)]")
            let index = try piece.required("leaf_index").integer()
            if index < 0 || index >= count { throw try piece.required("leaf_index").error("outside 0..<\(count)") }
            let salt = try Self.hex(piece.required("salt"), bytes: nil)  // its length is checked by `verify`
            let amounts = try Self.decimals(piece.required("amounts"))
            var path: [Step] = []
            for (s, stepValue) in try piece.required("path").elements().enumerated() {
                let step = JSONReader(stepValue, path: "\(piece.path).path[\(s)]")
                let side = try step.required("side").string()
                guard side == "left" || side == "right" else { throw try step.required("side").error("must be \"left\" or \"right\"") }
                path.append(Step(siblingIsLeft: side == "left", hash: try Self.hex(step.required("hash"), bytes: 32),
                                 sums: try Self.decimals(step.required("sums"))))
            }
            pieces.append(Piece(leafIndex: Int(index), salt: salt, amounts: amounts, path: path))
        }
        self.pieces = pieces
    }

    init(account: String, assets: [String], leafCount: Int, rootHash: [UInt8], pieces: [Piece]) {
        self.account = account
        self.assets = assets
        self.leafCount = leafCount
        self.rootHash = rootHash
        self.pieces = pieces
    }

    static func hex(_ reader: JSONReader, bytes: Int?) throws(InputError) -> [UInt8] {
        let text = try reader.string()
        guard let decoded = [UInt8](hexString: text) else { throw reader.error("not hexadecimal") }
        if let bytes, decoded.count != bytes { throw reader.error("expected \(bytes) bytes, found \(decoded.count)") }
        return decoded
    }

    /// `[0-9]+(\.[0-9]{1,18})?`: the only form a proof's amounts take (both verifiers accept
    /// exactly this).
    static func isPlainDecimal(_ text: String) -> Bool {
        let utf8 = Array(text.utf8)
        let isDigit = { (c: UInt8) in c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
        guard let point = utf8.firstIndex(of: UInt8(ascii: ".")) else { return !utf8.isEmpty && utf8.allSatisfy(isDigit) }
        let integer = utf8[..<point], fraction = utf8[(point + 1)...]
        return !integer.isEmpty && integer.allSatisfy(isDigit) && (1...FixedDecimal.scale).contains(fraction.count) && fraction.allSatisfy(isDigit)
    }

    static func decimals(_ reader: JSONReader) throws(InputError) -> [FixedDecimal] {
        var out: [FixedDecimal] = []
        for (k, element) in try reader.elements().enumerated() {
            let item = JSONReader(element, path: "\(reader.path)[\(k)]")
            guard case .string(let text) = element else { throw item.error("expected a decimal string, found \(element.typeName)") }
            guard isPlainDecimal(text) else { throw item.error("expected digits[.digits] with at most 18 fractional digits, found \"\(text.prefix(60))\"") }
            do { out.append(try FixedDecimal(parsing: text)) } catch { throw item.error(error.description) }
        }
        return out
    }
}
