"""System checks: production refuses to run with the development suket keys."""

from __future__ import annotations

from django.core.checks import Error, register

from ektp.suket.signing import production_problems


@register("ektp")
def suket_keys_check(app_configs, **kwargs):
    """Report missing or development suket keys in production."""
    return [Error(problem, id="suket.E001") for problem in production_problems()]
