"""chiso's flows and command line."""

import os

# stdlib loggers of chiso's packages reach the Prefect UI when a flow runs.
os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "flows,scrapers,extractors,models")
# The temporary server would otherwise try to send usage analytics to the internet on every run.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# A first run migrates the temporary server's fresh database before it answers; on a busy 2-core machine that
# takes longer than Prefect's default wait of 20 s, and the run would fail before it started.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
