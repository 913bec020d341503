"""Talk to a remote ABIS over HTTP, and choose between a remote and an in-process one."""

import base64
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urlsplit
from urllib.request import Request, build_opener

from ektp.abis.errors import (
    ERRORS_BY_CODE,
    AbisError,
    AbisUnavailable,
    InvalidRequest,
    InvalidTemplate,
)
from ektp.abis.interfaces import (
    DEFAULT_MODALITY,
    DEFAULT_TOP_K,
    Abis,
    EnrollOutcome,
    Identification,
)

DEFAULT_TIMEOUT = 30.0


class RemoteAbis(Abis):
    """Call an ABIS service (``ektp.abis.service``) over HTTP."""

    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"ABIS URL must be http(s)://host[:port][/path], got {url!r}")
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._opener = build_opener()

    def __repr__(self) -> str:
        return f"RemoteAbis({self.url!r})"

    def insert(self, subject_id: str, template: bytes, *, modality: str = DEFAULT_MODALITY) -> int:
        """Add a reference and return the modality's reference count."""
        payload = {"subject_id": subject_id, "template": _encode(template), "modality": modality}
        return int(self._call("POST", "/insert", payload)["count"])

    def identify(
        self, template: bytes, *, top_k: int = DEFAULT_TOP_K, modality: str = DEFAULT_MODALITY
    ) -> Identification:
        """Search the references of a modality for a probe."""
        payload = {"template": _encode(template), "top_k": top_k, "modality": modality}
        return Identification.from_dict(self._call("POST", "/identify", payload))

    def enroll(
        self,
        subject_id: str,
        template: bytes,
        *,
        top_k: int = DEFAULT_TOP_K,
        modality: str = DEFAULT_MODALITY,
    ) -> EnrollOutcome:
        """Search for a probe and add it only if nothing matches (atomic on the service)."""
        payload = {
            "subject_id": subject_id,
            "template": _encode(template),
            "top_k": top_k,
            "modality": modality,
        }
        return EnrollOutcome.from_dict(self._call("POST", "/enroll", payload))

    def delete(self, subject_id: str, *, modality: str = DEFAULT_MODALITY) -> int:
        """Remove a reference and return the modality's reference count."""
        payload = {"subject_id": subject_id, "modality": modality}
        return int(self._call("POST", "/delete", payload)["count"])

    def ping(self) -> dict[str, Any]:
        """Return the service's status and modalities."""
        return self._call("GET", "/ping")

    def pending(self) -> int:
        """Return the number of jobs the service has accepted and not finished."""
        return int(self._call("GET", "/pending")["pending"])

    def count(self, *, modality: str = DEFAULT_MODALITY) -> int:
        """Return the number of references of a modality."""
        return int(self._call("GET", "/count?" + urlencode({"modality": modality}))["count"])

    def close(self) -> None:
        """Release nothing: every call opens and closes its own connection."""

    def _call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                body = response.read()
        except HTTPError as error:
            try:
                body = error.read()
            finally:
                error.close()
            raise _error_from(error.code, body) from None
        except (URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise AbisUnavailable(f"{self.url}{path}: {reason}") from error
        try:
            return json.loads(body)
        except ValueError as error:
            raise AbisError(f"{self.url}{path}: answer is not JSON") from error


def _encode(template: bytes) -> str:
    if not isinstance(template, bytes | bytearray | memoryview):
        raise InvalidTemplate(f"template must be bytes, got {type(template).__name__}")
    return base64.b64encode(bytes(template)).decode("ascii")


def _error_from(status: int, body: bytes) -> AbisError:
    """Rebuild the service's error from its JSON answer."""
    try:
        answer = json.loads(body)
        code, message = answer["error"], answer["message"]
    except (ValueError, KeyError, TypeError):
        code, message = None, body[:200].decode("utf-8", "replace") or f"HTTP {status}"
    error_class = ERRORS_BY_CODE.get(code)
    if error_class is None:
        error_class = InvalidRequest if 400 <= status < 500 else AbisError
    return error_class(message)


def get_abis(
    url: str | None,
    data_dir: Path | str | None = None,
    *,
    keys: Sequence[bytes] | None = None,
    shards: int = 0,
    **options: Any,
) -> Abis:
    """Return a ``RemoteAbis`` when a URL is given, else a ``ShardedAbis`` of ``shards`` Ray
    actors when ``shards`` is set, else a ``LocalAbis``; both on ``data_dir`` sealed with
    ``keys`` (a remote service keeps its own key)."""
    if url:
        return RemoteAbis(url, **options)
    if shards:
        from ektp.abis.sharded import ShardedAbis  # Ray loads only when the gallery is sharded

        return ShardedAbis(shards, data_dir, keys=keys, **options)
    from ektp.abis.service import LocalAbis  # the engine (numba) loads only when run in-process

    return LocalAbis(data_dir, keys=keys, **options)
