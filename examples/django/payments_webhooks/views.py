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
    try:
        with transaction.atomic():
            PaymentEvent.objects.create(
                event_id=event_id,
                type=event["type"],
                pending_id=event["pendingId"],
                offer_id=event["offerId"],
                status=event["status"],
                payload=event,
            )
            handle_payment_event(event)
    except IntegrityError:
        # Seen before: answer 2xx so the service stops retrying, and do nothing twice.
        return JsonResponse({"ok": True, "duplicate": True})
    return JsonResponse({"ok": True})


def handle_payment_event(event):
    """The marketplace's reaction, inside the same transaction as the record of the event."""
    if event["type"] == "payment.completed":
        log.info("offer %s funded by payment %s", event["offerId"], event["pendingId"])
        # e.g. Job.objects.filter(offer_id=event["offerId"]).update(funded=True)
