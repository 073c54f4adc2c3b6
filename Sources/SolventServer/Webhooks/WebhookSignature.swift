public import Crypto
import Foundation
import SolventCore

/// The signature of a webhook delivery (docs/service.md "Webhooks"):
/// `Solvent-Signature: v1=<hex HMAC-SHA256(secret, "<Solvent-Timestamp>.<body>")>`, the
/// timestamp in Unix seconds. A receiver recomputes it over the raw body, compares in constant
/// time, and rejects timestamps more than five minutes away from its clock (replays).
public enum WebhookSignature {
    /// The header value for `body` sent at `timestamp` (Unix seconds).
    public static func sign(secret: String, timestamp: Int64, body: [UInt8]) -> String {
        var message = Array("\(timestamp).".utf8)
        message.append(contentsOf: body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Array(secret.utf8)))
        return "v1=" + Array(mac).hexString
    }

    /// Whether `header` is a valid signature of `body` at `timestamp` within `tolerance` seconds of `now`.
    public static func verify(header: String, secret: String, timestamp: Int64, body: [UInt8], now: Int64, tolerance: Int64 = 300) -> Bool {
        guard abs(now - timestamp) <= tolerance, header.hasPrefix("v1="), let given = [UInt8](hexString: String(header.dropFirst(3))) else { return false }
        var message = Array("\(timestamp).".utf8)
        message.append(contentsOf: body)
        return HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: message, using: SymmetricKey(data: Array(secret.utf8)))
    }
}
