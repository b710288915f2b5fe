"""Record linkage of person lists (issue 15): the same person twice in one list, or in two lists.

``deduplicate`` and ``link`` take person lists (``tepat.files.person_lists``) with any of the linkage fields and
run Splink's Fellegi–Sunter model over them, on DuckDB in this process or on Apache Spark (local mode, or a
cluster named by its master URL). Nothing is learnt from labelled pairs: the prior from pairs near-certain to be
one person, u by random sampling, m by expectation maximisation. Comparisons and blocking rules are chosen from
the fields the list has:

- a Dukcapil NIK only when equal; other numbers and the postcode also one or two characters apart (Damerau–
  Levenshtein: a digit typed wrongly, two swapped);
- the birth date equal, its day and month swapped, or one digit apart;
- the name by its comparable form (``tepat.domain.linkage.name_key``: titles dropped, old spelling made new, the
  ways of writing Muhammad made one), then its words in any order (a given name and surname swapped), one or two
  typing slips apart, its first word dropped (Siti Aminah, Aminah), then Jaro–Winkler ≥ 0.92. Not Jaro–Winkler
  lower down: Indonesian names share their first words (Anisa Azahra, Anisa Rahmah) and a birth cohort's names
  are alike, so at 0.7–0.8 it holds far more pairs of two people than slips of one;
- where a person lives as one comparison when the list has a KK or kelurahan (the same KK, the same RT, the same
  street, the same kelurahan: facts about one household, counted once), else the address by Jaro–Winkler and
  RW/RT exactly; sex exactly.

How m is learnt so that it holds at city scale is told in ``_em_sessions``.

Only pairs that share a NIK, a birth date and the first letter of a name, a name and the birth year, a postcode
and the start of a name, or the start of an address and a name's initial are compared, so the work grows with
those pairs rather than with the square of the list.

A pair is written when its match probability is at least the threshold; the default, 0.5, is the tool's own
choice: the model then says "more likely one person than two", the decision that makes the fewest errors when
the model is right.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from tepat.domain.linkage import name_key
from tepat.errors import ValidationError
from tepat.files.person_lists import ID, PersonList
from tepat.services.spark_session import spark_session

log = logging.getLogger("tepat.record_linkage")

DEFAULT_THRESHOLD = 0.5
ENGINES = ("duckdb", "spark")
U_PAIRS = 5_000_000  # random pairs for u: stable estimates for city-sized lists, seconds of work
EM_PAIRS = (
    5_000_000  # blocked pairs an EM session learns from at most (a city's people born one day: 90 million)
)
DUCKDB_MEMORY = (
    "4GB"  # DuckDB spills to a temporary directory beyond this: a city-sized run stays in memory bounds
)
SEED = 1
SOURCE = "source_dataset"
LinkType = Literal["dedupe_only", "link_only"]


@dataclass(frozen=True)
class LinkResult:
    """Pairs above the threshold (``id_a``, ``id_b``, ``probability``) and what the run did."""

    pairs: pl.DataFrame
    records: int
    compared: int
    clusters: int
    seconds: float
    threshold: float
    engine: str
    impossible_dates: int

    def summary(self) -> dict[str, Any]:
        """What ``--json`` prints."""
        return {
            "records": self.records,
            "candidate_pairs": self.compared,
            "pairs_above_threshold": self.pairs.height,
            "clusters": self.clusters,
            "seconds": round(self.seconds, 2),
            "threshold": self.threshold,
            "engine": self.engine,
            "impossible_dates": self.impossible_dates,
        }


# ---------------------------------------------------------------------------------------------- the model


def prepared(frame: pl.DataFrame) -> pl.DataFrame:
    """The compared forms of a person list's fields (each distinct name normalised once)."""
    out = frame
    if "nama" in out.columns:
        names = out.select(pl.col("nama").unique().drop_nulls())["nama"].to_list()
        keys = [name_key(n) or None for n in names]
        table = pl.DataFrame(
            {
                "nama": names,
                "nama_key": keys,
                "nama_tokens": [" ".join(sorted(k.split())) if k else None for k in keys],
            },
            schema={"nama": pl.String, "nama_key": pl.String, "nama_tokens": pl.String},
        )
        out = out.join(table, on="nama", how="left", maintain_order="left").drop("nama")
    digits = [c for c in ("nik", "nomor_kk", "kode_pos", "kode_kelurahan") if c in out.columns]
    out = out.with_columns(
        *(pl.col(c).str.replace_all(r"\D", "").replace("", None).alias(c) for c in digits),
        *(
            [pl.col("alamat").str.to_lowercase().str.replace_all(r"[^0-9a-z]+", " ").str.strip_chars()]
            if "alamat" in out.columns
            else []
        ),
        *(
            [pl.col("jenis_kelamin").str.strip_chars().str.to_uppercase().str.slice(0, 1)]
            if "jenis_kelamin" in out.columns
            else []
        ),
        *(pl.col(c).str.replace(r"^0+", "") for c in ("rt", "rw") if c in out.columns),
    )
    return out


