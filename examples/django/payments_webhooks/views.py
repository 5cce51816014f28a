import json
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .models import PaymentEvent
from .verification import WebhookVerificationError, verify_webhook

log = logging.getLogger(__name__)


@csrf_exempt  # the Standard Webhooks signature authenticates the caller instead of a CSRF token
@require_POST
def payment_webhook(request):
    if not settings.PAYMENTS_WEBHOOK_SECRETS:
        # Our misconfiguration, not a bad delivery: 503 makes the service retry instead of giving up.
        log.error("PAYMENTS_WEBHOOK_SECRETS is not set: refusing payment webhooks until it is")
        return JsonResponse({"error": "webhook receiver not configured"}, status=503)
    try:
        event = verify_webhook(
            settings.PAYMENTS_WEBHOOK_SECRETS,
            request.body,
            request.headers,
            tolerance_seconds=settings.PAYMENTS_WEBHOOK_TOLERANCE_SECONDS,
        )
    except (WebhookVerificationError, json.JSONDecodeError) as error:
        # 4xx: the payments service dead-letters the event instead of retrying it for days.
        log.warning("refused a payment webhook: %s", error)
        return JsonResponse({"error": "invalid webhook signature"}, status=401)

    event_id = request.headers["webhook-id"]  # signed, unlike anything we could pick from the body
    with transaction.atomic():
        try:
            # Its own savepoint: only a repeated event id counts as a duplicate. An IntegrityError
            # raised by the handler below is a real failure (500, the service retries later).
            with transaction.atomic():
                PaymentEvent.objects.create(
                    event_id=event_id,
                    type=event["type"],
                    pending_id=event["pendingId"],
                    offer_id=event["offerId"],
                    status=event["status"],
                    payload=event,
                )
        except IntegrityError:
            # Seen before: answer 2xx so the service stops retrying, and do nothing twice.
            return JsonResponse({"ok": True, "duplicate": True})
        handle_payment_event(event)
    return JsonResponse({"ok": True})


def handle_payment_event(event):
    """The marketplace's reaction, inside the same transaction as the record of the event."""
    if event["type"] == "payment.completed":
        log.info("offer %s funded by payment %s", event["offerId"], event["pendingId"])
        # e.g. Job.objects.filter(offer_id=event["offerId"]).update(funded=True)
