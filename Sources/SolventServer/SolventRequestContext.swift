public import Hummingbird
public import HummingbirdAuth
public import HummingbirdWebSocket

/// The request context of the service: Hummingbird's core context, the authenticated
/// principal (hummingbird-auth's `AuthRequestContext`), and the WebSocket upgrade handler.
public struct SolventRequestContext: AuthRequestContext, WebSocketRequestContext, RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The API key's principal, set by `APIKeyAuthenticator` (nil: no key was sent).
    public var identity: Principal?
    public let webSocket: WebSocketHandlerReference<Self>

    public init(source: Source) {
        coreContext = .init(source: source)
        identity = nil
        webSocket = .init()
    }
}

/// Authenticates `Authorization: Bearer KEY` against the hashed key store (and, on the
/// WebSocket route only, `?access_token=KEY`, since browsers cannot set headers there).
/// No key: the request goes on without identity (routes that need one answer 401). An
/// unknown key: 401 at once.
struct APIKeyAuthenticator: AuthenticatorMiddleware {
    typealias Context = SolventRequestContext
    let keys: APIKeyStore

    func authenticate(request: Request, context: SolventRequestContext) async throws -> Principal? {
        var token = request.headers.bearer?.token
        if token == nil, request.headers[.authorization] != nil {
            throw ServiceHTTPError(error: ServiceError(status: 401, field: "Authorization", reason: "not a bearer token: send Authorization: Bearer <API key>"))
        }
        if token == nil, request.uri.path == "/v1/stream" { token = request.uri.queryParameters.get("access_token").map { String($0) } }
        guard let token else { return nil }
        guard let principal = await keys.principal(for: token) else {
            throw ServiceHTTPError(error: ServiceError(status: 401, field: "Authorization", reason: "unknown API key"))
        }
        return principal
    }
}
