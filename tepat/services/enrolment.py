"""Enrolment: a programme's candidates over the registry, why one family is in or out, and hand-made overrides.

Candidates come from ``tepat.store.candidates`` (rule, member rule, exclusions,
approved overrides, the budget/quota cut from the poorest), ranked and cut over
the whole city with the latest ranking run's scores; a user sees the part in
their area (so an operator's "kept" is the city's decision). Analysts get counts only.
An override (*tambah* / *hapus*) needs a reason and evidence; an admin other
than the requester approves or rejects it (maker-checker). Every by-name read and
every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa

from tepat.domain.access import Actor, Permission
from tepat.domain.audit_actions import AuditAction
from tepat.domain.cycles import CutPlace, cut_reason_text
from tepat.domain.deciles import DECILES
from tepat.domain.programmes import OverrideState, Programme, budget_for, level_of, member_rule_as_rule
from tepat.domain.rule_explain import Explanation, explain_rule
from tepat.domain.rules import parse_rule
from tepat.errors import FieldError, NotFound, PermissionDenied, StateError, ValidationError
from tepat.services import targeting
from tepat.services.eligibility import family_to_explain, rule_facts
from tepat.services.programmes import get_programme
from tepat.store import audit
from tepat.store import cycles as cycle_store
from tepat.store import families as family_store
from tepat.store import programmes as store
from tepat.store import targeting as score_store
from tepat.store.areas import join_on
from tepat.store.candidates import Scope, ranked_candidates, receiving, recipient_of_family
from tepat.store.database import Database
from tepat.store.engine import now
from tepat.store.schema import entitlements, families, members

OVERRIDE_ACTIONS = {"tambah": "Tambah", "hapus": "Hapus"}
PAGE_LIMIT = 500


@dataclass(frozen=True)
class CandidateList:
    """A programme's candidates in an area: counts by desil and kelurahan, and a page (none for analysts)."""

    programme: Programme
    reference_date: date
    model_id: int | None
    quota: int | None
    budget: int | None
    candidates: int
    kept: int
    kept_total: int
    by_desil: list[int]
    by_kelurahan: list[dict[str, Any]]
    page: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "program": self.programme["code"],
            "tanggal_acuan": self.reference_date.isoformat(),
            "model": self.model_id,
            "kuota": self.quota,
            "pagu": self.budget,
            "kandidat": self.candidates,
            "lolos_pagu": self.kept,
            "total_rupiah": self.kept_total,
            "per_desil": self.by_desil,
            "per_kelurahan": self.by_kelurahan,
            "halaman": self.page,
        }


def programme_scope(
    conn: sa.Connection,
    prog: Programme,
    actor: Actor,
    *,
    reference_date: date,
    period: tuple[date, date] | None = None,
    model_id: int | None = None,
    area_code: str | None = None,
    budget: int | None = None,
    quota: int | None = None,
    use_programme_limits: bool = True,
    exclude_cycle: int | None = None,
    whole_city: bool = False,
) -> Scope:
    """What a programme's candidates are computed over (the default budget is what the year has left).

    ``whole_city`` ranks and cuts over every family of the programme's office (the order and the budget are the
    city's, whoever looks); callers then show only the rows in the actor's area.
    """
    chosen = targeting.resolve_model(conn, model_id)
    if use_programme_limits:
        quota = quota if quota is not None else prog["quota"]
        year = (period or (reference_date, reference_date))[0].year
        year_budget = budget_for(prog, year)
        if budget is None and year_budget is not None:
            budget = max(
                year_budget - cycle_store.committed(conn, prog["id"], year, excluding=exclude_cycle), 0
            )
    return Scope(
        programme=prog,
        reference_date=reference_date,
        period=period or (reference_date, reference_date),
        model_id=chosen,
        area=family_store.in_area(prog["office_code"])
        if whole_city
        else targeting.area_condition(actor, area_code),
        quota=quota,
        budget=budget,
        overrides=store.approved_actions(conn, prog["id"]),
    )


