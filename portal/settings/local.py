"""Developer machine: `make run` uses these (SQLite and the embedded broker by default)."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
