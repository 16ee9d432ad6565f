"""The demo benefit policies of domain.md §4 for every region, last year, this year and next
(so a demo seeded in December still settles a stay discharged in January), and a year of
historical direct settlements for the dashboard (idempotent)."""

from __future__ import annotations

import datetime
import hashlib
import random
from decimal import Decimal as D

from django.db import transaction
from django.db.models import DateTimeField, ExpressionWrapper, Value
from django.db.models.functions import Cast
from django.utils import timezone
from stdnum.cn import ric

from hospitals import eligibility
from hospitals.models import Hospital
from portal.lib import idnumbers
from portal.models import InsuredPerson, Region
from settlement import engine, stats
from settlement.models import AnnualAccumulation, BenefitPolicy, CategoryPolicy, Settlement

# scheme: {level: (deductible, ratio)}, annual cap
FIGURES = {
    "employee": (
        {3: (D("1000"), D("0.85")), 2: (D("800"), D("0.90")), 1: (D("500"), D("0.95"))},
        D("300000"),
    ),
    "resident": (
        {3: (D("1200"), D("0.60")), 2: (D("800"), D("0.70")), 1: (D("300"), D("0.80"))},
        D("150000"),
    ),
}
ADJUSTMENTS = {
    "referral": (10, D("1.00"), D("1.00")),
    "emergency": (10, D("1.00"), D("1.00")),
    "temporary": (20, D("1.50"), D("1.00")),
}


@transaction.atomic
def seed(out, *, history: bool = True) -> list:
    """The policies are written as two upserts on their unique constraints (one statement
    each): the demo is seeded before most tests, so its cost counts."""
    year = timezone.localdate().year
    benefits: list[BenefitPolicy] = []
    categories: list[CategoryPolicy] = []
    for region in Region.objects.all():
        adjustments = dict(ADJUSTMENTS)
        if region.measures == Region.Measures.DAXINGANLING and region.code == "232700":
            adjustments["resettled"] = (5, D("1.00"), D("1.00"))
        for y in (year - 1, year, year + 1):
            for scheme, (levels, cap) in FIGURES.items():
                for level, (deductible, ratio) in levels.items():
                    benefits.append(
                        BenefitPolicy(
                            region=region,
                            scheme=scheme,
                            year=y,
                            level=level,
                            deductible=deductible,
                            ratio=ratio,
                            annual_cap=cap,
                            class_b_rate=D("0.10"),
                        )
                    )
            for category, (points, multiplier, share) in adjustments.items():
                categories.append(
                    CategoryPolicy(
                        region=region,
                        year=y,
                        category=category,
                        ratio_reduction_points=points,
                        deductible_multiplier=multiplier,
                        fund_share=share,
                    )
                )
    BenefitPolicy.objects.bulk_create(
        benefits,
        update_conflicts=True,
        unique_fields=["region", "scheme", "year", "level"],
        update_fields=["deductible", "ratio", "annual_cap", "class_b_rate"],
    )
    CategoryPolicy.objects.bulk_create(
        categories,
        update_conflicts=True,
        unique_fields=["region", "year", "category"],
        update_fields=["ratio_reduction_points", "deductible_multiplier", "fund_share"],
    )
    if history:
        seed_history()
    out.write(stats.seed_summary())
    return []


# --- history for the dashboard ----------------------------------------------------------------

# Settlement numbers of the history: the engine's own are "JS" + digits, so these never clash.
HISTORY_PREFIX = "JSH"
HISTORY_COUNT = 1250
# Enough people that each has one to a few stays a year, as in life: with 10 a region, a person
# had up to 70 stays and a million yuan of bills, and one stay in six went over the annual cap.
PERSONS_PER_REGION = 200
# A county-level area code in each region, for the synthetic persons' ID numbers.
AREAS = {
    "210100": "210102",
    "210200": "210202",
    "230100": "230102",
    "232700": "232701",
    "460200": "460202",
}
# place of insurance, place of treatment, settlement category, policy category, weight
PAIRS = [
    ("232700", "460200", eligibility.LONG_TERM, "resettled", 5),
    ("232700", "230100", eligibility.REFERRAL, eligibility.REFERRAL, 4),
    ("232700", "210100", eligibility.REFERRAL, eligibility.REFERRAL, 1),
    ("210100", "460200", eligibility.LONG_TERM, eligibility.LONG_TERM, 3),
    ("210100", "230100", eligibility.TEMPORARY, eligibility.TEMPORARY, 1),
    ("210200", "230100", eligibility.TEMPORARY, eligibility.TEMPORARY, 2),
    ("210200", "210100", eligibility.REFERRAL, eligibility.REFERRAL, 2),
    ("230100", "460200", eligibility.LONG_TERM, eligibility.LONG_TERM, 3),
    ("460200", "210200", eligibility.TEMPORARY, eligibility.TEMPORARY, 1),
]
WINTER = {11, 12, 1, 2, 3}  # when retirees winter in Sanya


