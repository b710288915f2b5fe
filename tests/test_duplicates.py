"""The duplicate search (issue 15): Indonesian names compared with care, Splink's Fellegi–Sunter model fitted on
the registry without labels, the review queue with its evidence, decisions remembered, areas respected."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta

import pytest

from tepat.domain.access import Role
from tepat.domain.linkage import PairDecision, name_core, name_key, probability_of
from tepat.errors import ConflictError, NotFound, PermissionDenied
from tepat.services import duplicates, registry, registry_reads
from tests.conftest import actor
from tests.factories import KELURAHAN, OTHER_KELURAHAN, kk, make_family, member_values

PLACES = [f"32.75.01.100{i}" for i in range(1, 5)] + [
    f"32.75.02.100{i}" for i in range(1, 6)
]  # nine kelurahan
FIRST = [
    "Budi",
    "Agus",
    "Dewi",
    "Rina",
    "Joko",
    "Eko",
    "Putri",
    "Wati",
    "Hendra",
    "Yanti",
    "Dedi",
    "Lina",
    "Andi",
    "Fitri",
    "Bambang",
    "Ratna",
    "Iwan",
    "Sari",
    "Tono",
    "Ani",
]
LAST = [
    "Santoso",
    "Wijaya",
    "Lestari",
    "Susilo",
    "Rahayu",
    "Hidayat",
    "Saputra",
    "Kurniawan",
    "Pratama",
    "Setiawan",
    "Nugroho",
    "Permata",
    "Gunawan",
    "Siregar",
    "Hasibuan",
]


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Hj. Siti Aminah, S.Pd.", "Siti Aminah"),
        ("Moh. Rizky", "Muhammad Rizky"),
        ("M. Rizky", "Muhamad Rizky"),
        ("Soekarno", "Sukarno"),
        ("Djoko Tjahjono", "Joko Cahyono"),
        ("Achmad Chairul", "Ahmad Khairul"),
        ("Drs. H. Budi Santoso, M.Pd.", "Budi Santoso"),
        ("Moh.Rizki", "Muhammad Rizki"),
        ("MUHAMMAD  RIZKI", "muhammad rizki"),
    ],
)
def test_names_written_differently_have_one_key(one: str, other: str) -> None:
    assert name_key(one) == name_key(other)


def test_the_core_drops_the_words_records_differ_in_and_keeps_a_single_name() -> None:
    assert name_core("Siti Aminah") == name_core("Aminah") == "aminah"
    assert name_core("Nur Hidayat") == "hidayat" and name_core("Nur") == "nur"
    assert name_key("Sukarno") == name_core("Sukarno") == "sukarno"  # one name (common in Java) stays itself
    assert name_key("Budi Santoso") != name_key("Budi Susilo")
    assert probability_of(0.0) == 0.5 and probability_of(10.0) > 0.999


def _swap(nik: str) -> str:
    """The NIK with two neighbouring digits of its serial swapped, or (a serial such as 1111) its last digit typed
    wrongly: another number one slip away."""
    for i in range(12, 15):
        if nik[i] != nik[i + 1]:
            return nik[:i] + nik[i + 1] + nik[i] + nik[i + 2 :]
    return nik[:15] + str((int(nik[15]) + 1) % 10)


def _registry(db, admin, rng: random.Random, families: int) -> None:
    for f in range(families):
        people = []
        for m in range(rng.choice([1, 2, 3, 4])):
            sex = rng.choice("LP")
            birth = date(1950, 1, 1) + timedelta(days=rng.randrange(25_000))
            role = "kepala_keluarga" if m == 0 else rng.choice(["istri_suami", "anak"])
            people.append(member_values(f"{rng.choice(FIRST)} {rng.choice(LAST)}", sex, birth, role))
        make_family(
            db,
            admin,
            PLACES[f % len(PLACES)],
            members=people,
            rw=rng.randrange(1, 12),
            rt=rng.randrange(1, 15),
        )


@pytest.fixture
def seeded(db, admin):
    """About 600 people, and three people registered twice: NIK digits swapped and the name written with a title
    or another spelling of Muhammad, in another KK of the same or another kelurahan."""
    rng = random.Random(7)
    _registry(db, admin, rng, 240)
    twice = {}
    for name, again, sex, birth, kelurahan in [
        ("Muhammad Rizki Saputra", "Moh. Rizky Saputra", "L", date(1988, 3, 14), KELURAHAN),
        ("Siti Aminah", "Hj. Siti Aminah", "P", date(1971, 11, 2), KELURAHAN),
        ("Joko Cahyono", "Djoko Tjahjono", "L", date(1960, 6, 30), OTHER_KELURAHAN),
    ]:
        first = member_values(name, sex, birth)
        second = {**first, "name": again, "nik": _swap(first["nik"])}
        make_family(db, admin, kelurahan, members=[first], kk_number=kk(), rw=4, rt=2)
        make_family(db, admin, kelurahan, members=[second], kk_number=kk(), rw=9, rt=1)
        twice[name] = (first["nik"], second["nik"])
    return twice


def _queued(db, who) -> dict[frozenset[str], dict]:
    return {frozenset((p["nik_l"], p["nik_r"])): p for p in duplicates.queue(db, who, limit=500)}


@pytest.mark.slow
def test_the_search_finds_people_registered_twice_and_explains_each_pair(db, admin, seeded) -> None:
    result = duplicates.search(db, admin)
    assert result.records > 500 and result.model_id is not None and result.counts["baru"] == result.pairs
    queued = _queued(db, admin)
    for name, niks in seeded.items():
        pair = queued.get(frozenset(niks))
        assert pair is not None, name
        assert pair["match_probability"] >= duplicates.DEFAULT_THRESHOLD
        evidence = {e.field: e.weight for e in duplicates.evidence_of(pair)}
        assert evidence["name"] > 0 and evidence["birth_date"] > 0 and evidence["kk_number"] <= 0, evidence
        assert (
            evidence["nik"] <= 0
        )  # two NIKs: a NIK near another is no evidence (see tepat.services.duplicates)
    # nothing else in 600 people of random names and dates looks like one person
    assert len(queued) <= len(seeded) + 2, [(p["name_l"], p["name_r"]) for p in queued.values()]


@pytest.mark.slow
def test_a_decision_is_remembered_until_a_record_changes(db, admin, seeded) -> None:
    duplicates.search(db, admin)
    niks = frozenset(seeded["Siti Aminah"])
    pair = _queued(db, admin)[niks]
    duplicates.decide(db, admin, pair["id"], PairDecision.BERBEDA, "dua orang: sudah dikunjungi")
    again = duplicates.search(db, admin)
    assert again.counts["tetap"] >= 1 and niks not in _queued(db, admin)  # decided "berbeda": not asked again
    decided = duplicates.queue(db, admin, decision=PairDecision.BERBEDA)
    assert [p["note"] for p in decided] == ["dua orang: sudah dikunjungi"] and decided[0][
        "decided_by"
    ] == "admin"
    member = registry_reads.find_by_nik(db, admin, pair["nik_r"]).members[0]
    registry.update_member(
        db,
        admin,
        member["id"],
        {"marital_status": "cerai_mati"},
        expected_version=member["version"],
        reason="suami meninggal",
    )
    duplicates.search(db, admin)
    assert _queued(db, admin)[niks]["decision"] == PairDecision.BELUM.value  # a record changed: asked again


def test_a_decision_on_a_pair_whose_record_changed_since_it_was_found_is_refused(db, admin, seeded) -> None:
    duplicates.search(db, admin)
    pair = _queued(db, admin)[frozenset(seeded["Joko Cahyono"])]
    member = registry_reads.find_by_nik(db, admin, pair["nik_l"]).members[0]
    registry.update_member(
        db,
        admin,
        member["id"],
        {"marital_status": "cerai_mati"},
        expected_version=member["version"],
        reason="koreksi",
    )
    with pytest.raises(ConflictError, match="sudah berubah"):
        duplicates.decide(db, admin, pair["id"], PairDecision.SAMA, "tampak sama")
    assert _queued(db, admin)[frozenset(seeded["Joko Cahyono"])]["decision"] == PairDecision.BELUM.value
    duplicates.search(db, admin)  # scored again on the records as they are now: it can be decided
    again = _queued(db, admin)[frozenset(seeded["Joko Cahyono"])]
    duplicates.decide(db, admin, again["id"], PairDecision.SAMA, "tampak sama")


@pytest.mark.slow
def test_pairs_are_seen_and_decided_only_inside_ones_area(db, admin, seeded) -> None:
    duplicates.search(db, admin)
    pair = _queued(db, admin)[frozenset(seeded["Joko Cahyono"])]  # both records in OTHER_KELURAHAN
    elsewhere = actor(Role.OPERATOR, KELURAHAN)
    assert frozenset(seeded["Joko Cahyono"]) not in _queued(db, elsewhere)
    with pytest.raises(NotFound):
        duplicates.decide(db, elsewhere, pair["id"], PairDecision.SAMA)
    with pytest.raises(PermissionDenied):
        duplicates.search(db, actor(Role.ANALYST, ""))
    here = actor(Role.OPERATOR, OTHER_KELURAHAN)
    duplicates.decide(db, here, pair["id"], PairDecision.KUNJUNGAN, "cek ke alamat")
    assert _queued(db, here).get(frozenset(seeded["Joko Cahyono"])) is None


@pytest.mark.slow
def test_the_command_line_searches_lists_and_decides(db, admin, seeded) -> None:
    from typer.testing import CliRunner

    from tepat.cli import app
    from tests.test_web_support import add_user

    add_user(db, "ani", Role.OPERATOR, OTHER_KELURAHAN)
    add_user(db, "kepala", Role.ADMIN, "32.75")
    runner = CliRunner()
    found = runner.invoke(app, ["duplikat", "cari", "--as", "kepala", "--db", db.url, "--json"])
    assert found.exit_code == 0, found.output
    assert json.loads(found.output)["pasangan"] >= len(seeded)
    listed = runner.invoke(app, ["duplikat", "daftar", "--as", "ani", "--db", db.url, "--json"])
    pairs = json.loads(listed.output)
    joko = next(p for p in pairs if {p["kiri"]["nik"], p["kanan"]["nik"]} == set(seeded["Joko Cahyono"]))
    assert joko["bukti"]["birth_date"] > 0 and joko["peluang"] >= duplicates.DEFAULT_THRESHOLD
    assert all(
        p["kiri"]["kelurahan"] == OTHER_KELURAHAN == p["kanan"]["kelurahan"] for p in pairs
    )  # her area only
    decided = runner.invoke(
        app, ["duplikat", "putus", str(joko["id"]), "sama", "--as", "ani", "--db", db.url]
    )
    assert decided.exit_code == 0 and "Sama orang" in decided.output
    wrong = runner.invoke(
        app, ["duplikat", "putus", str(joko["id"]), "mungkin", "--as", "ani", "--db", db.url]
    )
    assert wrong.exit_code == 1 and "Keputusan harus salah satu dari" in wrong.output


@pytest.mark.slow
def test_dedup_registry_fills_the_queue_of_the_area_it_names(db, admin, seeded) -> None:
    from typer.testing import CliRunner

    from tepat.cli import app

    runner = CliRunner()
    kecamatan = OTHER_KELURAHAN.rsplit(".", 1)[0]
    found = runner.invoke(app, ["dedup", "registry", "--area", kecamatan, "--db", db.url, "--json"])
    assert found.exit_code == 0, found.output
    queued = _queued(db, actor(Role.ADMIN, kecamatan))
    assert frozenset(seeded["Joko Cahyono"]) in queued  # the pair in that kecamatan
    assert frozenset(seeded["Siti Aminah"]) not in queued  # the pairs elsewhere were not searched
    assert json.loads(found.output)["pasangan"] == len(queued)
    outside = runner.invoke(app, ["dedup", "registry", "--area", "32.76", "--db", db.url])
    assert outside.exit_code == 1 and "di luar" in outside.output
    unknown = runner.invoke(app, ["dedup", "registry", "--area", "32.75.99", "--db", db.url])
    assert unknown.exit_code == 1 and "tidak dikenal" in unknown.output


@pytest.mark.slow
def test_the_page_shows_the_queue_with_evidence_and_takes_a_decision(db, admin, seeded, tmp_path) -> None:
    from fastapi.testclient import TestClient

    from tests.test_web_support import add_user, login, make_app

    duplicates.search(db, admin)
    add_user(db, "ani", Role.OPERATOR, OTHER_KELURAHAN)
    add_user(db, "tika", Role.ANALYST, "32.75")
    with TestClient(make_app(db, tmp_path)) as web:
        csrf = login(web, "ani")
        page = web.get("/duplikat")
        assert page.status_code == 200 and "Duplikat" in page.text
        assert "Joko Cahyono" in page.text and "Djoko Tjahjono" in page.text  # side by side
        assert "Siti Aminah" not in page.text  # a pair of another kelurahan
        assert "batang-plus" in page.text and "Tanggal lahir" in page.text  # the evidence, field by field
        pair = _queued(db, actor(Role.OPERATOR, OTHER_KELURAHAN))[frozenset(seeded["Joko Cahyono"])]
        sent = web.post(
            f"/duplikat/{pair['id']}",
            data={"csrf_token": csrf, "keputusan": "berbeda", "catatan": "ayah dan anak"},
            follow_redirects=False,
        )
        assert sent.status_code == 303
        assert "Djoko Tjahjono" not in web.get("/duplikat").text
        decided = web.get("/duplikat?keputusan=berbeda").text
        assert "Djoko Tjahjono" in decided and "ayah dan anak" in decided
        bad = web.post(f"/duplikat/{pair['id']}", data={"csrf_token": csrf, "keputusan": "entah"})
        assert bad.status_code == 422
    with TestClient(make_app(db, tmp_path)) as web:
        login(web, "tika")
        assert web.get("/duplikat").status_code == 403  # an analyst reads no names


@pytest.mark.slow
def test_an_outside_list_is_linked_to_the_registry_of_ones_area_from_the_page(
    db, admin, seeded, tmp_path
) -> None:
    from fastapi.testclient import TestClient

    from tests.test_web_support import add_user, login, make_app

    add_user(db, "ani", Role.OPERATOR, OTHER_KELURAHAN)
    add_user(db, "budi", Role.OPERATOR, KELURAHAN)
    add_user(db, "tika", Role.ANALYST, "32.75")
    listed = (
        b"No KIP;Nama Siswa;Tgl\n"
        b"K-1;DJOKO TJAHJONO;30061960\n"  # registered twice in her kelurahan: two candidates
        b"K-2;Siti Aminah;02111971\n"  # in the registry, but outside her area
        b"K-3;Orang Lain Sekali;01011999\n"
    )
    mapping = (
        b'[columns]\n"Nama Siswa" = "nama"\n"Tgl" = "tanggal_lahir"\n[formats]\ntanggal_lahir = "%d%m%Y"\n'
    )
    with TestClient(make_app(db, tmp_path)) as web:
        csrf = login(web, "ani")
        assert "Tautkan daftar dari luar" in web.get("/duplikat").text
        started = web.post(
            "/duplikat/tautkan",
            data={"csrf_token": csrf, "kolom_id": "No KIP"},
            files={
                "berkas": ("kip.csv", listed, "text/csv"),
                "pemetaan": ("kip.toml", mapping, "text/plain"),
            },
            follow_redirects=False,
        )
        assert started.status_code == 303, started.text
        web.app.state.jobs.wait_idle()
        page = web.get(started.headers["location"])
        assert page.status_code == 200, page.text
        assert "0 cocok" in page.text and "1 beberapa kandidat" in page.text and "2 tidak ada" in page.text
        answer = web.get(started.headers["location"] + "/unduh")
        assert answer.status_code == 200
        rows = {line.split(",")[0]: line.split(",") for line in answer.text.splitlines()[1:]}
        assert rows["K-1"][1:3] == ["beberapa kandidat", "2"] and rows["K-1"][4] in seeded["Joko Cahyono"]
        assert rows["K-2"][1] == "tidak ada" and rows["K-3"][1] == "tidak ada"  # Siti lives outside her area
        no_id = web.post(
            "/duplikat/tautkan",
            data={"csrf_token": csrf, "kolom_id": "Nomor"},
            files={
                "berkas": ("kip.csv", listed, "text/csv"),
                "pemetaan": ("kip.toml", mapping, "text/plain"),
            },
            follow_redirects=False,
        )
        web.app.state.jobs.wait_idle()
        failed = web.get(no_id.headers["location"])
        assert failed.status_code == 422 and "Kolom Nomor tidak ada" in failed.text
    with TestClient(make_app(db, tmp_path)) as other:
        login(other, "budi")
        assert other.get(started.headers["location"]).status_code == 404  # another user's list
    with TestClient(make_app(db, tmp_path)) as analyst:
        login(analyst, "tika")
        assert analyst.get(started.headers["location"]).status_code == 403  # an analyst reads no names


@pytest.mark.slow
def test_link_registry_on_the_command_line_answers_per_record_within_the_area(
    db, admin, seeded, tmp_path
) -> None:
    from typer.testing import CliRunner

    from tepat.cli import app

    listed = tmp_path / "usul.csv"
    listed.write_text("no,nama,tanggal_lahir\nU1,Siti Aminah,02/11/1971\nU2,Joko Cahyono,30/06/1960\n")
    out, rows = tmp_path / "pasangan.csv", tmp_path / "hasil.csv"
    kecamatan = KELURAHAN.rsplit(".", 1)[0]
    result = CliRunner().invoke(
        app,
        ["link", str(listed), "registry", "--id-left", "no", "--area", kecamatan, "--db", db.url]
        + ["--out", str(out), "--per-row", str(rows)],
    )
    assert result.exit_code == 0, result.output
    assert "beberapa kandidat" in result.output
    answer = {line.split(",")[0]: line.split(",") for line in rows.read_text().splitlines()[1:]}
    assert (
        answer["U1"][1] == "beberapa kandidat" and answer["U1"][4] in seeded["Siti Aminah"]
    )  # both her records
    assert answer["U2"][1] == "tidak ada"  # Joko lives in another kecamatan
    pairs = out.read_text().splitlines()
    assert pairs[0] == "id_a,id_b,probability" and all(line.startswith("U1,") for line in pairs[1:])
    assert {line.split(",")[1] for line in pairs[1:]} == set(seeded["Siti Aminah"])


@pytest.mark.slow
def test_the_page_starts_the_search_in_the_background(db, admin, seeded, tmp_path) -> None:
    from fastapi.testclient import TestClient

    from tests.test_web_support import add_user, login, make_app

    add_user(db, "ani", Role.OPERATOR, OTHER_KELURAHAN)
    with TestClient(make_app(db, tmp_path)) as web:
        csrf = login(web, "ani")
        assert "Cari duplikat di wilayah saya" in web.get("/duplikat").text
        started = web.post("/duplikat/cari", data={"csrf_token": csrf}, follow_redirects=False)
        assert started.status_code == 303 and "/duplikat?cari=" in started.headers["location"]
        web.app.state.jobs.wait_idle()
        done = web.get(started.headers["location"]).text
        assert "Pencarian selesai" in done and "Djoko Tjahjono" in done  # her kelurahan's pair, found
        assert (
            duplicates.last_search(db, actor(Role.OPERATOR, OTHER_KELURAHAN))["area_code"] == OTHER_KELURAHAN
        )
    with TestClient(make_app(db, tmp_path)) as other:
        add_user(db, "budi", Role.OPERATOR, KELURAHAN)
        login(other, "budi")
        job = started.headers["location"].split("=")[1]
        assert other.get(f"/duplikat?cari={job}").status_code == 404  # another user's job


def test_a_city_sized_search_saves_its_pairs(db, admin, monkeypatch) -> None:
    """Saving a run reads the area's known pairs by area, not through a list of every compared member id (at city
    scale a list of millions in one statement). Here 40,000 records stand in for a city."""
    import polars as pl

    from tepat.store import duplicates as store

    first = member_values("Siti Aminah", "P", date(1971, 11, 2))
    second = {**member_values("Hj. Siti Aminah", "P", date(1971, 11, 2))}
    make_family(db, admin, KELURAHAN, members=[first], kk_number=kk())
    make_family(db, admin, KELURAHAN, members=[second], kk_number=kk())
    with db.read() as conn:
        real = store.compared_records(conn, KELURAHAN)
    registry_ids = real["unique_id"].to_list()
    filler = pl.DataFrame({"unique_id": range(10_000_000, 10_040_000)}).with_columns(
        pl.lit(1, dtype=pl.Int64).alias("version")
    )
    records = pl.concat(
        [real, filler.join(real.drop("unique_id", "version").head(1), how="cross")], how="vertical"
    )
    monkeypatch.setattr(store, "compared_records", lambda conn, area: records)
    left, right = sorted(registry_ids)
    monkeypatch.setattr(
        duplicates,
        "_fit_and_predict",
        lambda frame, threshold, seed: (
            {},
            [
                {
                    "unique_id_l": left,
                    "unique_id_r": right,
                    "match_probability": 0.99,
                    "match_weight": 8.0,
                    "mw_name": 4.0,
                }
            ],
        ),
    )
    result = duplicates.search(db, admin)
    assert result.records == 40_002 and result.counts["baru"] == 1
    assert [p["name_r"] for p in duplicates.queue(db, admin)] == ["Hj. Siti Aminah"]


def test_a_search_reports_its_steps_for_the_page_that_follows_it(db, admin) -> None:
    first = member_values("Siti Aminah", "P", date(1971, 11, 2))
    make_family(
        db, admin, KELURAHAN, members=[first, member_values("Budi", "L", date(1969, 1, 1), "istri_suami")]
    )
    steps: list[tuple[int, int | None]] = []
    duplicates.search(db, admin, progress=lambda done, total: steps.append((done, total)))
    assert steps == [(1, 3), (2, 3), (3, 3)] and len(duplicates.SEARCH_STEPS) == 3


def test_a_linking_shows_which_of_its_steps_it_is_on(db, admin, tmp_path) -> None:
    """The linking page says what the job is doing (the duplicate search's page always did), not only "running"."""
    import polars as pl
    from fastapi.testclient import TestClient

    from tepat.files.person_lists import ID, PersonList
    from tepat.services import registry_linkage
    from tepat.services.jobs import JobRunner
    from tepat.store import jobs as job_store
    from tepat.store.engine import now
    from tests.test_web_support import add_user, login, make_app

    make_family(db, admin, KELURAHAN, members=[member_values("Siti Aminah", "P", date(1971, 11, 2))])
    steps: list[tuple[int, int | None]] = []
    outside = PersonList(
        "kip", pl.DataFrame({ID: ["K-1"], "nama": ["Siti Aminah"], "tanggal_lahir": ["1971-11-02"]}), 0
    )
    registry_linkage.link_to_registry(
        db, admin, outside, progress=lambda done, total: steps.append((done, total))
    )
    assert steps == [(2, 4), (3, 4)] and len(registry_linkage.LINK_STEPS) == 4
    add_user(db, "ani", Role.OPERATOR, KELURAHAN)
    with TestClient(make_app(db, tmp_path)) as web:
        login(web, "ani")
        # This server's job runner, done with its start-up sweep (it stops the jobs older than itself, left by a
        # process that died): the job below is one of its own, on its third step.
        web.app.state.jobs = JobRunner(db, files_dir=tmp_path / "unggahan")
        web.app.state.jobs.wait_idle()
        with db.begin() as conn:
            job_id = job_store.insert(
                conn, kind="tautan", created_by="ani", area_code=KELURAHAN, file_name="kip.csv", at=now()
            )
            job_store.start(conn, job_id, now())
            job_store.progress(conn, job_id, 3, 4, now())
        page = web.get(f"/duplikat/tautkan/{job_id}")
    assert page.status_code == 200
    assert (
        "Langkah 3 dari 4: Melatih model dan menautkan" in page.text
        and '<progress max="4" value="2">' in page.text
    )
