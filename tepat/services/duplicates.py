"""The duplicate search (issue 15): probabilistic record linkage over the registry's active members.

Splink (Fellegi–Sunter) compares every pair its blocking rules propose, on the
NIK (Damerau–Levenshtein: one digit typed wrongly or two swapped), the name
(``tepat.domain.linkage.name_key`` and ``name_core``, then Jaro–Winkler), the
birth date, sex, the KK number, the kelurahan and the RW/RT. Its parameters are
estimated from the registry itself, without labelled pairs: the prior from
pairs that share a NIK, u by random sampling, m by expectation maximisation
under two blocking rules. The fitted model is stored with each run
(``linkage_models``), and every pair keeps its match probability and each
field's match weight, the evidence a person reads on the *Duplikat* page.
Blocking keeps the work set-based: only pairs sharing a birth date, a KK
number, a name within a kelurahan or a NIK's first twelve digits are scored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from tepat.domain.access import Actor, Permission
from tepat.domain.audit_actions import AuditAction
from tepat.domain.linkage import Evidence, PairDecision, name_core, name_key
from tepat.errors import ConflictError, NotFound, ValidationError
from tepat.services.office import working_area
from tepat.store import audit
from tepat.store import duplicates as store
from tepat.store.database import Database
from tepat.store.engine import now

log = logging.getLogger("tepat.duplicates")
DEFAULT_THRESHOLD = 0.9
EM_MIN_RECORDS = (
    20_000  # below this EM has too few look-alike pairs to learn from: the starting m values stay
)
COMPARED_FIELDS = ("nik", "name", "birth_date", "sex", "kk_number", "kelurahan_code", "rw_rt")
_U_PAIRS = 2_000_000  # random pairs for u: enough for stable estimates at city scale, seconds of work


@dataclass(frozen=True)
class SearchResult:
    """One run: the stored model, how many records were compared and what happened to the queue."""

    model_id: int | None
    records: int
    pairs: int
    counts: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model_id, "catatan": self.records, "pasangan": self.pairs, **self.counts}


def _prepared(records: pl.DataFrame) -> pl.DataFrame:
    # Each distinct name is normalised once (a city repeats its names many times over), then joined back.
    names = records.select(pl.col("name").unique().drop_nulls())["name"].to_list()
    keys = pl.DataFrame(
        {"name": names, "name_key": [name_key(n) for n in names], "name_core": [name_core(n) for n in names]},
        schema={"name": pl.String, "name_key": pl.String, "name_core": pl.String},
    )
    return (
        records.join(keys, on="name", how="left", maintain_order="left")
        .with_columns(
            pl.col("nik").str.slice(0, 12).alias("nik_head"),
            pl.format("{}/{}", pl.col("rw"), pl.col("rt")).alias("rw_rt"),
        )
        .drop("name", "rw", "rt")
    )


def _settings(prior: float | None = None) -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    name = cl.CustomComparison(
        output_column_name="name",
        comparison_description="name",
        comparison_levels=[
            cll.NullLevel("name_key"),
            cll.ExactMatchLevel("name_key").configure(m_probability=0.7),
            cll.ExactMatchLevel("name_core").configure(m_probability=0.1),
            cll.JaroWinklerLevel("name_key", 0.92).configure(m_probability=0.1),
            cll.JaroWinklerLevel("name_key", 0.8).configure(m_probability=0.05),
            cll.ElseLevel().configure(m_probability=0.05),
        ],
    )
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            # The NIK exactly, nothing closer: its region and birth date digits would count again what the
            # kelurahan and birth date comparisons count (Fellegi-Sunter adds evidence as if fields were
            # independent), and Dukcapil numbers people born the same day in one kecamatan one after another
            # (0001, 0002, ...), so a NIK one digit away is as often a neighbour as a typing slip. The name, the
            # birth date and the place decide; a mistyped NIK is found by the blocking on its first twelve digits.
            # The m values below are where EM starts, and what stays when a registry is too small for EM: how
            # often one person's two records agree, as registry audits find it.
            cl.ExactMatch("nik").configure(
                m_probabilities=[0.01, 0.99]
            ),  # two records: two NIKs, almost always
            name,
            cl.DateOfBirthComparison("birth_date", input_is_string=True).configure(
                m_probabilities=[0.88, 0.05, 0.03, 0.02, 0.01, 0.01]
            ),
            cl.ExactMatch("sex").configure(m_probabilities=[0.98, 0.02]),
            cl.ExactMatch("kk_number").configure(m_probabilities=[0.1, 0.9]),  # mostly in another KK
            cl.ExactMatch("kelurahan_code").configure(m_probabilities=[0.7, 0.3]),
            cl.ExactMatch("rw_rt").configure(m_probabilities=[0.3, 0.7]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("birth_date"),
            block_on("kk_number"),
            block_on("name_key", "kelurahan_code"),
            block_on("nik_head"),
        ],
        retain_intermediate_calculation_columns=True,  # each field's match weight: the evidence
        probability_two_random_records_match=prior if prior is not None else 0.0001,  # (estimated below)
    )


def _fit_and_predict(
    records: pl.DataFrame, threshold: float, seed: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Splink over ``records`` in an in-memory DuckDB: (the trained model's JSON, the pairs above ``threshold``)."""
    from splink import Linker, block_on
    from splink.backends.duckdb import DuckDBAPI

    table = _prepared(records).to_arrow()
    linker = Linker(DuckDBAPI().register(table), _settings(), log_level=logging.ERROR)
    # The prior from the pairs near-certain to be one person (the same name core and birth date), bounded to what a
    # registry plausibly holds: between 0.1 % and 10 % of its records registered twice (a small or clean registry
    # would otherwise give 0, a small one with common names far too much).
    linker.training.estimate_probability_two_random_records_match(
        [block_on("name_core", "birth_date")], recall=0.8
    )
    pairs = records.height * (records.height - 1) / 2
    low, high = 0.001 * records.height / pairs, 0.1 * records.height / pairs
    estimated = linker.misc.save_model_to_json()["probability_two_random_records_match"]
    if not low <= estimated <= high:
        prior = min(max(estimated, low), high)
        linker = Linker(DuckDBAPI().register(table), _settings(prior), log_level=logging.ERROR)
    linker.training.estimate_u_using_random_sampling(max_pairs=_U_PAIRS, seed=seed)
    # m by EM, in two sessions whose blocked pairs hold the duplicates and their look-alikes: people of one name
    # core and birth date (trains the place, sex, KK); people born the same day in one kelurahan (trains the name).
    if records.height < EM_MIN_RECORDS:
        return linker.misc.save_model_to_json(), linker.inference.predict(
            threshold_match_probability=threshold
        ).as_record_list()
    for rule in (block_on("name_core", "birth_date"), block_on("birth_date", "kelurahan_code")):
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        except (
            ValueError
        ):  # a small registry can drive an m to underflow: that session's estimates are left out
            log.warning("duplicate search: EM under %s did not converge to usable values; skipped", rule)
    predicted = linker.inference.predict(threshold_match_probability=threshold).as_record_list()
    return linker.misc.save_model_to_json(), predicted


