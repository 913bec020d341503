"""System checks: production refuses the self-signed suket keys; development is told it uses them."""

from __future__ import annotations

from django.core.checks import Error, Warning, register

from ektp.suket.signing import development_warnings, production_problems


@register("ektp")
def suket_keys_check(app_configs, **kwargs):
    """Report missing or self-signed suket keys in production, self-signed ones in development."""
    return [Error(problem, id="suket.E001") for problem in production_problems()] + [
        Warning(message, id="suket.W001") for message in development_warnings()
    ]
