import SolventCore

/// The OpenAPI 3.1 description of the API, served at `/openapi.json`. Tests check that every
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

    static let paths = ["/", "/healthz", "/readyz", "/metrics", "/openapi.json", "/v1/accounts/{id}", "/v1/commands", "/v1/orders/check", "/v1/evaluate", "/v1/events",
                        "/v1/insurance-fund", "/v1/risk", "/v1/stream", "/v1/reserves/root", "/v1/reserves/proofs/{id}", "/v1/webhooks",
                        "/v1/webhooks/deliveries", "/v1/webhooks/deliveries/{id}/retry"]

    static let json = #"""
    {"openapi":"3.1.0",
     "info":{"title":"Solvent","version":"0.2.0","description":"Margin, margin-call and liquidation engine (docs/service.md). Decimals are JSON strings. Writes need an Idempotency-Key header; a repeated key returns the original result and applies nothing. Errors are {\"error\":{\"field\",\"reason\"}} and change nothing."},
     "servers":[{"url":"/"}],
     "security":[{"apiKey":[]}],
     "components":{
       "securitySchemes":{"apiKey":{"type":"http","scheme":"bearer","description":"API key (roles: operator, price-feeder, fill-feeder, account)"}},
       "parameters":{
         "AccountID":{"name":"id","in":"path","required":true,"example":"t1","schema":{"type":"string","minLength":1,"maxLength":128,"pattern":"^[A-Za-z0-9_.:-]+$"}},
         "IdempotencyKey":{"name":"Idempotency-Key","in":"header","required":true,"schema":{"type":"string","minLength":1,"maxLength":200,"pattern":"^[A-Za-z0-9_.:-]+$"}}
       },
       "schemas":{
         "Decimal":{"type":"string","pattern":"^-?[0-9]+(\\.[0-9]+)?$"},
         "DecimalMap":{"type":"object","additionalProperties":{"$ref":"#/components/schemas/Decimal"}},
         "Error":{"type":"object","required":["error"],"properties":{"error":{"type":"object","required":["field","reason"],"properties":{"field":{"type":"string"},"reason":{"type":"string"}}}}},
         "Command":{"type":"object","required":["type"],"properties":{"type":{"type":"string","enum":["deposit","withdraw","place_order","cancel_order","fill","mark","index","asset_price","book","funding","set_leverage","set_margin_mode","move_isolated_margin","change_parameters","tick","chain_deposit","chain_tip","chain_reorg"]},"time":{"type":["string","integer"]}},"additionalProperties":true},
         "Event":{"type":"object","required":["type","seq","time"],"properties":{"type":{"type":"string"},"seq":{"type":"integer"},"time":{"type":"integer"},"account":{"type":"string"}}},
         "CommandResult":{"type":"object","required":["sequence","duplicate","events"],"properties":{"sequence":{"type":"integer"},"duplicate":{"type":"boolean"},"events":{"type":"array","items":{"$ref":"#/components/schemas/Event"}}}},
         "Events":{"type":"object","required":["oldest_retained","events"],"properties":{"oldest_retained":{"type":["integer","null"]},"events":{"type":"array","items":{"$ref":"#/components/schemas/Event"}}}},
         "Account":{"type":"object","required":["account","state"],"properties":{"account":{"type":"object","required":["id","status","pools","positions"]},
           "state":{"type":"object","required":["balances","procedures","engine_sequence"],"properties":{"balances":{"$ref":"#/components/schemas/DecimalMap"},"procedures":{"type":"object","additionalProperties":{"type":"string"}},"engine_sequence":{"type":"integer"}}}}},
         "RiskSummary":{"type":"object","required":["sequence","time","time_iso","accounts","by_status","procedures","closest","margin_calls","liquidating","insurance_fund","backlog","breakers","marks","volatility"],
           "properties":{"sequence":{"type":"integer"},"time":{"type":"integer"},"time_iso":{"type":"string"},"accounts":{"type":"integer","minimum":0},
             "by_status":{"type":"object","additionalProperties":{"type":"integer","minimum":0}},"procedures":{"type":"object","additionalProperties":{"type":"integer","minimum":0}},
             "closest":{"type":"array","items":{"type":"object","required":["account","status","procedure","pool","margin_ratio","equity","maintenance_margin"],
               "properties":{"account":{"type":"string"},"status":{"type":"string"},"procedure":{"type":"string"},"pool":{"type":"string"},"margin_ratio":{"type":["string","null"]},
                 "equity":{"$ref":"#/components/schemas/Decimal"},"maintenance_margin":{"$ref":"#/components/schemas/Decimal"},"symbol":{"type":"string"},"side":{"enum":["long","short"]},
                 "mark":{"type":["string","null"]},"liquidation_price":{"type":["string","null"]},"distance_pct":{"type":["string","null"]},"distance_sigma":{"type":["string","null"]}}}},
             "margin_calls":{"type":"array","items":{"type":"object","required":["account","pool","amount","deadline","deadline_iso","seconds_left"]}},
             "liquidating":{"type":"array","items":{"type":"object","required":["account","pool"]}},
             "insurance_fund":{"$ref":"#/components/schemas/DecimalMap"},
             "insurance_fund_history":{"type":"array","items":{"type":"object","required":["sequence","time","balances"]}},
             "backlog":{"type":"integer","minimum":0},
             "breakers":{"type":"array","items":{"type":"object","required":["symbol","paused","reasons","cap_used"]}},
             "marks":{"$ref":"#/components/schemas/DecimalMap"},"volatility":{"$ref":"#/components/schemas/DecimalMap"}}},
         "Delivery":{"type":"object","required":["id","subscription","event_id","event_type","status","attempts","next_attempt","created","body"],
           "properties":{"id":{"type":"integer"},"subscription":{"type":"string"},"event_id":{"type":"string"},"event_type":{"type":"string"},"account":{"type":["string","null"]},
             "status":{"enum":["pending","delivered","dead"]},"attempts":{"type":"integer"},"next_attempt":{"type":"integer"},"last_error":{"type":["string","null"]},
             "last_http_status":{"type":["integer","null"]},"created":{"type":"integer"},"delivered":{"type":["integer","null"]},"body":{"type":"object"}}}
       },
       "responses":{
         "BadRequest":{"description":"Invalid input: the field and the reason; nothing was applied.","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Error"}}}},
         "Unauthorized":{"description":"Missing or unknown API key.","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Error"}}}},
         "Forbidden":{"description":"The key's role may not do this (or not on this account).","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Error"}}}},
         "NotFound":{"description":"No such object.","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Error"}}}},
         "TooLarge":{"description":"Body over 1 MiB.","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Error"}}}},
         "TooMany":{"description":"Over the key's rate limit (Retry-After says when to come back).","headers":{"Retry-After":{"schema":{"type":"integer"}}},"content":{"application/json":{"schema":{"$ref":"#/components/schemas/Error"}}}}
       }
     },
     "paths":{
       "/":{"get":{"summary":"The risk dashboard (HTML; the key goes in the URL fragment #key=…)","security":[],"responses":{"200":{"description":"the page","content":{"text/html":{"schema":{"type":"string"}}}}}}},
       "/healthz":{"get":{"summary":"Liveness","security":[],"responses":{"200":{"description":"alive","content":{"application/json":{"schema":{"type":"object","required":["status"]}}}}}}},
       "/readyz":{"get":{"summary":"Readiness, with the engine's command count and event sequence","security":[],"responses":{"200":{"description":"ready","content":{"application/json":{"schema":{"type":"object","required":["status","commands_applied","engine_sequence"]}}}}}}},
       "/metrics":{"get":{"summary":"Prometheus metrics (text exposition format)","security":[],"responses":{"200":{"description":"metrics","content":{"text/plain":{"schema":{"type":"string"}}}}}}},
       "/openapi.json":{"get":{"summary":"This document","security":[],"responses":{"200":{"description":"OpenAPI 3.1","content":{"application/json":{"schema":{"type":"object"}}}}}}},
       "/v1/accounts/{id}":{"get":{"summary":"An account: pools, positions, balances, margin-call procedure (operator, or the account's own key)",
         "parameters":[{"$ref":"#/components/parameters/AccountID"}],
         "responses":{"200":{"description":"the account","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Account"}}}},"400":{"$ref":"#/components/responses/BadRequest"},"401":{"$ref":"#/components/responses/Unauthorized"},"403":{"$ref":"#/components/responses/Forbidden"},"404":{"$ref":"#/components/responses/NotFound"},"429":{"$ref":"#/components/responses/TooMany"}}}},
       "/v1/commands":{"post":{"summary":"Submit one command (journaled before it is applied); the role decides which types a key may send",
         "parameters":[{"$ref":"#/components/parameters/IdempotencyKey"}],
         "requestBody":{"required":true,"content":{"application/json":{"schema":{"$ref":"#/components/schemas/Command"}}}},
         "responses":{"200":{"description":"applied (or the original result of a repeated key)","content":{"application/json":{"schema":{"$ref":"#/components/schemas/CommandResult"}}}},"400":{"$ref":"#/components/responses/BadRequest"},"401":{"$ref":"#/components/responses/Unauthorized"},"403":{"$ref":"#/components/responses/Forbidden"},"413":{"$ref":"#/components/responses/TooLarge"},"429":{"$ref":"#/components/responses/TooMany"}}}},
       "/v1/orders/check":{"post":{"summary":"Pre-trade check of an order without placing it (nothing is journaled; no idempotency key)",
         "requestBody":{"required":true,"content":{"application/json":{"schema":{"type":"object","required":["account","symbol","quantity","price"],"properties":{"id":{"type":"string"},"account":{"type":"string"},"symbol":{"type":"string"},"quantity":{"$ref":"#/components/schemas/Decimal"},"price":{"$ref":"#/components/schemas/Decimal"},"reduce_only":{"type":"boolean"}}}}}},
         "responses":{"200":{"description":"accepted (with the margin it would reserve) or rejected (with the code, field and reason place_order would give)","content":{"application/json":{"schema":{"type":"object","required":["accepted","engine_sequence"],"properties":{"accepted":{"type":"boolean"},"reduces":{"type":"boolean"},"reduce_only":{"type":"boolean"},"reserved_margin":{"$ref":"#/components/schemas/Decimal"},"free_margin":{"type":["string","null"]},"code":{"type":"integer"},"field":{"type":"string"},"reason":{"type":"string"},"engine_sequence":{"type":"integer"}}}}}},"400":{"$ref":"#/components/responses/BadRequest"},"401":{"$ref":"#/components/responses/Unauthorized"},"403":{"$ref":"#/components/responses/Forbidden"},"413":{"$ref":"#/components/responses/TooLarge"},"429":{"$ref":"#/components/responses/TooMany"}}}},
       "/v1/evaluate":{"post":{"summary":"The evaluation contract of solvent evaluate (docs/evaluate.md)",
         "requestBody":{"required":true,"content":{"application/json":{"schema":{"type":"object"}}}},
         "responses":{"200":{"description":"evaluation","content":{"application/json":{"schema":{"type":"object"}}}},"400":{"$ref":"#/components/responses/BadRequest"},"401":{"$ref":"#/components/responses/Unauthorized"},"413":{"$ref":"#/components/responses/TooLarge"},"429":{"$ref":"#/components/responses/TooMany"}}}},
       "/v1/events":{"get":{"summary":"Recent events after a sequence number, by account and type (operator; an account key sees its own)",
         "parameters":[{"name":"after","in":"query","schema":{"type":"integer","minimum":0}},{"name":"account","in":"query","schema":{"type":"string"}},{"name":"type","in":"query","schema":{"type":"string"}},{"name":"limit","in":"query","schema":{"type":"integer","minimum":1,"maximum":10000}}],
         "responses":{"200":{"description":"events, oldest first","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Events"}}}},"400":{"$ref":"#/components/responses/BadRequest"},"401":{"$ref":"#/components/responses/Unauthorized"},"403":{"$ref":"#/components/responses/Forbidden"},"429":{"$ref":"#/components/responses/TooMany"}}}},
       "/v1/risk":{"get":{"summary":"The risk summary: accounts by status, closest to liquidation, margin calls, fund and its history, breakers (operator)",
         "responses":{"200":{"description":"summary","content":{"application/json":{"schema":{"$ref":"#/components/schemas/RiskSummary"}}}},"401":{"$ref":"#/components/responses/Unauthorized"},"403":{"$ref":"#/components/responses/Forbidden"},"429":{"$ref":"#/components/responses/TooMany"}}}},
       "/v1/stream":{"get":{"summary":"WebSocket stream of events, prices and risk summaries (docs/service.md 'Streams'); browsers pass the key as access_token",
         "parameters":[{"name":"channels","in":"query","schema":{"type":"string","example":"events,prices,risk"}},{"name":"account","in":"query","schema":{"type":"string"}},{"name":"access_token","in":"query","schema":{"type":"string"}}],
         "responses":{"101":{"description":"switching to the WebSocket protocol"},"400":{"$ref":"#/components/responses/BadRequest"},"401":{"$ref":"#/components/responses/Unauthorized"},"403":{"$ref":"#/components/responses/Forbidden"},"426":{"description":"not a WebSocket upgrade request","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Error"}}}},"429":{"$ref":"#/components/responses/TooMany"}}}},
       "/v1/reserves/root":{"get":{"summary":"The liabilities commitment (Merkle-sum root, totals) at the current state (docs/reserves.md)",
         "responses":{"200":{"description":"root.json","content":{"application/json":{"schema":{"type":"object"}}}},"401":{"$ref":"#/components/responses/Unauthorized"},"404":{"$ref":"#/components/responses/NotFound"},"429":{"$ref":"#/components/responses/TooMany"}}}},
       "/v1/reserves/proofs/{id}":{"get":{"summary":"The inclusion proof of an account (an account key: its own only)",
         "parameters":[{"$ref":"#/components/parameters/AccountID"}],
         "responses":{"200":{"description":"the proof","content":{"application/json":{"schema":{"type":"object"}}}},"400":{"$ref":"#/components/responses/BadRequest"},"401":{"$ref":"#/components/responses/Unauthorized"},"403":{"$ref":"#/components/responses/Forbidden"},"404":{"$ref":"#/components/responses/NotFound"},"429":{"$ref":"#/components/responses/TooMany"}}}},
       "/v1/insurance-fund":{"get":{"summary":"Insurance fund balance per asset (operator)",
         "responses":{"200":{"description":"balances","content":{"application/json":{"schema":{"$ref":"#/components/schemas/DecimalMap"}}}},"401":{"$ref":"#/components/responses/Unauthorized"},"403":{"$ref":"#/components/responses/Forbidden"},"429":{"$ref":"#/components/responses/TooMany"}}}},
       "/v1/webhooks":{"get":{"summary":"Webhook subscriptions (without secrets), deliveries by status, the outbox's journal cursor (operator)",
         "responses":{"200":{"description":"webhooks","content":{"application/json":{"schema":{"type":"object","required":["subscriptions","deliveries","journal_cursor"],"properties":{"subscriptions":{"type":"array","items":{"type":"object","required":["name","url","events","accounts"]}},"deliveries":{"type":"object","required":["pending","delivered","dead"]},"journal_cursor":{"type":"integer"}}}}}},"401":{"$ref":"#/components/responses/Unauthorized"},"403":{"$ref":"#/components/responses/Forbidden"},"429":{"$ref":"#/components/responses/TooMany"}}}},
       "/v1/webhooks/deliveries":{"get":{"summary":"Webhook deliveries by status (dead letters: status=dead), by id (operator)",
         "parameters":[{"name":"status","in":"query","schema":{"enum":["pending","delivered","dead"]}},{"name":"after","in":"query","schema":{"type":"integer","minimum":0}},{"name":"limit","in":"query","schema":{"type":"integer","minimum":1,"maximum":1000}}],
         "responses":{"200":{"description":"deliveries","content":{"application/json":{"schema":{"type":"object","required":["deliveries"],"properties":{"deliveries":{"type":"array","items":{"$ref":"#/components/schemas/Delivery"}}}}}}},"400":{"$ref":"#/components/responses/BadRequest"},"401":{"$ref":"#/components/responses/Unauthorized"},"403":{"$ref":"#/components/responses/Forbidden"},"429":{"$ref":"#/components/responses/TooMany"}}}},
       "/v1/webhooks/deliveries/{id}/retry":{"post":{"summary":"Put a dead letter back in the queue (operator; repeating it changes nothing)",
         "parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"integer","minimum":1}},{"$ref":"#/components/parameters/IdempotencyKey"}],
         "responses":{"200":{"description":"the delivery's status","content":{"application/json":{"schema":{"type":"object","required":["id","status"]}}}},"400":{"$ref":"#/components/responses/BadRequest"},"401":{"$ref":"#/components/responses/Unauthorized"},"403":{"$ref":"#/components/responses/Forbidden"},"404":{"$ref":"#/components/responses/NotFound"},"429":{"$ref":"#/components/responses/TooMany"}}}}
     }}
    """#
}
