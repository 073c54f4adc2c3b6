"""schemathesis hooks for scripts/check_service.py (loaded through SCHEMATHESIS_HOOKS).

Every write of the API needs an Idempotency-Key, scoped per API key and bound to the request
(docs/service.md "Idempotency"): a key reused with another body is 422 and applies nothing.
schemathesis draws header values from a small space and repeats them, so without this hook
nearly every generated write after the first is a 422 or a duplicate and never reaches the
engine. A well-formed key (a positive test case) is replaced by a fresh one per request;
malformed or missing keys (negative cases) are left as generated.
"""
import re
import uuid

import schemathesis

WELL_FORMED = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = case.headers
    if not headers:
        return
    for name in list(headers.keys()):
        if name.lower() == "idempotency-key" and isinstance(headers[name], str) and WELL_FORMED.match(headers[name]):
            headers[name] = "st-" + uuid.uuid4().hex