def candidates(
    db: Database,
    actor: Actor,
    code: str,
    *,
    office: str | None = None,
    reference_date: date | None = None,
    area_code: str | None = None,
    offset: int = 0,
    limit: int = 20,
) -> CandidateList:
    """Counts (by desil, by kelurahan) and, for roles that read personal data, a page of candidates poorest first
    (``office``: whose catalogue, for an account above the offices)."""
    prog = get_programme(db, actor, code, office=office)
    day = reference_date or now().date()
    with db.read() as conn:
        targeting.area_condition(actor, area_code)  # refuses an area_code outside the actor's area
        scope = programme_scope(conn, prog, actor, reference_date=day, whole_city=True)
        ranked = ranked_candidates(scope).subquery("hasil")
        r = ranked.c
        shown = family_store.in_area(area_code or actor.area_code, r.kelurahan_code)
        kept_int = sa.case((r.kept == sa.true(), 1), else_=0)
        grouped = conn.execute(
            sa.select(
                r.kelurahan_code,
                r.desil,
                sa.func.count(),
                sa.func.sum(kept_int),
                sa.func.sum(sa.case((r.kept == sa.true(), r.amount), else_=0)),
            )
            .where(shown)
            .group_by(r.kelurahan_code, r.desil)
        ).all()
        page: list[dict[str, Any]] = []
        if actor.sees_personal_data and limit > 0:
            person = members.alias("orang_tampil")
            recipient_id = r.member_id if prog["unit"] == "orang" else recipient_of_family()
            q = (
                sa.select(
                    r.unit_key,
                    r.family_id,
                    r.member_id,
                    r.kelurahan_code,
                    r.desil,
                    r.score,
                    r.level,
                    r.amount,
                    r.source,
                    r.rank,
                    r.kept,
                    families.c.kk_number,
                    person.c.name,
                )
                .select_from(
                    ranked.join(families, join_on(r.family_id, families.c.id)).outerjoin(
                        person, person.c.id == recipient_id
                    )
                )
                .where(shown)
                .order_by(r.rank)
                .offset(max(offset, 0))
                .limit(min(limit, PAGE_LIMIT))
            )
            page = [dict(row) for row in conn.execute(q).mappings()]
    if page:
        with db.begin() as conn:
            audit.record(
                conn,
                actor,
                AuditAction.CANDIDATE_LIST,
                "programme_candidates",
                prog["code"],
                area_code=area_code or actor.area_code,
                detail={"offset": offset, "rows": len(page)},
            )
    for row in page:
        row["kelurahan_name"] = db.regions.name(row["kelurahan_code"])
    by_desil = [0] * DECILES
    kelurahan: dict[str, dict[str, Any]] = {}
    total = kept = kept_total = 0
    for kel, desil, n, k, amount in grouped:
        n, k, amount = int(n), int(k or 0), int(amount or 0)
        total, kept, kept_total = total + n, kept + k, kept_total + amount
        if desil is not None and 1 <= int(desil) <= DECILES:
            by_desil[int(desil) - 1] += n
        entry = kelurahan.setdefault(
            kel,
            {
                "kelurahan_code": kel,
                "kelurahan_name": db.regions.name(kel),
                "candidates": 0,
                "kept": 0,
                "total": 0,
            },
        )
        entry["candidates"] += n
        entry["kept"] += k
        entry["total"] += amount
    return CandidateList(
        prog,
        day,
        scope.model_id,
        scope.quota,
        scope.budget,
        total,
        kept,
        kept_total,
        by_desil,
        sorted(kelurahan.values(), key=lambda e: e["kelurahan_code"]),
        page,
    )


# ----------------------------------------------------------------- one family's explanation


@dataclass(frozen=True)
class PersonDecision:
    member_id: int
    name: str | None
    explanation: Explanation
    level: str | None


@dataclass(frozen=True)
class FamilyDecision:
    """Why a family (or each of its members) is in or out of a programme."""

    programme: Programme
    family_id: int
    rule: Explanation
    people: list[PersonDecision]
    exclusions: list[str]
    overrides: list[str]
    places: list[tuple[str, str]]  # (who, the cut sentence) for each candidate unit of the family
    included: bool
    reasons: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "program": self.programme["code"],
            "keluarga": self.family_id,
            "masuk": self.included,
            "alasan": self.reasons,
            "aturan": self.rule.as_dict(),
            "anggota": [
                {"id": p.member_id, "nama": p.name, "jenjang": p.level, **p.explanation.as_dict()}
                for p in self.people
            ],
            "pengecualian": self.exclusions,
            "perubahan_manual": self.overrides,
            "urutan": [{"penerima": who, "keterangan": text} for who, text in self.places],
        }


