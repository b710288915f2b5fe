"""Reading a CSV registry file: a pathological file against a normal one of the same size (issue 13 point 5).

    python bench/csv_read.py                       # 0.4 MB and 4 MB files
    python bench/csv_read.py --sizes 0.4 4 40

For each size (MB) two files: a normal synthetic registry file, and the same file with one
stray quote in its second data row (what made the reader count quotes from the top of the
piece at every newline: quadratic). The time is the reader's time through the whole file,
or until it refuses it. The ratio pathological / normal must stay near 1 (linear time);
run the same script on an older checkout (``PYTHONPATH=that/checkout``) for the before.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from bench_support import machine


def _read_all(path: Path) -> tuple[float, str]:
    from tepat.errors import ValidationError
    from tepat.files.readers import open_registry_file

    started = time.perf_counter()
    outcome = "read"
    try:
        for _ in open_registry_file(path).batches():
            pass
    except ValidationError:
        outcome = "refused"  # with a message: the time until the refusal is what counts
    except Exception as exc:  # noqa: BLE001 -- an older reader crashed here (a 500 for the user)
        outcome = f"crashed ({type(exc).__name__})"
    return time.perf_counter() - started, outcome


def _files(workdir: Path, megabytes: float) -> tuple[Path, Path]:
    from tepat.synth.registry import generate_registry, write_registry

    normal = workdir / f"normal-{megabytes}.csv"
    broken = workdir / f"kutip-{megabytes}.csv"
    families = max(50, int(megabytes * 1_000_000 / 1_100))  # about 1.1 kB of CSV per family
    write_registry(generate_registry(families, 2024), normal)
    lines = normal.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b",", b',"', 1)  # one stray quote near the top
    broken.write_bytes(b"\n".join(lines))
    return normal, broken


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=float, nargs="+", default=[0.4, 4.0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/tepat-bench-csv"))
    parser.add_argument("--rounds", type=int, default=3)
    opts = parser.parse_args()
    opts.workdir.mkdir(parents=True, exist_ok=True)
    results = []
    for size in opts.sizes:
        normal, broken = _files(opts.workdir, size)
        best_normal = min(_read_all(normal)[0] for _ in range(opts.rounds))
        runs = [_read_all(broken) for _ in range(opts.rounds)]
        best_broken = min(t for t, _ in runs)
        results.append(
            {
                "megabytes": round(normal.stat().st_size / 1e6, 2),
                "normal_s": round(best_normal, 4),
                "stray_quote_s": round(best_broken, 4),
                "stray_quote_outcome": runs[0][1],
                "ratio": round(best_broken / best_normal, 2),
            }
        )
    print(json.dumps({"machine": machine(), "results": results}, indent=2))


if __name__ == "__main__":
    main()
