"""Run the ABIS in this process and serve it over HTTP, with the standard library only.

``LocalAbis`` holds one gallery per modality (``<data_dir>/<modality>/``). The HTTP service
exposes it so that a national deployment can run ABIS nodes apart from the office servers:

    GET  /ping                                   {"status": "ok", "modalities": {...}}
    GET  /pending                                {"pending": 0}
    GET  /count?modality=iris                    {"modality": "iris", "count": 12}
    POST /insert    {"subject_id", "template", "modality"?}          {"subject_id", "count"}
    POST /identify  {"template", "top_k"?, "modality"?}              Identification.to_dict()
    POST /enroll    {"subject_id", "template", "top_k"?, "modality"?}  EnrollOutcome.to_dict()
    POST /delete    {"subject_id", "modality"?}                      {"subject_id", "count"}

Templates travel as standard base64 of the modality's serialised bytes; ``modality`` defaults
to ``iris``. Errors answer ``{"error": code, "message": text}`` with 400 (malformed request or
template), 404 (unknown subject or path), 405, 409 (duplicate subject), 411, 413 or 500.
"""

import base64
import binascii
import json
import logging
import signal
import threading
from collections.abc import Callable, Iterable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ektp.abis.errors import (
    AbisError,
    InvalidRequest,
    InvalidTemplate,
    LengthRequired,
    MethodNotAllowed,
    NotFound,
    RequestTooLarge,
    UnknownModality,
)
from ektp.abis.gallery import DEFAULT_FALSE_MATCH_RATE, Gallery
from ektp.abis.interfaces import (
    DEFAULT_MODALITY,
    DEFAULT_TOP_K,
    Abis,
    EnrollOutcome,
    Identification,
    PendingJobs,
    template_bytes,
)
from ektp.abis.matchers import MATCHERS, Matcher, get_matcher
from ektp.abis.sealing import keys_from_environment

logger = logging.getLogger(__name__)

DEFAULT_PORT = 8900
MAX_BODY_BYTES = 1 << 20


class LocalAbis(Abis):
    """Run the ABIS engine in this process."""

    def __init__(
        self,
        data_dir: Path | str | None = None,
        *,
        matchers: Iterable[Matcher] | None = None,
        false_match_rate: float = DEFAULT_FALSE_MATCH_RATE,
        fsync: bool = True,
        keys: Sequence[bytes] | None = None,
    ) -> None:
        """Open a gallery per modality, in memory or under ``data_dir`` sealed with ``keys``."""
        chosen = list(matchers) if matchers is not None else [get_matcher(m) for m in MATCHERS]
        self._galleries: dict[str, Gallery] = {}
        self._jobs = PendingJobs()
        try:
            for matcher in chosen:
                directory = None if data_dir is None else Path(data_dir) / matcher.modality
                self._galleries[matcher.modality] = Gallery(
                    matcher,
                    directory=directory,
                    false_match_rate=false_match_rate,
                    fsync=fsync,
                    keys=keys,
                )
        except BaseException:
            self.close()
            raise

    def gallery(self, modality: str = DEFAULT_MODALITY) -> Gallery:
        """Return the gallery of a modality."""
        try:
            return self._galleries[modality]
        except (KeyError, TypeError):
            known = ", ".join(sorted(self._galleries))
            raise UnknownModality(f"unknown modality {modality!r}; known: {known}") from None

    def insert(self, subject_id: str, template: bytes, *, modality: str = DEFAULT_MODALITY) -> int:
        """Add a reference and return the modality's reference count."""
        with self._jobs.job():
            gallery = self.gallery(modality)
            gallery.insert(subject_id, template_bytes(template))
            return gallery.count()

    def identify(
        self, template: bytes, *, top_k: int = DEFAULT_TOP_K, modality: str = DEFAULT_MODALITY
    ) -> Identification:
        """Search the references of a modality for a probe."""
        with self._jobs.job():
            return self.gallery(modality).identify(template_bytes(template), top_k=top_k)

    def enroll(
        self,
        subject_id: str,
        template: bytes,
        *,
        top_k: int = DEFAULT_TOP_K,
        modality: str = DEFAULT_MODALITY,
    ) -> EnrollOutcome:
        """Search for a probe and add it only if nothing matches, under the gallery's lock."""
        with self._jobs.job():
            gallery = self.gallery(modality)
            return gallery.enroll(subject_id, template_bytes(template), top_k=top_k)

    def delete(self, subject_id: str, *, modality: str = DEFAULT_MODALITY) -> int:
        """Remove a reference and return the modality's reference count."""
        with self._jobs.job():
            gallery = self.gallery(modality)
            gallery.delete(subject_id)
            return gallery.count()

    def ping(self) -> dict[str, Any]:
        """Return the status and the reference count of each modality."""
        counts = {name: gallery.count() for name, gallery in self._galleries.items()}
        return {"status": "ok", "modalities": counts}

    def pending(self) -> int:
        """Return the number of jobs accepted and not finished."""
        return self._jobs.count

    def count(self, *, modality: str = DEFAULT_MODALITY) -> int:
        """Return the number of references of a modality."""
        return self.gallery(modality).count()

    def checkpoint(self) -> None:
        """Snapshot every persistent gallery and empty its journal."""
        for gallery in self._galleries.values():
            if gallery.persistent:
                gallery.checkpoint()

    def close(self) -> None:
        """Release every gallery's journal and directory lock."""
        for gallery in self._galleries.values():
            gallery.close()


