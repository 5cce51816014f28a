from django.db import models


class PaymentEvent(models.Model):
    """A webhook event from the payments service, recorded once per event id.

    The service delivers at least once (a retry after a lost answer, or a manual redelivery), so the
    unique event_id is what makes handling idempotent.
    """

    event_id = models.CharField(max_length=64, unique=True)
    type = models.CharField(max_length=64)
    pending_id = models.CharField(max_length=64, db_index=True)
    offer_id = models.CharField(max_length=100)
    status = models.CharField(max_length=16)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
