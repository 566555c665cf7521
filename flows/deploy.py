"""The four chiso deployments, defined once for prefect.yaml and `chiso serve`."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from flows.errors import ChisoError
from flows.events import DOCUMENT_STORED
from flows.redaction import redact

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

PROJECT_ROOT = Path(__file__).resolve().parents[1]
WORK_POOL = "chiso-process"
TIMEZONE = "Asia/Ho_Chi_Minh"


@dataclass(frozen=True)
class CronSpec:
    """A cron schedule; the slug lets Prefect update it in place instead of replacing it on every deploy."""

    cron: str
    slug: str
    timezone: str = TIMEZONE
    active: bool = True


@dataclass(frozen=True)
class DeploymentSpec:
    """One deployment as both prefect.yaml and serve() describe it."""

    name: str
    module: str
    function: str
    description: str
    parameters: dict[str, Any] = field(default_factory=dict)
    schedules: tuple[CronSpec, ...] = ()
    # Trigger dicts in prefect.yaml's form; serve() builds DeploymentEventTrigger objects from them.
    triggers: tuple[dict[str, Any], ...] = ()
    concurrency_limit: int | None = None
    tags: tuple[str, ...] = ("chiso",)

    @property
    def entrypoint(self) -> str:
        return f"{self.module.replace('.', '/')}.py:{self.function}"


# Extraction is batched: a run extracts every stored document not yet extracted with the current
# extractor version (document_ids=None), so the triggers pass no parameters. A templated
# document id would name only the one event that closed the batch and miss the rest.
EXTRACT_BATCH_SIZE = 20
EXTRACT_BATCH_WINDOW_S = 300
EXTRACT_QUIET_S = 60
_DOCUMENT_MATCH = {"prefect.resource.id": "chiso.document.*"}

EXTRACT_TRIGGERS: tuple[dict[str, Any], ...] = (
    # Reactive: fires as soon as EXTRACT_BATCH_SIZE documents arrive within the window, so a long
    # ingest or backfill is extracted as it goes. On its own it would never fire for a trickle of
    # fewer documents than the threshold, hence the second trigger.
    {
        "name": "chiso: extract a batch of stored documents",
        "type": "event",
        "enabled": True,
        "match": _DOCUMENT_MATCH,
        "expect": [DOCUMENT_STORED],
        "posture": "Reactive",
        "threshold": EXTRACT_BATCH_SIZE,
        "within": EXTRACT_BATCH_WINDOW_S,
    },
    # Proactive "quiet period": after a document is stored, fire when no further document follows
    # within EXTRACT_QUIET_S seconds; each new document restarts the wait. It extracts the tail of
    # every burst, however small.
    {
        "name": "chiso: extract after documents stop arriving",
        "type": "event",
        "enabled": True,
        "match": _DOCUMENT_MATCH,
        "after": [DOCUMENT_STORED],
        "expect": [DOCUMENT_STORED],
        "posture": "Proactive",
        "threshold": 1,
        "within": EXTRACT_QUIET_S,
    },
)

DEPLOYMENTS: tuple[DeploymentSpec, ...] = (
    DeploymentSpec(
        name="ingest-scheduled",
        module="flows.ingest",
        function="ingest",
        description="Discover, fetch and store new articles from every source; extraction follows on events.",
        # Deployed, extraction is event-driven (extract-on-document-stored), not inline.
        parameters={"extract": False},
        schedules=(CronSpec(cron="0 */6 * * *", slug="every-6-hours"),),
    ),
    DeploymentSpec(
        name="backfill",
        module="flows.backfill",
        function="backfill",
        description="Walk a date range through sitemaps and archives, month by month; run it from Custom run.",
        # As for ingest: the stored documents' events trigger extraction.
        parameters={"extract": False},
    ),
    DeploymentSpec(
        name="extract-on-document-stored",
        module="flows.extract",
        function="extract",
        description="Extract rankings and indicators from stored documents not yet extracted; triggered by "
        f"{DOCUMENT_STORED} events.",
        triggers=EXTRACT_TRIGGERS,
        # One extraction at a time: two runs would both pick up the same pending documents.
        concurrency_limit=1,
    ),
    DeploymentSpec(
        name="sync-icf-weekly",
        module="flows.sync_icf",
        function="sync_icf",
        description="Load the official ICF Smart21 / Top7 / Intelligent Community of the Year lists.",
        schedules=(CronSpec(cron="0 3 * * 1", slug="weekly-monday"),),
    ),
    DeploymentSpec(
        name="check-sources-weekly",
        module="flows.check_sources",
        function="check_sources",
        description="Check every source's feeds, sitemaps and article markup; emit chiso.source.degraded.",
        schedules=(CronSpec(cron="0 4 * * 1", slug="weekly-monday"),),
    ),
)


def deployment_spec(name: str) -> DeploymentSpec:
    """The spec of one deployment by name."""
    for spec in DEPLOYMENTS:
        if spec.name == name:
            return spec
    raise KeyError(name)


def runner_deployment(spec: DeploymentSpec) -> RunnerDeployment:
    """The spec as a RunnerDeployment for serve()."""
    from prefect.events import DeploymentEventTrigger
    from prefect.schedules import Cron

    flow = getattr(importlib.import_module(spec.module), spec.function)
    return flow.to_deployment(
        name=spec.name,
        description=spec.description,
        parameters=dict(spec.parameters),
        schedules=[Cron(s.cron, timezone=s.timezone, slug=s.slug, active=s.active) for s in spec.schedules],
        triggers=[DeploymentEventTrigger(**t) for t in spec.triggers],
        concurrency_limit=spec.concurrency_limit,
        tags=list(spec.tags),
    )


def require_prefect_server(command: str = "chiso serve") -> str:
    """The API URL of a reachable Prefect server, or a ChisoError that says how to get one."""
    import httpx
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    hint = "start `prefect server start` and set PREFECT_API_URL=http://127.0.0.1:4200/api"
    if not url:
        # Without it Prefect would boot a temporary server that fires no schedule and no trigger.
        raise ChisoError(f"{command} needs a Prefect server: {hint}")
    try:
        httpx.get(f"{url.rstrip('/')}/health", timeout=5).raise_for_status()
    except httpx.HTTPError as exc:
        raise ChisoError(
            redact(f"no Prefect server answers at PREFECT_API_URL={url} ({exc}): {hint}")
        ) from exc
    return url


def serve_command(
    limit: Annotated[
        int | None, typer.Option(help="Most flow runs at once (default: no limit).", min=1)
    ] = None,
) -> None:
    """Serve the deployments (schedules and event triggers) from this process; needs a Prefect server."""
    url = require_prefect_server()
    from prefect import serve

    deployments = [runner_deployment(spec) for spec in DEPLOYMENTS]
    typer.echo(f"serving {', '.join(s.name for s in DEPLOYMENTS)} against {redact(url)}; Ctrl-C stops")
    serve(*deployments, limit=limit)
