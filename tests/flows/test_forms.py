"""The ingest and backfill forms offer the registry's source codes: in the parameter schema and in the Prefect UI."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scrapers.registry import load_registry
from tests.browser import chromium
from tests.prefectserver import PrefectServer, prefect_server

FORMS = [("flows.ingest", "ingest", "ingest-scheduled"), ("flows.backfill", "backfill", "backfill")]


def _codes() -> list[str]:
    return [source.code for source in load_registry().sources]


@pytest.mark.parametrize(("module", "name", "deployment"), FORMS)
def test_sources_parameter_is_a_list_of_the_registrys_codes(module: str, name: str, deployment: str) -> None:
    from prefect.utilities.callables import parameter_schema

    flow = getattr(importlib.import_module(module), name)
    sources = parameter_schema(flow.fn).model_dump()["properties"]["sources"]
    arrays = [choice for choice in sources["anyOf"] if choice.get("type") == "array"]
    assert [a["items"]["enum"] for a in arrays] == [_codes()]


@pytest.fixture(scope="module")
def ui_server() -> Iterator[tuple[PrefectServer, dict[str, Any]]]:
    """A Prefect server with its UI, holding the ingest and backfill deployments as `chiso serve` defines them."""
    from flows.deploy import deployment_spec, runner_deployment

    with prefect_server(ui=True) as server:
        ids = {spec: str(runner_deployment(deployment_spec(spec)).apply()) for _, _, spec in FORMS}
        yield server, ids


@pytest.mark.slow
@pytest.mark.parametrize(("module", "name", "deployment"), FORMS)
def test_the_ui_custom_run_form_offers_the_source_codes_as_a_multi_select(
    ui_server: tuple[PrefectServer, dict[str, Any]], tmp_path: Path, module: str, name: str, deployment: str
) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    server, ids = ui_server
    page = f"{server.api_url.removesuffix('/api')}/deployments/deployment/{ids[deployment]}/run"

    def sources_field(browser: Any) -> Any:
        return next(
            (
                field
                for field in browser.find_elements(By.CSS_SELECTOR, ".schema-form-property-any-of-input")
                if field.text.startswith("sources")
            ),
            None,
        )

    with chromium(tmp_path / "profile") as browser:
        browser.get(page)
        field = WebDriverWait(browser, 90).until(sources_field)
        # Optional lists start as None; choosing "list" shows the input the schema asks for.
        next(b for b in field.find_elements(By.CSS_SELECTOR, "button") if b.text == "list").click()

        def offered(b: Any) -> list[str] | None:
            current = sources_field(b)
            if current is None:
                return None
            values = [
                o.get_attribute("value")
                for o in current.find_elements(By.CSS_SELECTOR, "select[multiple] option")
            ]
            # Wait for as many options as the assertion compares, not for the first one rendered.
            return values if len(values) >= len(_codes()) else None

        # The form re-renders after the click: a field found before it may be stale.
        options = WebDriverWait(browser, 30, ignored_exceptions=(StaleElementReferenceException,)).until(
            offered
        )
        assert options == _codes()
