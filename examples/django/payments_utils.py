"""Calling the payments service from Django, with the standard library only (urllib).

    from payments_utils import start_payment, payment_status
    started = start_payment(offer_id="123", seller_id="default-seller",
                            buyer_wallet_address_url="https://ilp.interledger-test.dev/edutest", amount="100")
    # send the buyer to started["redirectUrl"]; the payment.completed webhook says when it is paid
    payment_status(started["payment"]["pendingId"])  # {"pendingId": ..., "status": "pending", "state": ...}

Configuration (environment): PAYMENTS_SERVICE_URL (default http://localhost:4001) and
PAYMENTS_API_TOKEN (one of the service's API_TOKENS).
"""
import json
import os
import urllib.error
import urllib.request

DEFAULT_TIMEOUT_SECONDS = 30


class PaymentsServiceError(Exception):
    def __init__(self, message, code=None, details=None):
        super().__init__(message)
        self.code = code
        self.details = details


def graphql(query, variables=None, timeout=DEFAULT_TIMEOUT_SECONDS):
    """Posts one GraphQL operation and returns its `data`; raises PaymentsServiceError on errors."""
    base_url = os.environ.get("PAYMENTS_SERVICE_URL", "http://localhost:4001").rstrip("/")
    headers = {"content-type": "application/json", "accept": "application/json"}
    token = os.environ.get("PAYMENTS_API_TOKEN")
    if token:
        headers["authorization"] = "Bearer " + token
    request = urllib.request.Request(
        base_url + "/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers=headers,
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = json.load(response)
    except urllib.error.HTTPError as error:
        # GraphQL errors may come with a 4xx status and a JSON body; keep its message.
        try:
            body = json.load(error)
        except ValueError:
            raise PaymentsServiceError("payments service answered HTTP %d" % error.code)
        # Requests refused before GraphQL runs (401, 413) answer the REST error shape.
        if "error" in body:
            raise PaymentsServiceError(body["error"], body.get("code"), body.get("details"))
    except urllib.error.URLError as error:
        raise PaymentsServiceError("payments service unreachable: %s" % error.reason)
    if body.get("errors"):
        first = body["errors"][0]
        raise PaymentsServiceError(first.get("message", "GraphQL error"), (first.get("extensions") or {}).get("code"))
    return body["data"]


def _unwrap(result):
    """Mutations answer a payload or a typed error (AppError with code, message, details)."""
    if result.get("__typename") == "AppError":
        raise PaymentsServiceError(result["message"], result["code"], result.get("details"))
    return result


START_CHECKOUT = """
mutation StartCheckout($input: StartCheckoutInput!) {
  startCheckout(input: $input) {
    __typename
    ... on StartCheckoutPayload {
      redirectUrl
      payment { pendingId offerId status state }
      quote { debitAmount { value assetCode assetScale } receiveAmount { value assetCode assetScale } expiresAt }
    }
    ... on AppError { code message details }
  }
}
"""

PAYMENT_STATUS = """
query PaymentStatus($pendingId: String!) {
  payment(pendingId: $pendingId) { pendingId offerId status state outgoingPaymentId }
}
"""


def start_payment(offer_id, seller_id, buyer_wallet_address_url, amount, return_url=None, idempotency_key=None):
    """Starts a checkout; returns {"redirectUrl", "payment": {"pendingId", ...}, "quote": {...}}.

    quote.debitAmount is what the buyer's wallet will debit, in the buyer's currency (it may differ
    from the seller's); quote.receiveAmount is what the seller receives. Show both to the buyer.

    Pass an idempotency_key (e.g. the job id) so that a retried call returns the same payment.
    """
    checkout = {
        "offerId": str(offer_id),
        "sellerId": seller_id,
        "buyerWalletAddressUrl": buyer_wallet_address_url,
        "amount": str(amount),
    }
    if return_url:
        checkout["returnUrl"] = return_url
    if idempotency_key:
        checkout["idempotencyKey"] = idempotency_key
    return _unwrap(graphql(START_CHECKOUT, {"input": checkout})["startCheckout"])


def payment_status(pending_id):
    """Returns {"pendingId", "offerId", "status": "pending"|"paid"|"failed", "state", ...}, or None."""
    return graphql(PAYMENT_STATUS, {"pendingId": pending_id})["payment"]
