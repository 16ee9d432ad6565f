import pytest
from django.db import connection
from django.urls import reverse

from portal.models import InsuredPerson, Region

pytestmark = pytest.mark.django_db


@pytest.fixture
def region(db):
    from tests.portal.factories import RegionFactory

    return RegionFactory()


def _signup(
    client,
    region,
    *,
    id_number,
    name="李建国",
    username="li",
    email="li@example.cn",
    lang=None,
    card="",
):
    data = {
        "social_security_no": card,
        "email": email,
        "username": username,
        "password1": "a-Long-pass-2026",
        "password2": "a-Long-pass-2026",
        "name": name,
        "id_number": id_number,
        "region": region.pk,
        "scheme": "employee",
    }
    url = reverse("account_signup") + (f"?lang={lang}" if lang else "")
    return client.post(url, data)


def test_signup_binds_name_id_region_and_scheme(client, region):
    response = _signup(client, region, id_number="210102196208050352")
    assert response.status_code == 302
    person = InsuredPerson.objects.get()
    assert person.user.username == "li"
    assert person.region == region and person.scheme == "employee"
    # A number the agency has no record of: a record of the person's own words, not insured
    # and active until the agency confirms it.
    assert person.active is False


def test_id_number_is_encrypted_at_rest(client, region):
    _signup(client, region, id_number="210102196208050352")
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, id_hash FROM portal_insuredperson")
        raw, hashed = cursor.fetchone()
    assert "210102196208050352" not in raw
    assert "210102196208050352" not in hashed
    assert InsuredPerson.objects.get().id_number == "210102196208050352"


@pytest.mark.parametrize(
    ("number", "zh", "en"),
    [
        ("210102196208050353", "校验码", "check digit"),
        ("210102196202300352", "出生日期", "birth date"),
    ],
)
def test_signup_with_invalid_id_number_is_refused_in_the_users_language(
    client, region, number, zh, en
):
    response = _signup(client, region, id_number=number)
    assert response.status_code == 200
    assert zh in response.content.decode()
    response = _signup(client, region, id_number=number, lang="en")
    assert en in response.content.decode()
    assert not InsuredPerson.objects.exists()
    # Nothing typed is lost: the name is still in the form.
    assert "李建国" in response.content.decode()


def test_a_short_password_is_refused_in_chinese_under_its_field(client, region):
    """Django 5.2's "too short" message (a new msgid, with %d) has no Chinese of Django's own:
    the portal's catalogue gives it. Each error is under its own field, marked invalid."""
    import re

    data = {
        "email": "li@example.cn",
        "username": "li",
        "password1": "xq7",
        "password2": "xq7",
        "name": "李建国",
        "id_number": "2101021962080503",
        "region": region.pk,
        "scheme": "employee",
    }
    page = client.post(reverse("account_signup"), data).content.decode()
    assert "密码太短，至少需要 8 个字符。" in page and "too short" not in page
    # The field, then its message (crispy-bootstrap5): not a list above the next field's label.
    for name, text in (("password1", "密码太短"), ("id_number", "身份证号码为18位")):
        field = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
        assert field and "is-invalid" in field.group(0), name
        after = page[field.end() :]
        feedback = re.search(r'class="invalid-feedback"[^>]*>(.*?)</', after, re.S)
        assert feedback and text in page[field.end() : field.end() + feedback.end() + 200], name
    assert 'value="李建国"' in page  # what was typed is kept
    assert not InsuredPerson.objects.exists()


def test_second_account_for_the_same_id_number_is_refused(client, region):
    _signup(client, region, id_number="210102196208050352")
    client.logout()
    response = _signup(
        client, region, id_number="210102196208050352", username="li2", email="li2@example.cn"
    )
    assert response.status_code == 200
    assert "以上信息无法注册。如您已有账号，请直接登录" in response.content.decode()
    assert InsuredPerson.objects.count() == 1


