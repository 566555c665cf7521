"""Benchmarks on the local web, each reported as a ratio against a baseline measured in the same run."""

import os

# Before anything imports Prefect: this machine has no internet, and Prefect's per-run INFO lines would
# bury the table.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
