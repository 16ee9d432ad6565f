"""What the demo's documents say, read as the person and the agency read them: a Daxinganling
referral's start window and course (domain.md §2.2), a commitment filing's one-way settlement
(§2.1), lists and names in the reader's language."""

import datetime
import io

import pypdf
import pytest
from django.utils import timezone

from filings import documents
from filings.models import Filing

pytestmark = pytest.mark.django_db


def _text(filing: Filing, kind: str, lang: str = "zh-hans") -> str:
    content = documents.render(filing, kind, lang)
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines()]


def test_rule_2_2_a_referral_not_started_prints_its_start_window_and_its_course(demo):
    """Daxinganling: treatment starts within 1 month, then one course of at most 60 days. The
    window is not printed as if the referral expired at its end, and the course is a row of its
    own, not a line beginning with a semicolon."""
    referral = Filing.objects.get(person__name="张伟", type="referral")
    assert referral.treatment_started_on is None
    for kind in (documents.REFERRAL_FORM, documents.CERTIFICATE):
        lines = _lines(_text(referral, kind))
        window = next(line for line in lines if line.startswith("须在此期间开始治疗"))
        assert f"{referral.valid_until.year}年{referral.valid_until.month}月" in window
        assert "疗程 自开始治疗之日起最长 60 天" in lines, lines
        assert not any(line.startswith((";", "；")) for line in lines)
        assert not any(line.startswith("有效期") for line in lines)


def test_rule_2_2_a_referral_once_started_prints_the_days_of_its_course(demo):
    referral = Filing.objects.get(person__name="张伟", type="referral")
    started = timezone.localdate()
    Filing.objects.filter(pk=referral.pk).update(
        treatment_started_on=started, valid_until=started + datetime.timedelta(days=59)
    )
    referral.refresh_from_db()
    text = " ".join(_lines(_text(referral, documents.REFERRAL_FORM)))
    assert "疗程" in text and "（最长 60 天）" in text
    assert "须在此期间开始治疗" not in text


def test_rule_2_1_a_commitment_filings_certificate_says_it_is_one_way_until_when(demo):
    """李建国's filing by commitment, materials outstanding: a hospital at home reading the
    certificate learns it settles only at the place of residence, and until which day."""
    filing = Filing.objects.get(person__name="李建国", type="long_term")
    deadline = filing.commitment_deadline
    text = " ".join(_lines(_text(filing, documents.CERTIFICATE)))
    assert "单向：证明材料受理前仅可在居住地直接结算" in text
    assert f"{deadline.year}年{deadline.month}月{deadline.day}日前补交" in text
    english = " ".join(_lines(_text(filing, documents.CERTIFICATE, "en")))
    assert "One-way: at the place of residence only" in english
    two_way = Filing.objects.get(person__name="王秀兰", type="long_term")
    assert "单向" not in _text(two_way, documents.CERTIFICATE)


def test_lists_and_the_agency_are_written_in_the_readers_language(demo):
    filing = Filing.objects.get(person__name="王秀兰", type="long_term")
    chinese = _text(filing, documents.CERTIFICATE)
    assert "住院、普通门诊" in chinese and "住院, " not in chinese
    assert "大兴安岭地区医疗保障事业服务中心" in chinese
    english = _text(filing, documents.CERTIFICATE, "en")
    assert "Inpatient, General outpatient" in english
    assert "Daxinganling Medical Security Service Center" in english
    assert "医疗保障事业服务中心" not in english


def test_the_commitment_text_has_no_spaces_around_its_date_in_chinese(demo):
    filing = Filing.objects.get(person__name="李建国", type="long_term")
    deadline = filing.commitment_deadline
    text = _text(filing, documents.FILING_FORM).replace("\n", "")  # lines joined, spaces kept
    assert f"本人承诺于{deadline.year}年{deadline.month}月{deadline.day}日前补交证明材料" in text


def test_a_filing_form_carries_the_declaration_and_the_agencys_approval_date(demo):
    """The declaration and approval form: the applicant declares the materials true above the
    signature (a commitment filing carries its commitment instead), and the agency's box says
    when it approved; a filing awaiting review has no such date."""
    approved = Filing.objects.get(person__name="王秀兰", type="long_term")
    day = timezone.localdate(approved.decided_at)
    text = "".join(_text(approved, documents.FILING_FORM).split())
    assert "声明：本人承诺所填信息和所提交材料真实、完整" in text
    assert f"{day.year}年{day.month}月{day.day}日批准" in text
    english = " ".join(_lines(_text(approved, documents.FILING_FORM, "en")))
    assert "Declaration: I declare that the information" in english
    assert "Approved on" in english
    commitment = Filing.objects.get(person__name="李建国", type="long_term")
    assert "声明：" not in "".join(_text(commitment, documents.FILING_FORM).split())
    pending = Filing.objects.get(person__name="孙国强", type="long_term")
    assert "批准" not in "".join(_text(pending, documents.FILING_FORM).split()).replace(
        "声明与审批表", ""
    )
