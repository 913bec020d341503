"""Opting out of a channel through the signed link; the staff outbox page and API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ektp.core.models import Role
from ektp.notifications.models import ChannelOptOut, Event, Message, MessageStatus
from ektp.notifications.services import notify, opt_out_token
from tests.notifications.factories import ReachableResidentFactory

pytestmark = pytest.mark.django_db


def test_opt_out_link_asks_then_stops_the_channel(client):
    resident = ReachableResidentFactory()
    url = reverse("notifications:opt_out", args=[opt_out_token(resident=resident, channel="sms")])
    page = client.get(url)
    assert page.status_code == 200
    assert "Hentikan pemberitahuan" in page.content.decode()
    assert not ChannelOptOut.objects.exists()
    done = client.post(url)
    assert "tidak akan lagi menerima" in done.content.decode()
    assert ChannelOptOut.objects.get().channel == "sms"
    assert client.post(url).status_code == 200
    assert ChannelOptOut.objects.count() == 1


@pytest.mark.parametrize("token", ["bukan-token", "eyJyIjoiMSJ9:1abc:xyz"])
def test_forged_opt_out_link_is_refused(client, token):
    response = client.post(reverse("notifications:opt_out", args=[token]))
    assert response.status_code == 400
    assert "tidak sah" in response.content.decode()
    assert not ChannelOptOut.objects.exists()


def test_opt_out_token_for_a_removed_resident_is_refused(client):
    resident = ReachableResidentFactory()
    token = opt_out_token(resident=resident, channel="sms")
    resident.delete()
    assert client.post(reverse("notifications:opt_out", args=[token])).status_code == 400


def test_staff_outbox_lists_messages_with_state(client, make_staff):
    resident = ReachableResidentFactory()
    notify(
        event=Event.PRINTING_DEFERRED,
        resident=resident,
        context={"reason": "stok menipis"},
        dedup_key="k",
        channels=["whatsapp", "email"],
    )
    client.force_login(make_staff(Role.OPERATOR))
    page = client.get(reverse("notifications:outbox"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "stok menipis" in text
    assert "Antre" in text
    filtered = client.get(reverse("notifications:outbox"), {"saluran": "email", "status": "x"})
    assert filtered.status_code == 200


def test_staff_outbox_hides_other_districts(client, make_staff):
    outsider = ReachableResidentFactory(address_region_id="11.01.01.2001")
    notify(
        event=Event.PRINTING_DEFERRED,
        resident=outsider,
        context={"reason": "rahasia-aceh"},
        dedup_key="aceh",
        channels=["whatsapp"],
    )
    client.force_login(make_staff(Role.OPERATOR))
    assert "rahasia-aceh" not in client.get(reverse("notifications:outbox")).content.decode()


def test_outbox_page_needs_login(client):
    response = client.get(reverse("notifications:outbox"))
    assert response.status_code == 302


def test_outbox_api_lists_and_refuses_bad_filters(client, api_token):
    notify(
        event=Event.PRINTING_DEFERRED,
        resident=ReachableResidentFactory(),
        context={"reason": "x"},
        dedup_key="api",
        channels=["sms"],
    )
    headers = {"HTTP_AUTHORIZATION": f"Bearer {api_token}"}
    listed = client.get("/api/v1/notifications/messages", **headers)
    assert listed.status_code == 200
    assert [m["status"] for m in listed.json()] == [MessageStatus.QUEUED]
    bad = client.get("/api/v1/notifications/messages", {"status": "hilang"}, **headers)
    assert bad.status_code == 422
    assert "status" in bad.json()["detail"]
    assert client.get("/api/v1/notifications/messages", {"limit": 0}, **headers).status_code == 422
    assert client.get("/api/v1/notifications/messages").status_code == 401
    assert Message.objects.count() == 1


def test_email_carries_a_working_opt_out_link(client, settings):
    settings.EKTP_PUBLIC_URL = "https://disdukcapil.contoh.id"
    resident = ReachableResidentFactory()
    [email] = notify(
        event=Event.PRINTING_DEFERRED,
        resident=resident,
        context={"reason": "x"},
        dedup_key="mail",
        channels=["email"],
    )
    link = email.body.rsplit(" ", 1)[1]
    assert link.startswith("https://disdukcapil.contoh.id/notifikasi/berhenti/")
    client.post(link.removeprefix("https://disdukcapil.contoh.id"))
    assert ChannelOptOut.objects.get(resident=resident).channel == "email"


def test_outbox_pages_count_what_they_list_by_status_and_channel(client, make_staff):
    resident = ReachableResidentFactory()
    for key in ("a", "b"):
        notify(
            event=Event.PRINTING_DEFERRED,
            resident=resident,
            context={"reason": "stok menipis"},
            dedup_key=key,
            channels=["whatsapp", "email"],
        )
    client.force_login(make_staff(Role.OPERATOR))
    url = reverse("notifications:outbox")
    for query in ({}, {"status": "queued"}, {"status": "sent"}, {"saluran": "email"}):
        page = client.get(url, query).context["page"]
        assert page.paginator.count == len(page.object_list), query
    assert client.get(url).context["page"].paginator.count == 4
