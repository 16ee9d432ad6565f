"""Developer machine: `make run` uses these (SQLite and the embedded broker by default)."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)

# One cache for every process `make run` starts (web, Celery worker and beat, and a
# `manage.py` command beside them): a hospital API key revoked anywhere stops working everywhere
# within about a second (hospitals.auth's mark), and the rate limits count every process's
# requests. Redis when REDIS_URL is set, as in production; otherwise files beside the database.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}  # noqa: F405
        if REDIS_URL  # noqa: F405
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": env("CACHE_DIR", default=str(BASE_DIR / ".cache" / "django")),  # noqa: F405
        }
    )
}
