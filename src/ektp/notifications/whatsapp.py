"""The WhatsApp bot: Meta's webhook signature, the Cloud API payload, and the commands."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

from ektp.core.errors import DomainError
from ektp.core.formats import tanggal
from ektp.core.ratelimit import TOO_MANY_MESSAGE, over_limit, per_nik, per_sender
from ektp.notifications import services
from ektp.notifications.channels import normalize_msisdn
from ektp.notifications.models import Channel, Language
from ektp.portal import selectors as portal
from ektp.residents.models import Resident
from ektp.residents.nik import InvalidNumber, parse_nik

HELP = (
    "Layanan WhatsApp Disdukcapil. Ketik:\n"
    "• cek status <NIK> <tanggal lahir HH-BB-TTTT> — posisi KTP-el Anda\n"
    "• antrian [kode titik] — antrean hari ini\n"
    "• suket — kirim ulang suket yang masih berlaku\n"
    "• berhenti — jangan kirim pemberitahuan lewat WhatsApp lagi (mulai — kirim lagi)\n"
    "• bahasa id / bahasa en — bahasa pemberitahuan (Indonesia / English)\n"
    "• bantuan — pesan ini"
)
NOT_TEXT = "Maaf, kami hanya dapat membaca pesan teks.\n\n" + HELP
TOO_MANY = TOO_MANY_MESSAGE


class WebhookInvalid(DomainError, ValueError):
    """A webhook body that does not have the Cloud API's shape."""

    rule = "webhook_invalid"


@dataclass(frozen=True)
class Incoming:
    provider_id: str
    sender: str
    kind: str
    text: str


def signature_valid(raw_body: bytes, header: str | None) -> bool:
    """Check Meta's X-Hub-Signature-256: HMAC-SHA256 of the raw body with the app secret."""
    secret = settings.WHATSAPP_APP_SECRET
    if not secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256=").strip().lower())


def parse_messages(payload) -> list[Incoming]:
    """Return the messages of a Cloud API webhook body; status updates carry none."""
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        raise WebhookInvalid("Bukan notifikasi whatsapp_business_account.")
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise WebhookInvalid("Bidang entry harus berupa daftar.")
    found = []
    for entry in entries:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            raise WebhookInvalid("Bidang entry[].changes harus berupa daftar.")
        for change in changes:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                raise WebhookInvalid("Bidang changes[].value harus berupa objek.")
            for message in value.get("messages") or []:
                if not isinstance(message, dict):
                    raise WebhookInvalid("Bidang messages[] harus berupa objek.")
                provider_id, sender = message.get("id"), message.get("from")
                kind = message.get("type")
                if not all(isinstance(v, str) and v for v in (provider_id, sender, kind)):
                    raise WebhookInvalid("Pesan tanpa id, from atau type.")
                text = ""
                if kind == "text":
                    body = (message.get("text") or {}).get("body")
                    if not isinstance(body, str):
                        raise WebhookInvalid("Pesan teks tanpa text.body.")
                    text = body
                found.append(Incoming(provider_id, sender, kind, text[:1000]))
    return found


RECEIPT_STATUSES = ("sent", "delivered", "read")


def parse_receipts(payload) -> list[tuple[str, str]]:
    """Return (idempotency key, message id) of each status update that says a message left.

    Only messages sent with ``biz_opaque_callback_data`` carry a key; malformed entries are
    skipped (``parse_messages`` has already refused a body of the wrong shape).
    """
    found = []
    for entry in payload.get("entry") or []:
        for change in (entry.get("changes") or []) if isinstance(entry, dict) else []:
            value = change.get("value") if isinstance(change, dict) else None
            statuses = value.get("statuses") if isinstance(value, dict) else None
            for status in statuses if isinstance(statuses, list) else []:
                if not isinstance(status, dict) or status.get("status") not in RECEIPT_STATUSES:
                    continue
                key, provider_id = status.get("biz_opaque_callback_data"), status.get("id")
                if isinstance(key, str) and key and isinstance(provider_id, str):
                    found.append((key, provider_id))
    return found


