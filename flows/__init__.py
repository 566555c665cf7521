"""chiso's flows and command line."""

import os

# stdlib loggers of chiso's packages reach the Prefect UI when a flow runs.
os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "flows,scrapers,extractors,models")