def test_agency_record_is_bound_only_with_the_matching_name_and_card_number(client, region):
    person = InsuredPerson(
        name="陈明", region=region, scheme="employee", social_security_no="A1234567X"
    )
    person.set_id_number("210103198512010131")
    person.save()
    refusal = "以上信息无法注册"
    for name, card in (("陈红", "A1234567X"), ("陈明", ""), ("陈明", "A1234567Y")):
        response = _signup(client, region, id_number="210103198512010131", name=name, card=card)
        assert response.status_code == 200 and refusal in response.content.decode(), (name, card)
        person.refresh_from_db()
        assert person.user is None
    # The card number as printed, in groups or lower case, binds the agency's record as it is.
    response = _signup(
        client, region, id_number="210103198512010131", name="陈明", card="a123 4567x"
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.user is not None and person.active is True
    assert Region.objects.count() == 1


def test_an_agency_record_without_a_card_number_is_not_bound_by_name_and_id_alone(client, region):
    """A stranger who knows a person's name and ID number (both are on many documents) cannot
    take over the agency's record of them, nor its settlements."""
    person = InsuredPerson(name="周静", region=region, scheme="employee")
    person.set_id_number("210102197001011238")
    person.save()
    response = _signup(client, region, id_number="210102197001011238", name="周静")
    assert response.status_code == 200
    person.refresh_from_db()
    assert person.user is None


def test_the_form_never_tells_a_number_with_an_account_from_a_wrong_name(client, region):
    import re

    bound = InsuredPerson(name="陈明", region=region, scheme="employee", social_security_no="A1")
    bound.set_id_number("210103198512010131")
    bound.save()
    _signup(client, region, id_number="210103198512010131", name="陈明", card="A1")
    client.logout()
    unbound = InsuredPerson(name="周静", region=region, scheme="employee", social_security_no="B2")
    unbound.set_id_number("210102197001011238")
    unbound.save()

    def refusal(**kw) -> list[str]:
        page = _signup(client, region, username="x", email="x@example.cn", **kw).content.decode()
        return re.findall(r'<div class="alert[^>]*>(.*?)</div>', page, re.S)

    has_account = refusal(id_number="210103198512010131", name="陈明", card="A1")
    wrong_name = refusal(id_number="210102197001011238", name="周晶", card="B2")
    assert has_account and has_account == wrong_name


def _confirmation_url(message) -> str:
    import re

    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s/]+/)", message.body)
    assert match, message.body
    return match.group(1)


def _logged_in_as(client) -> str | None:
    from django.contrib.auth import get_user_model

    user_id = client.session.get("_auth_user_id")
    return get_user_model().objects.get(pk=user_id).username if user_id else None


