import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SolventCore
@testable import SolventServer
import Testing

/// The dashboard is files embedded by SwiftPM, assembled into one self-contained page; the service's
/// one error type renders itself, and one middleware maps every error a route throws.
@Suite struct AssetsAndErrorsTests {
    @Test func dashboardIsOnePageWithItsPartsInlined() throws {
        let page = DashboardPage.html
        for marker in ["/* dashboard.css */", "/* dashboard-format.js */", "/* dashboard.js */"] {
            #expect(!page.contains(marker), "\(marker) left in the page")
        }
        #expect(page.hasPrefix("<!doctype html>"))
        #expect(page.contains("const SolventFormat = (() => {"))
        #expect(page.contains("= SolventFormat;"))
        #expect(page.contains("#fund-chart") || page.contains("fund-chart"))
        // The format module comes before the script that uses it; the CSS is inside <style>.
        let format = try #require(page.range(of: "const SolventFormat"))
        let use = try #require(page.range(of: "= SolventFormat;"))
        #expect(format.lowerBound < use.lowerBound)
        let style = try #require(page.range(of: "<style>")), styleEnd = try #require(page.range(of: "</style>"))
        #expect(page[style.upperBound..<styleEnd.lowerBound].count > 1000)
    }

    @Test func inliningReplacesEachMarkerOnce() {
        let page = DashboardPage.inline(template: "<style>\n/* a */\n</style><script>\n/* b */\n</script>", parts: [("/* a */", "body{}\n"), ("/* b */", "x()\n")])
        #expect(page == "<style>\nbody{}\n</style><script>\nx()\n</script>")
    }

    @Test func errorsMapToTheOneJSONErrorBody() async throws {
        let router = Router()
        router.add(middleware: APIErrorMiddleware(allowedMethods: { $0 == "/only-post" ? ["POST"] : nil }))
        router.get("/api") { _, _ -> String in throw APIError(.tooManyRequests, field: "Authorization", reason: "slow down", retryAfter: 3) }
        router.get("/service") { _, _ -> String in throw APIError(.notFound, field: "id", reason: "unknown account \"x\"") }
        router.get("/input") { _, _ -> String in throw InputError(path: "amount", reason: "not a decimal: \"1x\"") }
        router.get("/other") { _, _ -> String in throw CocoaError(.fileNoSuchFile) }
        router.post("/only-post") { _, _ in "ok" }
        let app = Application(router: router)
        try await app.test(.router) { client in
            func check(_ method: HTTPRequest.Method, _ path: String, _ status: HTTPResponse.Status, field: String, reason: String? = nil,
                       sourceLocation: SourceLocation = #_sourceLocation) async throws -> TestResponse {
                try await client.execute(uri: path, method: method) { response in
                    #expect(response.status == status, sourceLocation: sourceLocation)
                    #expect(response.headers[.contentType] == "application/json", sourceLocation: sourceLocation)
                    let body = try JSONParser.parse(Array(response.body.readableBytesView))
                    guard case .string(let got)? = body["error"]?["field"], case .string(let why)? = body["error"]?["reason"] else {
                        Issue.record("no error body: \(String(buffer: response.body))", sourceLocation: sourceLocation)
                        return response
                    }
                    #expect(got == field, sourceLocation: sourceLocation)
                    if let reason { #expect(why == reason, sourceLocation: sourceLocation) }
                    return response
                }
            }
            let limited = try await check(.get, "/api", .tooManyRequests, field: "Authorization", reason: "slow down")
            #expect(limited.headers[.retryAfter] == "3")
            _ = try await check(.get, "/service", .notFound, field: "id", reason: "unknown account \"x\"")
            _ = try await check(.get, "/input", .badRequest, field: "amount", reason: "not a decimal: \"1x\"")
            _ = try await check(.get, "/other", .internalServerError, field: "")
            _ = try await check(.get, "/nowhere", .notFound, field: "path", reason: "no route GET /nowhere")
            let wrongMethod = try await check(.get, "/only-post", .methodNotAllowed, field: "method",
                                              reason: "GET is not allowed on /only-post (allowed: POST)")
            #expect(wrongMethod.headers[.allow] == "POST")
        }
    }
}
