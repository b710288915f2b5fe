"""CLI commands: ``tepat program …`` (catalogue, candidates, explanations, overrides; cycles are ``tepat.cli.cycles``).

Commands that change something act as a named account (``--as USERNAME``), so
that maker-checker holds on the command line as on the pages: the approver of a
cycle or an override must be another user than its maker. Reading commands run
as the system (city-wide admin) unless ``--as`` is given.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any

import typer

from tepat.cli import common
from tepat.cli.common import (
    AsOption,
    AsReader,
    DatabaseOption,
    JsonOption,
    OfficeOption,
    fail,
    office_actor,
    open_as_office,
    open_database,
    print_json,
)
from tepat.domain.formatting import number, rupiah
from tepat.domain.programmes import TERMS, OverrideState, Programme
from tepat.services import enrolment, programmes

program_app = typer.Typer(
    help="Programme catalogue, candidates, explanations and enrolment overrides.", no_args_is_help=True
)
override_app = typer.Typer(
    help="Hand-made enrolment changes (tambah/hapus) with maker-checker.", no_args_is_help=True
)


# ----------------------------------------------------------------- tepat program


@program_app.command("list")
def list_(db_url: DatabaseOption = None, as_json: JsonOption = False) -> None:
    """The catalogue."""
    db = open_database(db_url)
    rows = programmes.list_programmes(db, office_actor(db))
    if as_json:
        print_json([_programme_json(r) for r in rows])
        return
    if not rows:
        typer.echo("Katalog program masih kosong. Jalankan: tepat program seed")
        return
    several = len({r["office_code"] for r in rows}) > 1
    for r in rows:
        state = "" if r["active"] else "  (tidak aktif)"
        office = f"{r['office_code']}  " if several else ""
        typer.echo(
            f"{office}{r['code']:<20} {r['unit']:<9} {r['benefit_type']:<9} {rupiah(r['amount']):>14}  {r['name']}{state}"
        )


def _programme_json(r: Programme) -> dict[str, Any]:
    keys = ("office_code", "code", "name", "description", *TERMS, "active", "version", "updated_by")
    row: Mapping[str, Any] = r
    return {k: row[k] for k in keys}


@program_app.command("show")
def show(
    code: str, office: OfficeOption = None, db_url: DatabaseOption = None, as_json: JsonOption = False
) -> None:
    """One programme with its rule and limits."""
    r = programmes.get_programme(*open_as_office(db_url), code, office=office)
    if as_json:
        print_json(_programme_json(r))
        return
    typer.echo(f"{r['code']}: {r['name']} (versi {r['version']})")
    typer.echo(
        f"  Satuan {r['unit']}, manfaat {r['benefit_type']}, dana {r['funding_source']}, frekuensi {r['frequency']}"
    )
    if r["amounts_by_level"]:
        typer.echo("  Besaran: " + ", ".join(f"{k} {rupiah(v)}" for k, v in r["amounts_by_level"].items()))
    else:
        typer.echo(f"  Besaran: {rupiah(r['amount'])}")
    typer.echo(
        f"  Anggaran {r['budget_year']}: {rupiah(r['annual_budget']) if r['annual_budget'] is not None else 'tanpa pagu'}"
        + (f", kuota {number(r['quota'])}" if r["quota"] else "")
    )
    typer.echo(f"  Aturan: {r['rule']}")
    if r["member_rule"]:
        typer.echo(f"  Syarat anggota: {r['member_rule']}")
    if r["exclusions"]:
        typer.echo(f"  Dikecualikan penerima: {', '.join(r['exclusions'])}")


@program_app.command("add")
def add(
    code: Annotated[str, typer.Argument(help="Programme code: capitals, digits, '-' (e.g. BLT-DD).")],
    name: Annotated[str, typer.Option("--name", help="Full name, as residents read it.")],
    unit: Annotated[str, typer.Option("--unit", help="keluarga or orang.")] = "keluarga",
    benefit_type: Annotated[
        str, typer.Option("--type", help="tunai, barang, layanan or pelatihan.")
    ] = "tunai",
    funding: Annotated[str, typer.Option("--funding", help="APBD or APBN.")] = "APBD",
    frequency: Annotated[
        str, typer.Option("--frequency", help="sekali, bulanan, tahunan or angkatan.")
    ] = "sekali",
    amount: Annotated[
        str, typer.Option("--amount", help="Rupiah per unit per cycle (0 for a service).")
    ] = "0",
    budget_year: Annotated[
        int, typer.Option("--budget-year", help="The year the budget is for.")
    ] = date.today().year,
    budget: Annotated[
        str, typer.Option("--budget", help="That year's budget in rupiah (empty: no cap).")
    ] = "",
    rule: Annotated[str, typer.Option("--rule", help="Family eligibility rule.")] = 'status == "aktif"',
    quota: Annotated[str, typer.Option("--quota", help="Units per cycle (empty: none).")] = "",
    coverage_months: Annotated[str, typer.Option("--coverage-months", help="Months a service covers.")] = "",
    description: Annotated[str, typer.Option("--description", help="What it is for.")] = "",
    office: OfficeOption = None,
    acting: AsOption = "",
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a programme to the catalogue (admins; the rule is checked first)."""
    db = open_database(db_url)
    actor = common.acting(db, acting)
    programmes.create_programme(
        db,
        actor,
        {
            "code": code,
            "name": name,
            "unit": unit,
            "benefit_type": benefit_type,
            "funding_source": funding,
            "frequency": frequency,
            "amount": amount,
            "budget_year": budget_year,
            "annual_budget": budget,
            "rule": rule,
            "quota": quota,
            "coverage_months": coverage_months,
            "description": description,
        },
        office=office,
    )
    row = programmes.get_programme(db, actor, code.strip().upper(), office=office)
    common.tell(as_json, _programme_json(row), f"Program {row['code']} ditambahkan: {row['name']}.")


