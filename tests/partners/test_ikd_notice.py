"""A resident who collects the KTP-el is told how to activate the IKD (notifications listen to
the partners app's signal; the card flow is the real one)."""

from __future__ import annotations

import pytest

from ektp.cards import services
from ektp.notifications.models import Event, Message
from tests.cards.conftest import (  # noqa: F401 - the cards app's fixtures, reused
    media_in_tmp,
    office,
    point,
    printer,
    receive,
    stocked_point,
    supervisor,
)
from tests.cards.factories import PrrResidentFactory

pytestmark = pytest.mark.django_db


def test_card_collected_brings_the_ikd_howto_once(stocked_point, printer, operator):  # noqa: F811
    resident = PrrResidentFactory(phone="081234567890")
    card = services.print_card(
        request_or_resident=resident,
        service_point=stocked_point,
        printer=printer,
        operator=operator,
    )
    assert not Message.objects.filter(event=Event.IKD_HOWTO).exists()

    services.hand_over(
        card_print=card, received_by_name="Pemilik", relation="diri_sendiri", operator=operator
    )

    notices = Message.objects.filter(event=Event.IKD_HOWTO, resident=resident)
    assert notices.count() >= 1
    assert "aplikasi" in notices.first().body and "IKD" in notices.first().subject
