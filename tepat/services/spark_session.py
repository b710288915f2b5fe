"""One Apache Spark session for tepat's batch jobs (record linkage, the national ranking), local or on a cluster.

``master`` is Spark's own: ``local[*]`` (every core of this machine, the
default) or a cluster's URL (``spark://host:7077``, ``yarn``, ``k8s://…``);
nothing else changes between the two. In local mode checkpoints go to a
temporary directory; a cluster names shared storage itself
(``spark.checkpoint.dir`` in its ``spark-defaults.conf``).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from tepat.errors import ValidationError

NOT_INSTALLED = (
    "Mesin spark belum terpasang di mesin ini: pasang pyspark (pip install 'tepat[spark]') dan Java 17, "
    "atau pakai mesin lain (--engine duckdb untuk penautan, --engine polars untuk peringkat nasional)."
)
SHUFFLE_PARTITIONS = "8"  # a machine's worth; a cluster sets its own in spark-defaults.conf
LOCAL_DRIVER_MEMORY = (
    "4g"  # local mode only (Spark's 1 GB default spills a city's rows to disk); a cluster sizes its own
)


@contextmanager
def spark_session(name: str, master: str | None = None) -> Iterator[Any]:
    """A ``pyspark.sql.SparkSession`` named ``name`` on ``master``, stopped afterwards.

    Every session carries Splink's string-similarity jar (Jaro–Winkler, Damerau–Levenshtein for the record
    linkage), whatever the job: the driver's classpath is fixed when its JVM starts, and a process keeps that JVM
    for every later session, so a ranking run first would otherwise leave a later linkage without them."""
    no_java = shutil.which("java") is None and not os.environ.get("JAVA_HOME")
    if importlib.util.find_spec("pyspark") is None or no_java:
        raise ValidationError(NOT_INSTALLED)
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    jars: Sequence[str] = (similarity_jar_location(),)

    with tempfile.TemporaryDirectory(prefix="tepat-spark-") as checkpoints:
        builder = (
            SparkSession.builder.master(master or "local[*]")
            .appName(name)
            .config("spark.sql.shuffle.partitions", SHUFFLE_PARTITIONS)
            .config("spark.ui.enabled", "false")
        )
        if (master or "local").startswith("local"):  # the driver is the only executor: give it room to cache
            builder = builder.config("spark.driver.memory", LOCAL_DRIVER_MEMORY)
        if jars:
            builder = builder.config("spark.jars", ",".join(jars))
        spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel(
            "ERROR"
        )  # Spark's warnings are for its operators, not for tepat's users
        if (spark.sparkContext.master or "").startswith("local"):
            spark.sparkContext.setCheckpointDir(checkpoints)
        try:
            yield spark
        finally:
            spark.stop()
