"""Domain errors of penunggalan and adjudication."""


class DedupError(ValueError):
    """A penunggalan or adjudication request breaks a rule; the message says which."""


class CaseAlreadyDecided(DedupError):
    """The duplicate case was decided already."""


class NotAllowed(DedupError):
    """The user's role or jurisdiction does not allow this decision."""