@program_app.command("seed")
def seed(office: OfficeOption = None, db_url: DatabaseOption = None, as_json: JsonOption = False) -> None:
    """Add the seed programmes missing from an office's catalogue (existing ones are left as edited)."""
    added = programmes.seed_catalogue(*open_as_office(db_url), office=office)
    common.tell(
        as_json,
        {"ditambahkan": added},
        f"{len(added)} program ditambahkan"
        + (f": {', '.join(added)}." if added else " (katalog sudah lengkap)."),
    )


@program_app.command("set")
def set_(
    code: str,
    acting: AsOption = "",
    amount: Annotated[str | None, typer.Option("--amount", help="Rupiah per unit per cycle.")] = None,
    rule: Annotated[str | None, typer.Option("--rule", help="Family eligibility rule.")] = None,
    member_rule: Annotated[
        str | None, typer.Option("--member-rule", help="Condition on one member (unit orang).")
    ] = None,
    budget: Annotated[
        str | None, typer.Option("--budget", help="The budget year's budget in rupiah ('' for none).")
    ] = None,
    budget_year: Annotated[
        int | None, typer.Option("--budget-year", help="The year the budget is for.")
    ] = None,
    quota: Annotated[str | None, typer.Option("--quota", help="Units per cycle ('' for none).")] = None,
    levels: Annotated[
        str | None, typer.Option("--levels", help='Amounts by level as JSON, e.g. {"SD":450000,...}.')
    ] = None,
    exclusions: Annotated[
        str | None, typer.Option("--exclusions", help="Comma-separated programme codes.")
    ] = None,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="Switch the programme on or off.")
    ] = None,
    office: OfficeOption = None,
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change amounts, budget, quota, rules or exclusions (the rule is checked first)."""
    db = open_database(db_url)
    actor = common.acting(db, acting)
    changes: dict[str, Any] = {}
    for key, value in (
        ("amount", amount),
        ("rule", rule),
        ("member_rule", member_rule),
        ("annual_budget", budget),
        ("quota", quota),
        ("exclusions", exclusions),
    ):
        if value is not None:
            changes[key] = value
    if budget_year is not None:
        changes["budget_year"] = budget_year
    if levels is not None:
        try:
            changes["amounts_by_level"] = json.loads(levels) if levels.strip() else None
        except json.JSONDecodeError:
            fail('--levels harus JSON, mis. {"SD": 450000, "SMP": 750000, "SMA": 1800000}.')
    if active is not None:
        changes["active"] = active
    if not changes:
        fail("Tidak ada yang diubah: beri paling sedikit satu opsi, mis. --amount 300000.")
    current = programmes.get_programme(db, actor, code, office=office)
    row = programmes.update_programme(db, actor, code, current["version"], changes, office=office)
    common.tell(as_json, _programme_json(row), f"Program {row['code']} disimpan (versi {row['version']}).")


@program_app.command("candidates")
def candidates(
    code: str,
    limit: Annotated[int, typer.Option("--limit", help="How many candidates to list, poorest first.")] = 20,
    on: Annotated[str, typer.Option("--date", help="Reference date (default: today).")] = "",
    office: OfficeOption = None,
    acting: AsReader = "",
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Candidates of a programme: counts by desil and kelurahan, and the first ones poorest first."""
    db = open_database(db_url)
    result = enrolment.candidates(
        db,
        common.reader(db, acting),
        code,
        reference_date=common.parse_day(on, "--date") if on else None,
        limit=limit,
        office=office,
    )
    if as_json:
        print_json(result.as_dict())
        return
    typer.echo(
        f"{result.programme['code']}: {number(result.candidates)} kandidat, {number(result.kept)} masuk kuota/pagu "
        f"({rupiah(result.kept_total)}); pagu {rupiah(result.budget)}, kuota {number(result.quota)}."
    )
    typer.echo("Per desil: " + ", ".join(f"{i + 1}: {number(n)}" for i, n in enumerate(result.by_desil) if n))
    for r in result.page:
        mark = "" if r["kept"] else "  (terpotong)"
        typer.echo(
            f"  {r['rank']:>6}. keluarga {r['family_id']:<8} {r['name'] or '–':<30} desil {r['desil'] or '–'} "
            f"{rupiah(r['amount'])}{mark}"
        )


