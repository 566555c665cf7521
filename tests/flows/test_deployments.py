"""Deployments against a real Prefect server: prefect.yaml, a worker, event-triggered extraction, automations."""

from __future__ import annotations

import json
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pytest
import yaml
from sqlalchemy import func, select
from sqlmodel import col

from flows import deploy
from flows.automations import AUTOMATION_NAMES, install_automations
from flows.events import DOCUMENT_STORED, RANKING_DETECTED, SOURCE_DEGRADED, prefect_emitter
from models.db import dispose_engines, get_engine, session_scope
from models.store import upsert_document
from models.tables import Document, RankingMention, Run
from tests.localweb import LocalWeb
from tests.prefectserver import REPO, PrefectServer, prefect_server

pytestmark = pytest.mark.slow
T = TypeVar("T")

SENTENCE = "Tỉnh Bình Dương lọt Top 7 cộng đồng thông minh của năm 2023."
# What a checkout needs to run the flows; copied so the worker runs from a path unlike the repo's.
BACKFILL_SOURCE = "baobinhduong"
CHECKOUT_PARTS = ("prefect.yaml", "pyproject.toml", "flows", "models", "extractors", "scrapers")


def wait_for(what: str, probe: Callable[[], T | None], *, timeout: float, every: float = 0.5) -> T:
    """Poll until probe() returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


class Stack:
    """The server, the migrated test database, the deployed checkout and its worker."""

    def __init__(self, server: PrefectServer, checkout: Path, db_url: str) -> None:
        self.server = server
        self.checkout = checkout
        self.db_url = db_url
        self.deploy_seconds = 0.0
        self.deployed: dict[str, dict[str, Any]] = {}

    def store(self, n: int, *, tag: str) -> list[int]:
        """Store n short documents directly, as ingest would; returns their ids."""
        ids = []
        with session_scope(get_engine(self.db_url)) as session:
            for i in range(n):
                stored = upsert_document(
                    session,
                    {
                        "url": f"https://baobinhduong.vn/test-{tag}-{i}.html",
                        "title": "Bình Dương Top 7",
                        "lang": "vi",
                        "text": SENTENCE,
                        "fetch_status": 200,
                    },
                    run_id="test",
                )
                ids.append(stored.id)
        return ids

    def extracted(self, ids: list[int]) -> bool:
        """Whether every document has ranking_mention rows (the extract flow wrote them)."""
        with session_scope(get_engine(self.db_url)) as session:
            stmt = select(func.count(func.distinct(RankingMention.document_id))).where(
                col(RankingMention.document_id).in_(ids)
            )
            return int(session.execute(stmt).scalar_one()) == len(ids)


def snapshot_deployments() -> dict[str, dict[str, Any]]:
    """What the server holds for each chiso deployment: schedules, parameters, triggers."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        automations = client.read_automations()
        out: dict[str, dict[str, Any]] = {}
        for d in client.read_deployments():
            triggers = sorted(
                (
                    json.dumps(a.trigger.model_dump(mode="json", exclude={"id"}), sort_keys=True)
                    for a in automations
                    if any(getattr(act, "deployment_id", None) == d.id for act in a.actions)
                ),
            )
            out[d.name] = {
                "parameters": d.parameters,
                "schedules": sorted(
                    (s.slug, s.schedule.cron, s.schedule.timezone, s.active)  # type: ignore[union-attr]
                    for s in d.schedules
                ),
                "triggers": triggers,
                "concurrency": d.global_concurrency_limit.limit if d.global_concurrency_limit else None,
            }
    return out


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Server up, database migrated, prefect.yaml deployed from a copied checkout, a worker running."""
    from flows.database import upgrade_and_seed

    root = tmp_path_factory.mktemp("deployments")
    checkout = root / "checkout with space"
    for part in CHECKOUT_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, checkout / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            checkout.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, checkout / part)
    db_url = f"sqlite:///{root / 'chiso.db'}"
    upgrade_and_seed(db_url)
    # One sample source, served by the local web under its real hostname, with a short delay.
    registry = yaml.safe_load((REPO / "scrapers" / "sources.yaml").read_text())
    registry["sources"] = [
        dict(s, delay_seconds=0.1) for s in registry["sources"] if s["code"] == BACKFILL_SOURCE
    ]
    sources = root / "sources.yaml"
    sources.write_text(yaml.safe_dump(registry, allow_unicode=True))
    with LocalWeb() as web, prefect_server() as server:
        s = Stack(server, checkout, db_url)
        server.run("work-pool", "create", deploy.WORK_POOL, "--type", "process")
        started = time.monotonic()
        server.run("deploy", "--all", cwd=checkout, timeout=180)
        s.deploy_seconds = time.monotonic() - started
        s.deployed = snapshot_deployments()
        # Started elsewhere on purpose: only CHISO_HOME tells the runs where the checkout is.
        server.worker(
            deploy.WORK_POOL,
            cwd=root,
            extra_env={
                "CHISO_HOME": str(checkout),
                "CHISO_DATABASE_URL": db_url,
                "CHISO_SOURCES": str(sources),
                "CHISO_HOST_MAP": ",".join(f"{h}={a}" for h, a in web.host_map().items()),
                "CHISO_ALLOW_PRIVATE_HOSTS": "1",
            },
        )
        try:
            yield s
        finally:
            server.stop()  # children first, then the server; the context exit is then a no-op
            dispose_engines()


def _flow_runs(deployment: str) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName

    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[deployment]))
        )


@pytest.mark.timeout(120)
def test_the_server_schedules_runs_of_the_scheduled_deployments(stack: Stack) -> None:
    # Guards the server's scheduler itself: with SQLAlchemy 2.1 it failed on every loop and no run was ever
    # scheduled, while deploying still worked.
    deadline = time.monotonic() + 60
    scheduled: dict[str, list[Any]] = {}
    while time.monotonic() < deadline:
        scheduled = {
            name: [
                r for r in _flow_runs(name) if r.state_type is not None and r.state_type.value == "SCHEDULED"
            ]
            for name in ("ingest-scheduled", "sync-icf-weekly")
        }
        if all(scheduled.values()):
            break
        time.sleep(1)
    assert {name: bool(runs) for name, runs in scheduled.items()} == {
        "ingest-scheduled": True,
        "sync-icf-weekly": True,
    }
    assert all(r.parameters == {"extract": False} for r in scheduled["ingest-scheduled"])


@pytest.mark.timeout(240)
def test_stored_documents_trigger_the_extract_deployment(stack: Stack) -> None:
    # A batch as large as the reactive threshold fires at once.
    batch = stack.store(deploy.EXTRACT_BATCH_SIZE, tag="batch")
    for doc_id in batch:
        prefect_emitter(
            DOCUMENT_STORED,
            f"chiso.document.{doc_id}",
            {"document_id": doc_id, "source": "bbd", "url": f"https://example/{doc_id}"},
        )
    emitted = time.monotonic()
    wait_for("the batch to be extracted", lambda: stack.extracted(batch), timeout=90)
    batch_seconds = time.monotonic() - emitted

    # One straggler: only the quiet-period trigger picks it up, EXTRACT_QUIET_S after its event.
    [single] = stack.store(1, tag="single")
    prefect_emitter(
        DOCUMENT_STORED,
        f"chiso.document.{single}",
        {"document_id": single, "source": "bbd", "url": f"https://example/{single}"},
    )
    emitted = time.monotonic()
    wait_for(
        "the straggler to be extracted",
        lambda: stack.extracted([single]),
        timeout=deploy.EXTRACT_QUIET_S + 60,
    )
    single_seconds = time.monotonic() - emitted

    def completed_runs() -> list[Any] | None:
        runs = [r for r in _flow_runs("extract-on-document-stored") if r.state and r.state.is_completed()]
        # The documents are written before the run's Completed state is: wait for both runs, not the first.
        return runs if len(runs) >= 2 else None

    runs = wait_for("two Completed extract runs", completed_runs, timeout=60)
    assert len(runs) >= 2
    with session_scope(get_engine(stack.db_url)) as session:
        versions = (
            session.execute(
                select(col(Document.extractor_version)).where(col(Document.id).in_([*batch, single]))
            )
            .scalars()
            .all()
        )
    assert all(versions)
    print(f"\nprefect deploy --all: {stack.deploy_seconds:.1f} s")
    print(
        f"event-to-extract round trip: batch of {len(batch)} {batch_seconds:.1f} s, "
        f"single document {single_seconds:.1f} s (quiet period {deploy.EXTRACT_QUIET_S} s)"
    )


@pytest.mark.timeout(120)
def test_backfill_run_created_through_the_api_completes(stack: Stack) -> None:
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment

    # The worker's CHISO_SOURCES / CHISO_HOST_MAP point the run at the local web: offline, a few pages.
    run = run_deployment(
        "backfill/backfill",
        parameters={"since": "2023-01-01", "until": "2023-01-31", "sources": [BACKFILL_SOURCE]},
        timeout=0,
    )
    assert isinstance(run, FlowRun)

    def finished() -> Any:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            current = client.read_flow_run(run.id)
        return current if current.state and current.state.is_final() else None

    final = wait_for("the backfill run to finish", finished, timeout=90)
    assert final.state.is_completed(), final.state
    assert final.parameters["since"] == "2023-01-01"
    with session_scope(get_engine(stack.db_url)) as session:
        run_row = session.get(Run, str(run.id))
        stored = session.execute(
            select(func.count()).select_from(Document).where(col(Document.source_code) == BACKFILL_SOURCE)
        ).scalar_one()
    assert run_row is not None and run_row.kind == "backfill" and run_row.status == "completed", run_row
    assert stored > 0


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.mark.timeout(90)
def test_automations_install_is_idempotent_and_calls_the_webhook(stack: Stack) -> None:
    from prefect import flow
    from prefect.client.orchestration import get_client

    hook = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{hook.server_port}/hook"
        assert set(install_automations(url).values()) == {"created"}
        assert set(install_automations(url).values()) == {"updated"}
        with get_client(sync_client=True) as client:
            ours = [a for a in client.read_automations() if a.name in AUTOMATION_NAMES]
        assert sorted(a.name for a in ours) == sorted(AUTOMATION_NAMES)

        prefect_emitter(
            RANKING_DETECTED,
            "chiso.ranking.icf_top7.2023.binh-duong",
            {
                "entity": "Binh Duong",
                "country": "VN",
                "program": "icf_top7",
                "year": 2023,
                "status": "achieved",
            },
        )

        prefect_emitter(
            SOURCE_DEGRADED,
            "chiso.source.vnexpress",
            {
                "source": "vnexpress",
                "problems": ["site markup matched nothing on 2 of 2 articles"],
                "report": "r",
            },
        )

        @flow(name="sync-icf")
        def failing() -> None:
            raise RuntimeError("ICF page changed")

        failing(return_state=True)

        def both() -> dict[str, dict[str, Any]] | None:
            by_kind = {m["kind"]: m for m in _Hook.received}
            return (
                by_kind
                if {RANKING_DETECTED, SOURCE_DEGRADED, "prefect.flow-run.Failed"} <= set(by_kind)
                else None
            )

        by_kind = wait_for("all three webhooks", both, timeout=60)
        assert by_kind[SOURCE_DEGRADED]["text"] == (
            "chiso: source vnexpress degraded: site markup matched nothing on 2 of 2 articles"
        )
        assert by_kind[RANKING_DETECTED]["entity"] == "Binh Duong"
        assert "ICF page changed" in by_kind["prefect.flow-run.Failed"]["message"]
    finally:
        hook.shutdown()


def _yaml_deployments() -> dict[str, dict[str, Any]]:
    config = yaml.safe_load((REPO / "prefect.yaml").read_text())
    return {d["name"]: d for d in config["deployments"]}


def test_prefect_yaml_matches_the_serve_definitions() -> None:
    from prefect.events import DeploymentEventTrigger

    config = yaml.safe_load((REPO / "prefect.yaml").read_text())
    assert config["pull"] == [
        {"prefect.deployments.steps.set_working_directory": {"directory": "{{ $CHISO_HOME }}"}}
    ]
    assert not config.get("build") and not config.get("push")
    yaml_deployments = _yaml_deployments()
    assert list(yaml_deployments) == [s.name for s in deploy.DEPLOYMENTS]
    for spec in deploy.DEPLOYMENTS:
        d = yaml_deployments[spec.name]
        assert d["entrypoint"] == spec.entrypoint
        assert d["work_pool"]["name"] == deploy.WORK_POOL
        assert (d.get("parameters") or {}) == spec.parameters
        assert d.get("concurrency_limit") == spec.concurrency_limit
        assert d["description"] == spec.description
        assert [
            (s["cron"], s["slug"], s["timezone"], s.get("active", True)) for s in d.get("schedules") or []
        ] == [(s.cron, s.slug, s.timezone, s.active) for s in spec.schedules]
        assert [DeploymentEventTrigger(**t) for t in d.get("triggers") or []] == [
            DeploymentEventTrigger(**t) for t in spec.triggers
        ]


def test_serve_command_needs_a_server() -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.errors import ChisoError

    with temporary_settings({PREFECT_API_URL: None}), pytest.raises(ChisoError, match="prefect server start"):
        deploy.require_prefect_server()
    with (
        temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api"}),
        pytest.raises(ChisoError, match="no Prefect server answers"),
    ):
        deploy.require_prefect_server()


@pytest.mark.timeout(120)
def test_serve_creates_the_same_deployments_as_prefect_deploy(stack: Stack) -> None:
    code = "from flows.deploy import serve_command; serve_command()"
    serving = stack.server.spawn(
        [sys.executable, "-c", code],
        cwd=stack.checkout,
        extra_env={"CHISO_DATABASE_URL": stack.db_url},
        log_name="serve.log",
    )
    try:

        def served() -> dict[str, dict[str, Any]] | None:
            if serving.poll() is not None:
                raise AssertionError((stack.server.home / "serve.log").read_text()[-3000:])
            snapshot = snapshot_deployments()
            from prefect.client.orchestration import get_client

            with get_client(sync_client=True) as client:
                pulls = {d.name: d.pull_steps for d in client.read_deployments()}
            # serve() re-registers each deployment without pull steps (it keeps the work pool name).
            return snapshot if all(pulls.get(s.name) is None for s in deploy.DEPLOYMENTS) else None

        # Generous: serve() starts a flow-run runner and registers five deployments; under load that took over 60 s.
        snapshot = wait_for("chiso serve to register its deployments", served, timeout=180)
    finally:
        stack.server.stop_child(serving)
    assert snapshot == stack.deployed
    assert stack.deployed["extract-on-document-stored"]["concurrency"] == 1
    assert len(stack.deployed["extract-on-document-stored"]["triggers"]) == 2
