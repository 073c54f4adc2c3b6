import HTTPTypes
public import Hummingbird
public import HummingbirdCore
public import HummingbirdWebSocket
public import Logging
public import NIOCore
import NIOConcurrencyHelpers
import NIOHTTP1

/// The service's HTTP/1.1 channel: Hummingbird's HTTP/1.1 + WebSocket upgrade channel, with
/// two handlers of the service's own around it (docs/service.md "Connections"):
///
/// - `RawResponder`, next to the socket, writes answers the HTTP stack cannot: the JSON 401/403
///   (or 400, 429) of a refused WebSocket upgrade (the library only knows an empty 400), and
///   the answer to a request the HTTP decoder could not parse;
/// - `ParseErrorResponder`, after the decoder, turns its errors into 431 (headers too large)
///   or 400 (a garbage request line, a bad Content-Length) with a JSON body, and closes the
///   connection.
struct SolventHTTPChannel: ServerChildChannel {
    typealias Value = HTTP1WebSocketUpgradeChannel.Value
    let inner: HTTP1WebSocketUpgradeChannel
    /// Time a new connection has to send its first request head.
    let headerTimeout: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        do { try channel.pipeline.syncOperations.addHandler(RawResponder(headerTimeout: headerTimeout)) } catch { return channel.eventLoop.makeFailedFuture(error) }
        return inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            try channel.pipeline.syncOperations.addHandler(ParseErrorResponder())
            // Before the upgrade handler, which closes a malformed upgrade without an answer.
            let decoder = try channel.pipeline.syncOperations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try channel.pipeline.syncOperations.addHandler(UpgradeHeadChecker(), position: .after(decoder))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }

    /// The server builder: `SolventHTTPChannel` over the router's WebSocket upgrade.
    static func builder<WSResponderBuilder: HTTPResponderBuilder & _HB_SendableMetatype>(
        webSocketRouter: WSResponderBuilder, configuration: HTTP1WebSocketUpgradeChannel.Configuration, headerTimeout: TimeAmount
    ) -> HTTPServerBuilder where WSResponderBuilder.Responder.Context: WebSocketRequestContext {
        let webSocketResponder = webSocketRouter.buildResponder()
        return HTTPServerBuilder { responder in
            SolventHTTPChannel(inner: HTTP1WebSocketUpgradeChannel(responder: responder, webSocketResponder: webSocketResponder,
                                                                   configuration: configuration),
                               headerTimeout: headerTimeout)
        }
    }
}

/// Refusals of WebSocket upgrades by connection, recorded by the route's `shouldUpgrade` and
/// written by `RawResponder` in place of the library's empty 400.
enum UpgradeRefusals {
    private static let refusals = NIOLockedValueBox<[ObjectIdentifier: APIError]>([:])

    static func record(_ error: APIError, channel: any Channel) {
        refusals.withLockedValue { $0[ObjectIdentifier(channel)] = error }
    }

