"""FGT with Taylor-linearised standard errors at national Susenas scale, against a plain NumPy weighted mean.

345,000 households in ~1,500 strata and 34,500 PSUs (10 households each),
domains = kabupaten/kota of 3 strata each (about 500 at full size; the count printed is the sample's). Times are
the best of several runs in this process; the target is FGT-with-SEs within 5x the weighted mean of the same
column. The headline ratio includes building the design (sorting by stratum/domain/PSU, like ``svydesign``): a
user estimating from a file pays for it every time. The ratio of the estimate alone on a built design is printed
too. When ``Rscript`` and the ``survey`` package are installed, the same sample is written to a CSV and R's
``svydesign`` + ``svymean``/``svyby`` are timed on it (``bench/poverty_fgt.R``); without R that part is skipped
with a message.

    python bench/poverty_fgt.py [--households 345000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

from tepat.domain.poverty import SurveyDesign, estimate_fgt, fgt_table

LINE = 582_932.0  # national line, rupiah per capita per month (illustrative)


def best(fn: Callable[[], object], repeat: int) -> float:
    """Best wall time of ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def sample(households: int, seed: int = 2024) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    psus = households // 10
    strata_count = max(1, round(psus / 23))
    psu = np.repeat(np.arange(psus), 10)[:households]
    stratum = psu * strata_count // psus  # ~23 PSUs per stratum
    domain = stratum // 3  # 500 kabupaten/kota of 3 strata each
    size = rng.integers(1, 9, households).astype(np.float64)
    weight = rng.uniform(50, 400, households)
    consumption = rng.lognormal(np.log(LINE * 1.6), 0.55, households)
    order = rng.permutation(households)  # files are not sorted
    return {
        "psu": psu[order],
        "stratum": stratum[order],
        "domain": domain[order],
        "size": size[order],
        "weight": weight[order],
        "consumption": consumption[order],
    }


def r_survey(s: dict[str, np.ndarray]) -> dict[str, float] | None:
    """R survey's timings on the same sample, or ``None`` (with a message) when R or its package is missing."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        print("R survey: skipped (Rscript not installed; apt-get install r-base-core r-cran-survey)")
        return None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sample.csv"
        pl.DataFrame(s).write_csv(path)
        done = subprocess.run(
            [rscript, str(Path(__file__).with_suffix(".R")), str(path), str(LINE)],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        print(
            f"R survey: skipped ({done.stderr.strip().splitlines()[-1] if done.stderr.strip() else 'failed'})"
        )
        return None
    return {k: float(v) for k, v in (line.split() for line in done.stdout.strip().splitlines())}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=345_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    s = sample(args.households)
    person_weight = s["weight"] * s["size"]
    y = s["consumption"]

    def design(domain: np.ndarray | None) -> SurveyDesign:
        return SurveyDesign(s["weight"], size=s["size"], strata=s["stratum"], psu=s["psu"], domain=domain)

    setup_overall = best(lambda: design(None), 3)
    setup_domains = best(lambda: design(s["domain"]), 3)
    overall, by_domain = design(None), design(s["domain"])

    mean_overall = best(lambda: np.average(y, weights=person_weight), args.repeat)
    mean_domains = best(
        lambda: np.bincount(s["domain"], person_weight * y) / np.bincount(s["domain"], person_weight),
        args.repeat,
    )
    fgt_overall = best(lambda: fgt_table(overall, y, LINE), args.repeat)
    fgt_domains = best(lambda: fgt_table(by_domain, y, LINE), args.repeat)
    both = fgt_overall + fgt_domains
    # what a user pays per file: the design built, then the estimate
    whole_overall = best(lambda: fgt_table(design(None), y, LINE), 3)
    whole_domains = best(lambda: fgt_table(design(s["domain"]), y, LINE), 3)
    domains = len(np.unique(s["domain"]))

    e = estimate_fgt(overall, y, LINE)[0]
    print(
        f"machine: {platform.processor() or platform.machine()}, {platform.system()} {platform.release()}, "
        f"python {platform.python_version()}, numpy {np.__version__}"
    )
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"sample: {args.households:,} households, {len(np.unique(s['stratum'])):,} strata, "
        f"{len(np.unique(s['psu'])):,} PSUs, {domains:,} domains"
    )
    print(f"check: P0 {e.p0:.3f} (SE {e.se_p0:.4f}), P1 {e.p1:.3f}, P2 {e.p2:.3f}")
    print(
        f"design set-up (once per file): overall {setup_overall * 1e3:.1f} ms, by domain {setup_domains * 1e3:.1f} ms"
    )
    print(
        f"baseline weighted mean: overall {mean_overall * 1e3:.2f} ms, by {domains:,} domains {mean_domains * 1e3:.2f} ms"
    )
    print(
        f"FGT P0/P1/P2 + poor, with SEs and deff, on a built design: overall {fgt_overall * 1e3:.2f} ms, "
        f"by {domains:,} domains {fgt_domains * 1e3:.2f} ms"
    )
    print(
        f"FGT including building the design: overall {whole_overall * 1e3:.1f} ms, "
        f"by {domains:,} domains {whole_domains * 1e3:.1f} ms"
    )
    baseline = mean_overall + mean_domains
    print(
        f"ratio (overall + domains), design included / weighted mean: "
        f"{(whole_overall + whole_domains) / baseline:.1f}x (target <= 5x)"
    )
    print(
        f"ratio (overall + domains), estimate alone on a built design / weighted mean: {both / baseline:.1f}x"
    )
    r = r_survey(s)
    if r is not None:
        print(
            f"R survey (same sample): read {r['r_read_s']:.2f} s, svydesign {r['r_design_s']:.2f} s, "
            f"svymean {r['r_svymean_s'] * 1e3:.0f} ms, svyby {domains:,} domains {r['r_svyby_s']:.2f} s; P0 {r['r_p0']:.3f}"
        )
        print(
            f"tepat / R (design + overall + domains): "
            f"{(whole_overall + whole_domains) / (r['r_design_s'] + r['r_svymean_s'] + r['r_svyby_s']):.3f}x"
        )


if __name__ == "__main__":
    main()
