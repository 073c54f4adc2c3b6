/// The OpenAPI 3.1 description of the API, served at `/openapi.json` (tests check that every
/// route of the router is in it and nothing else).
enum OpenAPIDocument {
    static let paths = ["/healthz", "/readyz", "/metrics", "/openapi.json", "/v1/accounts/{id}", "/v1/commands", "/v1/evaluate", "/v1/events", "/v1/insurance-fund", "/v1/reserves/root", "/v1/reserves/proofs/{id}"]

    static let json = #"""
    {"openapi":"3.1.0",
     "info":{"title":"Solvent","version":"0.1.0","description":"Margin, margin-call and liquidation engine. Decimals are JSON strings. Writes need an Idempotency-Key header; a repeated key returns the original result and applies nothing."},
     "components":{
       "securitySchemes":{"apiKey":{"type":"http","scheme":"bearer","description":"API key (roles: operator, price-feeder, fill-feeder, account)"}},
       "schemas":{
         "Error":{"type":"object","required":["error"],"properties":{"error":{"type":"object","required":["field","reason"],"properties":{"field":{"type":"string"},"reason":{"type":"string"}}}}},
         "Command":{"type":"object","required":["type"],"properties":{"type":{"type":"string","enum":["deposit","withdraw","place_order","cancel_order","fill","mark","index","asset_price","book","funding","set_leverage","set_margin_mode","move_isolated_margin","change_parameters","tick","chain_deposit","chain_tip","chain_reorg"]},"time":{"type":["string","integer"]}},"additionalProperties":true},
         "CommandResult":{"type":"object","required":["sequence","duplicate","events"],"properties":{"sequence":{"type":"integer"},"duplicate":{"type":"boolean"},"events":{"type":"array","items":{"type":"object"}}}},
         "Events":{"type":"object","required":["events"],"properties":{"oldest_retained":{"type":["integer","null"]},"events":{"type":"array","items":{"type":"object","required":["type","seq","time"],"properties":{"type":{"type":"string"},"seq":{"type":"integer"},"time":{"type":"integer"},"account":{"type":"string"}}}}}}
       },
       "responses":{
         "BadRequest":{"description":"Invalid input: the field and the reason; nothing was applied.","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Error"}}}},
         "Unauthorized":{"description":"Missing or unknown API key.","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Error"}}}},
         "Forbidden":{"description":"The key's role may not do this (or not on this account).","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Error"}}}}
       }
     },
     "paths":{
       "/healthz":{"get":{"summary":"Liveness","responses":{"200":{"description":"alive"}}}},
       "/readyz":{"get":{"summary":"Readiness, with the engine's command count and event sequence","responses":{"200":{"description":"ready"}}}},
       "/metrics":{"get":{"summary":"Prometheus metrics (text exposition format)","responses":{"200":{"description":"metrics","content":{"text/plain":{"schema":{"type":"string"}}}}}}},
       "/openapi.json":{"get":{"summary":"This document","responses":{"200":{"description":"OpenAPI 3.1"}}}},
       "/v1/accounts/{id}":{"get":{"summary":"An account: pools, positions, balances, margin-call procedure","security":[{"apiKey":[]}],
         "parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"string"}}],
         "responses":{"200":{"description":"the account"},"401":{"$ref":"#/components/responses/Unauthorized"},"403":{"$ref":"#/components/responses/Forbidden"},"404":{"description":"unknown account","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Error"}}}}}}},
       "/v1/commands":{"post":{"summary":"Submit one command (journaled before it is applied)","security":[{"apiKey":[]}],
         "parameters":[{"name":"Idempotency-Key","in":"header","required":true,"schema":{"type":"string","minLength":1,"maxLength":200}}],
         "requestBody":{"required":true,"content":{"application/json":{"schema":{"$ref":"#/components/schemas/Command"}}}},
         "responses":{"200":{"description":"applied (or the original result of a repeated key)","content":{"application/json":{"schema":{"$ref":"#/components/schemas/CommandResult"}}}},"400":{"$ref":"#/components/responses/BadRequest"},"401":{"$ref":"#/components/responses/Unauthorized"},"403":{"$ref":"#/components/responses/Forbidden"},"413":{"description":"body too large"}}}},
       "/v1/evaluate":{"post":{"summary":"The evaluation contract of solvent evaluate (docs/evaluate.md)","security":[{"apiKey":[]}],
         "requestBody":{"required":true,"content":{"application/json":{"schema":{"type":"object"}}}},
         "responses":{"200":{"description":"evaluation"},"400":{"$ref":"#/components/responses/BadRequest"},"401":{"$ref":"#/components/responses/Unauthorized"},"413":{"description":"body too large"}}}},
       "/v1/events":{"get":{"summary":"Recent events after a sequence number, by account and type","security":[{"apiKey":[]}],
         "parameters":[{"name":"after","in":"query","schema":{"type":"integer"}},{"name":"account","in":"query","schema":{"type":"string"}},{"name":"type","in":"query","schema":{"type":"string"}},{"name":"limit","in":"query","schema":{"type":"integer","minimum":1,"maximum":10000}}],
         "responses":{"200":{"description":"events","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Events"}}}},"400":{"$ref":"#/components/responses/BadRequest"},"401":{"$ref":"#/components/responses/Unauthorized"},"403":{"$ref":"#/components/responses/Forbidden"}}}},
       "/v1/reserves/root":{"get":{"summary":"The liabilities commitment (Merkle-sum root, totals) at the current state (docs/reserves.md)","security":[{"apiKey":[]}],
         "responses":{"200":{"description":"root.json"},"401":{"$ref":"#/components/responses/Unauthorized"},"404":{"description":"no accounts yet","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Error"}}}}}}},
       "/v1/reserves/proofs/{id}":{"get":{"summary":"The inclusion proof of an account (an account key: its own only)","security":[{"apiKey":[]}],
         "parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"string"}}],
         "responses":{"200":{"description":"the proof"},"401":{"$ref":"#/components/responses/Unauthorized"},"403":{"$ref":"#/components/responses/Forbidden"},"404":{"description":"unknown account","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Error"}}}}}}},
       "/v1/insurance-fund":{"get":{"summary":"Insurance fund balance per asset","security":[{"apiKey":[]}],
         "responses":{"200":{"description":"balances"},"401":{"$ref":"#/components/responses/Unauthorized"},"403":{"$ref":"#/components/responses/Forbidden"}}}}
     }}
    """#
}
