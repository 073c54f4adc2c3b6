import FuzzDriver
import SolventCore
import SolventEngine
import SolventJournal

/// The binary snapshot decoder's harness (BinaryStateCoding, read at recovery): the input is a
/// body after its magic and checksum (the key-table offset, the root value, the key table), given
/// the `SOLVBIN1` magic and a valid CRC-32C so that the fuzzer reaches the decoder itself rather
/// than the checksum. Decodes it as an `EngineState` (and re-encodes what decodes; and as recovery
/// reads a snapshot, `Snapshot.decodedState`, its account index checked) and as a bare
/// `FixedDecimal`; any trap is a finding (attacks/README.md, 21). Seeds: Fuzz/Corpus/FuzzSnapshot
/// (real snapshot bodies of example scenarios, without their first 12 bytes).
enum SnapshotFuzzer {
    static func run(_ data: [UInt8]) {
        var rest = data
        if rest.count < 8 { rest += [UInt8](repeating: 0, count: 8 - rest.count) }
        let crc = CRC32C.checksum(rest)
        let body = Array("SOLVBIN1".utf8) + (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * UInt32($0))) } + rest
        if let state = try? BinaryStateCoding.decode(EngineState.self, from: body) { _ = try? BinaryStateCoding.encode(state) }
        // Recovery's reading: the decode, then the account index checked against the accounts
        // (`Snapshot.indexMatchesAccounts`) and rebuilt when it differs.
        _ = Snapshot(sequence: 0, stateHash: "", version: EngineVersion.stateFormat, body: body).decodedState()
        _ = try? BinaryStateCoding.decode(FixedDecimal.self, from: body)
        _ = try? BinaryStateCoding.decode([String: [Int: String]].self, from: body)
    }
}

@_cdecl("FuzzSnapshot_main")
func fuzzSnapshotMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        SnapshotFuzzer.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
        return 0
    }
}

/// libFuzzer's conventional entry, which its archive refers to.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzSnapshotTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    SnapshotFuzzer.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}
