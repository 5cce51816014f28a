"""Settings for the example marketplace: only what receiving payment webhooks needs.

Everything that differs between machines comes from the environment:
  PAYMENTS_WEBHOOK_SECRETS  the payments service's WEBHOOK_SECRET (comma-separated whsec_ values; during a
                            rotation list both, and the view accepts a delivery signed with either)
  MARKETPLACE_DB_PATH       the SQLite file (default: db.sqlite3 beside manage.py)
  DJANGO_SECRET_KEY         Django's own key (a development default is used when unset)
  PAYMENTS_SERVICE_URL, PAYMENTS_API_TOKEN   used by payments_utils.py
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "development-only-not-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"] + [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h]

INSTALLED_APPS = ["payments_webhooks"]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "marketplace.urls"
WSGI_APPLICATION = "marketplace.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("MARKETPLACE_DB_PATH", str(BASE_DIR / "db.sqlite3")),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True

PAYMENTS_WEBHOOK_SECRETS = [s.strip() for s in os.environ.get("PAYMENTS_WEBHOOK_SECRETS", "").split(",") if s.strip()]
PAYMENTS_WEBHOOK_TOLERANCE_SECONDS = 5 * 60

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"payments_webhooks": {"handlers": ["console"], "level": "INFO"}},
}