def explain(
    db: Database,
    actor: Actor,
    code: str,
    family_id: int,
    *,
    reference_date: date | None = None,
    period: tuple[date, date] | None = None,
) -> FamilyDecision:
    """The rule clause by clause, the member rule per person, exclusions, overrides and the place in the cut, by the
    programme of the family's office."""
    with db.read() as conn:
        fam = family_to_explain(conn, actor, family_id)
    office = db.offices.of(fam["kelurahan_code"])
    prog = get_programme(db, actor, code, office=office.code if office else None)
    day = reference_date or now().date()
    window = period or (day, day)
    per_person = prog["unit"] == "orang"
    with db.read() as conn:
        scope = programme_scope(conn, prog, actor, reference_date=day, period=window, whole_city=True)
        score = (
            score_store.family_score(conn, scope.model_id, family_id) if scope.model_id is not None else None
        )
        people = family_store.members_of(conn, family_id)
        excluded = _exclusions_of(conn, prog, family_id, window)
        overrides = [
            o
            for o in store.list_overrides(conn, prog["id"], families.c.id == family_id)
            if o["state"] == OverrideState.DISETUJUI
        ]
        ranked = ranked_candidates(scope).subquery("hasil")
        places = [
            dict(r)
            for r in conn.execute(
                sa.select(ranked).where(ranked.c.family_id == family_id).order_by(ranked.c.rank)
            ).mappings()
        ]
    facts, seen = rule_facts(actor, fam, people, score)
    rule = explain_rule(parse_rule(prog["rule"]), facts, seen, day)
    decisions: list[PersonDecision] = []
    if per_person:
        member_rule = member_rule_as_rule(prog["member_rule"] or "hidup and aktif")
        for m in seen:
            explanation = explain_rule(member_rule, facts, [m], day)
            level = level_of(m, day) if prog["amounts_by_level"] else None
            decisions.append(PersonDecision(int(m["id"]), m.get("name"), explanation, level))
    names = {int(m["id"]): m.get("name") or f"anggota {m['id']}" for m in seen}
    place_lines = []
    for p in places:
        who = names.get(int(p["member_id"]), "anggota") if per_person and p["member_id"] else "keluarga"
        cut_place = CutPlace(
            int(p["unit_key"]),
            int(p["rank"]),
            int(p["running_total"]),
            bool(p["kept"]),
            None
            if p["kept"]
            else ("kuota" if scope.quota is not None and p["rank"] > scope.quota else "anggaran"),
        )
        place_lines.append((who, cut_reason_text(cut_place, quota=scope.quota, budget=scope.budget)))
    override_lines = [
        f"{OVERRIDE_ACTIONS[o['action']]} oleh {o['requested_by']}, disetujui {o['decided_by']}: "
        f"{o['reason']} (bukti: {o['evidence']})"
        for o in overrides
    ]
    included = any(p["kept"] for p in places)
    reasons = _reasons(rule, decisions, excluded, override_lines, places, per_person)
    if actor.sees_personal_data:
        with db.begin() as conn:
            audit.record(
                conn,
                actor,
                AuditAction.EXPLANATION_READ,
                "programme_explanation",
                family_id,
                area_code=fam["kelurahan_code"],
                detail={"program": prog["code"]},
            )
    return FamilyDecision(
        prog, family_id, rule, decisions, excluded, override_lines, place_lines, included, reasons
    )


def _reasons(
    rule: Explanation,
    people: list[PersonDecision],
    excluded: list[str],
    overrides: list[str],
    places: list[dict[str, Any]],
    per_person: bool,
) -> list[str]:
    out: list[str] = []
    out.append("Memenuhi syarat keluarga." if rule.eligible else "Tidak memenuhi syarat keluarga.")
    if per_person:
        hits = sum(p.explanation.eligible for p in people)
        out.append(f"{hits} anggota memenuhi syarat anggota.")
    out += [f"Dikecualikan: {e}" for e in excluded]
    out += [f"Perubahan manual: {o}" for o in overrides]
    if places and not any(p["kept"] for p in places):
        out.append("Termasuk kandidat, tetapi terpotong oleh kuota atau pagu anggaran.")
    elif not places:
        out.append("Tidak termasuk kandidat.")
    return out


def _exclusions_of(
    conn: sa.Connection, prog: Programme, family_id: int, period: tuple[date, date]
) -> list[str]:
    codes = list(prog["exclusions"] or [])
    if not codes:
        return []
    q = receiving(codes, period).where(entitlements.c.family_id == family_id)
    return [f'sudah menerima {r.code} pada siklus "{r.name}"' for r in conn.execute(q)]


# ----------------------------------------------------------------- overrides (maker-checker)