def _synthetic_id(area: str, born: datetime.date, serial: int) -> str:
    body = f"{area}{born:%Y%m%d}{serial:03d}"
    number = body + ric.calc_check_digit(body + "0")
    assert idnumbers.problem(number) is None, "synthetic ID numbers must be genuine in form"
    return number


def _synthetic_persons(rng: random.Random) -> dict[str, list[InsuredPerson]]:
    """Insured persons without accounts, so no demo person's data is touched. Two queries."""
    regions = {r.code: r for r in Region.objects.filter(code__in=AREAS)}
    wanted = []
    for code, area in AREAS.items():
        if code not in regions:
            continue
        for n in range(PERSONS_PER_REGION):
            born = datetime.date(rng.randint(1945, 1990), rng.randint(1, 12), rng.randint(1, 28))
            person = InsuredPerson(
                name=f"统计样本{code[:4]}{n + 1:03d}",
                region=regions[code],
                scheme="resident" if n % 4 == 3 else "employee",
                retired=born.year < 1965,
            )
            person.set_id_number(_synthetic_id(area, born, 100 + n))  # serials 100-899
            wanted.append(person)
    existing = set(
        InsuredPerson.objects.filter(id_hash__in=[p.id_hash for p in wanted]).values_list(
            "id_hash", flat=True
        )
    )
    InsuredPerson.objects.bulk_create([p for p in wanted if p.id_hash not in existing])
    by_region: dict[str, list[InsuredPerson]] = {}
    people = InsuredPerson.objects.filter(id_hash__in=[p.id_hash for p in wanted], user=None)
    for person in people.select_related("region").order_by("id"):
        by_region.setdefault(person.region.code, []).append(person)
    return by_region


def _items(rng: random.Random) -> list[dict]:
    a = D(rng.randint(300000, 2000000)) / 100
    b = D(rng.randint(0, 400000)) / 100
    c = D(rng.randint(0, 150000)) / 100
    items = [{"code": "A-STAY", "name": "床位、诊疗与检查", "class": "A", "amount": f"{a:.2f}"}]
    if b:
        items.append({"code": "B-DRUG", "name": "乙类药品", "class": "B", "amount": f"{b:.2f}"})
    if c:
        items.append({"code": "C-SELF", "name": "自费材料", "class": "C", "amount": f"{c:.2f}"})
    return items


def _discharge_day(rng: random.Random, since: datetime.date, until: datetime.date, sanya: bool):
    span = (until - since).days
    while True:
        day = since + datetime.timedelta(days=rng.randint(0, span))
        if not sanya or day.month in WINTER or rng.random() < 0.4:
            return day


