"""Test settings: fast hashing, locmem email; real PostgreSQL and Redis when CI=true."""

import os
from urllib.parse import urlsplit, urlunsplit

from .base import *  # noqa: F403
from .base import BASE_DIR, CELERY_VISIBILITY_TIMEOUT, DATABASES, env

CI = env.bool("CI", default=False)
if CI:
    DATABASES["default"] = env.db(
        "DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/portal"
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
    # `make test` runs the suite in parallel (pytest-xdist): each worker process gwN has its own
    # test database (pytest-django adds the suffix) and its own Redis database, N above the one
    # named, so one worker's Celery tests never see another's queues.
    _xdist = os.environ.get("PYTEST_XDIST_WORKER", "")
    if _xdist.startswith("gw"):
        _redis = urlsplit(REDIS_URL)
        _number = int(_redis.path.strip("/") or 0) + int(_xdist[2:])
        REDIS_URL = urlunsplit(_redis._replace(path=f"/{_number}"))
    CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
    # Only here may the visibility timeout be shortened: the kill test starts its workers with
    # a few seconds and a restore sweep every second, so abandoned tasks come back in time.
    CELERY_VISIBILITY_TIMEOUT = env.int(
        "CELERY_VISIBILITY_TIMEOUT", default=CELERY_VISIBILITY_TIMEOUT
    )
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
        "unacked_mutex_expire": 5,
    }
else:
    DATABASES["default"] = env.db("TEST_DATABASE_URL", default="sqlite:///:memory:")
    CELERY_BROKER_URL = "memory://"

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# A worker started by a test may record its mail elsewhere (the kill test: in the database).
EMAIL_BACKEND = env("TEST_EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
PRIVATE_MEDIA_ROOT = str(BASE_DIR / ".test-media" / "private")
MEDIA_ROOT = str(BASE_DIR / ".test-media")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Browser tests type the TOTP code on a busy machine: accept the neighbouring 30-s windows too.
MFA_TOTP_TOLERANCE = 1
