"""Example Prefect automations: call a webhook on new rankings, degraded sources and failed chiso flow runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, cast
from urllib.parse import urlsplit

import typer

from flows.errors import ChisoError
from flows.events import RANKING_DETECTED, SOURCE_DEGRADED

if TYPE_CHECKING:
    from uuid import UUID

    from prefect.client.orchestration import SyncPrefectClient
    from prefect.events.schemas.automations import AutomationCore

WEBHOOK_BLOCK = "chiso-webhook"
RANKING_AUTOMATION = "chiso: ranking detected -> webhook"
FAILED_RUN_AUTOMATION = "chiso: flow run failed -> webhook"
DEGRADED_SOURCE_AUTOMATION = "chiso: source degraded -> webhook"
AUTOMATION_NAMES = (RANKING_AUTOMATION, FAILED_RUN_AUTOMATION, DEGRADED_SOURCE_AUTOMATION)
# Flow names whose failures are reported, whether the run came from a deployment or from `chiso run`.
CHISO_FLOWS = ["ingest", "backfill", "extract", "sync-icf", "check-sources"]

# Jinja templates rendered by the Prefect server; tojson keeps the body valid JSON whatever the values.
RANKING_PAYLOAD = """{
  "kind": "chiso.ranking.detected",
  "text": {{ ("chiso: new ranking: " ~ event.payload.entity ~ " " ~ event.payload.program ~ " "
             ~ event.payload.year ~ " (" ~ event.payload.status ~ ")") | tojson }},
  "entity": {{ event.payload.entity | tojson }},
  "country": {{ event.payload.country | tojson }},
  "program": {{ event.payload.program | tojson }},
  "year": {{ event.payload.year | tojson }},
  "status": {{ event.payload.status | tojson }},
  "occurred": {{ event.occurred | string | tojson }}
}"""

DEGRADED_SOURCE_PAYLOAD = """{
  "kind": "chiso.source.degraded",
  "text": {{ ("chiso: source " ~ event.payload.source ~ " degraded: " ~ (event.payload.problems | join("; ")))
             | tojson }},
  "source": {{ event.payload.source | tojson }},
  "problems": {{ event.payload.problems | tojson }},
  "report": {{ event.payload.report | tojson }},
  "occurred": {{ event.occurred | string | tojson }}
}"""

FAILED_RUN_PAYLOAD = """{
  "kind": "prefect.flow-run.Failed",
  "text": {{ ("chiso: flow run " ~ flow.name ~ "/" ~ flow_run.name ~ " failed: " ~ flow_run.state.message) | tojson }},
  "flow": {{ flow.name | tojson }},
  "flow_run": {{ flow_run.name | tojson }},
  "flow_run_id": {{ flow_run.id | string | tojson }},
  "deployment": {{ deployment.name | default(none) | tojson }},
  "message": {{ flow_run.state.message | tojson }},
  "url": {{ flow_run | ui_url | tojson }}
}"""


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ChisoError(f"webhook URL must be http(s)://host/...: {url!r}")
    return url


def save_webhook_block(url: str) -> UUID:
    """Store the webhook URL as a Prefect Webhook block (overwritten on re-install); returns its id."""
    from prefect.blocks.webhook import Webhook

    block_id = Webhook(method="POST", url=url).save(WEBHOOK_BLOCK, overwrite=True)
    return cast("UUID", block_id)  # save() is sync here; its signature also admits the async variant


def automation_definitions(block_id: UUID) -> list[AutomationCore]:
    """The three automations, all calling the webhook block."""
    from prefect.events.actions import CallWebhook
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

    return [
        AutomationCore(
            name=RANKING_AUTOMATION,
            description="POST to the webhook when an entity × program × year ranking first appears.",
            tags=["chiso"],
            trigger=EventTrigger(
                expect={RANKING_DETECTED},
                match={"prefect.resource.id": "chiso.ranking.*"},
                posture=Posture.Reactive,
                threshold=1,
                within=0,
            ),
            actions=[CallWebhook(block_document_id=block_id, payload=RANKING_PAYLOAD)],
        ),
        AutomationCore(
            name=FAILED_RUN_AUTOMATION,
            description="POST to the webhook when a chiso flow run fails.",
            tags=["chiso"],
            trigger=EventTrigger(
                expect={"prefect.flow-run.Failed"},
                match={"prefect.resource.id": "prefect.flow-run.*"},
                match_related={"prefect.resource.role": "flow", "prefect.resource.name": CHISO_FLOWS},
                posture=Posture.Reactive,
                threshold=1,
                within=0,
            ),
            actions=[CallWebhook(block_document_id=block_id, payload=FAILED_RUN_PAYLOAD)],
        ),
        AutomationCore(
            name=DEGRADED_SOURCE_AUTOMATION,
            description="POST to the webhook when the weekly source check finds a source degraded.",
            tags=["chiso"],
            trigger=EventTrigger(
                expect={SOURCE_DEGRADED},
                match={"prefect.resource.id": "chiso.source.*"},
                posture=Posture.Reactive,
                threshold=1,
                within=0,
            ),
            actions=[CallWebhook(block_document_id=block_id, payload=DEGRADED_SOURCE_PAYLOAD)],
        ),
    ]


def _install_one(client: SyncPrefectClient, automation: AutomationCore) -> str:
    existing = client.read_automations_by_name(automation.name)
    if not existing:
        client.create_automation(automation)
        return "created"
    keep, *extra = existing
    client.update_automation(keep.id, automation)
    # Duplicates (e.g. made by hand in the UI with the same name) would call the webhook twice.
    for duplicate in extra:
        client.delete_automation(duplicate.id)
    return "updated"


def install_automations(webhook_url: str) -> dict[str, str]:
    """Create or update (by name) the webhook block and the automations; returns what happened to each."""
    from prefect.client.orchestration import get_client

    block_id = save_webhook_block(_check_url(webhook_url))
    with get_client(sync_client=True) as client:
        return {a.name: _install_one(client, a) for a in automation_definitions(block_id)}


def automations_install_command(
    webhook_url: Annotated[
        str,
        typer.Option(
            "--webhook", help="URL to POST a JSON message to (e.g. a Slack or Teams incoming webhook)."
        ),
    ],
) -> None:
    """Install example automations: POST to a webhook on new rankings, degraded sources and failed flow runs."""
    from flows.deploy import require_prefect_server

    # Automations live on the server; on a temporary one they would vanish with the command.
    require_prefect_server("chiso automations install")
    for name, outcome in install_automations(webhook_url).items():
        typer.echo(f"{outcome}: {name}")