@transaction.atomic
def seed_history(today: datetime.date | None = None) -> int:
    """About 1,250 settled direct settlements over the dashboard's 12 months, across the demo's
    region pairs, for synthetic persons without accounts. Split by the engine with the demo
    policies (so a re-check changes nothing) and written with bulk_create. Idempotent: once the
    history exists nothing more is created. Returns how many settlements it created."""
    if Settlement.objects.filter(number__startswith=HISTORY_PREFIX).exists():
        return 0
    today = today or timezone.localdate()
    since = stats.month_starts(today)[0]
    until = today - datetime.timedelta(days=1)
    if until < since:
        return 0
    rng = random.Random(20240917)
    persons = _synthetic_persons(rng)
    hospitals: dict[str, list[tuple[int, int]]] = {}
    for pk, code, level in Hospital.objects.filter(inpatient=True).values_list(
        "pk", "region__code", "level"
    ):
        hospitals.setdefault(code, []).append((pk, level))
    policies = {
        (p.region.code, p.scheme, p.year, p.level): p.as_engine()
        for p in BenefitPolicy.objects.select_related("region")
    }
    adjustments = {
        (c.region.code, c.year, c.category): c.as_engine()
        for c in CategoryPolicy.objects.select_related("region")
    }
    pairs = [p for p in PAIRS if persons.get(p[0]) and hospitals.get(p[1])]
    if not pairs:
        return 0
    weights = [p[4] for p in pairs]
    stays = []
    for _n in range(HISTORY_COUNT):
        insured, treated, category, policy_key, _w = rng.choices(pairs, weights)[0]
        discharged = _discharge_day(rng, since, until, treated == "460200")
        stays.append(
            (
                discharged,
                rng.choice(persons[insured]),
                rng.choice(hospitals[treated]),
                category,
                policy_key,
                datetime.timedelta(days=rng.randint(3, 20)),
                _items(rng),
            )
        )
    stays.sort(key=lambda stay: (stay[0], stay[1].pk))
    ytd: dict[tuple[int, int], D] = {}
    settlements = []
    for serial, (
        discharged,
        person,
        (hospital_id, level),
        category,
        key,
        los,
        items,
    ) in enumerate(stays, start=1):
        year = engine.policy_year(discharged - los, discharged)
        policy = policies.get((person.region.code, person.scheme, year, level))
        if policy is None:
            continue
        default = eligibility.DEFAULT_ADJUSTMENTS.get(
            key, eligibility.DEFAULT_ADJUSTMENTS[category]
        )
        adjustment = adjustments.get((person.region.code, year, key)) or default
        used = ytd.get((person.pk, year), D("0"))
        while True:
            result = engine.split(
                policy=policy,
                items=[engine.Item(amount=D(i["amount"]), cls=i["class"]) for i in items],
                adjustment=adjustment,
                ytd=engine.YearToDate(used, D("0")),
            )
            # SQLite keeps decimals as floats, and its check "total = fund + person" fails when
            # the float sum is off by a rounding error: draw another bill then, on every
            # database alike, so both show the same figures.
            if float(result.fund_pay) + float(result.person_pay) == float(result.total):
                break
            items = _items(rng)
        ytd[(person.pk, year)] = used + result.fund_pay
        number = f"{HISTORY_PREFIX}{discharged:%Y%m%d}{serial:05d}"
        settlements.append(
            Settlement(
                number=number,
                hospital_id=hospital_id,
                person=person,
                insured_region_id=person.region_id,
                request_hash=hashlib.sha256(number.encode()).hexdigest(),
                category=category,
                policy_year=year,
                care_type="inpatient",
                admitted_on=discharged - los,
                discharged_on=discharged,
                total=result.total,
                fund_pay=result.fund_pay,
                person_pay=result.person_pay,
                breakdown=result.breakdown(),
                flags=list(result.flags),
                items=items,
                ytd_fund_paid=used,
                ytd_deductible_paid=D("0"),
                adjustment={
                    "points": adjustment.ratio_reduction_points,
                    "multiplier": str(adjustment.deductible_multiplier),
                    "share": str(adjustment.fund_share),
                },
                status=Settlement.Status.SETTLED,
            )
        )
    created = Settlement.objects.bulk_create(settlements, batch_size=500)
    # auto_now_add stamped them now: back-date them to 10:00 (Beijing time) on their discharge
    # day, in one UPDATE (midnight UTC of the date, plus two hours).
    Settlement.objects.filter(number__startswith=HISTORY_PREFIX).update(
        created_at=ExpressionWrapper(
            Cast("discharged_on", DateTimeField()) + Value(datetime.timedelta(hours=2)),
            output_field=DateTimeField(),
        )
    )
    AnnualAccumulation.objects.bulk_create(
        [
            AnnualAccumulation(person_id=person_id, year=year, fund_paid=paid)
            for (person_id, year), paid in ytd.items()
        ],
        ignore_conflicts=True,
    )
    return len(created)
