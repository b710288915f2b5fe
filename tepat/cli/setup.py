"""``tepat init``: create or upgrade the database and load the region codes."""

from __future__ import annotations

import typer

from tepat.cli.common import DatabaseOption, JsonOption, open_database, print_json
from tepat.domain.formatting import number
from tepat.services.setup import init_database


def init(db: DatabaseOption = None, as_json: JsonOption = False) -> None:
    """Create or upgrade the schema, load the 91,599 Kepmendagri 2025 region codes and add the seed's programmes.

    Programmes already in the catalogue (by code) are left as the admin edited them.
    """
    database = open_database(db)
    result = init_database(database, seed_programmes=True)
    if as_json:
        print_json({"regions_loaded": result.regions_loaded, "regions_total": result.regions_total,
                    "programmes_added": list(result.programmes_added)})
    else:
        typer.echo(f"Basis data siap: {number(result.regions_total)} kode wilayah ({number(result.regions_loaded)} baru/berubah).")
        if result.programmes_added:
            typer.echo("Program ditambahkan ke katalog: " + ", ".join(result.programmes_added) + ".")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
