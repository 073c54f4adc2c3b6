/// One benchmark's result: its JSON members in order (the keys, exactly) and a label
/// per member for the terminal table.
public struct BenchResult: Sendable {
    public enum Value: Sendable {
        case integer(Int)
        case number(Double)
    }
    public var title: String
    public var members: [(key: String, label: String, value: Value)]

    public init(title: String, members: [(key: String, label: String, value: Value)]) {
        self.title = title
        self.members = members
    }
}