_FIRST_WORD_DROPPED = "nama_key_l like concat('% ', nama_key_r) or nama_key_r like concat('% ', nama_key_l)"
_DAY_MONTH_SWAPPED = (
    "substr(tanggal_lahir_l, 1, 4) = substr(tanggal_lahir_r, 1, 4)"
    " and substr(tanggal_lahir_l, 6, 2) = substr(tanggal_lahir_r, 9, 2)"
    " and substr(tanggal_lahir_l, 9, 2) = substr(tanggal_lahir_r, 6, 2)"
)


def _typed_apart(column: str, edits: int, alike: float) -> Any:
    """Values ``edits`` typing slips apart (Damerau-Levenshtein: a character wrong, two swapped), tried only where
    they are ``alike`` (Jaro-Winkler, twenty times cheaper, true of every such pair worth the name)."""
    import splink.comparison_level_library as cll

    return cll.And(cll.JaroWinklerLevel(column, alike), cll.DamerauLevenshteinLevel(column, edits))


def _comparisons(fields: set[str], dukcapil_nik: bool) -> list[Any]:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    # One person's two records almost never carry wholly different names or birth dates: that share is fixed
    # rather than learnt, so EM cannot take "born the same day" or "of one name" for the match class.
    _RARELY = cll.ElseLevel().configure(m_probability=0.01, fix_m_probability=True)

    found: list[Any] = []
    if "nik" in fields:
        # A Dukcapil NIK only when equal: its first twelve digits are the kecamatan and the birth date, which the
        # place and birth-date comparisons already count, and people born the same day in one kecamatan get
        # serials one after another, so a NIK a digit away is as often a neighbour as a slip (the blocking on
        # the first twelve digits still proposes the slips; the name, the date and the place decide). Other
        # numbers (a bank's, a school's) count when one or two characters apart too.
        found.append(
            cl.ExactMatch("nik") if dukcapil_nik else cl.DamerauLevenshteinAtThresholds("nik", [1, 2])
        )
    if "nama_key" in fields:
        found.append(
            cl.CustomComparison(
                output_column_name="nama",
                comparison_levels=[
                    cll.NullLevel("nama_key"),
                    # a common name says less than a rare one (term frequency adjustment)
                    cll.ExactMatchLevel("nama_key").configure(
                        tf_adjustment_column="nama_key", m_probability=0.7
                    ),
                    cll.ExactMatchLevel("nama_tokens").configure(m_probability=0.05),
                    _typed_apart("nama_key", 1, 0.7).configure(m_probability=0.12),
                    cll.CustomLevel(_FIRST_WORD_DROPPED, "first word dropped").configure(m_probability=0.03),
                    _typed_apart("nama_key", 2, 0.7).configure(m_probability=0.03),
                    cll.JaroWinklerLevel("nama_key", 0.92).configure(m_probability=0.03),
                    _RARELY,
                ],
            )
        )
    if "tanggal_lahir" in fields:
        found.append(
            cl.CustomComparison(
                output_column_name="tanggal_lahir",
                comparison_levels=[
                    cll.NullLevel("tanggal_lahir"),
                    # a date many are registered on (1 January, a guessed day) says less than a rare one
                    cll.ExactMatchLevel("tanggal_lahir").configure(
                        tf_adjustment_column="tanggal_lahir", m_probability=0.85
                    ),
                    cll.CustomLevel(_DAY_MONTH_SWAPPED, "day and month swapped").configure(
                        m_probability=0.05
                    ),
                    # fixed too: people of one name born a digit apart are a cohort's namesakes far more often
                    # than one person's slip, and EM, shown people of one name, would take them for the class
                    _typed_apart("tanggal_lahir", 1, 0.8).configure(
                        m_probability=0.04, fix_m_probability=True
                    ),
                    _RARELY,
                ],
            )
        )
    if "jenis_kelamin" in fields:
        found.append(cl.ExactMatch("jenis_kelamin").configure(m_probabilities=[0.98, 0.02]))
    if "kode_pos" in fields:
        found.append(cl.DamerauLevenshteinAtThresholds("kode_pos", [1]))
    if fields & {"nomor_kk", "kode_kelurahan"}:
        found.append(_household(fields))
    else:
        if "alamat" in fields:
            found.append(cl.JaroWinklerAtThresholds("alamat", [0.95, 0.85, 0.7]))
        found.extend(cl.ExactMatch(c) for c in ("rw", "rt") if c in fields)
    return found


