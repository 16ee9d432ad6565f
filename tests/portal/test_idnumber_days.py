"""An ID number's birth date is checked against China's day, whatever the process's own clock
says (a server whose TZ is UTC)."""

from __future__ import annotations

import datetime
import zoneinfo

import time_machine
from stdnum.cn import ric

from portal.lib import idnumbers


def test_a_person_born_today_in_china_has_a_genuine_number_after_midnight(process_clock_in_utc):
    born = datetime.date(2026, 12, 1)
    body = f"210102{born:%Y%m%d}001"
    number = body + ric.calc_check_digit(body + "0")  # the digit is computed over the first 17
    moment = datetime.datetime(2026, 12, 1, 0, 30, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
    # An instant in UTC (16:30 on 30 November): the process clock stays in UTC while travelling.
    with time_machine.travel(moment.astimezone(datetime.UTC), tick=False):
        assert idnumbers.problem(number) is None