def test_signup_sends_a_verification_email_and_login_waits_for_it(
    client, region, settings, django_capture_on_commit_callbacks
):
    from django.core import mail

    assert settings.ACCOUNT_EMAIL_VERIFICATION == "mandatory"
    with django_capture_on_commit_callbacks(execute=True):  # the email leaves on commit
        response = _signup(client, region, id_number="210102196208050352")
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert _logged_in_as(client) is None  # sign-up alone does not log in
    (message,) = mail.outbox
    assert message.to == ["li@example.cn"]
    assert "210102196208050352" not in message.body + message.subject
    url = _confirmation_url(message)

    # Before confirming: the right password still does not log in.
    response = client.post(
        reverse("account_login"), {"login": "li", "password": "a-Long-pass-2026"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert _logged_in_as(client) is None
    assert client.get(reverse("filings:list")).status_code == 302  # to the login page

    # Confirming the address (a POST, so a mail scanner's GET confirms nothing).
    assert client.get(url).status_code == 200
    from allauth.account.models import EmailAddress

    assert not EmailAddress.objects.get(email="li@example.cn").verified
    response = client.post(url)
    assert EmailAddress.objects.get(email="li@example.cn").verified
    # Sent on to sign in: no word of a lost form (nobody was signed in to lose one).
    page = client.get(response["Location"]).content.decode()
    assert "未能保存" not in page and "no longer signed in" not in page

    client.logout()
    response = client.post(
        reverse("account_login"), {"login": "li", "password": "a-Long-pass-2026"}
    )
    assert response.status_code == 302
    assert _logged_in_as(client) == "li"
    assert client.get(reverse("filings:list")).status_code == 200

    # Signed out through the page, then confirming a second address from the e-mail: the
    # confirmation is saved, and nothing says it was lost.
    from allauth.account.models import EmailAddress as Address
    from allauth.account.models import EmailConfirmationHMAC

    user = Address.objects.get(email="li@example.cn").user
    second = Address.objects.create(user=user, email="li2@example.cn", verified=False)
    client.post(reverse("account_logout"))
    confirm = reverse("account_confirm_email", args=[EmailConfirmationHMAC(second).key])
    response = client.post(confirm, follow=True)
    second.refresh_from_db()
    assert second.verified
    page = response.content.decode()
    assert "未能保存" not in page and "no longer signed in" not in page


def test_verification_email_is_in_the_users_language(
    client, region, django_capture_on_commit_callbacks
):
    from django.core import mail
    from django.test import Client

    with django_capture_on_commit_callbacks(execute=True):
        _signup(client, region, id_number="210102196208050352", lang="en")
        _signup(
            Client(),  # another browser, in the default language
            region,
            id_number="210202199004150481",
            name="刘芳",
            username="liu",
            email="liu@example.cn",
        )
    english, chinese = mail.outbox
    assert english.to == ["li@example.cn"] and chinese.to == ["liu@example.cn"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese.subject + chinese.body)
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in english.subject)


def test_account_emails_name_the_portal_not_the_host_that_served_the_request(
    client, region, django_capture_on_commit_callbacks, settings
):
    """Without the sites framework allauth would greet "Hello from testserver!" and prefix the
    subject with "[testserver]": the portal's name, in the reader's language, instead."""
    from django.core import mail
    from django.test import Client

    settings.SITE_URL = "https://yidi.example.cn"
    with django_capture_on_commit_callbacks(execute=True):
        _signup(client, region, id_number="210102196208050352", lang="en")
        _signup(
            Client(),
            region,
            id_number="210202199004150481",
            name="刘芳",
            username="liu",
            email="liu@example.cn",
        )
    english, chinese = mail.outbox
    assert english.subject.startswith("[Cross-region medical treatment] ")
    assert chinese.subject.startswith("[异地就医] ")
    assert "Hello from Cross-region medical treatment!" in english.body
    assert "异地就医" in chinese.body
    assert "testserver" not in english.subject + chinese.subject
    assert "Hello from testserver" not in english.body


def test_signup_takes_the_id_number_typed_in_groups_or_full_width(client, region):
    """Typed as on the card, in groups of 6-8-4, the number is 20 characters: it is taken, as
    the hospital's desk takes it, not refused as "at most 18 characters"."""
    response = _signup(client, region, id_number="210102 19620805 0352")
    assert response.status_code == 302
    assert InsuredPerson.objects.get().id_number == "210102196208050352"


def test_signup_with_a_full_width_id_number_is_taken(client, region):
    response = _signup(client, region, id_number="２１０１０２１９６２０８０５０３５２")
    assert response.status_code == 302
    assert InsuredPerson.objects.get().id_number == "210102196208050352"


def test_a_person_the_agency_has_not_confirmed_gets_no_filing_approved_by_itself(client, demo):
    """Anyone may sign up with a well-formed ID number no record has: the record made is not
    insured and active, so an other-temporary filing waits for the agency's review instead of
    being approved on submission, no hospital settles directly, and the person's page says
    why. Once the agency ticks "insured and active", filings are approved by themselves again."""
    from allauth.account.models import EmailAddress
    from django.utils import timezone

    from filings import services
    from filings.models import Filing
    from hospitals.eligibility_selectors import clear_caches, find_person

    shenyang, sanya = Region.objects.get(code="210100"), Region.objects.get(code="460200")
    harbin = Region.objects.get(code="230100")
    response = _signup(client, shenyang, id_number="210102199001011237", name="张三")
    assert response.status_code == 302
    EmailAddress.objects.filter(user__username="li").update(verified=True)
    client.post(reverse("account_login"), {"login": "li", "password": "a-Long-pass-2026"})
    page = client.get(reverse("filings:list")).content.decode()
    assert 'id="not-confirmed"' in page and "尚未确认您的参保信息" in page
    person = InsuredPerson.objects.get(user__username="li")
    filing = services.filing_create(
        person=person,
        actor=person.user,
        filing_type="temporary",
        place_province=sanya.province,
        place_region=sanya,
        start_date=timezone.localdate(),
    )
    filing = services.filing_submit(filing=filing, actor=person.user)
    assert filing.status == "submitted"
    clear_caches()
    found = find_person(id_number="210102199001011237", name="张三")
    assert found is not None and not found.person.active
    InsuredPerson.objects.filter(pk=person.pk).update(active=True)  # the agency confirms
    second = services.filing_create(
        person=InsuredPerson.objects.get(pk=person.pk),
        actor=person.user,
        filing_type="temporary",
        place_province=harbin.province,
        place_region=harbin,
        start_date=timezone.localdate(),
    )
    assert services.filing_submit(filing=second, actor=person.user).status == "approved"
    assert "not-confirmed" not in client.get(reverse("filings:list")).content.decode()
    assert Filing.objects.filter(person=person).count() == 2
