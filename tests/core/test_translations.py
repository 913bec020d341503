"""The English catalogue: one Indonesian word that means two things is told apart by context."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext, pgettext

from ektp.enrollment.models import StatusChange
from ektp.offices.models import DeviceStatusChange


def test_dari_and_diterima_are_translated_by_their_context():
    with translation.override("en"):
        assert pgettext("status change", "dari") == "from"
        assert pgettext("sent by an office", "dari") == "from"
        assert pgettext("x of y", "dari") == "of"
        assert pgettext("quantity received", "Diterima") == "Received"
        assert gettext("Diterima") == "Accepted"  # a quality score within its threshold
        for model in (StatusChange, DeviceStatusChange):
            assert str(model._meta.get_field("from_status").verbose_name) == "from"
    with translation.override("id"):
        assert pgettext("x of y", "dari") == "dari"
        assert str(StatusChange._meta.get_field("from_status").verbose_name) == "dari"
