"""domain.md §2.5: what an outpatient chronic/special disease filing may sit on; §2.2: the care a
referral covers follows the insured region's filing parameters, whoever fills it in."""

import pytest
from django.utils import translation

from filings import services
from filings.messages import message
from filings.models import Filing
from filings.rules import RuleError
from hospitals.models import Hospital
from portal.models import InsuredPerson, Region

pytestmark = pytest.mark.django_db
DISEASE = {"disease": "2型糖尿病", "covers_chronic_outpatient": True}


def person(name):
    return InsuredPerson.objects.select_related("region", "user").get(name=name)


def chronic(who, place="230100"):
    p = person(who)
    region = Region.objects.select_related("province").get(code=place)
    return services.filing_create(
        person=p,
        actor=p.user,
        filing_type="chronic_outpatient",
        place_province=region.province,
        place_region=region,
        **DISEASE,
    )


def refused(fn, *args, **kwargs) -> RuleError:
    with pytest.raises(RuleError) as error:
        fn(*args, **kwargs)
    return error.value


@pytest.mark.parametrize("base_type", ["referral", "emergency"])
def test_rule_2_5_chronic_filing_is_not_filed_on_a_referral_or_emergency_filing(demo, base_type):
    # 张伟's only filing for Harbin is his approved referral (ZZ232700000001).
    Filing.objects.filter(number="ZZ232700000001").update(type=base_type)
    with translation.override("zh-hans"):
        error = refused(chronic, "张伟")
        zh = message(error)
    assert (error.code, error.params["number"]) == ("chronic_base_not_referral", "ZZ232700000001")
    assert "ZZ232700000001" in zh and "转诊转院或急诊抢救备案" in zh
    with translation.override("en"):
        en = message(refused(chronic, "张伟"))
    assert "ZZ232700000001 is a referral or emergency filing" in en
    assert not Filing.objects.filter(type="chronic_outpatient").exists()


def test_rule_2_5_chronic_filing_still_sits_on_a_long_term_or_other_temporary_filing(demo):
    assert chronic("刘芳").status == "draft"  # other temporary filing LS210200000001, Harbin
    assert chronic("王秀兰", place="460200").status == "draft"  # long-term BA232700000001
    # Nothing for the place at all: the general message.
    assert refused(chronic, "陈明").code == "chronic_needs_filing"


def _e_referral(issuing: str, who: str, receiving: str) -> Filing:
    return services.referral_start(
        hospital=Hospital.objects.get(code=issuing),
        actor=None,
        person=person(who),
        receiving_hospital=Hospital.objects.get(code=receiving),
        diagnosis="冠心病",
        condition="b",
        attending_doctor="刘洋",
    )


def care(filing: Filing) -> tuple[bool, bool, bool]:
    filing.refresh_from_db()
    return (
        filing.covers_inpatient,
        filing.covers_general_outpatient,
        filing.covers_chronic_outpatient,
    )


def test_rule_2_2_liaoning_referral_covers_all_care_daxinganling_one_course(demo):
    # 陈明, Shenyang (Liaoning 2022 measures): all care at the place of treatment.
    liaoning = _e_referral("H21010000001", "陈明", "H23010300001")
    assert care(liaoning) == (True, True, False)
    # 赵丽, Daxinganling: one course of treatment (an inpatient stay of at most 60 days).
    daxinganling = _e_referral("H23270000001", "赵丽", "H23010300016")
    assert care(daxinganling) == (True, False, False)


def test_rule_2_2_paper_referral_care_follows_the_region_too(demo):
    """The person's form sends inpatient care only for a paper referral; the service decides."""

    def paper(who: str) -> Filing:
        p = person(who)
        receiving = Hospital.objects.select_related("region").get(code="H23010300001")
        return services.filing_create(
            person=p,
            actor=p.user,
            filing_type="referral",
            place_province=receiving.region.province,
            place_region=receiving.region,
            receiving_hospital=receiving,
            referral_source="paper",
            covers_inpatient=True,
            covers_general_outpatient=False,
            covers_chronic_outpatient=False,
        )

    liaoning, daxinganling = paper("陈明"), paper("赵丽")
    assert care(liaoning) == (True, True, False)
    assert care(daxinganling) == (True, False, False)
    # Edited as the form sends it: still what the region says.
    for filing in (liaoning, daxinganling):
        services.filing_update(
            filing=filing,
            actor=filing.person.user,
            covers_general_outpatient=not filing.covers_general_outpatient,
            covers_chronic_outpatient=True,
        )
    assert care(liaoning) == (True, True, False)
    assert care(daxinganling) == (True, False, False)
