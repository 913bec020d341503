"""Indonesian names, places and addresses in the one form the demographic model compares.

``normalise_name`` is the single place that knows how Indonesian names are written differently
for the same person: titles and degrees before or after the name (``H.``, ``Hj.``, ``Ir.``,
``Dr.``, ``S.Pd.``, ``S.E.``, ``M.Kes``), the spellings of Muhammad (Muhamad, Mochammad,
Moch., M.), the pre-1972 spelling (Soekarno, Djoko, Tjahjo), apostrophes (Nur'aini), spacing and
punctuation, and a single name written twice to fill two fields (``SUKARNO SUKARNO``).
"""

from __future__ import annotations

import functools
import re
import unicodedata

# Honorifics and academic or professional degrees, written without dots, as they are dropped.
TITLES = frozenset(
    {
        # religious and honorific, before the name
        "H",
        "HJ",
        "HAJI",
        "HAJAH",
        "HAJJAH",
        "KH",
        "USTADZ",
        "USTAZ",
        "USTADZAH",
        "DR",
        "DRS",
        "DRA",
        "IR",
        "PROF",
        "DRG",
        "DRH",
        "TN",
        "NY",
        "NN",
        "SDR",
        "SDRI",
        "ALM",
        "ALMH",
        # bachelor's degrees (S1) and diplomas
        "SE",
        "SH",
        "ST",
        "SP",
        "SS",
        "SPD",
        "SPDI",
        "SAG",
        "SAK",
        "SKOM",
        "SSOS",
        "SIP",
        "SKM",
        "SKEP",
        "SKED",
        "SFARM",
        "SPSI",
        "SHUT",
        "SSI",
        "STP",
        "SPT",
        "SHI",
        "SSTP",
        "SIKOM",
        "STR",
        "SST",
        "SGZ",
        "SKG",
        "AMD",
        "AMK",
        "AMKEB",
        "AMKEP",
        "AMPD",
        "AMAPD",
        "AMDKEB",
        "AMDKEP",
        "BSC",
        "BA",
        "LC",
        # master's and doctoral degrees, specialists
        "MM",
        "MT",
        "MPD",
        "MPDI",
        "MSI",
        "MSC",
        "MH",
        "MAG",
        "MKES",
        "MKOM",
        "MKM",
        "MAP",
        "MBA",
        "ME",
        "MSE",
        "MHUM",
        "MSOS",
        "MIKOM",
        "PHD",
        "SPA",
        "SPOG",
        "SPB",
        "SPPD",
        "SPM",
        "SPTHT",
        "SPKK",
        "SPRAD",
        "SPAN",
        "SPJP",
        "SPS",
        "SPKJ",
        "SPP",
        "SPN",
        "SPU",
        "SPRM",
        "SPFK",
        "SPPK",
        "SPGK",
        "SPKG",
        # placeholders for a missing given or family name
        "FNU",
        "LNU",
    }
)
# Spellings of one name, written out as the registry mostly writes them.
SPELLINGS = {
    "MUH": "MUHAMMAD",
    "MUHD": "MUHAMMAD",
    "MHD": "MUHAMMAD",
    "MOH": "MUHAMMAD",
    "MOHD": "MUHAMMAD",
    "MOCH": "MUHAMMAD",
    "MOKH": "MUHAMMAD",
    "MUCH": "MUHAMMAD",
    "ACHMAD": "AHMAD",
    "AKHMAD": "AHMAD",
    "ACHMED": "AHMAD",
    "AHMED": "AHMAD",
    "ABD": "ABDUL",
    "ABDOEL": "ABDUL",
}
MUHAMMAD = re.compile(r"\AM[UO](C?H|KH)?A?M{1,2}[AE]D\Z")
# The spelling before 1972 (EYD): oe -> u (before a consonant), dj -> j, tj -> c, sj -> sy, nj -> ny.
OLD_OE = re.compile(r"OE(?=[B-DF-HJ-NP-TV-Z])")  # Soekarno, Boedi; not Zoe
OLD_SPELLING = (("DJ", "J"), ("TJ", "C"), ("SJ", "SY"), ("NJ", "NY"))
_SPLIT = re.compile(r"[\s,;/()]+")
_NOT_LETTER = re.compile(r"[^A-Z]+")


def _ascii_upper(value: str | None) -> str:
    text = unicodedata.normalize("NFKD", value or "").encode("ascii", "ignore").decode()
    return text.upper().replace("'", "").replace("`", "")


def _word(token: str, first: bool) -> str:
    """Return one word in its usual spelling ('' for a title or degree)."""
    if token in TITLES:
        return ""
    if token == "M" and first:
        return "MUHAMMAD"
    if token in SPELLINGS:
        return SPELLINGS[token]
    if MUHAMMAD.match(token):
        return "MUHAMMAD"
    token = OLD_OE.sub("U", token)
    for old, new in OLD_SPELLING:
        token = token.replace(old, new)
    return token


@functools.lru_cache(maxsize=1 << 18)
def normalise_name(value: str | None) -> str:
    """Return a name in upper-case ASCII, without titles or degrees, in its usual spelling.

    A token written with dots is a title or degree when its letters are (``S.Pd.``, ``Hj.``);
    otherwise its dots separate words (``M.Ridwan`` is ``MUHAMMAD RIDWAN``). A single name written
    twice is kept once. Returns '' when nothing but titles is left.
    """
    words: list[str] = []
    for raw in _SPLIT.split(_ascii_upper(value)):
        letters = _NOT_LETTER.sub("", raw)
        if not letters or letters in TITLES:
            continue
        parts = [p for p in _NOT_LETTER.split(raw) if p] if letters != raw else [letters]
        for part in parts:
            word = _word(part, first=not words)
            if word:
                words.append(word)
    if len(words) == 2 and words[0] == words[1]:
        words = words[:1]
    return " ".join(words)


@functools.lru_cache(maxsize=1 << 16)
def normalise_text(value: str | None) -> str:
    """Return a place or street in upper-case ASCII, letters and digits, single-spaced."""
    text = re.sub(r"[^A-Z0-9]+", " ", _ascii_upper(value)).split()
    replaced = {"JALAN": "JL", "JLN": "JL", "GANG": "GG", "DSN": "DUSUN", "KAMPUNG": "KP"}
    return " ".join(replaced.get(w, w) for w in text if w not in ("NO", "NOMOR"))


def normalise_phone(value: str | None) -> str:
    """Return a phone number as national digits (0812…), or '' when it is too short to tell."""
    digits = re.sub(r"\D+", "", value or "")
    if digits.startswith("62"):
        digits = "0" + digits[2:]
    return digits if len(digits) >= 6 else ""


def normalise_number(value: str | None) -> str:
    """Return an RT or RW number without leading zeros ('' when missing or zero)."""
    digits = re.sub(r"\D+", "", value or "").lstrip("0")
    return digits
