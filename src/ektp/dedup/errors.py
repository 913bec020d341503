"""Domain errors of penunggalan and adjudication."""

from ektp.core.errors import DomainError


class DedupError(DomainError, ValueError):
    """A penunggalan or adjudication request breaks a rule; the message says which."""

    rule = "dedup"


class CaseAlreadyDecided(DedupError):
    """The duplicate case was decided already."""

    rule = "case_already_decided"
    status = 409


class NotAllowed(DedupError):
    """The user's role or jurisdiction does not allow this decision."""

    rule = "not_allowed"
    status = 403
