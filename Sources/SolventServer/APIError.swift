import HTTPTypes
public import Hummingbird
import NIOCore
public import SolventCore

/// The service layer's one error type: an HTTP status, the field at fault and the reason, rendered
/// as the API's JSON error body (`{"error":{"field":…,"reason":…}}`, docs/service.md) with
/// `Retry-After` when there is one. It renders itself (Hummingbird's `HTTPResponseError`), so a
/// route just throws; `APIErrorMiddleware` maps every other error onto it once, for every route.
public struct APIError: HTTPResponseError, Sendable, Hashable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var field: String
    public var reason: String
    /// For 429 and 503: seconds until a retry may succeed (the Retry-After header).
    public var retryAfter: Int?

    public init(_ status: HTTPResponse.Status, field: String, reason: String, retryAfter: Int? = nil) {
        self.status = status
        self.field = field
        self.reason = reason
        self.retryAfter = retryAfter
    }

    /// A decoder's error: 400 with the JSON path of the fault.
    public init(_ error: InputError) {
        self.init(.badRequest, field: error.path, reason: error.reason)
    }

    public var description: String { "\(status.code) \(field): \(reason)" }

    /// The JSON body.
    public var json: String { Self.json(field: field, reason: reason) }

    /// `{"error":{"field":…,"reason":…}}`: the one shape of every error body the service sends.
    public static func json(field: String, reason: String) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.key("error"); w.beginObject()
        w.member("field", field)
        w.member("reason", reason)
        w.endObject()
        w.endObject()
        return w.string
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: json)))
    }
}

/// Maps every error a route (or a middleware after it) throws onto `APIError`, in one place:
/// `APIError` and other `HTTPResponseError`s render themselves; an `InputError` (a decoder's)
/// becomes its 400 `APIError`; the router's own 404 names the route, or becomes 405 with `Allow`
/// when the path exists under other methods (`allowedMethods`, from the OpenAPI document); any
/// other error is a 500 with its description. Add it once, before the routes.
public struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The methods documented for a path (nil: unknown path).
    let allowedMethods: @Sendable (String) -> [String]?

    /// Methods from the service's OpenAPI document.
    public init() {
        self.allowedMethods = { OpenAPIDocument.methods(path: $0) }
    }

    init(allowedMethods: @escaping @Sendable (String) -> [String]?) {
        self.allowedMethods = allowedMethods
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let mapped = Self.map(error, method: request.method.rawValue, path: request.uri.path, allowedMethods: allowedMethods)
            var response = try mapped.error.response(from: request, context: context)
            if let allow = mapped.allow { response.headers[.allow] = allow }
            return response
        }
    }

    /// The error's response-generating form, and the `Allow` header for a 405.
    static func map(_ error: any Error, method: String, path: String,
                    allowedMethods: (String) -> [String]?) -> (error: any HTTPResponseError, allow: String?) {
        switch error {
        case let error as APIError:
            return (error, nil)
        case let error as InputError:
            return (APIError(error), nil)
        case let error as HTTPError:
            if error.status == .notFound, let allowed = allowedMethods(path), !allowed.contains(method) {
                let list = allowed.joined(separator: ", ")
                return (APIError(.methodNotAllowed, field: "method", reason: "\(method) is not allowed on \(path) (allowed: \(list))"), list)
            }
            let reason = error.status == .notFound ? "no route \(method) \(path)" : (error.body ?? error.status.reasonPhrase)
            return (APIError(error.status, field: "path", reason: reason), nil)
        case let error as any HTTPResponseError:
            return (error, nil)
        default:
            return (APIError(.internalServerError, field: "", reason: "\(error)"), nil)
        }
    }
}
