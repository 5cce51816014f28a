"""Standard Webhooks verification (https://www.standardwebhooks.com) with the standard library only.

The signed content is "<webhook-id>.<webhook-timestamp>.<raw body>", HMAC-SHA256 with the secret's
base64-decoded bytes (after the whsec_ prefix). The webhook-signature header holds one or more
space-separated "v1,<base64>" signatures: the service signs with every secret it has during a
rotation, and any one matching any of our secrets is enough.
"""
import base64
import hashlib
import hmac
import json
import time


class WebhookVerificationError(Exception):
    pass


def _secret_bytes(secret):
    if secret.startswith("whsec_"):
        secret = secret[len("whsec_"):]
    return base64.b64decode(secret)


def verify_webhook(secrets, body, headers, tolerance_seconds=300, now=None):
    """Returns the parsed JSON body, or raises WebhookVerificationError.

    `body` must be the raw bytes as received: re-serialised JSON would not match the signature.
    """
    if not secrets:
        raise WebhookVerificationError("no webhook secret configured")
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not msg_id or not timestamp or not signatures:
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise WebhookVerificationError("webhook-timestamp is not a number")
    # Refusing old (and far-future) timestamps stops a captured delivery from being replayed later.
    if abs((time.time() if now is None else now) - sent_at) > tolerance_seconds:
        raise WebhookVerificationError("webhook-timestamp outside the tolerance")

    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = [
        base64.b64encode(hmac.new(_secret_bytes(secret), signed, hashlib.sha256).digest())
        for secret in secrets
    ]
    for versioned in signatures.split(" "):
        version, _, signature = versioned.partition(",")
        if version != "v1":
            continue
        for candidate in expected:
            if hmac.compare_digest(candidate, signature.encode()):
                return json.loads(body)
    raise WebhookVerificationError("no matching signature")
