"""Settlement engine benchmark: the engine against a reference split in plain Decimal
arithmetic over the same bills, same process and run. Goal: engine >= 0.5x reference.

    .venv/bin/python bench/bench_engine.py [--bills 20000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from settlement.engine import Adjustment, Item, Policy, YearToDate, split  # noqa: E402

CENT = Decimal("0.01")


def reference(policy: Policy, items, adjustment: Adjustment, ytd: YearToDate) -> Decimal:
    """The same split, written inline: no dataclasses, no medication rules, no flags."""
    total = sum((i.amount for i in items), Decimal(0))
    c = sum((i.amount for i in items if i.cls == "C"), Decimal(0))
    b = sum((i.amount * policy.class_b_rate for i in items if i.cls == "B"), Decimal(0))
    in_scope = total - c - b.quantize(CENT, ROUND_HALF_UP)
    deductible = min(in_scope, (policy.deductible * adjustment.deductible_multiplier))
    ratio = policy.ratio - Decimal(adjustment.ratio_reduction_points) / 100
    fund = ((in_scope - deductible) * ratio * adjustment.fund_share).quantize(CENT, ROUND_HALF_UP)
    return min(fund, policy.annual_cap - ytd.fund_paid)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bills", type=int, default=20_000)
    args = parser.parse_args()
    rng = random.Random(7)
    policy = Policy(Decimal("1000"), Decimal("0.85"), Decimal("300000"), Decimal("0.10"))
    adjustment = Adjustment(10, Decimal("1.00"), Decimal("1.00"))
    ytd = YearToDate()
    bills = [
        [
            Item(Decimal(rng.randint(100, 500000)) / 100, rng.choice("ABC"))
            for _ in range(rng.randint(3, 30))
        ]
        for _ in range(args.bills)
    ]
    for bill in bills[:200]:  # the two agree where they overlap
        assert split(
            policy=policy, items=bill, adjustment=adjustment, ytd=ytd
        ).fund_pay == reference(policy, bill, adjustment, ytd)
    started = time.perf_counter()
    for bill in bills:
        reference(policy, bill, adjustment, ytd)
    ref = time.perf_counter() - started
    started = time.perf_counter()
    for bill in bills:
        split(policy=policy, items=bill, adjustment=adjustment, ytd=ytd)
    eng = time.perf_counter() - started
    ratio = (args.bills / eng) / (args.bills / ref)
    print(f"reference split : {args.bills / ref:9.0f} bills/s")
    print(f"settlement engine: {args.bills / eng:9.0f} bills/s")
    print(f"throughput ratio engine/reference = {ratio:.2f} (goal >= 0.50)")
    print("GOAL MET" if ratio >= 0.5 else "GOAL NOT MET")
    return 0 if ratio >= 0.5 else 1


if __name__ == "__main__":
    sys.exit(main())