def _check_status(request: HttpRequest, sender: str, words: list[str]) -> str:
    if len(words) != 2:
        return (
            "Format: cek status <NIK> <tanggal lahir HH-BB-TTTT>, "
            "misalnya cek status 1809015705900001 17-05-1990."
        )
    try:
        nik = parse_nik(words[0])
        birth_date = portal.parse_birth_date(words[1])
    except (InvalidNumber, portal.InquiryInvalid) as exc:
        return str(exc)
    if over_limit(request, per_sender(sender), per_nik(nik)):
        return TOO_MANY
    resident = portal.find_resident(nik=nik, birth_date=birth_date)
    if resident is None:
        return portal.GENERIC_NOT_FOUND
    return portal.status_of(resident).as_text()


def _queue(words: list[str]) -> str:
    rows = portal.queue_today(words[0] if words else "")
    if rows is None:
        return "Informasi antrean belum tersedia."
    if not rows:
        return "Titik layanan tidak ditemukan. Ketik antrian untuk melihat semua titik."
    lines = ["Antrean hari ini:"]
    for row in rows:
        lines.append(
            f"{row['code']} {row['name']}: sedang dilayani {row['serving']}, "
            f"{row['waiting']} orang menunggu."
        )
    return "\n".join(lines)


def resident_of_sender(sender: str) -> Resident | None:
    """Return the one resident whose registered phone is the sender's, or None."""
    matches = residents_of_sender(sender)
    return matches[0] if len(matches) == 1 else None


def _suket(request: HttpRequest, sender: str, words: list[str]):
    if words:
        if len(words) != 2:
            return "Format: suket, atau suket <NIK> <tanggal lahir HH-BB-TTTT>.", None, None
        try:
            nik, birth_date = parse_nik(words[0]), portal.parse_birth_date(words[1])
        except (InvalidNumber, portal.InquiryInvalid) as exc:
            return str(exc), None, None
        if over_limit(request, per_nik(nik)):
            return TOO_MANY, None, None
        resident = portal.find_resident(nik=nik, birth_date=birth_date)
        if resident is None or normalize_msisdn(resident.phone) != normalize_msisdn(sender):
            return (
                "Suket hanya dikirim ke nomor WhatsApp yang terdaftar pada data penduduk. "
                + portal.GENERIC_NOT_FOUND,
                None,
                None,
            )
    else:
        resident = resident_of_sender(sender)
        if resident is None:
            return (
                "Nomor ini tidak terdaftar untuk satu penduduk. Ketik: suket <NIK> <tanggal lahir "
                "HH-BB-TTTT>.",
                None,
                None,
            )
    found = portal.latest_valid_suket(resident)
    if found is portal.UNAVAILABLE:
        return "Layanan suket belum tersedia.", resident, None
    if found is None:
        return "Tidak ada suket yang masih berlaku atas nama Anda.", resident, None
    pdf = portal.suket_pdf(request, found)
    text = f"Suket {found.number} terlampir, berlaku sampai {tanggal(found.valid_until)}."
    if pdf is None:
        return "Layanan suket belum tersedia.", resident, None
    return text, resident, (f"suket-{found.number}.pdf".replace("/", "-"), pdf)


