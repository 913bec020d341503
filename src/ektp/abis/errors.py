"""Errors raised by the ABIS engine, each with a stable code and HTTP status."""

from ektp.core.errors import DomainError


class AbisError(DomainError):
    """Fail an ABIS operation."""

    code = "abis_error"
    status = 500

    @property
    def rule(self) -> str:
        """The stable code is the rule a client reads."""
        return self.code


class InvalidRequest(AbisError):
    """Reject a request whose fields are missing, mistyped or out of range."""

    code = "invalid_request"
    status = 400


class InvalidTemplate(InvalidRequest):
    """Reject a template that does not have the modality's size or content."""

    code = "invalid_template"


class UnknownModality(InvalidRequest):
    """Reject a request for a modality this ABIS does not hold."""

    code = "unknown_modality"


class UnknownSubject(AbisError):
    """Reject an operation on a subject id the gallery does not hold."""

    code = "unknown_subject"
    status = 404


class DuplicateSubject(AbisError):
    """Reject an insert for a subject id the gallery already holds."""

    code = "duplicate_subject"
    status = 409


class GalleryLocked(AbisError):
    """Refuse to open a gallery directory that another process holds."""

    code = "gallery_locked"
    status = 503


class StorageCorrupt(AbisError):
    """Refuse to load a snapshot or journal damaged beyond a torn last write."""

    code = "storage_corrupt"


class AbisUnavailable(AbisError):
    """Report that a remote ABIS could not be reached."""

    code = "abis_unavailable"
    status = 503


class ShardUnavailable(AbisUnavailable):
    """Refuse to answer from part of a sharded gallery while one of its shards is down."""

    code = "abis_shard_unavailable"


class LengthRequired(InvalidRequest):
    """Reject a request body sent without a Content-Length."""

    code = "length_required"
    status = 411


class RequestTooLarge(InvalidRequest):
    """Reject a request body larger than the service accepts."""

    code = "request_too_large"
    status = 413


class NotFound(AbisError):
    """Reject an HTTP path the service does not serve."""

    code = "not_found"
    status = 404


class MethodNotAllowed(AbisError):
    """Reject an HTTP method the path does not accept."""

    code = "method_not_allowed"
    status = 405


ERRORS_BY_CODE: dict[str, type[AbisError]] = {
    cls.code: cls
    for cls in (
        AbisError,
        InvalidRequest,
        InvalidTemplate,
        UnknownModality,
        UnknownSubject,
        DuplicateSubject,
        GalleryLocked,
        StorageCorrupt,
        AbisUnavailable,
        ShardUnavailable,
        LengthRequired,
        RequestTooLarge,
        NotFound,
        MethodNotAllowed,
    )
}