def _pair(row: dict[str, Any], versions: dict[int, int]) -> dict[str, Any]:
    left, right = sorted((int(row["unique_id_l"]), int(row["unique_id_r"])))
    return {
        "member_l": left,
        "member_r": right,
        "version_l": versions[left],
        "version_r": versions[right],
        "match_probability": float(row["match_probability"]),
        "match_weight": float(row["match_weight"]),
        "evidence": {f: round(float(row.get(f"mw_{f}") or 0.0), 3) for f in COMPARED_FIELDS},
    }


SEARCH_STEPS = ("Membaca data anggota", "Melatih model dan membandingkan pasangan", "Menyimpan pasangan")
"""The steps a search reports (``progress(step, len(SEARCH_STEPS))`` as each begins), named for its page."""


def search(
    db: Database,
    actor: Actor,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    seed: int = 1,
    progress: Callable[[int, int | None], None] | None = None,
) -> SearchResult:
    """Compare the active members of the actor's area and put the likely duplicates in the review queue."""
    step = progress or (lambda done, total: None)
    actor.require(Permission.EDIT_REGISTRY)
    if not 0.5 <= threshold < 1.0:
        raise ValidationError("Ambang peluang harus antara 0,5 dan kurang dari 1.")
    area = working_area(db, actor)
    step(1, len(SEARCH_STEPS))
    with db.read() as conn:
        records = store.compared_records(conn, area)
    if records.height < 2:
        return SearchResult(None, records.height, 0, {"baru": 0, "diperbarui": 0, "tetap": 0, "dihapus": 0})
    step(2, len(SEARCH_STEPS))
    model, predicted = _fit_and_predict(records, threshold, seed)
    versions = dict(zip(records["unique_id"].to_list(), records["version"].to_list(), strict=True))
    found = [_pair(row, versions) for row in predicted]
    step(3, len(SEARCH_STEPS))
    at = now()
    with db.begin() as conn:
        model_id = store.insert_model(
            conn,
            {
                "area_code": area,
                "model": model,
                "records": records.height,
                "pairs": len(found),
                "threshold": threshold,
                "created_by": actor.username,
                "created_at": at,
            },
        )
        counts = store.save_pairs(conn, model_id, found, at, area)
        audit.record(
            conn,
            actor,
            AuditAction.DUPLICATE_SEARCH,
            "linkage_model",
            model_id,
            area_code=area,
            detail={"catatan": records.height, "pasangan": len(found), **counts},
        )
    return SearchResult(model_id, records.height, len(found), counts)