STOP_WORDS = ("berhenti", "stop")
START_WORDS = ("mulai", "start")
LANGUAGE_WORDS = ("bahasa", "language")
LANGUAGE_NAMES = {
    "id": Language.ID, "ind": Language.ID, "indonesia": Language.ID,
    "en": Language.EN, "eng": Language.EN, "english": Language.EN, "inggris": Language.EN,
}  # fmt: skip
NOT_REGISTERED = (
    "Nomor ini tidak terdaftar pada data penduduk, jadi kami tidak mengirim pemberitahuan "
    "ke nomor ini. Untuk mendaftarkan nomor, datang ke kantor Disdukcapil."
)
CONFIRMATIONS = {
    "stopped": {
        Language.ID: "Baik. Nomor ini tidak akan lagi menerima pemberitahuan Disdukcapil lewat "
        "WhatsApp. Ketik mulai untuk menerimanya lagi. Anda tetap dapat bertanya, misalnya "
        "cek status.",
        Language.EN: "Done. This number will no longer receive Disdukcapil notices on "
        "WhatsApp. Send mulai to receive them again. You can still ask, e.g. cek status.",
    },
    "started": {
        Language.ID: "Baik. Nomor ini akan menerima lagi pemberitahuan Disdukcapil lewat "
        "WhatsApp. Ketik berhenti untuk menghentikannya.",
        Language.EN: "Done. This number will receive Disdukcapil notices on WhatsApp again. "
        "Send berhenti to stop them.",
    },
    "language": {
        Language.ID: "Baik. Pemberitahuan Disdukcapil untuk nomor ini akan dikirim dalam "
        "Bahasa Indonesia.",
        Language.EN: "Done. Disdukcapil notices to this number will be sent in English.",
    },
}
MAX_RESIDENTS_PER_NUMBER = 20


def residents_of_sender(sender: str) -> list[Resident]:
    """Return the residents whose registered phone is the sender's (a family may share one)."""
    msisdn = normalize_msisdn(sender)
    if not msisdn:
        return []
    candidates = {msisdn, "+" + msisdn, "0" + msisdn[2:]}
    return list(
        Resident.objects.filter(phone__in=candidates).order_by("nik")[:MAX_RESIDENTS_PER_NUMBER]
    )


def _channel_switch(sender: str, words: list[str], *, stop: bool) -> str:
    """Stop (or start again) WhatsApp notices to every resident registered with this number."""
    if words:
        return (
            "Format: ketik berhenti saja untuk menghentikan pemberitahuan WhatsApp, "
            "atau mulai saja untuk menerimanya lagi."
        )
    residents = residents_of_sender(sender)
    if not residents:
        return NOT_REGISTERED
    for resident in residents:
        if stop:
            services.opt_out(resident=resident, channel=Channel.WHATSAPP)
        else:
            services.opt_in(resident=resident, channel=Channel.WHATSAPP)
    language = services.preferred_language(residents[0])
    return CONFIRMATIONS["stopped" if stop else "started"][language]


def _language(sender: str, words: list[str]) -> str:
    """Set the language of the notices to every resident registered with this number."""
    if len(words) != 1:
        return (
            "Format: bahasa id (Bahasa Indonesia) atau bahasa en (English).\n"
            "Format: language id or language en."
        )
    language = LANGUAGE_NAMES.get(words[0].lower())
    if language is None:
        return (
            f"Bahasa tidak dikenal: {words[0][:20]}. Pilihan: id (Bahasa Indonesia), "
            "en (English).\nUnknown language. Choose: id or en."
        )
    residents = residents_of_sender(sender)
    if not residents:
        return NOT_REGISTERED
    for resident in residents:
        services.set_language(resident=resident, language=language)
    return CONFIRMATIONS["language"][language]


def answer(request: HttpRequest, incoming: Incoming):
    """Return (reply text, resident, attachment) for one incoming message."""
    if incoming.kind != "text":
        return NOT_TEXT, None, None
    words = incoming.text.strip().split()
    command = [w.lower() for w in words[:2]]
    if command[:2] == ["cek", "status"]:
        return _check_status(request, incoming.sender, words[2:]), None, None
    if command[:1] == ["cek"]:
        return _check_status(request, incoming.sender, words[1:]), None, None
    if command[:1] in (["antrian"], ["antrean"]):
        return _queue(words[1:]), None, None
    if command[:1] == ["suket"]:
        return _suket(request, incoming.sender, words[1:])
    first = command[0].strip(".!?,") if command else ""
    if first in STOP_WORDS or first in START_WORDS:
        return _channel_switch(incoming.sender, words[1:], stop=first in STOP_WORDS), None, None
    if first in LANGUAGE_WORDS:
        return _language(incoming.sender, words[1:]), None, None
    return HELP, None, None
