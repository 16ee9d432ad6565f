"""Benchmark settings: production-like (DEBUG off, persistent connections) on local PostgreSQL."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench")
os.environ.setdefault("HOSPITAL_KEY_RATE", "100000000/min")

from portal.settings.base import *  # noqa: E402, F403

DEBUG = False
ACCESS_LOG_FLUSH_MS = 200  # as in production
ROOT_URLCONF = "bench.urls"
ALLOWED_HOSTS = ["*"]
LOGGING = {"version": 1, "disable_existing_loggers": True, "root": {"level": "ERROR"}}