def last_search(db: Database, actor: Actor) -> dict[str, Any] | None:
    """When the actor's area was last searched, by whom, over how many records."""
    with db.read() as conn:
        return store.last_model(conn, working_area(db, actor))


def evidence_of(pair: dict[str, Any]) -> list[Evidence]:
    """A pair's per-field match weights, strongest first (the waterfall a person reads)."""
    return sorted((Evidence(f, float(w)) for f, w in pair["evidence"].items()), key=lambda e: -abs(e.weight))


def queue(
    db: Database,
    actor: Actor,
    *,
    decision: PairDecision | None = PairDecision.BELUM,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The pairs both of whose records lie in the actor's area, most probable first (an audited read)."""
    actor.require(Permission.READ_PERSONAL)
    area = working_area(db, actor)
    with db.read() as conn:
        found = store.pairs(
            conn, area, decision=decision.value if decision else None, limit=limit, offset=offset
        )
    audit.record_read(
        db,
        actor,
        AuditAction.DUPLICATE_READ,
        "duplicate_pairs",
        None,
        area_code=area,
        detail={"pasangan": len(found)},
    )
    return found


def decide(db: Database, actor: Actor, pair_id: int, decision: PairDecision, note: str = "") -> None:
    """Record staff's decision on a pair (audited). ``berbeda`` keeps the pair out of the queue while both
    records stay as they are."""
    if decision is PairDecision.BELUM:
        raise ValidationError("Pilih keputusan: sama orang, berbeda orang, atau perlu kunjungan.")
    with db.begin() as conn:
        found = store.pair(conn, pair_id)
        if found is None or not (actor.in_area(found["kelurahan_l"]) and actor.in_area(found["kelurahan_r"])):
            raise NotFound("Pasangan tidak ditemukan.")
        actor.require(Permission.EDIT_REGISTRY, found["kelurahan_l"])
        if (found["version_l"], found["version_r"]) != (found["now_version_l"], found["now_version_r"]):
            raise ConflictError(
                "Data salah satu orang pada pasangan ini sudah berubah sejak pasangan ditemukan; bukti yang tampil "
                "tidak lagi sesuai. Jalankan pencarian duplikat lagi, lalu putuskan."
            )
        store.decide(conn, pair_id, decision.value, actor.username, now(), note.strip()[:500] or None)
        audit.record(
            conn,
            actor,
            AuditAction.DUPLICATE_DECIDE,
            "duplicate_pairs",
            pair_id,
            area_code=found["kelurahan_l"],
            detail={
                "keputusan": decision.value,
                "anggota": [found["member_l"], found["member_r"]],
                "catatan": note.strip()[:500] or None,
            },
        )
