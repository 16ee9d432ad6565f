"""Test settings: fast hashing, locmem email; real PostgreSQL and Redis when CI=true."""

from .base import *  # noqa: F403
from .base import BASE_DIR, CELERY_VISIBILITY_TIMEOUT, DATABASES, env

CI = env.bool("CI", default=False)
if CI:
    DATABASES["default"] = env.db(
        "DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/portal"
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
    CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
else:
    DATABASES["default"] = env.db("TEST_DATABASE_URL", default="sqlite:///:memory:")
    CELERY_BROKER_URL = "memory://"

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
PRIVATE_MEDIA_ROOT = str(BASE_DIR / ".test-media" / "private")
MEDIA_ROOT = str(BASE_DIR / ".test-media")
ACCOUNT_RATE_LIMITS = {"login_failed": "5/5m/ip,5/5m/key"}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