def request_override(
    db: Database,
    actor: Actor,
    code: str,
    family_id: int,
    action: str,
    reason: str,
    evidence: str,
    *,
    member_id: int | None = None,
    upload_id: int | None = None,
) -> int:
    """An operator (in the area) or admin asks to add or remove a unit by hand; a different admin decides."""
    if not actor.may(Permission.EDIT_REGISTRY):
        raise PermissionDenied("Hanya operator dan Admin Dinsos yang dapat mengajukan perubahan penerima.")
    errors = []
    if action not in OVERRIDE_ACTIONS:
        errors.append(FieldError("action", "Pilih tambah atau hapus"))
    if len(reason.strip()) < 10:
        errors.append(FieldError("reason", "Alasan wajib diisi (paling sedikit 10 karakter)"))
    if not evidence.strip():
        errors.append(FieldError("evidence", "Bukti wajib diisi, mis. nomor Berita Acara musyawarah"))
    if errors:
        raise ValidationError("Pengajuan belum lengkap.", errors)
    prog = get_programme(db, actor, code)
    with db.begin() as conn:
        fam = family_store.get(conn, family_id)
        if fam is None or not actor.can_edit_registry(fam["kelurahan_code"]):
            raise NotFound("Keluarga tidak ditemukan")
        if prog["unit"] == "orang":
            person = family_store.get_member(conn, member_id) if member_id is not None else None
            if person is None or person["family_id"] != family_id:
                raise ValidationError(
                    "Program ini per orang: pilih anggota keluarga.",
                    [FieldError("member_id", "Pilih anggota keluarga")],
                )
        else:
            member_id = None
        if store.open_override_exists(conn, prog["id"], family_id, member_id):
            raise StateError("Sudah ada pengajuan yang menunggu atau berlaku untuk penerima ini.")
        override_id = store.insert_override(
            conn,
            {
                "programme_id": prog["id"],
                "family_id": family_id,
                "member_id": member_id,
                "action": action,
                "reason": reason.strip()[:1000],
                "evidence": evidence.strip()[:255],
                "upload_id": upload_id,
                "state": OverrideState.DIAJUKAN.value,
                "requested_by": actor.username,
                "requested_at": now(),
            },
        )
        audit.record(
            conn,
            actor,
            AuditAction.OVERRIDE_REQUEST,
            "enrolment_override",
            override_id,
            area_code=fam["kelurahan_code"],
            detail={
                "program": prog["code"],
                "action": action,
                "family_id": family_id,
                "member_id": member_id,
                "reason": reason.strip(),
                "evidence": evidence.strip(),
            },
        )
    return override_id


def decide_override(db: Database, actor: Actor, override_id: int, approve: bool, note: str = "") -> None:
    """Approve or reject a pending override: an admin in the family's area, not the requester."""
    if not actor.may(Permission.MANAGE_PROGRAMMES):
        raise PermissionDenied("Hanya Admin Dinsos yang dapat menyetujui atau menolak perubahan penerima.")
    with db.begin() as conn:
        row = store.get_override(conn, override_id, lock=True)
        if row is None or not actor.in_area(row["kelurahan_code"]):
            raise NotFound("Pengajuan tidak ditemukan")
        if row["state"] != OverrideState.DIAJUKAN:
            raise StateError(f"Pengajuan ini sudah {OverrideState(row['state']).label.lower()}.")
        if row["requested_by"] == actor.username:
            raise PermissionDenied("Pengajuan harus diputuskan orang lain, bukan pengajunya (maker-checker).")
        if not approve and not note.strip():
            raise ValidationError(
                "Tulis alasan penolakan.", [FieldError("note", "Alasan penolakan wajib diisi")]
            )
        state = (OverrideState.DISETUJUI if approve else OverrideState.DITOLAK).value
        if not store.decide_override(
            conn,
            override_id,
            OverrideState.DIAJUKAN.value,
            {
                "state": state,
                "decided_by": actor.username,
                "decided_at": now(),
                "decision_note": note.strip() or None,
            },
        ):
            raise StateError("Pengajuan ini sudah diputuskan orang lain.")
        audit.record(
            conn,
            actor,
            AuditAction.OVERRIDE_APPROVE if approve else AuditAction.OVERRIDE_REJECT,
            "enrolment_override",
            override_id,
            area_code=row["kelurahan_code"],
            detail={"program": row["programme_code"], "note": note.strip()},
        )


def list_overrides(
    db: Database, actor: Actor, code: str, state: str | None = None, *, office: str | None = None
) -> list[dict[str, Any]]:
    """Overrides of a programme in the actor's area (names only for roles that read personal data)."""
    prog = get_programme(db, actor, code, office=office)
    with db.read() as conn:
        rows = store.list_overrides(conn, prog["id"], family_store.in_area(actor.area_code), state)
    if not actor.sees_personal_data:
        for r in rows:
            r["member_name"] = None
            r["kk_number"] = None
    return rows