def _fields(body: Any, required: set[str], optional: set[str]) -> dict[str, Any]:
    """Return a request object's fields, rejecting a non-object, missing or unknown fields."""
    if not isinstance(body, dict):
        raise InvalidRequest("request body must be a JSON object")
    missing = sorted(required - body.keys())
    if missing:
        raise InvalidRequest(f"missing field(s): {', '.join(missing)}")
    unknown = sorted(body.keys() - required - optional)
    if unknown:
        raise InvalidRequest(f"unknown field(s): {', '.join(unknown)}")
    return body


def _decode_template(value: Any) -> bytes:
    if not isinstance(value, str):
        raise InvalidTemplate("template must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidTemplate("template is not valid base64") from None


def _modality(body: dict[str, Any]) -> str:
    modality = body.get("modality", DEFAULT_MODALITY)
    if not isinstance(modality, str):
        raise InvalidRequest("modality must be a string")
    return modality


def _insert(abis: Abis, body: Any) -> dict[str, Any]:
    body = _fields(body, {"subject_id", "template"}, {"modality"})
    template = _decode_template(body["template"])
    count = abis.insert(body["subject_id"], template, modality=_modality(body))
    return {"subject_id": body["subject_id"], "count": count}


def _identify(abis: Abis, body: Any) -> dict[str, Any]:
    body = _fields(body, {"template"}, {"top_k", "modality"})
    template = _decode_template(body["template"])
    top_k = body.get("top_k", DEFAULT_TOP_K)
    return abis.identify(template, top_k=top_k, modality=_modality(body)).to_dict()


def _enroll(abis: Abis, body: Any) -> dict[str, Any]:
    body = _fields(body, {"subject_id", "template"}, {"top_k", "modality"})
    template = _decode_template(body["template"])
    top_k = body.get("top_k", DEFAULT_TOP_K)
    return abis.enroll(
        body["subject_id"], template, top_k=top_k, modality=_modality(body)
    ).to_dict()


def _delete(abis: Abis, body: Any) -> dict[str, Any]:
    body = _fields(body, {"subject_id"}, {"modality"})
    count = abis.delete(body["subject_id"], modality=_modality(body))
    return {"subject_id": body["subject_id"], "count": count}


def _count(abis: Abis, query: dict[str, Any]) -> dict[str, Any]:
    modality = _modality(query)
    return {"modality": modality, "count": abis.count(modality=modality)}


Route = tuple[str, Callable[[Abis, Any], dict[str, Any]]]
ROUTES: dict[str, Route] = {
    "/ping": ("GET", lambda abis, _query: abis.ping()),
    "/pending": ("GET", lambda abis, _query: {"pending": abis.pending()}),
    "/count": ("GET", _count),
    "/insert": ("POST", _insert),
    "/identify": ("POST", _identify),
    "/enroll": ("POST", _enroll),
    "/delete": ("POST", _delete),
}


class AbisRequestHandler(BaseHTTPRequestHandler):
    """Translate HTTP requests into ABIS calls and errors into JSON answers."""

    server: "AbisHTTPServer"
    server_version = "ektp-abis/1"

    def do_GET(self) -> None:
        """Serve a GET request."""
        self._dispatch("GET")

    def do_POST(self) -> None:
        """Serve a POST request."""
        self._dispatch("POST")

    def do_PUT(self) -> None:
        """Refuse a PUT request."""
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        """Refuse a DELETE request."""
        self._dispatch("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        """Send access lines to the module logger instead of stderr."""
        logger.debug("%s " + format, self.address_string(), *args)

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        try:
            if url.path not in ROUTES:
                raise NotFound(f"no such path: {url.path}")
            allowed, handler = ROUTES[url.path]
            if method != allowed:
                raise MethodNotAllowed(f"{url.path} accepts {allowed}, not {method}")
            if method == "POST":
                argument = self._read_json()
            else:
                argument = {k: v[-1] for k, v in parse_qs(url.query).items()}
            self._answer(200, handler(self.server.abis, argument))
        except AbisError as error:
            self._answer(error.status, {"error": error.code, "message": str(error)})
        except Exception:
            logger.exception("ABIS request %s %s failed", method, url.path)
            self._answer(500, {"error": "internal_error", "message": "internal error"})

    def _read_json(self) -> Any:
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            raise LengthRequired("a request body needs a Content-Length")
        try:
            length = int(length_header)
        except ValueError:
            raise InvalidRequest("Content-Length is not a number") from None
        if length < 0:
            raise InvalidRequest("Content-Length is negative")
        if length > self.server.max_body:
            raise RequestTooLarge(f"request body exceeds {self.server.max_body} bytes")
        raw = self.rfile.read(length)
        try:
            return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except (UnicodeDecodeError, ValueError) as error:
            raise InvalidRequest(f"malformed JSON: {error}") from None

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if status == 405:
            allowed = ROUTES[urlsplit(self.path).path][0]
            self.send_header("Allow", allowed)
        self.end_headers()
        self.wfile.write(body)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


class AbisHTTPServer(ThreadingHTTPServer):
    """Serve one ABIS over HTTP, a thread per request."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], abis: Abis, *, max_body: int = MAX_BODY_BYTES):
        self.abis = abis
        self.max_body = max_body
        super().__init__(address, AbisRequestHandler)

    @property
    def url(self) -> str:
        """Return the base URL the server listens on."""
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def make_server(
    abis: Abis, host: str = "127.0.0.1", port: int = 0, *, max_body: int = MAX_BODY_BYTES
) -> AbisHTTPServer:
    """Bind an HTTP server for ``abis`` (port 0 picks a free port); the caller runs it."""
    return AbisHTTPServer((host, port), abis, max_body=max_body)


def serve(
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    data_dir: Path | str = "var/abis",
    *,
    false_match_rate: float = DEFAULT_FALSE_MATCH_RATE,
    keys: Sequence[bytes] | None = None,
) -> None:
    """Serve a persistent ABIS until interrupted, then checkpoint it.

    The gallery is sealed with ``keys``, by default those of EKTP_ABIS_KEY."""
    if keys is None:
        keys = keys_from_environment()
    abis = LocalAbis(data_dir, false_match_rate=false_match_rate, keys=keys)
    try:
        server = make_server(abis, host, port)
    except BaseException:
        abis.close()
        raise
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    logger.info("ABIS serving %s on %s from %s", abis.ping()["modalities"], server.url, data_dir)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        logger.info("ABIS stopping")
    finally:
        server.server_close()
        try:
            abis.checkpoint()
        finally:
            abis.close()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
