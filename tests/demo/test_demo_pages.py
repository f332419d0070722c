"""Every demo seller's dashboard renders in English and Korean (issue 11): varied real figures
(ranks, medians, cancellations, nulls) never leave a raw placeholder, a code-like criterion or
a 500 on the page; and the staff overview reads the demo's runs."""

import re

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from orders.models import Seller
from tests.factories import UserFactory, aware

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

NOW = aware("2026-11-20 10:00")
LEFTOVERS = re.compile(r"%\(|\{\{|\{%|None|>=|<=|_rate\b|completed_orders")


@pytest.fixture(scope="module")
def fast_password_hashing():
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


def visible(response) -> str:
    html = response.content.decode()
    html = re.sub(r"<(script|style|svg)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_every_demo_dashboard_reads_as_plain_language_in_both_languages():
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", "--sellers", "20", "--months", "4", stdout=None)
        call_command("evaluate_history", "--months", "3", stdout=None)
        sellers = list(Seller.objects.exclude(user=None).select_related("user"))
        pages = {}
        for seller in sellers:
            client = Client()
            assert seller.user is not None
            client.force_login(seller.user)
            for language in ("en", "ko"):
                response = client.get("/", HTTP_ACCEPT_LANGUAGE=language)
                assert response.status_code == 200, (seller.external_id, language)
                pages[(seller.external_id, language)] = visible(response)
        staff = Client()
        staff.force_login(UserFactory.create(username="ops", is_staff=True))
        overview = staff.get("/", HTTP_ACCEPT_LANGUAGE="ko")

    assert len(sellers) >= 20
    for key, page in pages.items():
        assert not LEFTOVERS.search(page), (key, LEFTOVERS.search(page))
    assert overview.status_code == 200 and "평가 개요" in visible(overview)
