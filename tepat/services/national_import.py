"""An office imports its part of a national ranking (``tepat pmt import-ranks``) as a ranking run of the same
model version stored here. See ``tepat.services.national_ranking`` for the whole flow."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from tepat.domain.access import Actor
from tepat.domain.audit_actions import AuditAction
from tepat.domain.welfare import model_fingerprint
from tepat.errors import ValidationError
from tepat.services.national_ranking import RESULT_MANIFEST
from tepat.services.registry_ranking import Ranked, RankingResult, require_city_ranking, store_ranking
from tepat.store import pmt_features
from tepat.store import targeting as store
from tepat.store.database import Database
from tepat.store.engine import now


@dataclass(frozen=True)
class ImportedRanks:
    """A national ranking imported by one office: the run it became, and what did not fit the registry now."""

    ranking: RankingResult
    changed_since_snapshot: (
        int  # families edited after the snapshot: their national desil is kept until the next
    )
    no_longer_active: int  # in the ranking, no longer active here: left out
    not_ranked: (
        int  # active here, not in the ranking (registered after the snapshot): no desil under the version
    )

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.ranking.as_dict(),
            "changed_since_snapshot": self.changed_since_snapshot,
            "no_longer_active": self.no_longer_active,
            "not_ranked": self.not_ranked,
        }


def import_ranks(db: Database, actor: Actor, results_dir: Path) -> ImportedRanks:
    """Store this office's part of a national ranking (``results_dir``, as ``tepat nasional rank`` wrote it) as a
    ranking run of the same model version stored here."""
    require_city_ranking(db, actor)
    manifest_path = results_dir / RESULT_MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        model_sha256, day = str(manifest["model_sha256"]), date.fromisoformat(str(manifest["reference_date"]))
    except (OSError, ValueError, KeyError, TypeError):
        raise ValidationError(
            f"{manifest_path} tidak ada atau bukan manifest peringkat nasional (tepat nasional rank)."
        ) from None
    found = {code: sorted((results_dir / f"office={code}").glob("*.parquet")) for code in db.offices.codes}
    missing = [code for code, parts in found.items() if not parts]
    if missing:
        raise ValidationError(
            f"Hasil peringkat nasional di {results_dir} tidak memuat kantor ini ({', '.join(missing)})."
        )
    files = [part for parts in found.values() for part in parts]
    started = now()
    with db.begin() as conn:
        model_id = _model_with(conn, model_sha256)
        rows = (
            pl.read_parquet(files).select("family_id", "family_version", "score", "desil").sort("family_id")
        )
        ids, versions, _ = pmt_features.read_features(conn, [], day)  # active families, by id
        active = np.isin(rows["family_id"].to_numpy(), ids)
        kept = rows.filter(pl.Series(active))
        now_version = versions[np.searchsorted(ids, kept["family_id"].to_numpy())]
        changed = int((now_version != kept["family_version"].to_numpy()).sum())
        ranked = Ranked(
            kept["family_id"].to_numpy(),
            kept["family_version"].to_numpy(),
            kept["score"].to_numpy(),
            kept["desil"].cast(pl.Int64).to_numpy(),
        )
        result = store_ranking(
            conn,
            actor,
            model_id,
            day,
            started,
            ranked,
            action=AuditAction.PMT_MODEL_IMPORT_RANKS,
            detail={
                "national": True,
                "engine": manifest.get("engine"),
                "families_national": manifest.get("families"),
            },
        )
    return ImportedRanks(
        result,
        changed_since_snapshot=changed,
        no_longer_active=int((~active).sum()),
        not_ranked=int(len(ids) - kept.height),
    )


def _model_with(conn: Any, model_sha256: str) -> int:
    """The id of the version stored here whose spec has ``model_sha256``; refused when none has."""
    for row in store.list_models(conn):  # each with its spec
        if model_fingerprint(row["spec"]) == model_sha256:
            return int(row["id"])
    raise ValidationError(
        f"Versi model PMT peringkat nasional ({model_sha256[:12]}…) tidak ada di basis data ini: simpan model yang "
        "sama (tepat pmt fit --save dengan survei yang sama) lalu impor lagi."
    )
