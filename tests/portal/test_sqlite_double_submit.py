"""The embedded default (SQLite): two requests writing at once (a double click on "submit")
both succeed, one after the other, instead of one failing with "database is locked"."""

import threading
import time

import pytest
from django.db import connections, transaction
from django.db.backends.sqlite3.base import DatabaseWrapper

from portal.settings import base

pytestmark = pytest.mark.django_db  # lets these connections of their own open


def _wrapper(path) -> DatabaseWrapper:
    settings = {**connections["default"].settings_dict, "NAME": str(path)}
    settings["ENGINE"] = "django.db.backends.sqlite3"
    settings["OPTIONS"] = dict(base.SQLITE_OPTIONS)
    settings.setdefault("TEST", {})
    return DatabaseWrapper(settings, alias=f"double-submit-{threading.get_ident()}")


def test_two_transactions_that_read_then_write_at_once_both_succeed(tmp_path):
    path = tmp_path / "portal.sqlite3"
    setup = _wrapper(path)
    with setup.cursor() as cursor:
        cursor.execute("CREATE TABLE filing (id INTEGER PRIMARY KEY, number TEXT)")
    setup.close()
    failures, barrier = [], threading.Barrier(2)

    def submit(number: str) -> None:
        connection = _wrapper(path)
        connections[connection.alias] = connection
        try:
            barrier.wait()
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM filing")  # the service's checks first
                time.sleep(0.2)
                cursor.execute("INSERT INTO filing (number) VALUES (%s)", [number])
        except Exception as exc:  # noqa: BLE001 (the failure is what the test looks for)
            failures.append(repr(exc))
        finally:
            connection.close()
            del connections[connection.alias]

    threads = [threading.Thread(target=submit, args=(n,)) for n in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    check = _wrapper(path)
    with check.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM filing")
        assert cursor.fetchone()[0] == 2
    check.close()
