"""The Jinja2 environment of the public pages (status inquiry, opt-out, "try again later").

The status answer is the busiest page of the system: Jinja2 compiles a template to Python
once, and renders it several times faster than Django's engine. The public pages are short
and share one layout, so they all live in `jinja2/` directories; staff pages stay with
Django's templates.

Texts are marked with `_("…")` (and `|format(name=…)` for values), which Django's
makemessages also reads, so they land in the same catalogue as the rest.
"""

from __future__ import annotations

import functools

from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from jinja2 import Environment


@functools.cache
def _static(path: str) -> str:
    # The manifest does not change while a process runs.
    return static(path)


class _Catalog(dict):
    """Messages already translated into one language, each looked up on first use."""

    def __init__(self, language: str | None):
        super().__init__()
        self.language = language

    def __missing__(self, message: str) -> str:
        with translation.override(self.language):
            text = self[message] = translation.gettext(message)
        return text


@functools.cache
def catalog(language: str | None) -> _Catalog:
    """Return the translations of one language as a mapping, for a page rendered often.

    Django's gettext looks the active language up on every call; a page that renders the
    same texts thousands of times in one language passes `catalog(language).__getitem__`
    as its `_` instead. The catalogues do not change while a process runs.
    """
    return _Catalog(language)


def url(name: str, *args) -> str:
    return reverse(name, args=args)


def environment(**options) -> Environment:
    env = Environment(extensions=["jinja2.ext.i18n"], **options)
    env.install_gettext_callables(translation.gettext, translation.ngettext, newstyle=False)
    env.globals.update(static=_static, url=url, language=translation.get_language)
    return env
