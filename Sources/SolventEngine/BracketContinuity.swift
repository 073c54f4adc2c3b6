public import SolventCore

/// Per instrument, whether maintenance margin is continuous at each bracket boundary
/// (`LinearBand.continuous(tiers[j − 1], tiers[j])`, two products and three differences per
/// boundary), kept with the bracket table it was computed from: the bands of a re-evaluated
/// account read the flag instead of multiplying again at every boundary they pass (issue 18).
/// Derived, not part of the state: an entry is used only while its table equals the
/// instrument's current one (`==` on the array: the identity check when the table was not
/// replaced), otherwise the bands compute the test as before. The same bands either way.
struct BracketContinuity: Sendable {
    private var tables: [[MaintenanceBracket]] = []
    /// `flags[i][j]`: MM continuous where tier `j` starts (`j ≥ 1`; `flags[i][0]` is unused).
    private var flags: [[Bool]] = []

    /// Makes instrument `i`'s entry current for its bracket table `tiers`.
    mutating func refresh(_ i: Int, _ tiers: [MaintenanceBracket]) {
        if tables.count <= i {
            tables.append(contentsOf: repeatElement([], count: i + 1 - tables.count))
            flags.append(contentsOf: repeatElement([], count: i + 1 - flags.count))
        }
        guard flags[i].count != tiers.count || tables[i] != tiers else { return }
        tables[i] = tiers
        flags[i] = tiers.indices.map { j in j > 0 && LinearBand.continuous(tiers[j - 1], tiers[j]) }
    }

    /// Instrument `i`'s flags when they were computed from `tiers`, else nil.
    func flags(_ i: Int, _ tiers: [MaintenanceBracket]) -> [Bool]? {
        guard i < tables.count, flags[i].count == tiers.count, tables[i] == tiers else { return nil }
        return flags[i]
    }
}
