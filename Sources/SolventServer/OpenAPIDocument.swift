import SolventCore

/// The OpenAPI 3.1 description of the API (the file `Resources/openapi.json`, embedded in the binary),
/// served at `/openapi.json`. Tests check that every
/// route of the router is in it; `scripts/test` runs schemathesis against it (no 5xx, every
/// response conforming to its schema, status code and content type).
enum OpenAPIDocument {
    /// The documented methods of each path (from `json`), for 405 answers.
    static let routes: [(segments: [Substring], methods: [String])] = {
        guard case .object(let paths)? = (try? JSONParser.parse(Array(json.utf8)))?["paths"] else { return [] }
        return paths.map { path, item in
            let methods: [String] = { if case .object(let operations) = item { return operations.map { $0.key.uppercased() }.sorted() } else { return [] } }()
            return (path.split(separator: "/", omittingEmptySubsequences: false), methods)
        }
    }()

    /// The methods documented for `path` (a `{parameter}` matches any one segment), or nil when
    /// no documented path matches.
    static func methods(path: String) -> [String]? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        let matching = routes.filter { route in
            route.segments.count == segments.count && zip(route.segments, segments).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }
        guard !matching.isEmpty else { return nil }
        return Array(Set(matching.flatMap(\.methods))).sorted()
    }

    static let paths = ["/", "/healthz", "/readyz", "/metrics", "/openapi.json", "/v1/accounts", "/v1/accounts/{id}", "/v1/accounts/{id}/greeks", "/v1/commands", "/v1/orders/check", "/v1/evaluate", "/v1/events",
                        "/v1/insurance-fund", "/v1/risk", "/v1/stream", "/v1/reserves/root", "/v1/reserves/proofs/{id}", "/v1/webhooks",
                        "/v1/webhooks/deliveries", "/v1/webhooks/deliveries/{id}/retry"]

    static let json: String = {
        // Resources/openapi.json, embedded by SwiftPM; served without the file's final newline.
        let text = String(decoding: PackageResources.openapi_json, as: UTF8.self)
        return text.hasSuffix("\n") ? String(text.dropLast()) : text
    }()
}