    static func take(channel: any Channel) -> APIError? {
        refusals.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// A complete HTTP/1.1 response with a JSON error body that closes the connection.
    static func response(_ error: APIError, headers: [(String, String)] = []) -> ByteBuffer {
        let body = error.json
        var head = "HTTP/1.1 \(error.status.code) \(error.status.reasonPhrase)\r\ncontent-type: application/json\r\ncontent-length: \(body.utf8.count)\r\nconnection: close\r\n"
        if let retryAfter = error.retryAfter { head += "retry-after: \(retryAfter)\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        return ByteBuffer(string: head + "\r\n" + body)
    }
}

/// First handler of the pipeline (next to the socket). Besides the raw answers, it bounds the
/// time a new connection may take to send its first request head (`headerTimeout`): a silent
/// or dribbling client (slowloris) is cut. Later requests on the connection are bounded by
/// Hummingbird's idle timeout.
final class RawResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData
    let headerTimeout: TimeAmount
    private var context: ChannelHandlerContext?
    /// A raw answer was sent: what follows from the HTTP stack is dropped.
    private var answered = false
    /// The first request head is complete (its blank line was seen).
    private var headSeen = false
    /// The last bytes read while looking for the end of the first head (CR LF CR LF).
    private var tail: [UInt8] = []
    private var deadline: Scheduled<Void>?
    /// Only the first response of a connection can be the answer to a refused upgrade.
    private var firstWrite = true

    init(headerTimeout: TimeAmount) { self.headerTimeout = headerTimeout }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { armDeadline(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        self.context = nil
        _ = UpgradeRefusals.take(channel: context.channel)
    }

    func channelActive(context: ChannelHandlerContext) {
        armDeadline(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        _ = UpgradeRefusals.take(channel: context.channel)
        context.fireChannelInactive()
    }

    private func armDeadline(_ context: ChannelHandlerContext) {
        guard deadline == nil, !headSeen else { return }
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: headerTimeout) { [weak self] in
            guard let self, !self.headSeen else { return }
            // Input first: the upgrade negotiation then ends as "input closed" (logged at trace
            // level, not as an error per cut connection), then the whole connection.
            let context = loopBound.value
            context.close(mode: .input, promise: nil)
            context.eventLoop.assumeIsolated().execute { context.close(promise: nil) }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !headSeen {
            let buffer = unwrapInboundIn(data)
            tail += buffer.readableBytesView.suffix(buffer.readableBytes)
            if tail.count >= 4, Self.containsBlankLine(tail) {
                headSeen = true
                deadline?.cancel()
                tail = []
            } else if tail.count > 3 {
                tail.removeFirst(tail.count - 3)
            }
        }
        context.fireChannelRead(data)
    }

    static func containsBlankLine(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 4 else { return false }
        for k in 0...(bytes.count - 4) where bytes[k] == 13 && bytes[k + 1] == 10 && bytes[k + 2] == 13 && bytes[k + 3] == 10 { return true }
        return false
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if answered {
            promise?.succeed(())
            return
        }
        // The library's answer to a refused upgrade is an empty 400: replace it with ours.
        if firstWrite {
            firstWrite = false
            if let refusal = UpgradeRefusals.take(channel: context.channel) {
                answer(UpgradeRefusals.response(refusal), promise: promise)
                return
            }
        }
        context.write(data, promise: promise)
    }

    /// Writes `bytes` to the socket and closes the connection.
    func answer(_ bytes: ByteBuffer, promise: EventLoopPromise<Void>? = nil) {
        guard let context, !answered else {
            promise?.succeed(())
            return
        }
        answered = true
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(bytes)), promise: promise)
        context.close(mode: .input, promise: nil)
        context.eventLoop.assumeIsolated().execute { context.close(promise: nil) }
    }
}

/// Added after the HTTP decoder: its parse errors become an answer (431 or 400) and a close.
final class ParseErrorResponder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    func channelRead(context: ChannelHandlerContext, data: NIOAny) { context.fireChannelRead(data) }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        var parserError = error as? HTTPParserError
        if parserError == nil, case ByteToMessageDecoderError.dataReceivedInErrorState(let inner, _)? = error as? ByteToMessageDecoderError {
            parserError = inner as? HTTPParserError
        }
        guard let parserError else {
            context.fireErrorCaught(error)
            return
        }
        // The input ended inside a request: the client left (or the server stopped reading a
        // body it refused, after answering 413). Nothing to answer; the connection winds down.
        if case .invalidEOFState = parserError { return }
        let answer: APIError = switch parserError {
        case .headerOverflow: APIError(.requestHeaderFieldsTooLarge, field: "headers", reason: "request headers too large (at most \(SolventAPI.maximumHeaderBytes) bytes)")
        case .invalidContentLength, .unexpectedContentLength: APIError(.badRequest, field: "Content-Length", reason: "not a valid Content-Length")
        default: APIError(.badRequest, field: "request", reason: "not an HTTP/1.1 request (\(parserError))")
        }
        if let raw = try? context.pipeline.syncOperations.handler(type: RawResponder.self) {
            raw.answer(UpgradeRefusals.response(answer))
        } else {
            context.close(promise: nil)
        }
    }
}

/// Added after the HTTP decoder, before the WebSocket upgrade handler: a WebSocket upgrade
/// (`Connection: Upgrade`, `Upgrade: websocket`) without a `Sec-WebSocket-Key` is answered 400,
/// one with a `Sec-WebSocket-Version` other than 13 is answered 426 with `Sec-WebSocket-Version: 13`
/// (RFC 6455 §4.2.1, §4.4), both with the JSON error body, and the connection closes. (NIO's
/// upgrader refuses both by closing the connection without a status.)
final class UpgradeHeadChecker: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    /// A refused request's head was answered: its body parts are dropped.
    private var refused = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            refused = false
            if let (error, headers) = Self.refusal({ head.headers[$0] }) {
                refused = true
                if let raw = try? context.pipeline.syncOperations.handler(type: RawResponder.self) {
                    raw.answer(UpgradeRefusals.response(error, headers: headers))
                } else {
                    context.close(promise: nil)
                }
                return
            }
            if Self.isUpgrade({ head.headers[$0] }) {
                // A well-formed upgrade: once it succeeds the HTTP decoder is gone and raw bytes
                // would reach this handler, so it steps aside (the rest of the request passes on).
                context.fireChannelRead(data)
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
                return
            }
        }
        if refused { return }
        context.fireChannelRead(data)
    }

    /// Whether the request asks for a WebSocket upgrade (`Connection: Upgrade`, `Upgrade: websocket`).
    static func isUpgrade(_ headers: (String) -> [String]) -> Bool {
        let connection = headers("connection").flatMap { $0.split(separator: ",") }.map { $0.filter { $0 != " " && $0 != "\t" }.lowercased() }
        return connection.contains("upgrade") && headers("upgrade").contains(where: { $0.lowercased().contains("websocket") })
    }

    /// The answer to a malformed WebSocket upgrade, nil for any other request; `headers` gives
    /// the values of a header (case-insensitive name).
    static func refusal(_ headers: (String) -> [String]) -> (APIError, [(String, String)])? {
        guard isUpgrade(headers) else { return nil }
        let keys = headers("sec-websocket-key"), versions = headers("sec-websocket-version")
        guard keys.count == 1, !keys[0].isEmpty else {
            return (APIError(.badRequest, field: "Sec-WebSocket-Key", reason: "a WebSocket upgrade needs one Sec-WebSocket-Key header (RFC 6455 section 4.1)"), [])
        }
        guard versions == ["13"] else {
            return (APIError(.upgradeRequired, field: "Sec-WebSocket-Version",
                             reason: "only WebSocket version 13 is supported (RFC 6455), found \(versions.isEmpty ? "none" : versions.joined(separator: ", ").prefix(40))"),
                    [("sec-websocket-version", "13")])
        }
        return nil
    }
}
