"""Signed references to a resident's document and the grants a correct one-time code earns.

A reference names a document (kind and id) without being a capability: following it only
offers to send a code to the phone on record. A grant is what a correct code (or the
session that just made a booking) earns: for PORTAL_ACCESS_GRANT_MINUTES, the holder may see
and manage that one document. Web pages keep grants in the session; the API hands the
signed grant to the client, which sends it back in the X-Access-Token header.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core import signing

REF_SALT = "ektp.portal.document-ref"
GRANT_SALT = "ektp.portal.access-grant"
REF_MAX_AGE = 24 * 3600
SESSION_GRANTS = "portal_grants"
SESSION_CODES = "portal_access_codes"


def grant_seconds() -> int:
    return int(settings.PORTAL_ACCESS_GRANT_MINUTES) * 60


def document_ref(*, kind: str, document_id) -> str:
    """Return the reference of a document for the pages that send and take a code."""
    return signing.dumps({"k": kind, "d": str(document_id)}, salt=REF_SALT, compress=False)


def read_ref(ref: str) -> tuple[str, uuid.UUID] | None:
    """Return (kind, document id) of a reference, or None when it is forged or too old."""
    try:
        data = signing.loads(ref, salt=REF_SALT, max_age=REF_MAX_AGE)
        return str(data["k"]), uuid.UUID(str(data["d"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def grant_token(*, kind: str, document_id) -> str:
    """Return a signed grant for one document, good for PORTAL_ACCESS_GRANT_MINUTES."""
    return signing.dumps({"k": kind, "d": str(document_id)}, salt=GRANT_SALT)


def grant_valid(token: str | None, *, kind: str, document_id) -> bool:
    """Tell whether a grant is genuine, recent and for this document."""
    if not token or len(token) > 500:
        return False
    try:
        data = signing.loads(token, salt=GRANT_SALT, max_age=grant_seconds())
    except signing.BadSignature:
        return False
    return isinstance(data, dict) and data == {"k": kind, "d": str(document_id)}


def grant_session(request, *, kind: str, document_id) -> None:
    """Let this browser session see and manage one document for a while."""
    grants = [token for token in request.session.get(SESSION_GRANTS, []) if _fresh(token)][-9:]
    grants.append(grant_token(kind=kind, document_id=document_id))
    request.session[SESSION_GRANTS] = grants


def _fresh(token: str) -> bool:
    try:
        signing.loads(token, salt=GRANT_SALT, max_age=grant_seconds())
    except signing.BadSignature:
        return False
    return True


def session_granted(request, *, kind: str, document_id) -> bool:
    """Tell whether this browser session holds a grant for the document."""
    return any(
        grant_valid(token, kind=kind, document_id=document_id)
        for token in request.session.get(SESSION_GRANTS, [])
    )


def remember_code(request, ref: str, access_code_id) -> None:
    """Keep in the session which code this browser asked for a document (the only place
    its id goes), so that only this browser can try it."""
    codes = dict(request.session.get(SESSION_CODES, {}))
    if len(codes) > 10:
        codes = dict(list(codes.items())[-10:])
    codes[ref] = str(access_code_id)
    request.session[SESSION_CODES] = codes


def code_of_session(request, ref: str) -> str | None:
    return request.session.get(SESSION_CODES, {}).get(ref)
