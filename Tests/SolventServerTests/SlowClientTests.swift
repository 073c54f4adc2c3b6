import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Hummingbird
import HummingbirdTesting
import SolventCore
import SolventServer
import Testing

/// A WebSocket client over a raw socket that completes the handshake and then reads nothing
/// until told to: the slowest possible consumer.
final class StalledClient {
    let fd: Int32
    /// Why the last drain stopped.
    var lastError = ""

    init(port: Int, path: String) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var small: Int32 = 4096
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        // Read the handshake response byte by byte (so no frame byte is consumed).
        var header: [UInt8] = []
        var byte: UInt8 = 0
        while !(header.count >= 4 && Array(header.suffix(4)) == [13, 10, 13, 10]), recv(fd, &byte, 1, 0) == 1 { header.append(byte) }
        guard String(decoding: header, as: UTF8.self).hasPrefix("HTTP/1.1 101") else { throw POSIXError(.EPROTO) }
    }

    /// Everything the server sent until it closed the connection (or `seconds` passed).
    func drain(seconds: Int) -> [UInt8] {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let deadline = Date().addingTimeInterval(Double(seconds))
        while Date() < deadline {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n > 0 { out.append(contentsOf: buffer[0..<n]); continue }
            if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            lastError = n == 0 ? "end of stream" : String(cString: strerror(errno))
            break
        }
        return out
    }

    /// (opcode, payload) of the unmasked server frames in `bytes`.
    static func frames(_ bytes: [UInt8]) -> [(opcode: UInt8, payload: [UInt8])] {
        var frames: [(UInt8, [UInt8])] = []
        var k = 0
        while k + 2 <= bytes.count {
            let opcode = bytes[k] & 0x0F
            var length = Int(bytes[k + 1] & 0x7F)
            k += 2
            if length == 126, k + 2 <= bytes.count { length = Int(bytes[k]) << 8 | Int(bytes[k + 1]); k += 2 }
            else if length == 127, k + 8 <= bytes.count { length = bytes[k..<k + 8].reduce(0) { $0 << 8 | Int($1) }; k += 8 }
            guard k + length <= bytes.count else { break }
            frames.append((opcode, Array(bytes[k..<k + length])))
            k += length
        }
        return frames
    }

    deinit { close(fd) }
}

@Suite struct SlowClientTests {
    /// A client that stops reading is cut off once its queue is full: publishing never waits,
    /// other work goes on, the connection is closed, and what the client did receive is a
    /// gap-free prefix of its stream (so it knows where to re-sync from).
    @Test func stalledClientIsCutOffWithAReason() async throws {
        let f = try await Fixture(streamQueue: 16)
        try await f.app.test(.live) { client in
            let port = try #require(client.port)
            let stalled = try StalledClient(port: port, path: "/v1/stream?channels=prices&access_token=\(f.operatorKey)")
            let hub = f.engine.hub
            for _ in 0..<200 where hub.subscriberCount == 0 { try await Task.sleep(for: .milliseconds(10)) }
            #expect(hub.subscriberCount == 1)
            // 64 KiB messages: the socket buffers fill, the server's writer blocks, the queue fills.
            let padding = String(repeating: "x", count: 65_536)
            var published = 0
            while hub.droppedSubscribers == 0 && published < 5_000 {
                hub.publish(channel: .prices, type: "prices", sequence: Int64(published), members: "\"pad\":\"\(padding)\"")
                published += 1
                if published % 16 == 0 { try await Task.sleep(for: .milliseconds(5)) }
            }
            #expect(hub.droppedSubscribers == 1, "the stalled client was never cut off after \(published) messages")
            #expect(hub.subscriberCount == 0)
            // The engine is not held up: a command still goes through at once.
            _ = try await f.engine.submit(try JSONParser.parse(#"{"type":"deposit","account":"alice","asset":"USDT","amount":"1"}"#), key: "after-cut")

            let bytes = stalled.drain(seconds: 10)
            let frames = StalledClient.frames(bytes)
            let diagnosis = "\(bytes.count) bytes, \(frames.count) frames, stopped by \(stalled.lastError)"
            let texts = frames.filter { $0.opcode == 0x1 }.compactMap { try? JSONParser.parse($0.payload) }
            #expect(stalled.lastError == "end of stream", "the server closed the connection (\(diagnosis))")
            // What arrived is a gap-free prefix of the stream: stream_seq runs 0, 1, 2, …
            let data = texts.filter { $0["type"] != .string("closing") }
            let seqs = data.compactMap { value -> Int64? in if case .number(let n)? = value["stream_seq"] { return Int64(n) } else { return nil } }
            #expect(seqs == Array(seqs.indices.map { Int64($0) }), "\(diagnosis)")
            // The closing message and the close frame are best effort: they queue behind what the
            // client has not read, and a connection closed with unsent data loses them. When they
            // arrive they say why.
            if let closing = texts.last, closing["type"] == .string("closing") {
                #expect(closing["reason"] == .string("slow consumer: 16 messages queued"))
                if let close = frames.last(where: { $0.opcode == 0x8 }) {
                    #expect(close.payload.count >= 2 && (Int(close.payload[0]) << 8 | Int(close.payload[1])) == 1008)
                }
            }
        }
    }
}
