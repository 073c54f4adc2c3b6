import Foundation
import SolventCore

/// The secret that derives the salts and splits of a liabilities tree (docs/reserves.md):
/// 32 random bytes in hex, in a file of mode 0600 created on first use.
public enum ReservesSecret {
    /// Reads the secret at `path`; when the file does not exist and `create` is true, makes one.
    public static func load(path: String, create: Bool) throws -> [UInt8] {
        if let contents = FileManager.default.contents(atPath: path) {
            let text = String(decoding: contents, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let bytes = [UInt8](hexString: text), bytes.count >= 16 else {
                throw ReservesError("secret file \(path): expected at least 16 bytes of hex")
            }
            return bytes
        }
        guard create else { throw ReservesError("cannot read secret file \(path)") }
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        guard FileManager.default.createFile(atPath: path, contents: Data((bytes.hexString + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ReservesError("cannot create secret file \(path)")
        }
        return bytes
    }
}
