from django.urls import path

from payments_webhooks import views

urlpatterns = [
    # The payments service posts to DJANGO_BASE_URL + WEBHOOK_PATH (default /api/webhooks/payments).
    path("api/webhooks/payments", views.payment_webhook, name="payment_webhook"),
]
