# Used by the schemathesis run (SCHEMATHESIS_HOOKS=schemathesis_hooks, PYTHONPATH=tests/api).
# Each hook states one rule JSON Schema cannot, and changes nothing else.
# Schemathesis hook: JSON Schema cannot say "in the future", so a generated key expiry in the
# past is moved a year ahead of now (the server refuses a past expiry with 400).
import datetime
import schemathesis

@schemathesis.hook
def map_body(ctx, body):
    if isinstance(body, dict) and isinstance(body.get("expiresAt"), str) and "actingUserId" in body:
        try:
            at = datetime.datetime.fromisoformat(body["expiresAt"].replace("Z", "+00:00"))
        except ValueError:
            return body
        now = datetime.datetime.now(datetime.timezone.utc)
        if at.tzinfo is not None and at <= now:
            body = {**body, "expiresAt": (now + datetime.timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    return body

