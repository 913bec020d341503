"""Indonesian names are brought to one form before the model compares them."""

from __future__ import annotations

import pytest

from ektp.dedup.names import normalise_name, normalise_number, normalise_phone, normalise_text


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        # titles and degrees before and after, with and without dots and commas
        ("  H. Muhammad  Ridwan, S.Pd ", "MUHAMMAD RIDWAN"),
        ("Dr. Siti Nur'aini", "SITI NURAINI"),
        ("Hj. Siti Aminah, S.E., M.M.", "SITI AMINAH"),
        ("HJ SITI AMINAH SE MM", "SITI AMINAH"),
        ("Ir. H. Joko Santoso, M.T.", "JOKO SANTOSO"),
        ("Drs. Bambang Wibowo, M.Pd.", "BAMBANG WIBOWO"),
        ("Nur Hasanah, S.Pd.I", "NUR HASANAH"),
        ("dr. Rina Lestari, Sp.OG", "RINA LESTARI"),
        ("Prof. Dr. Ir. Agus Salim, M.Sc., Ph.D.", "AGUS SALIM"),
        ("KH. Ahmad Dahlan", "AHMAD DAHLAN"),
        ("Dewi Sartika, A.Md.Keb", "DEWI SARTIKA"),
        # Muhammad and its spellings
        ("Muhammad Ali", "MUHAMMAD ALI"),
        ("Muhamad Ali", "MUHAMMAD ALI"),
        ("Mochammad Ali", "MUHAMMAD ALI"),
        ("Mochamad Ali", "MUHAMMAD ALI"),
        ("Mohammad Ali", "MUHAMMAD ALI"),
        ("Moch. Ali", "MUHAMMAD ALI"),
        ("Moh. Ali", "MUHAMMAD ALI"),
        ("Muh. Ali", "MUHAMMAD ALI"),
        ("M. Ali", "MUHAMMAD ALI"),
        ("M.Ali", "MUHAMMAD ALI"),
        ("MUHAMMED ALI", "MUHAMMAD ALI"),
        ("Achmad Dahlan", "AHMAD DAHLAN"),
        ("Abd. Rahman", "ABDUL RAHMAN"),
        # the spelling before 1972
        ("Soekarno", "SUKARNO"),
        ("Djoko Tjahjono", "JOKO CAHJONO"),
        ("Sjahrir", "SYAHRIR"),
        # spacing, case, punctuation, accents
        ("siti   aminah", "SITI AMINAH"),
        ("siti-aminah", "SITI AMINAH"),
        ("Siti_Aminah", "SITI AMINAH"),
        ("\tSITI\nAMINAH ", "SITI AMINAH"),
        ("Nur`aini", "NURAINI"),
        ("Zoë Natalia", "ZOE NATALIA"),
        # single names, and a single name written twice to fill two fields
        ("Sukarno", "SUKARNO"),
        ("SUKARNO SUKARNO", "SUKARNO"),
        ("Suharti, S.Pd.", "SUHARTI"),
        ("FNU Suharti", "SUHARTI"),
        # nothing but titles, or nothing at all
        ("H.", ""),
        ("", ""),
        (None, ""),
        ("123 !!", ""),
    ],
)
def test_a_name_is_normalised(written, normalised):
    assert normalise_name(written) == normalised


def test_an_m_inside_a_name_is_an_initial_not_muhammad():
    assert normalise_name("Ali M. Yusuf") == "ALI M YUSUF"


def test_a_word_that_only_looks_like_a_spelling_of_muhammad_is_kept():
    assert normalise_name("Mahmud Hamid") == "MAHMUD HAMID"


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("Jalan Merdeka No. 5", "JL MERDEKA 5"),
        ("Jln. Merdeka no 5", "JL MERDEKA 5"),
        ("Gang Mawar", "GG MAWAR"),
        ("Dsn. II", "DUSUN II"),
        ("", ""),
    ],
)
def test_a_street_is_normalised(written, normalised):
    assert normalise_text(written) == normalised


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("+62 812-3456-7890", "081234567890"),
        ("0812 3456 7890", "081234567890"),
        ("6281234567890", "081234567890"),
        ("12345", ""),
        ("-", ""),
        (None, ""),
    ],
)
def test_a_phone_number_is_normalised(written, normalised):
    assert normalise_phone(written) == normalised


@pytest.mark.parametrize(
    ("written", "normalised"), [("001", "1"), ("12", "12"), ("000", ""), ("", "")]
)
def test_rt_and_rw_lose_leading_zeros(written, normalised):
    assert normalise_number(written) == normalised
