/// Why a command was rejected: a stable numeric code (grouped by domain, as
/// exchange-core does) and a message naming the field and the reason.
public struct RejectReason: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Int, Sendable, Hashable, Codable {
        // 1xxx: input
        case invalidInput = 1001
        case unknownAccount = 1002
        case unknownInstrument = 1003
        case unknownAsset = 1004
        case unknownOrder = 1005
        case duplicateOrder = 1006
        case timeWentBackwards = 1007
        case settleMismatch = 1008
        /// Outside the range contract (``RangeContract``, docs/range-contract.md).
        case outOfRange = 1009
        // 2xxx: risk
        case insufficientMargin = 2001
        case leverageAboveBracket = 2002
        case positionLimit = 2003
        case reduceOnlyInMarginCall = 2004
        case withdrawalInMarginCall = 2005
        case insufficientBalance = 2006
        case staleMark = 2007
        case noMark = 2008
        case wouldNotReduce = 2009
        case modeChangeWithPosition = 2010
        /// An order or fill in an instrument past its expiry (Engine+Expiry.swift).
        case instrumentExpired = 2011
        /// An option position, order or fill: options need a portfolio-margined account (Engine+Expiry.swift).
        case optionsNotSupported = 2012
        /// `borrow` of an asset the lending pool has no terms for (docs/loans.md).
        case borrowingNotOffered = 2013
        /// `borrow` while a pool of the account is in a margin call or being liquidated.
        case borrowInMarginCall = 2014
        /// `borrow` beyond the asset's or the account's borrow cap.
        case borrowLimit = 2015
        /// `borrow` beyond the lending pool's available liquidity.
        case insufficientLiquidity = 2016
        /// `repay` of more than is owed, or of an asset the account does not owe.
        case repayAboveDebt = 2017
    }

    public var code: Code
    /// The field at fault (command field name), when there is one.
    public var field: String
    public var message: String

    public init(_ code: Code, field: String, _ message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}