def _household(fields: set[str]) -> Any:
    """Where a person lives, as one comparison: the KK, the RT, the street, the kelurahan are facts about one
    household, which Fellegi–Sunter would otherwise count once per field (and then take a family's members, who
    share them all, for one person)."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    levels: list[Any] = []
    if "nomor_kk" in fields:
        levels.append(cll.ExactMatchLevel("nomor_kk"))
    if {"kode_kelurahan", "rw", "rt"} <= fields:
        levels.append(cll.And(*(cll.ExactMatchLevel(c) for c in ("kode_kelurahan", "rw", "rt"))))
    if {"kode_kelurahan", "alamat"} <= fields:
        levels.append(cll.And(cll.ExactMatchLevel("kode_kelurahan"), cll.JaroWinklerLevel("alamat", 0.9)))
    if "kode_kelurahan" in fields:
        levels.append(cll.ExactMatchLevel("kode_kelurahan"))
    levels.append(cll.ElseLevel())
    return cl.CustomComparison(output_column_name="tempat", comparison_levels=levels)


# Blocking rules: (the fields each needs, its columns or SQL expressions).
_BLOCKING: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("nik",), ("nik",)),
    (("nomor_kk",), ("nomor_kk",)),
    (("tanggal_lahir", "nama_key"), ("tanggal_lahir", "substr(nama_key, 1, 1)")),
    (("tanggal_lahir", "nama_key"), ("tanggal_lahir", "substr(nama_tokens, 1, 1)")),
    (("tanggal_lahir", "kode_pos"), ("tanggal_lahir", "substr(kode_pos, 1, 3)")),
    (("tanggal_lahir", "kode_kelurahan"), ("tanggal_lahir", "kode_kelurahan")),
    (("nama_key", "tanggal_lahir"), ("nama_key", "substr(tanggal_lahir, 1, 4)")),  # the year: a decade of
    # one common name is over a hundred million pairs in a city
    (("nama_key", "kode_kelurahan"), ("nama_tokens", "kode_kelurahan")),
    (("nama_key", "kode_pos"), ("kode_pos", "substr(nama_tokens, 1, 3)")),
    (("nik",), ("substr(nik, 1, 12)",)),  # a 16-digit NIK without its serial: region, birth date, sex
)
# Where nothing finer places a person (no kelurahan, no KK: a list like FEBRL's), the start of the address does.
# Not otherwise: Indonesian addresses start alike ("JL. ", "GG. ", "KP. "), so in a city these blocks hold
# hundreds of thousands of people and billions of pairs.
_ADDRESS_BLOCKING: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("tanggal_lahir", "alamat"), ("tanggal_lahir", "substr(alamat, 1, 4)")),
    (("nama_key", "alamat"), ("substr(alamat, 1, 8)", "substr(nama_tokens, 1, 1)")),
)
_NAME_ALONE = (("nama_key",), ("nama_tokens",))  # when nothing places a person: the name's words alone


def _blocking(fields: set[str]) -> list[Any]:
    from splink import block_on

    rules = [columns for needs, columns in _BLOCKING if set(needs) <= fields]
    if not fields & {"kode_kelurahan", "nomor_kk"}:
        rules += [columns for needs, columns in _ADDRESS_BLOCKING if set(needs) <= fields]
    if "nama_key" in fields and not fields & {"tanggal_lahir", "kode_kelurahan", "kode_pos", "alamat"}:
        rules.append(_NAME_ALONE[1])
    return [block_on(*columns) for columns in rules]


def _settings(fields: set[str], link_type: LinkType, dukcapil_nik: bool) -> Any:
    from splink import SettingsCreator

    return SettingsCreator(
        link_type=link_type,
        unique_id_column_name=ID,
        comparisons=_comparisons(fields, dukcapil_nik),
        blocking_rules_to_generate_predictions=_blocking(fields),
        probability_two_random_records_match=0.0001,  # estimated below
    )


def _dukcapil(frames: Sequence[pl.DataFrame]) -> bool:
    """Whether the ``nik`` column holds Dukcapil NIKs (nine in ten of its values sixteen digits)."""
    if "nik" not in frames[0].columns:
        return False
    niks = pl.concat([f.select("nik") for f in frames])["nik"].drop_nulls()
    sixteen = int(niks.str.contains(r"^\d{16}$").sum())
    return niks.len() > 0 and sixteen >= 0.9 * niks.len()


def _shared(frames: Sequence[pl.DataFrame], columns: tuple[str, ...]) -> bool:
    """Whether two records share a value of ``columns`` (else an EM session blocked on them has no pairs)."""
    keys = pl.concat([f.select(columns) for f in frames]).drop_nulls()
    return bool(keys.is_duplicated().any())


def _train(linker: Any, fields: set[str], frames: Sequence[pl.DataFrame]) -> None:
    """Prior, u and m without labelled pairs. A session that cannot be estimated on this list is left out."""
    from splink import block_on
    from splink.internals.exceptions import SplinkException

    # The prior from pairs near-certain to be one person. A name and a birth date alone are not near-certain in a
    # city (two people of one common name are born the same day by chance, more often the larger the city): with
    # Dukcapil NIKs the pair must also have been registered in one kecamatan (the NIK's first twelve digits).
    same_birth = ("substr(nik, 1, 12)", "nama_key") if "nik" in fields and _dukcapil(frames) else ()
    certain = [
        block_on(*columns)
        for columns in (
            ("nik", "tanggal_lahir"),
            same_birth or ("nama_key", "tanggal_lahir"),
            ("nama_key", "nik"),
        )
        if set(_plain(columns)) <= fields
    ]
    if not certain and {"nama_key", "alamat"} <= fields:
        certain = [block_on("nama_key", "alamat")]
    if certain:
        try:
            linker.training.estimate_probability_two_random_records_match(certain, recall=0.7)
        except (ValueError, ZeroDivisionError):
            log.info("record linkage: no near-certain pairs; the prior stays at its default")
    linker.training.estimate_u_using_random_sampling(max_pairs=U_PAIRS, seed=SEED)
    for columns in _em_sessions(fields, frames):
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                block_on(*columns), max_pairs=EM_PAIRS
            )
        except (ValueError, ArithmeticError, SplinkException) as exc:  # nothing to learn from in this list
            log.info("record linkage: EM blocked on %s left out (%s)", columns, exc)


def _em_sessions(fields: set[str], frames: Sequence[pl.DataFrame]) -> list[tuple[str, ...]]:
    """The blocking columns of the EM sessions that learn m. A session learns only the fields its rule does not use,
    so each field is left free in one, and EM tells one person from two only where three conditions hold: the
    duplicates are not too rare among the pairs it is shown, at least two strong fields are free to agree, and
    the rule does not make unlike people look alike.

    - A list without a kelurahan (FEBRL's): people born the same day learn the name, the NIK and the place; people
      of one name learn the birth date.
    - A list with a kelurahan, like a city's registry: born one day, a city's people are a hundred million pairs
      with one duplicate in ten thousand, and EM then takes a birth cohort's alike names for the class. So the
      name is learnt from people born one day in one kelurahan, the birth date from people of one name in one
      kelurahan (duplicates one pair in a few hundred). The place, from people born one day registered at
      Dukcapil in one kecamatan (the NIK's first twelve digits: kecamatan, birth date, sex), where the name and
      the place are both free: a person registered twice there is found by the name wherever they live now.
      Without Dukcapil NIKs the place is learnt from people of one name and birth date, nearly all duplicates.
    """
    candidates: list[tuple[str, ...]]
    if "kode_kelurahan" in fields:
        place = (
            ("substr(nik, 1, 12)", "tanggal_lahir")
            if "nik" in fields and _dukcapil(frames)
            else ("nama_key", "tanggal_lahir")
        )
        candidates = [("tanggal_lahir", "kode_kelurahan"), ("nama_key", "kode_kelurahan"), place]
    else:
        candidates = [("tanggal_lahir",), ("nama_key",)]
    if "nik" in fields:
        candidates.append(("nik",))
    return [  # a session whose columns no two records share has no pairs to learn from
        columns
        for columns in candidates
        if set(_plain(columns)) <= fields and _shared(frames, _plain(columns))
    ]


def _plain(columns: tuple[str, ...]) -> tuple[str, ...]:
    """The list's own columns among blocking columns (``substr(nik, 1, 12)`` is derived from ``nik``'s)."""
    return tuple(c for c in columns if not c.startswith("substr("))


# ---------------------------------------------------------------------------------------------- engines


@contextmanager
def _engine(engine: str, master: str | None) -> Iterator[Callable[[pl.DataFrame], Any]]:
    """A function turning a Polars frame into a table of the engine Splink runs on."""
    if engine == "duckdb":
        import duckdb
        from splink.backends.duckdb import DuckDBAPI

        with tempfile.TemporaryDirectory(prefix="tepat-duckdb-") as spill:
            connection = duckdb.connect(config={"memory_limit": DUCKDB_MEMORY, "temp_directory": spill})
            api = DuckDBAPI(connection=connection)
            try:
                yield lambda frame: api.register(frame.to_arrow())
            finally:
                connection.close()
        return
    if engine != "spark":
        raise ValidationError(f"Mesin '{engine}' tidak dikenal; pilih {' atau '.join(ENGINES)}.")
    with spark_session("tepat-linkage", master) as spark:  # with Splink's string similarity functions
        from splink.backends.spark import SparkAPI

        spark_api = SparkAPI(spark_session=spark)  # type: ignore[no-untyped-call]
        yield lambda frame: spark_api.register(spark.createDataFrame(frame.to_pandas()))


def _scored(
    lists: Sequence[pl.DataFrame], link_type: LinkType, threshold: float, engine: str, master: str | None
) -> tuple[pl.DataFrame, int, int]:
    """(pairs above ``threshold`` as ``unique_id_l``/``unique_id_r``/``source_dataset_l``/``match_probability``,
    pairs compared, clusters of two or more records)."""
    from splink import Linker
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    fields = set(lists[0].columns) - {ID, SOURCE}
    with _engine(engine, master) as table:
        tables = [table(frame) for frame in lists]
        linker: Any = Linker(  # Any: Splink leaves query_sql untyped
            tables[0] if len(tables) == 1 else tables,
            _settings(fields, link_type, _dukcapil(lists)),
            log_level=logging.ERROR,
        )
        _train(linker, fields, lists)
        # Only the pairs above the threshold are kept (a city's candidate pairs, all scored, are tens of millions);
        # the candidate pairs are counted by Splink's blocking analysis, without scoring them again.
        predicted = linker.inference.predict(threshold_match_probability=threshold)
        source = f"{SOURCE}_l, " if link_type == "link_only" else ""
        pairs = linker.misc.query_sql(
            f"select unique_id_l, unique_id_r, {source}match_probability from {predicted.physical_name}",
            output_type="pandas",
        )
        compared = count_comparisons_from_blocking_rules(
            tables[0] if len(tables) == 1 else tables,
            blocking_rules=_blocking(fields),
            link_type=link_type,
            unique_id_column_name=ID,
            source_dataset_column_name=SOURCE if link_type == "link_only" else None,
            record_sample_proportion=1.0,
        )[-1]["cumulative_comparison_count"]
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predicted, threshold_match_probability=threshold
        )
        counted = linker.misc.query_sql(
            f"select count(*) as n from (select cluster_id from {clusters.physical_name} "
            "group by cluster_id having count(*) > 1) c",
            output_type="pandas",
        )["n"].iloc[0]
    frame = (
        pl.from_pandas(pairs) if len(pairs) else pl.DataFrame(schema=dict.fromkeys(pairs.columns, pl.String))
    )
    return frame, int(compared), int(counted)


def _check(threshold: float, engine: str) -> None:
    if not 0.0 < threshold < 1.0:
        raise ValidationError("Ambang peluang (--threshold) harus di antara 0 dan 1, mis. 0,9.")
    if engine not in ENGINES:
        raise ValidationError(f"Mesin '{engine}' tidak dikenal; pilih {' atau '.join(ENGINES)}.")


def deduplicate(
    people: PersonList,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    engine: str = "duckdb",
    master: str | None = None,
) -> LinkResult:
    """The pairs of records in one list that are the same person (``id_a < id_b`` as text)."""
    _check(threshold, engine)
    started = time.perf_counter()
    found, compared, clusters = _scored([prepared(people.frame)], "dedupe_only", threshold, engine, master)
    a, b = pl.col("unique_id_l").cast(pl.String), pl.col("unique_id_r").cast(pl.String)
    pairs = found.select(
        pl.min_horizontal(a, b).alias("id_a"),
        pl.max_horizontal(a, b).alias("id_b"),
        pl.col("match_probability").cast(pl.Float64).alias("probability"),
    ).sort("id_a", "id_b")
    return LinkResult(
        pairs,
        people.frame.height,
        compared,
        clusters,
        time.perf_counter() - started,
        threshold,
        engine,
        people.impossible_dates,
    )


def link(
    left: PersonList,
    right: PersonList,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    engine: str = "duckdb",
    master: str | None = None,
) -> LinkResult:
    """The pairs (a record of ``left``, a record of ``right``) that are the same person, compared on the fields
    both lists have."""
    _check(threshold, engine)
    shared = [c for c in left.fields if c in right.fields]
    if not shared:
        raise ValidationError(
            f"{left.name} dan {right.name} tidak punya kolom yang sama untuk dibandingkan; petakan dengan --mapping."
        )
    started = time.perf_counter()
    frames = [
        prepared(p.frame.select(ID, *shared)).with_columns(pl.lit(side).alias(SOURCE))
        for p, side in ((left, "a"), (right, "b"))
    ]
    found, compared, clusters = _scored(frames, "link_only", threshold, engine, master)
    from_left = pl.col(f"{SOURCE}_l") == "a"
    l_id, r_id = pl.col("unique_id_l").cast(pl.String), pl.col("unique_id_r").cast(pl.String)
    pairs = found.select(
        pl.when(from_left).then(l_id).otherwise(r_id).alias("id_a"),
        pl.when(from_left).then(r_id).otherwise(l_id).alias("id_b"),
        pl.col("match_probability").cast(pl.Float64).alias("probability"),
    ).sort("id_a", "id_b")
    return LinkResult(
        pairs,
        left.frame.height + right.frame.height,
        compared,
        clusters,
        time.perf_counter() - started,
        threshold,
        engine,
        left.impossible_dates + right.impossible_dates,
    )


MATCHED, SEVERAL, NONE = "cocok", "beberapa kandidat", "tidak ada"
OUTCOMES = (MATCHED, SEVERAL, NONE)


def per_row(left: PersonList, pairs: pl.DataFrame) -> pl.DataFrame:
    """For every record of ``left``: ``cocok`` (one record of the other list above the threshold), ``beberapa
    kandidat`` (several: a person must choose) or ``tidak ada``, with the most probable match."""
    best = (
        pairs.sort("probability", descending=True)
        .group_by("id_a", maintain_order=True)
        .agg(pl.len().alias("kandidat"), pl.col("id_b").first(), pl.col("probability").first())
    )
    return (
        left.frame.select(pl.col(ID).alias("id_a"))
        .join(best, on="id_a", how="left", maintain_order="left")
        .with_columns(pl.col("kandidat").fill_null(0))
        .select(
            "id_a",
            pl.when(pl.col("kandidat") == 0)
            .then(pl.lit(NONE))
            .when(pl.col("kandidat") == 1)
            .then(pl.lit(MATCHED))
            .otherwise(pl.lit(SEVERAL))
            .alias("hasil"),
            "kandidat",
            "id_b",
            "probability",
        )
    )
