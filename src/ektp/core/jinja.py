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


def url(name: str, *args) -> str:
    return reverse(name, args=args)


def environment(**options) -> Environment:
    env = Environment(extensions=["jinja2.ext.i18n"], **options)
    env.install_gettext_callables(translation.gettext, translation.ngettext, newstyle=False)
    env.globals.update(static=_static, url=url, language=translation.get_language)
    return env
