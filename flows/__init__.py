"""chiso's flows and command line."""

import os

# stdlib loggers of chiso's packages reach the Prefect UI when a flow runs.
os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "flows,scrapers,extractors,models")
# The temporary server would otherwise try to send usage analytics to the internet on every run.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# On a loaded two-core machine the temporary server took longer than Prefect's 20 s default to start, and
# the run failed with "Timed out while attempting to connect to ephemeral Prefect API server".
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

# Passwords of CHISO_DATABASE_URL and PREFECT_API_URL never reach a log line, here or in the Prefect UI.
from flows.redaction import install as _install_redaction

_install_redaction()
