/// Whether a decoder refuses an object member it does not know.
///
/// Input from outside (HTTP bodies, scenario files, CLI inputs) is decoded with `.refused`: a
/// misspelled optional member (`reduceOnly` for `reduce_only`) would otherwise be ignored and the
/// command run with the member's default, which is not what was sent. Journal recovery decodes
/// what the process itself wrote with `.ignored`, so a journal written by an older version keeps
/// replaying as it did (docs/range-contract.md, "Unknown members").
public enum UnknownMembers: Sendable, Hashable {
    /// An unknown member is an ``InputError`` at the member's path.
    case refused
    /// Unknown members are skipped (stored journals only).
    case ignored
}

extension JSONReader {
    /// The reason given for an unknown member of `owner`: `unknown member of "place_order" (known: id, account, …)`.
    public static func unknownMemberReason(of owner: String, known: [String]) -> String {
        "unknown member of \(owner) (known: \(known.joined(separator: ", ")))"
    }

    /// Throws for the first member of this object whose name is not in `known` (in document order):
    /// an ``InputError`` at the member's path (`commands[3].reduceOnly`) whose reason names `owner`
    /// and lists the known names in the order given. Does nothing when `policy` is `.ignored`;
    /// throws "expected an object" when this value is not an object.
    public func refuseUnknownMembers(known: [String], of owner: String, _ policy: UnknownMembers = .refused) throws(InputError) {
        guard policy == .refused else { return }
        for (key, _) in try members() where !known.contains(key) {
            throw InputError(path: childPath(key), reason: Self.unknownMemberReason(of: owner, known: known))
        }
    }
}
