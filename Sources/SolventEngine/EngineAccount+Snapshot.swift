public import SolventCore
public import SolventRisk

/// What the binary snapshot coder's hand-written `EngineAccount` path (SolventJournal,
/// BinaryAccountCoding.swift) needs beyond the public fields: the index version stamp the
/// synthesized `Codable` conformance also writes, and a memberwise initializer.
extension EngineAccount {
    /// The at-risk index version stamp (`indexVersion`), as the synthesized `Codable` writes it.
    package var snapshotIndexVersion: Int64 {
        get { indexVersion }
        set { indexVersion = newValue }
    }

    /// Every stored field, as the synthesized `init(from:)` sets them (the memberwise
    /// initializer, which is internal).
    package static func snapshotRecord(account: Account, leverage: InstrumentMap<FixedDecimal>, isolated: Set<Int>, orders: [String],
                                       procedures: [PoolKey: ProcedureState], socializedLoss: FixedDecimal, badDebt: FixedDecimal,
                                       writtenOff: FixedDecimal, indexVersion: Int64, mode: AccountMode?) -> EngineAccount {
        EngineAccount(account: account, leverage: leverage, isolated: isolated, orders: orders, procedures: procedures,
                      socializedLoss: socializedLoss, badDebt: badDebt, writtenOff: writtenOff, indexVersion: indexVersion, mode: mode)
    }
}
