"""Message texts per event, in Bahasa Indonesia and English."""

from __future__ import annotations

import string
from dataclasses import dataclass

from ektp.notifications.models import Event

LANGUAGES = ("id", "en")


@dataclass(frozen=True)
class Text:
    subject: str
    body: str


TEXTS: dict[str, dict[str, Text]] = {
    Event.BOOKING_CONFIRMED: {
        "id": Text(
            "Janji perekaman KTP-el dikonfirmasi",
            "Yth. {name}, janji perekaman KTP-el Anda dikonfirmasi: {date}, pukul {window}, "
            "di {point}. Nomor booking: {code}. Bawa Kartu Keluarga. Layanan gratis.",
        ),
        "en": Text(
            "KTP-el recording appointment confirmed",
            "Dear {name}, your KTP-el recording appointment is confirmed: {date}, {window}, "
            "at {point}. Booking number: {code}. Bring your Family Card. The service is free.",
        ),
    },
    Event.BOOKING_REMINDER: {
        "id": Text(
            "Pengingat janji perekaman KTP-el",
            "Yth. {name}, mengingatkan janji perekaman KTP-el Anda {date}, pukul {window}, "
            "di {point}. Nomor booking: {code}.",
        ),
        "en": Text(
            "Reminder: KTP-el recording appointment",
            "Dear {name}, a reminder of your KTP-el recording appointment on {date}, {window}, "
            "at {point}. Booking number: {code}.",
        ),
    },
    Event.RECORDED: {
        "id": Text(
            "Perekaman KTP-el selesai",
            "Yth. {name}, data biometrik Anda sudah direkam pada {date}. Data sedang diproses "
            "(penunggalan). Kami kabari lagi bila KTP-el siap dicetak.",
        ),
        "en": Text(
            "KTP-el recording done",
            "Dear {name}, your biometrics were recorded on {date}. They are being checked "
            "for uniqueness. We will tell you when your KTP-el is ready to print.",
        ),
    },
    Event.PRINT_READY: {
        "id": Text(
            "KTP-el siap cetak",
            "Yth. {name}, data KTP-el Anda sudah lolos penunggalan dan siap dicetak (PRR). "
            "Kami kabari lagi setelah kartu dicetak.",
        ),
        "en": Text(
            "KTP-el ready to print",
            "Dear {name}, your KTP-el record passed the uniqueness check and is ready to "
            "print. We will tell you once the card is printed.",
        ),
    },
    Event.CARD_PRINTED: {
        "id": Text(
            "KTP-el sudah dicetak",
            "Yth. {name}, KTP-el Anda sudah dicetak. Silakan ambil di {point} mulai {date}. "
            "Bawa bukti perekaman atau suket; pengambilan gratis.",
        ),
        "en": Text(
            "KTP-el printed",
            "Dear {name}, your KTP-el has been printed. Please collect it at {point} from "
            "{date}. Bring your recording receipt or suket; collection is free.",
        ),
    },
    Event.CARD_ISSUED: {
        "id": Text(
            "KTP-el sudah diserahkan",
            "Yth. {name}, KTP-el Anda telah diserahkan pada {date}. Simpan baik-baik; suket "
            "Anda tidak berlaku lagi.",
        ),
        "en": Text(
            "KTP-el handed over",
            "Dear {name}, your KTP-el was handed over on {date}. Keep it safe; your suket is "
            "no longer valid.",
        ),
    },
    Event.IKD_HOWTO: {
        "id": Text(
            "Aktifkan Identitas Kependudukan Digital (IKD)",
            "Yth. {name}, KTP-el Anda sudah di tangan. Aktifkan IKD: pasang aplikasi "
            "Identitas Kependudukan Digital dari toko aplikasi resmi, daftarkan NIK, email dan "
            "nomor HP Anda, lalu pindai kode QR aktivasi di {point} atau saat petugas jemput "
            "bola datang. Layanan gratis.",
        ),
        "en": Text(
            "Activate your Digital Population Identity (IKD)",
            "Dear {name}, you now hold your KTP-el. Activate the IKD: install the Identitas "
            "Kependudukan Digital app from the official app store, register your NIK, email "
            "and phone number, then scan the activation QR code at {point} or when an "
            "outreach team visits. The service is free.",
        ),
    },
    Event.SUKET_ISSUED: {
        "id": Text(
            "Surat keterangan (suket) perekaman KTP-el",
            "Yth. {name}, suket perekaman KTP-el Anda nomor {number} terlampir, berlaku "
            "sampai {valid_until}. Suket dapat dicetak sendiri dan diperiksa lewat kode QR.",
        ),
        "en": Text(
            "KTP-el recording certificate (suket)",
            "Dear {name}, your KTP-el recording certificate no. {number} is attached, valid "
            "until {valid_until}. Print it yourself; anyone can verify it by its QR code.",
        ),
    },
    Event.DUPLICATE_FOUND: {
        "id": Text(
            "Mohon datang ke kantor Disdukcapil",
            "Yth. {name}, pemeriksaan data KTP-el Anda menemukan data ganda. Mohon datang ke "
            "{point} dengan membawa Kartu Keluarga agar data Anda dapat diselesaikan.",
        ),
        "en": Text(
            "Please come to the Disdukcapil office",
            "Dear {name}, the check of your KTP-el record found a duplicate. Please come to "
            "{point} with your Family Card so that we can resolve it.",
        ),
    },
    Event.PRINTING_DEFERRED: {
        "id": Text(
            "Pencetakan KTP-el ditunda",
            "Yth. {name}, pencetakan KTP-el Anda ditunda karena persediaan blangko terbatas: "
            "{reason}. Kami kabari lagi bila kartu dicetak. Anda dapat meminta suket.",
        ),
        "en": Text(
            "KTP-el printing deferred",
            "Dear {name}, printing of your KTP-el is deferred because blank cards are short: "
            "{reason}. We will tell you when it is printed. You may ask for a suket.",
        ),
    },
    Event.ACCESS_CODE: {
        "id": Text(
            "Kode sekali pakai Disdukcapil",
            "Kode Anda: {code}. Untuk {what}; berlaku {minutes} menit, sekali pakai. "
            "Jangan berikan kode ini kepada siapa pun, termasuk petugas. Bila Anda tidak "
            "memintanya, abaikan pesan ini.",
        ),
        "en": Text(
            "Disdukcapil one-time code",
            "Your code: {code}. For {what}; valid {minutes} minutes, once. Never give this "
            "code to anyone, including officers. If you did not ask for it, ignore this message.",
        ),
    },
    Event.ADDRESS_CHANGED: {
        "id": Text(
            "Alamat Anda berubah karena keputusan wilayah",
            "Yth. {name}, sesuai keputusan {decree} alamat Anda kini {village}. Kartu Keluarga "
            "baru, dan KTP-el baru bila Anda sudah memilikinya, dapat diambil di {point} mulai "
            "{date}. KTP-el lama tetap berlaku sampai kartu baru diterima.",
        ),
        "en": Text(
            "Your address changed by a region decree",
            "Dear {name}, under decree {decree} your address is now {village}. The new Family "
            "Card, and a new KTP-el if you already hold one, can be collected at {point} from "
            "{date}. Your old KTP-el stays valid until you receive the new card.",
        ),
    },
    Event.BOT_REPLY: {
        "id": Text("Balasan", "{text}"),
        "en": Text("Reply", "{text}"),
    },
}


def fields_of(event: str, language: str = "id") -> set[str]:
    """Return the context names that an event's text needs."""
    text = TEXTS[event][language]
    return {name for _, name, _, _ in string.Formatter().parse(text.body) if name}


def render(event: str, language: str, context: dict) -> Text:
    """Fill an event's text with the context, in the language asked (Indonesian by default)."""
    language = language if language in LANGUAGES else "id"
    text = TEXTS[event][language]
    values = {key: str(value) for key, value in context.items()}
    return Text(subject=text.subject, body=text.body.format(**values))
