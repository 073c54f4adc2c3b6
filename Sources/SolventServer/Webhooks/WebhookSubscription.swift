public import SolventCore

/// Where and what to deliver: one receiver URL, its signing secret, the event types it wants
/// and optionally only some accounts (docs/service.md "Webhooks").
public struct WebhookSubscription: Sendable, Hashable {
    /// Unique name (appears in deliveries and in the `Solvent-Subscription` header).
    public var name: String
    /// `http://` or `https://` URL receiving `POST`s.
    public var url: String
    /// HMAC-SHA256 key of the signature (UTF-8 bytes of this string; at least 16 characters).
    public var secret: String
    /// Event types delivered (`margin_call`, …); `["*"]` for every type.
    public var events: Set<String>
    /// Only events of these accounts (nil: all accounts).
    public var accounts: Set<String>?

    /// The default event types: the margin-call procedure, liquidations, ADL, the fund and breakers.
    public static let defaultEvents: Set<String> = [
        "margin_warning", "warning_cleared", "margin_call", "margin_call_cured", "liquidation_started", "liquidation_fill",
        "liquidation_ended", "insurance_fund_draw", "auto_deleveraged", "socialized_loss", "bad_debt",
        "liquidations_paused", "liquidations_resumed", "liquidation_throttled",
    ]

    public init(name: String, url: String, secret: String, events: Set<String> = defaultEvents, accounts: Set<String>? = nil) {
        self.name = name
        self.url = url
        self.secret = secret
        self.events = events
        self.accounts = accounts
    }

    /// Whether an event of `type` on `account` goes to this subscription.
    public func wants(type: String, account: String?) -> Bool {
        guard events.contains("*") || events.contains(type) else { return false }
        guard let accounts else { return true }
        return account.map(accounts.contains) ?? false
    }

    /// Decodes `{"name","url","secret","events"?,"accounts"?}`; errors name `path`'s member.
    public static func decode(_ value: JSONValue, path: String) throws(InputError) -> WebhookSubscription {
        let reader = JSONReader(value, path: path)
        _ = try reader.members()
        let nameReader = try reader.required("name")
        let name = try nameReader.string()
        guard !name.isEmpty, name.count <= 64, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw nameReader.error("1 to 64 letters, digits, - or _")
        }
        let urlReader = try reader.required("url")
        let url = try urlReader.string()
        guard url.hasPrefix("http://") || url.hasPrefix("https://"), url.count > 8 else { throw urlReader.error("an http:// or https:// URL") }
        let secretReader = try reader.required("secret")
        let secret = try secretReader.string()
        guard secret.utf8.count >= 16 else { throw secretReader.error("at least 16 characters") }
        var events = defaultEvents
        if let list = try reader.optional("events") {
            let names = try list.elements().enumerated().map { (k, v) throws(InputError) in try JSONReader(v, path: list.path + "[\(k)]").nonEmptyString() }
            guard !names.isEmpty else { throw list.error("name at least one event type, or \"*\"") }
            events = Set(names)
        }
        var accounts: Set<String>? = nil
        if let list = try reader.optional("accounts") {
            accounts = Set(try list.elements().enumerated().map { (k, v) throws(InputError) in try JSONReader(v, path: list.path + "[\(k)]").nonEmptyString() })
        }
        return WebhookSubscription(name: name, url: url, secret: secret, events: events, accounts: accounts)
    }
}
