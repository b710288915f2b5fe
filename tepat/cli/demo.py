"""``tepat demo``: build the synthetic city into a local SQLite file and serve the web app."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from tepat.config import Settings
from tepat.domain.formatting import number
from tepat.store.database import Database

if TYPE_CHECKING:
    from tepat.services.demo import DemoAccount

_STEPS = {
    "sintetis": "Membangkitkan data sintetis",
    "impor": "Mengimpor ke basis data",
    "peringkat": "Model PMT dan desil",
}


def demo(
    families: Annotated[
        int, typer.Option(help="Number of synthetic families (the real city has ~800,000).", min=100)
    ] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same city.")] = 2024,
    db_path: Annotated[Path, typer.Option("--db-file", help="SQLite file for the demo.")] = Path(
        "tepat-demo.sqlite"
    ),
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Delete an existing demo file and build it again.")
    ] = False,
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the web app when the data is ready.")
    ] = True,
    reset_passwords: Annotated[
        bool,
        typer.Option(
            "--reset-passwords",
            help="Give the demo accounts of an existing demo file new passwords (printed once).",
        ),
    ] = False,
) -> None:
    """Build the synthetic city (SQLite), create demo accounts (printed once) and serve the web app."""
    from tepat.services.demo import build_demo, reopen_demo  # heavy (synthetic data, import): only when asked

    console = Console(stderr=True)
    url = f"sqlite:///{db_path.resolve()}"
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    if db_path.exists():
        database = Database(url)
        reopen_demo(database)
        if reset_passwords:
            from tepat.services.demo import reset_demo_passwords

            typer.echo(f"Memakai data demo yang sudah ada di {db_path}; kata sandi akun demo diganti.")
            _print_accounts(database, reset_demo_passwords(database))
        else:
            typer.echo(
                f"Memakai data demo yang sudah ada di {db_path}. Akun demo hanya dicetak saat pertama dibuat; "
                "jalankan dengan --reset-passwords untuk kata sandi baru, atau --fresh untuk membangun ulang."
            )
    else:
        database = Database(url)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            tasks: dict[str, TaskID] = {}

            def report(step: str, done: int, total: int | None) -> None:
                if step not in tasks:
                    tasks[step] = bar.add_task(_STEPS.get(step, step), total=total)
                bar.update(tasks[step], completed=done, total=total)

            built = build_demo(database, families=families, seed=seed, progress=report)
        typer.echo(
            f"{database.office.name} sintetis siap: {number(built.families)} keluarga, "
            f"{number(built.members)} jiwa di {db_path}."
        )
        _print_accounts(database, built.accounts)
        typer.echo(
            f'Siklus "BLT-APBD Juli 2025" sudah disusun dan diajukan oleh admin; masuk sebagai kabid untuk '
            f"menyetujuinya (maker-checker): /siklus/{built.cycle_id}"
        )
    if serve:
        import uvicorn

        from tepat.web.app import create_app

        settings = Settings.from_env(database_url=url, host=host, port=port)
        typer.echo(f"Membuka tepat di http://{host}:{port} (Ctrl+C untuk berhenti)")
        uvicorn.run(
            create_app(settings, database),
            host=host,
            port=port,
            log_level="warning",
            proxy_headers=False,
            access_log=False,
        )


def _print_accounts(database: Database, accounts: list[DemoAccount]) -> None:
    table = Table(title="Akun demo (kata sandi hanya ditampilkan sekali ini)")
    for column in ("Pengguna", "Kata sandi", "Peran", "Wilayah"):
        table.add_column(column)
    for account in accounts:
        table.add_row(
            account.username, account.password, account.role.label, database.regions.name(account.area_code)
        )
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
