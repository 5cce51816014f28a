from django.apps import AppConfig


class PaymentsWebhooksConfig(AppConfig):
    name = "payments_webhooks"
