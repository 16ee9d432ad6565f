"""Production: only hardening on top of base; every secret comes from the environment."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import LOGGING as BASE_LOGGING
from .base import env

DEBUG = False
ACCESS_LOG_FLUSH_MS = env.int("ACCESS_LOG_FLUSH_MS", default=200)
SECRET_KEY = env("SECRET_KEY")
ID_HASH_KEY = env("ID_HASH_KEY")
# The ID numbers' ciphertext key: never base.py's development salt in production.
SALT_KEY = env.list("FIELD_ENCRYPTION_SALTS")
# localhost stays allowed for the container health checks.
ALLOWED_HOSTS = [*env.list("ALLOWED_HOSTS"), "localhost"]
# Every QR code and email link is built on it: base.py's 127.0.0.1 would reach nobody. https,
# unless ALLOW_HTTP_SITE_URL=true (trying the compose file on a machine without TLS).
SITE_URL = env("SITE_URL").rstrip("/")
if not SITE_URL.startswith("https://") and not env.bool("ALLOW_HTTP_SITE_URL", default=False):
    raise ImproperlyConfigured(
        f"SITE_URL must be the portal's public https:// address, not {SITE_URL!r} "
        "(ALLOW_HTTP_SITE_URL=true allows http for a local trial)."
    )

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="smtp://localhost:25")
vars().update(EMAIL_CONFIG)

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env("REDIS_URL", default="redis://redis:6379/0"),
    }
}

LOGGING = {
    **BASE_LOGGING,  # the libraries base.py quiets stay quiet
    "formatters": {"json": {"()": "portal.lib.logs.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
