import ArgumentParser
import Foundation
import SolventCore
import SolventEngine
import SolventJournal
import SolventReserves

struct ReservesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reserves",
        abstract: "Proof of reserves and liabilities: a Merkle-sum tree over account liabilities, per-account proofs, a verifier.",
        discussion: "The format (version 2: tagged, length-prefixed leaf and node encodings, 32-byte salts derived per snapshot) is documented in docs/reserves.md, byte for byte; scripts/verify_reserves.py is an independent verifier.",
        subcommands: [Snapshot.self, Verify.self])

    struct Snapshot: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Commit to every account's liabilities at a journal position: writes OUT/root.json and OUT/proofs/<account>.json.")

        @Option(name: .long, help: "The data folder holding the journal (written by `solvent simulate --data` or `solvent serve`).")
        var data: String

        @Option(name: .long, help: "Where to write root.json, proofs/ and (with --holdings) collateralization.json.")
        var out: String

        @Option(name: .long, help: "Commit to the state after this many journaled commands (default: all).")
        var at: Int?

        @Option(name: .long, help: "The secret that derives salts and splits (32 bytes, hex). Default DATA/reserves.secret, created on first use; never publish it.")
        var secretFile: String?

        @Option(name: .long, help: "Leaves per account (the claims are split at random so sibling sums reveal no account's balance).")
        var pieces: Int = 2

        @Option(name: .long, help: "On-chain holdings attested by the operator (JSON, docs/reserves.md): adds collateralization.json.")
        var holdings: String?

        func run() throws {
            guard pieces >= 1 && pieces <= 16 else { ProcessIO.fail("reserves: --pieces must be in 1...16, got \(pieces)", status: 2) }
            if let at, at < 0 { ProcessIO.fail("reserves: --at must not be negative, got \(at)", status: 2) }
            do {
                let secret = try loadSecret()
                let journal = try JournalBackend.sqlite(directory: data).open()
                let (journaled, _, _) = try JournaledEngine.recover(journal: journal, limit: at)
                let engine = journaled.engine
                let snapshot = try ReservesSnapshot(state: engine.state, stateHash: engine.stateHash(), secret: secret, piecesPerAccount: pieces)
                try ProcessIO.makeDirectory(out + "/proofs")
                try write(snapshot.rootJSON() + "\n", to: out + "/root.json")
                for k in snapshot.tree.claims.indices {
                    let proof = snapshot.tree.proof(claimIndex: k)
                    try write(proof.json() + "\n", to: out + "/proofs/" + Self.fileName(proof.account) + ".json")
                }
                if let holdings {
                    let parsed = try ReserveHoldings(json: ProcessIO.readInput(holdings), assets: snapshot.tree.assets)
                    let report = CollateralizationReport(liabilities: snapshot.tree.totals, holdings: parsed, assets: engine.state.market.assets)
                    try write(report.json(rootHash: snapshot.tree.rootHash.hexString, attestedAt: parsed.attestedAt) + "\n", to: out + "/collateralization.json")
                }
                ProcessIO.writeStdout(snapshot.rootJSON() + "\n")
            } catch let error as InputError {
                ProcessIO.fail("reserves: holdings \(error)", status: 2)
            } catch {
                ProcessIO.fail("reserves: \(error)", status: 1)
            }
        }

        /// Account ids are arbitrary text: anything outside [A-Za-z0-9._-] becomes %XX.
        static func fileName(_ account: String) -> String {
            var out = ""
            for byte in account.utf8 {
                let c = Character(UnicodeScalar(byte))
                if c.isASCII && (c.isLetter || c.isNumber || c == "-" || c == "_" || (c == "." && !out.isEmpty)) { out.append(c) } else {
                    out += String(format: "%%%02X", byte)
                }
            }
            return out
        }

        func loadSecret() throws -> [UInt8] {
            try ReservesSecret.load(path: secretFile ?? data + "/reserves.secret", create: secretFile == nil)
        }

        func write(_ text: String, to path: String) throws {
            guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else { throw CLIError("cannot write \(path)") }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check an inclusion proof against a published root; exits 0 only when it holds.",
            discussion: "Checks every field's length (32-byte salts and hashes, one amount and one sum per asset, a non-empty account id), that amounts are digits[.digits] with at most 18 fractional digits, the sides against the leaf index, that no sum is negative or leaves the signed 128-bit range, and that every piece leads to the given root.")

        @Option(name: .long, help: "The proof file (OUT/proofs/<account>.json).")
        var proof: String

        @Option(name: .long, help: "The published root hash (hex).")
        var root: String

        func run() throws {
            guard let rootBytes = [UInt8](hexString: root), rootBytes.count == 32 else {
                ProcessIO.fail("reserves verify: --root must be 64 hexadecimal digits", status: 2)
            }
            let parsed: InclusionProof
            do { parsed = try InclusionProof(json: ProcessIO.readInput(proof)) } catch {
                ProcessIO.fail("reserves verify: \(proof): \(error)", status: 1)
            }
            do {
                let verified = try parsed.verify(root: rootBytes)
                var w = JSONWriter()
                w.beginObject()
                w.key("valid"); w.bool(true)
                w.member("account", verified.account)
                w.member("root_hash", root.lowercased())
                w.key("balances"); w.beginObject()
                for (j, symbol) in verified.assets.enumerated() { w.member(symbol, verified.balances[j]) }
                w.endObject()
                w.key("totals"); w.beginObject()
                for (j, symbol) in verified.assets.enumerated() { w.member(symbol, verified.totals[j]) }
                w.endObject()
                w.endObject()
                ProcessIO.writeStdout(w.string + "\n")
            } catch {
                ProcessIO.fail("reserves verify: the proof does not hold: \(error)", status: 1)
            }
        }
    }
}