@program_app.command("explain")
def explain(
    code: str,
    family: Annotated[int, typer.Option("--family", help="Family id.")],
    on: Annotated[str, typer.Option("--date", help="Reference date (default: today).")] = "",
    acting: AsReader = "",
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Why a family (or each of its members) is in or out of a programme."""
    db = open_database(db_url)
    decision = enrolment.explain(
        db,
        common.reader(db, acting),
        code,
        family,
        reference_date=common.parse_day(on, "--date") if on else None,
    )
    if as_json:
        print_json(decision.as_dict())
        return
    typer.echo(
        f"Keluarga {family} — {decision.programme['code']}: {'MASUK' if decision.included else 'TIDAK MASUK'}"
    )
    typer.echo(decision.rule.text())
    for p in decision.people:
        typer.echo(
            f"  {p.name or 'anggota ' + str(p.member_id)}: {'memenuhi' if p.explanation.eligible else 'tidak memenuhi'}"
            + (f" (jenjang {p.level})" if p.level and p.explanation.eligible else "")
        )
    for line in decision.reasons:
        typer.echo(f"- {line}")
    for who, text in decision.places:
        typer.echo(f"- {who}: {text}")


@override_app.command("request")
def override_request(
    code: str,
    family: Annotated[int, typer.Option("--family", help="Family id.")],
    action: Annotated[str, typer.Option("--action", help="tambah or hapus.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (at least 10 characters).")],
    evidence: Annotated[str, typer.Option("--evidence", help="Evidence, e.g. the BA number.")],
    member: Annotated[int | None, typer.Option("--member", help="Member id (programmes per person).")] = None,
    acting: AsOption = "",
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ask to add or remove a family (or person) by hand; another admin decides."""
    db = open_database(db_url)
    override_id = enrolment.request_override(
        db, common.acting(db, acting), code, family, action, reason, evidence, member_id=member
    )
    common.tell(
        as_json,
        {"id": override_id, "status": OverrideState.DIAJUKAN.value},
        f"Pengajuan {override_id} tercatat; menunggu keputusan admin lain.",
    )


@override_app.command("approve")
def override_approve(
    override_id: int,
    note: Annotated[str, typer.Option("--note")] = "",
    acting: AsOption = "",
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Approve a pending override (not your own)."""
    db = open_database(db_url)
    enrolment.decide_override(db, common.acting(db, acting), override_id, True, note)
    common.tell(
        as_json,
        {"id": override_id, "status": OverrideState.DISETUJUI.value},
        f"Pengajuan {override_id} disetujui.",
    )


@override_app.command("reject")
def override_reject(
    override_id: int,
    note: Annotated[str, typer.Option("--note", help="Why (required).")] = "",
    acting: AsOption = "",
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Reject a pending override with a note."""
    db = open_database(db_url)
    enrolment.decide_override(db, common.acting(db, acting), override_id, False, note)
    common.tell(
        as_json,
        {"id": override_id, "status": OverrideState.DITOLAK.value},
        f"Pengajuan {override_id} ditolak.",
    )


@override_app.command("list")
def override_list(
    program: Annotated[str, typer.Argument(help="Programme code, e.g. BLT-APBD.")],
    state: Annotated[
        str,
        typer.Option("--state", help="diajukan (default: pending), disetujui, ditolak, dicabut or semua."),
    ] = OverrideState.DIAJUKAN.value,
    acting: AsReader = "",
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Overrides of a programme: by default the requests waiting for a checker."""
    db = open_database(db_url)
    rows = enrolment.list_overrides(
        db, common.reader(db, acting), program, None if state == "semua" else state
    )
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo(
            "Tidak ada pengajuan."
            if state != OverrideState.DIAJUKAN
            else "Tidak ada pengajuan yang menunggu keputusan."
        )
        return
    for r in rows:
        typer.echo(
            f"#{r['id']}  {r['action']:<6} keluarga {r['family_id']}  {r['state']:<10} oleh {r['requested_by']}: "
            f"{r['reason']}"
        )


def register(app: typer.Typer) -> None:
    """Add ``tepat program`` (with ``override``) and ``tepat siklus``."""
    program_app.add_typer(override_app, name="override")
    app.add_typer(program_app, name="program")
