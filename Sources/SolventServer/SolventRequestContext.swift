import HTTPTypes
public import Hummingbird
public import HummingbirdAuth
public import HummingbirdWebSocket
public import NIOCore

/// The request context of the service: Hummingbird's core context, the authenticated
/// principal (hummingbird-auth's `AuthRequestContext`), and the WebSocket upgrade handler.
public struct SolventRequestContext: AuthRequestContext, WebSocketRequestContext, RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The API key's principal, set by `APIKeyAuthenticator` (nil: no key was sent).
    public var identity: Principal?
    public let webSocket: WebSocketHandlerReference<Self>
    /// The peer's address (unauthenticated requests are rate-limited per address).
    public let remoteAddress: SocketAddress?
    /// The connection (a refused WebSocket upgrade records its answer against it).
    let channel: (any Channel)?

    public init(source: Source) {
        coreContext = .init(source: source)
        identity = nil
        webSocket = .init()
        remoteAddress = source.channel.remoteAddress
        channel = source.channel
    }

    /// The rate-limit bucket of a request without a valid key: its peer address.
    var anonymousBucket: String { "ip:" + (remoteAddress?.ipAddress ?? "unknown") }
}

/// Authenticates `Authorization: Bearer KEY` against the hashed key store (and, on the
/// WebSocket route only, `?access_token=KEY`, since browsers cannot set headers there).
/// No key: the request goes on without identity (routes that need one answer 401). An
/// unknown, revoked or expired key: 401 at once. Requests without a valid key are
/// rate-limited per peer address (the same token bucket as a key's).
struct APIKeyAuthenticator: AuthenticatorMiddleware {
    typealias Context = SolventRequestContext
    let keys: APIKeyStore
    let limiter: RateLimiter?

    func authenticate(request: Request, context: SolventRequestContext) async throws -> Principal? {
        do { return try await resolve(request: request, context: context) } catch let error as APIError {
            // A refused WebSocket upgrade: the connection's RawResponder writes this answer.
            if request.headers[.upgrade] != nil, let channel = context.channel { UpgradeRefusals.record(error, channel: channel) }
            throw error
        }
    }

    private func resolve(request: Request, context: SolventRequestContext) async throws -> Principal? {
        var token = request.headers.bearer?.token
        if token == nil, request.headers[.authorization] != nil {
            try await limitAnonymous(context)
            throw APIError(.unauthorized, field: "Authorization", reason: "not a bearer token: send Authorization: Bearer <API key>")
        }
        if token == nil, request.uri.path == "/v1/stream" { token = request.uri.queryParameters.get("access_token").map { String($0) } }
        guard let token else {
            try await limitAnonymous(context)
            return nil
        }
        switch await keys.lookup(token) {
        case .valid(let principal): return principal
        case .unknown:
            try await limitAnonymous(context)
            throw APIError(.unauthorized, field: "Authorization", reason: "unknown API key")
        case .revoked:
            try await limitAnonymous(context)
            throw APIError(.unauthorized, field: "Authorization", reason: "this API key was revoked")
        case .expired:
            try await limitAnonymous(context)
            throw APIError(.unauthorized, field: "Authorization", reason: "this API key has expired")
        }
    }

    private func limitAnonymous(_ context: SolventRequestContext) async throws {
        guard let limiter else { return }
        try await SolventAPI.limit(bucket: context.anonymousBucket, limiter)
    }
}
