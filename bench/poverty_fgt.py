"""FGT with Taylor-linearised standard errors at national Susenas scale, against a plain NumPy weighted mean.

345,000 households in ~1,500 strata and 34,500 PSUs (10 households each),
domains = 500 kabupaten/kota (3 strata each). Times are the best of several
runs in this process; the target is FGT-with-SEs within 5x the weighted mean of
the same column. Building the design (sorting by stratum/domain/PSU, done once
per file, like ``svydesign``) is timed separately.

    python bench/poverty_fgt.py [--households 345000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np

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

    e = estimate_fgt(overall, y, LINE)[0]
    print(
        f"machine: {platform.processor() or platform.machine()}, {platform.system()} {platform.release()}, "
        f"python {platform.python_version()}, numpy {np.__version__}"
    )
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"sample: {args.households:,} households, {len(set(s['stratum'].tolist())):,} strata, "
        f"{len(set(s['psu'].tolist())):,} PSUs, {len(set(s['domain'].tolist()))} domains"
    )
    print(f"check: P0 {e.p0:.3f} (SE {e.se_p0:.4f}), P1 {e.p1:.3f}, P2 {e.p2:.3f}")
    print(
        f"design set-up (once per file): overall {setup_overall * 1e3:.1f} ms, by domain {setup_domains * 1e3:.1f} ms"
    )
    print(
        f"baseline weighted mean: overall {mean_overall * 1e3:.2f} ms, by 500 domains {mean_domains * 1e3:.2f} ms"
    )
    print(
        f"FGT P0/P1/P2 + poor, with SEs and deff: overall {fgt_overall * 1e3:.2f} ms, by 500 domains {fgt_domains * 1e3:.2f} ms"
    )
    print(f"ratio overall FGT / overall mean: {fgt_overall / mean_overall:.1f}x")
    print(f"ratio domain FGT / domain mean: {fgt_domains / mean_domains:.1f}x")
    print(
        f"ratio (overall + domains) FGT / (overall + domains) mean: {both / (mean_overall + mean_domains):.1f}x (target <= 5x)"
    )


if __name__ == "__main__":
    main()
