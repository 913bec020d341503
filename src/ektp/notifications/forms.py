"""Staff form for a resident's notice preferences: language and channels not wanted."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ektp.notifications.models import Channel, Language


class PreferenceForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Bahasa pemberitahuan"),
        choices=Language.choices,
        error_messages={
            "required": "Bahasa wajib dipilih.",
            "invalid_choice": "Bahasa tidak dikenal. Pilihan: id, en.",
        },
    )
    opted_out = forms.MultipleChoiceField(
        label=_("Jangan kirim lewat"),
        choices=Channel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Saluran tidak dikenal."},
    )
