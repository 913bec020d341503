"""`ektp regions diff`: a change set proposed from two snapshots without a crosswalk."""

from __future__ import annotations

import gzip

from django.core.management import call_command

from ektp.regions.changeset import parse_change_set
from ektp.regions.diff import diff_snapshots, name_key, read_snapshot, to_yaml

OLD = {
    "91": "P A P U A",
    "91.01": "KAB. MERAUKE",
    "91.01.01": "Merauke",
    "91.01.01.1001": "Kelapa Lima",
    "91.01.01.2002": "Kampung Lama",  # gone, no namesake: retired
    "18": "LAMPUNG",
    "18.09": "KAB. PESAWARAN",
    "18.09.01": "Gedong Tataan",
    "18.09.01.2001": "Padang Ratu",
    "18.09.01.2002": "Pampangan",
}
NEW = {
    "91": "Papua",
    "93": "Papua Selatan",
    "93.01": "Kabupaten Merauke",
    "93.01.01": "Merauke",
    "93.01.01.1001": "Kelapa Lima",
    "18": "Lampung",
    "18.09": "Kabupaten Pesawaran",
    "18.09.01": "Gedong Tataan",
    "18.09.01.2001": "Padang Ratu",
    "18.09.01.2002": "Pampangan Jaya",  # renamed
    "18.09.01.2003": "Sinar Harapan",  # new under an existing parent
}


def test_diff_finds_renames_recoded_subtree_by_name_retired_and_new():
    p = diff_snapshots(OLD, NEW)
    assert p.renames == [("18.09.01.2002", "Pampangan", "Pampangan Jaya")]
    assert {c for c, *_ in p.respellings} == {"91", "18", "18.09"}
    assert p.moves == [
        ("91.01", "93.01", "Kabupaten Merauke"),
        ("91.01.01", "93.01.01", "Merauke"),
        ("91.01.01.1001", "93.01.01.1001", "Kelapa Lima"),
    ]
    assert p.retired == [("91.01.01.2002", "Kampung Lama")]
    assert p.new == [("93", "Papua Selatan", False), ("18.09.01.2003", "Sinar Harapan", True)]
    assert "desa/kel berkode baru yang cocok menurut nama: 1 dari 2" in p.summary_lines()[-1]


def test_proposal_is_a_change_set_that_the_parser_reads():
    cs = parse_change_set(to_yaml(diff_snapshots(OLD, NEW), number="USULAN-1"))
    ops = [(o.op, o.code, o.new_code) for o in cs.operations]
    assert ops.index(("new", "93", "")) < ops.index(("move", "91.01", "93.01"))
    assert ("retire", "91.01.01.2002", "") in ops


def test_name_key_ignores_case_spacing_and_the_kabupaten_abbreviation():
    assert name_key("KAB. ACEH SELATAN") == name_key("Kabupaten Aceh Selatan")
    assert name_key("P A P U A") == name_key("Papua")
    assert name_key("Pampangan") != name_key("Pampangan Jaya")


def test_diff_command_reads_snapshot_files(tmp_path, capsys):
    for name, rows in (("old.tsv.gz", OLD), ("new.tsv", NEW)):
        text = "".join(f"{c}\t{n}\n" for c, n in rows.items())
        path = tmp_path / name
        if name.endswith(".gz"):
            with gzip.open(path, "wt", encoding="utf-8") as fh:
                fh.write(text)
        else:
            path.write_text(text, encoding="utf-8")
    assert read_snapshot(str(tmp_path / "old.tsv.gz")) == OLD
    call_command("regions", "diff", str(tmp_path / "old.tsv.gz"), str(tmp_path / "new.tsv"))
    out, err = capsys.readouterr()
    assert 'new_code: "93.01"' in out and "move: 3" in err


def test_shipped_2020_to_2025_figures():
    p = diff_snapshots(read_snapshot("2020"), read_snapshot("2025"))
    counts = {op: sum(c.values()) for op, c in p.counts().items()}
    assert counts == {
        "move": 5852,
        "new_under_new_parent": 754,
        "new_under_old_parent": 413,
        "rename": 1409,
        "respell": 1602,
        "retire": 795,
    }
    assert p.counts()["move"][4] == 5243  # villages re-coded and matched by name
