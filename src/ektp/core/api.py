"""API plumbing: bearer-token auth for staff and Indonesian error bodies."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.contrib.auth import authenticate
from django.utils import timezone
from ninja import Router, Schema, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from ektp.core import otp, selectors
from ektp.core.errors import DomainError
from ektp.core.models import ApiToken
from ektp.core.services import issue_api_token, revoke_api_token

router = Router(tags=["auth"])


class ApiTokenAuth(HttpBearer):
    """Authenticate a staff member by an API token (Authorization: Bearer <key>)."""

    def authenticate(self, request, token: str):
        if not token or len(token) > 200:
            return None
        now = timezone.now()
        found = (
            ApiToken.objects.select_related("user", "user__region")
            .filter(key_hash=ApiToken.hash_key(token), revoked_at__isnull=True, expires_at__gt=now)
            .first()
        )
        if found is None or not found.user.is_active:
            return None
        if found.password_fingerprint != ApiToken.fingerprint(found.user):
            return None  # the password changed since the token was issued
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.auth_token = found
        request.user = found.user
        return found.user


class TokenIn(Schema):
    username: str
    password: str
    name: str = "api"
    # The TOTP code, for the roles that sign in with a second factor (EKTP_OTP_REQUIRED_ROLES).
    otp: str = ""


class TokenOut(Schema):
    token: str


class ErrorOut(Schema):
    detail: str


@router.post("/token", auth=None, response={200: TokenOut, 401: ErrorOut, 415: ErrorOut})
def create_token(request, payload: TokenIn):
    """Exchange a staff username and password for an API token."""
    if request.content_type != "application/json":
        # The lockout handler reads the form body of a failed login; only JSON is accepted.
        return Status(415, {"detail": "Kirim permintaan sebagai application/json."})
    user = authenticate(request, username=payload.username[:150], password=payload.password[:500])
    if user is None:
        return Status(401, {"detail": "Nama pengguna atau kata sandi salah, atau akun terkunci."})
    if otp.second_factor_required(user):
        if not otp.has_device(user):
            return Status(
                401,
                {
                    "detail": "Peran ini wajib memakai faktor kedua: daftarkan aplikasi "
                    "autentikator lewat halaman masuk dulu."
                },
            )
        if otp.verified_device(user, payload.otp[:20]) is None:
            return Status(401, {"detail": "Kode autentikator (otp) salah atau tidak ada."})
    return Status(200, {"token": issue_api_token(user=user, name=payload.name)})


class TokenInfo(Schema):
    id: uuid.UUID
    name: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    current: bool


@router.get("/tokens", response=list[TokenInfo])
def list_tokens(request):
    """List the caller's own API tokens (never their keys), newest first."""
    current = getattr(request, "auth_token", None)
    return [
        {
            "id": token.id,
            "name": token.name,
            "created_at": token.created_at,
            "expires_at": token.expires_at,
            "last_used_at": token.last_used_at,
            "revoked_at": token.revoked_at,
            "current": current is not None and token.pk == current.pk,
        }
        for token in selectors.api_tokens_of(request.user)
    ]


@router.delete("/tokens/{token_id}", response={204: None, 404: ErrorOut})
def revoke_token(request, token_id: uuid.UUID):
    """Revoke one of the caller's own API tokens."""
    revoke_api_token(user=request.user, token_id=token_id)
    return Status(204, None)


PYDANTIC_MESSAGES = {
    "missing": "Wajib diisi.",
    "string_type": "Harus berupa teks.",
    "string_too_long": "Paling banyak {max_length} karakter.",
    "string_too_short": "Paling sedikit {min_length} karakter.",
    "int_parsing": "Harus berupa bilangan bulat.",
    "int_type": "Harus berupa bilangan bulat.",
    "bool_parsing": "Harus berupa true atau false.",
    "bool_type": "Harus berupa true atau false.",
    "date_from_datetime_parsing": "Tanggal tidak sah (format TTTT-BB-HH).",
    "date_parsing": "Tanggal tidak sah (format TTTT-BB-HH).",
    "date_type": "Tanggal tidak sah (format TTTT-BB-HH).",
    "greater_than_equal": "Paling kecil {ge}.",
    "less_than_equal": "Paling besar {le}.",
    "json_invalid": "Isi permintaan bukan JSON yang sah.",
    "model_attributes_type": "Isi permintaan harus berupa objek JSON.",
    "dict_type": "Isi permintaan harus berupa objek JSON.",
}


def indonesian_message(err: dict) -> str:
    """Translate one pydantic error into Bahasa Indonesia (the original when unknown)."""
    template = PYDANTIC_MESSAGES.get(err.get("type", ""))
    if template is None:
        return err.get("msg", "")
    try:
        return template.format(**(err.get("ctx") or {}))
    except (KeyError, IndexError):
        return template


def install_error_handlers(api) -> None:
    """Answer errors with a JSON body in Bahasa Indonesia, never a 500 page."""

    @api.exception_handler(ValidationError)
    def validation_error(request, exc: ValidationError):
        problems = []
        for err in exc.errors:
            where = ".".join(str(p) for p in err.get("loc", []) if p not in ("body", "payload"))
            problems.append({"field": where, "message": indonesian_message(err)})
        return api.create_response(
            request, {"detail": "Data yang dikirim tidak valid.", "errors": problems}, status=422
        )

    @api.exception_handler(AuthenticationError)
    def auth_error(request, exc):
        return api.create_response(
            request, {"detail": "Token API tidak ada atau tidak berlaku."}, status=401
        )

    @api.exception_handler(DomainError)
    def domain_error(request, exc: DomainError):
        """A domain rule refused the call: its status, its message and the rule's name."""
        return api.create_response(
            request, {"detail": exc.message, "rule": exc.rule}, status=exc.status
        )

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        detail = str(exc)
        if detail == "Cannot parse request body":
            detail = "Isi permintaan bukan JSON yang sah."
        return api.create_response(request, {"detail": detail}, status=exc.status_code)
