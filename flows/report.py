"""`chiso report`: one self-contained HTML page (and PNGs) of an entity's rankings and figures, with evidence.

The pictures are Vega-Lite specifications: the page embeds the Vega libraries (from vl-convert-python), so it
opens offline, and the same specifications render to PNG through vl-convert with no browser.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from flows.errors import ChisoError

VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
STATUSES = ("achieved", "candidate", "aspiration", "other")
STATUS_SHAPES = ("circle", "triangle-up", "diamond", "cross")
OFFICIAL, PRESS = "official (ICF)", "press only"
STATED_COLOURS = ("#1f5fa8", "#d9730d")
# ICF's calendar first (Smart21 -> Top7 -> Intelligent Community of the Year), then national indices,
# then rank claims about an indicator.
PROGRAM_ORDER = ("icf_smart21", "icf_top7", "icf_icoty")
FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif"
CHART_CONFIG = {"font": FONT, "view": {"stroke": None}, "axis": {"labelFontSize": 12, "titleFontSize": 12}}
# Scales for the y axis, so that an axis reads "1.2 billion USD" rather than "1,200,000,000".
SCALES = ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"), (1e3, "thousand"))


@dataclass(frozen=True)
class Picture:
    """One chart of the report: its id in the page, its title and its Vega-Lite specification."""

    id: str
    title: str
    spec: dict[str, Any]


@dataclass
class Report:
    """What the page shows: pictures, the evidence each mark opens, and notes."""

    entity: str
    entity_local: str
    pictures: list[Picture] = field(default_factory=list)
    evidence_html: dict[str, str] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


def slug(text: str) -> str:
    """An ASCII file and id fragment: 'Bình Dương' -> 'binh-duong'."""
    ascii_text = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_text = ascii_text.encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "x"


def _program_sort_key(code: str) -> tuple[int, str]:
    if code in PROGRAM_ORDER:
        return (PROGRAM_ORDER.index(code), code)
    return (len(PROGRAM_ORDER) + (1 if code.endswith("_rank") else 0), code)


def _day(value: datetime | None) -> str:
    return value.astimezone(UTC).date().isoformat() if value else "undated"


def _evidence_items(rows: list[dict[str, Any]], *, figure: bool = False) -> str:
    items = []
    for row in rows:
        shown = f"{_number(row['value'])} {html.escape(row['unit'])}: " if figure else ""
        title = html.escape(row.get("title") or row["url"])
        items.append(
            f'<li>{shown}<a href="{html.escape(row["url"], quote=True)}">{title}</a> '
            f'<span class="meta">{html.escape(row.get("source") or "?")}, {_day(row.get("published_at"))}</span>'
            f"<blockquote>{html.escape(row['evidence'])}</blockquote></li>"
        )
    return "<ul>" + "".join(items) + "</ul>"


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) and abs(value) >= 1000 else f"{value:g}"


def timeline(report: Report, data: dict[str, list[dict[str, Any]]]) -> None:
    """The ranking timeline: years across, a row per program, a mark per program × year × status."""
    evidence: dict[tuple[str, int | None, str], list[dict[str, Any]]] = defaultdict(list)
    for row in data["evidence"]:
        evidence[(row["program"], row["year"], row["status"])].append(row)
    marks: list[dict[str, Any]] = []
    undated = 0
    for row in sorted(data["rankings"], key=lambda r: (_program_sort_key(r["program"]), r["year"] or 0)):
        key = (row["program"], row["year"], row["status"])
        if row["year"] is None:
            undated += 1
            continue
        mark_id = f"ev-timeline-{slug(row['program'])}-{row['year']}-{row['status']}"
        label = row["program_name"] or row["program"]
        stated = OFFICIAL if row["official"] else PRESS
        marks.append(
            {
                "program": label,
                "year": row["year"],
                "status": row["status"],
                "stated": stated,
                "documents": row["documents"],
                "sources": row["sources"],
                "best_rank": row["best_rank"],
                "evidence_id": mark_id,
            }
        )
        rank = f", best rank {row['best_rank']}" if row["best_rank"] else ""
        report.evidence_html[mark_id] = (
            f"<summary>{html.escape(label)} {row['year']}: {row['status']} ({stated}{rank}), "
            f"{row['documents']} document(s)</summary>" + _evidence_items(evidence[key])
        )
    if undated:
        report.notes["timeline"].append(
            f"{undated} claim(s) with no year are not on the timeline (`chiso query rankings` lists them)."
        )
    if not marks:
        report.notes["timeline"].append("No dated ranking claim for this entity.")
        return
    years = [m["year"] for m in marks]
    domain_years = list(range(min(years), max(years) + 1))
    programs = sorted({(r["program"], r["program_name"] or r["program"]) for r in data["rankings"]})
    rows = [label for code, label in sorted(programs, key=lambda p: _program_sort_key(p[0]))]
    rows = [r for r in dict.fromkeys(rows) if any(m["program"] == r for m in marks)]
    spec = {
        "$schema": VEGA_LITE_SCHEMA,
        "title": {
            "text": f"{report.entity_local}: rankings by year",
            "subtitle": "filled: stated by ICF; hollow: the press only; size: documents",
        },
        "width": max(320, 64 * len(domain_years)),
        "height": {"step": 46},
        "data": {"values": marks},
        "mark": {"type": "point", "filled": True, "strokeWidth": 2, "opacity": 1, "cursor": "pointer"},
        "encoding": {
            "x": {
                "field": "year",
                "type": "ordinal",
                "title": "year",
                "scale": {"domain": domain_years},
                "axis": {"labelAngle": 0},
            },
            "y": {
                "field": "program",
                "type": "nominal",
                "title": None,
                "sort": rows,
                "axis": {"labelLimit": 360, "labelFontWeight": "bold", "grid": True},
            },
            "xOffset": {"field": "status", "scale": {"domain": list(STATUSES), "paddingOuter": 0.3}},
            "shape": {
                "field": "status",
                "title": "status",
                "scale": {"domain": list(STATUSES), "range": list(STATUS_SHAPES)},
            },
            "stroke": {
                "field": "stated",
                "title": "stated by",
                "scale": {"domain": [OFFICIAL, PRESS], "range": list(STATED_COLOURS)},
            },
            # Official marks are filled, press-only marks hollow: told apart without colour too.
            "fill": {
                "field": "stated",
                "title": "stated by",
                "scale": {"domain": [OFFICIAL, PRESS], "range": [STATED_COLOURS[0], "#ffffff"]},
            },
            "size": {
                "field": "documents",
                "type": "quantitative",
                "title": "documents",
                "scale": {"range": [90, 420], "zero": False},
            },
            "tooltip": [
                {"field": "program", "title": "program"},
                {"field": "year", "title": "year"},
                {"field": "status", "title": "status"},
                {"field": "stated", "title": "stated by"},
                {"field": "documents", "title": "documents"},
                {"field": "sources", "title": "sources"},
            ],
        },
        "config": CHART_CONFIG,
    }
    report.pictures.append(Picture(id="timeline", title="Rankings by year", spec=spec))


def _period_order(period: str) -> tuple[str, str]:
    # "cumulative@2023-11" sorts with 2023, not after every year.
    year = re.search(r"\d{4}", period)
    return (year.group(0) if year else "", period)


def _scale(values: list[float]) -> tuple[float, str]:
    biggest = max((abs(v) for v in values), default=0.0)
    for factor, word in SCALES:
        if biggest >= factor:
            return factor, word
    return 1.0, ""


def indicator_charts(report: Report, data: dict[str, list[dict[str, Any]]]) -> None:
    """One chart per indicator: periods across, every source's figure its own point."""
    conflicting = {row["value_id"] for row in data["conflicts"]}
    by_indicator: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in data["values"]:
        if row["indicator"] is not None:
            by_indicator[row["indicator"]].append(row)
    # Figures whose phrase matched no catalogue indicator have no code to chart them under.
    uncoded = [row for row in data["values"] if row["indicator"] is None]
    if uncoded:
        report.notes["indicators"].append(
            f"{len(uncoded)} figure(s) with no catalogue indicator are not drawn (`chiso query indicators`)."
        )
    for code, rows in by_indicator.items():
        dated = [r for r in rows if r["period"]]
        name = rows[0]["indicator_name"] or code
        picture_id = f"indicator-{slug(code)}"
        if len(dated) < len(rows):
            report.notes[picture_id].append(
                f"{len(rows) - len(dated)} figure(s) with no period are not drawn."
            )
        if not dated:
            continue
        factor, word = _scale([r["value"] for r in dated])
        units = sorted({r["unit"] for r in dated})
        by_period: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in dated:
            by_period[row["period"]].append(row)
        points = []
        for period, figures in by_period.items():
            evidence_id = f"ev-{picture_id}-{slug(period)}"
            disagree = any(f["value_id"] in conflicting for f in figures)
            warning = " (sources disagree)" if disagree else ""
            report.evidence_html[evidence_id] = (
                f"<summary>{html.escape(name)}, {html.escape(period)}: {len(figures)} figure(s){warning}</summary>"
                + _evidence_items(figures, figure=True)
            )
            points += [
                {
                    "period": period,
                    "shown": f["value"] / factor,
                    "value": _number(f["value"]),
                    "unit": f["unit"],
                    "source": f["source"] or "?",
                    "status": f["status"],
                    "qualifier": f["qualifier"] or "",
                    "published": _day(f["published_at"]),
                    "disagree": f["value_id"] in conflicting,
                    "evidence_id": evidence_id,
                }
                for f in figures
            ]
            if disagree:
                report.notes[picture_id].append(
                    f"{period}: sources disagree beyond rounding ("
                    + ", ".join(f"{_number(f['value'])} {f['unit']} from {f['source']}" for f in figures)
                    + ")."
                )
        periods = sorted(by_period, key=_period_order)
        y_title = " ".join(p for p in (word, "/".join(units)) if p)
        encoding = {
            "x": {
                "field": "period",
                "type": "nominal",
                "sort": periods,
                "title": "period",
                "axis": {"labelAngle": -30},
            },
            "y": {"field": "shown", "type": "quantitative", "title": y_title, "scale": {"zero": False}},
            "xOffset": {"field": "source", "type": "nominal"},
        }
        points_layer = {
            "mark": {"type": "point", "filled": True, "size": 110, "opacity": 0.9, "cursor": "pointer"},
            "encoding": encoding
            | {
                "color": {"field": "source", "type": "nominal", "title": "source"},
                "shape": {"field": "status", "type": "nominal", "title": "status"},
                "tooltip": [
                    {"field": "period"},
                    {"field": "value"},
                    {"field": "unit"},
                    {"field": "source"},
                    {"field": "status"},
                    {"field": "qualifier"},
                    {"field": "published"},
                ],
            },
        }
        # A red ring around every figure of a period where sources disagree beyond rounding.
        rings_layer = {
            "transform": [{"filter": "datum.disagree"}],
            "mark": {"type": "point", "shape": "circle", "size": 380, "color": "#c62828", "strokeWidth": 2},
            "encoding": encoding,
        }
        spec = {
            "$schema": VEGA_LITE_SCHEMA,
            "title": {
                "text": f"{report.entity_local}: {name}",
                "subtitle": "one point per source and figure; red ring: sources disagree beyond rounding",
            },
            "width": max(320, 90 * len(periods)),
            "height": 240,
            "data": {"values": points},
            "layer": [points_layer, rings_layer],
            "config": CHART_CONFIG,
        }
        report.pictures.append(Picture(id=picture_id, title=name, spec=spec))


def build(engine: Engine, entity: str, *, programs: list[str] | None, indicators: list[str] | None) -> Report:
    """Read what the report shows from the database and lay it out."""
    from models import query

    found = query.find_entity(engine, entity)
    if found is None:
        raise ChisoError(f"no entity {entity!r} (a canonical name, local name or alias from entities.yaml)")
    for table, asked in (("program", programs), ("indicator", indicators)):
        known = query.codes(engine, table)
        unknown = [code for code in asked or [] if code not in known]
        if unknown:
            raise ChisoError(f"unknown {table} {', '.join(map(repr, unknown))} (known: {', '.join(known)})")
    data = query.entity_report(
        engine, entity=found["entity"], country=found["country"], programs=programs, indicators=indicators
    )
    report = Report(entity=found["entity"], entity_local=found["entity_local"] or found["entity"])
    timeline(report, data)
    indicator_charts(report, data)
    if not data["values"]:
        report.notes["indicators"].append("No indicator figure for this entity.")
    return report


def _json_for_script(value: Any) -> str:
    # Inside <script>, "</" would end the element early.
    return json.dumps(value, ensure_ascii=False).replace("</", "<\\/")


# Bundled with the Vega libraries it calls (vegaEmbed), so the page needs nothing else.
RENDER_SCRIPT = """
const specs = JSON.parse(document.getElementById("chiso-specs").textContent);
function openEvidence(id) {
  const target = document.getElementById(id);
  if (!target) return;
  document.querySelectorAll("details.shown").forEach(d => d.classList.remove("shown"));
  target.open = true;
  target.classList.add("shown");
  target.scrollIntoView({block: "nearest"});
}
Promise.all(Object.entries(specs).map(([id, spec]) =>
  vegaEmbed("#chart-" + id, spec, {renderer: "svg", actions: false}).then(result => {
    result.view.addEventListener("click", (event, item) => {
      if (item && item.datum && item.datum.evidence_id) openEvidence(item.datum.evidence_id);
    });
  })
)).then(() => { document.body.dataset.rendered = String(Object.keys(specs).length); })
  .catch(error => { document.body.dataset.renderError = String(error); });
"""

STYLE = """
body { font-family: DejaVu Sans, Liberation Sans, Arial, sans-serif; margin: 1.5rem auto; max-width: 72rem;
       color: #1d1d1d; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #ccc; } h3 { font-size: 1.1rem; }
.chart { overflow-x: auto; } .note { color: #8a4b00; } .meta { color: #555; font-size: 0.9em; }
details { margin: 0.2rem 0; } details.shown { background: #fff6d8; outline: 2px solid #e0b000; }
summary { cursor: pointer; } blockquote { margin: 0.2rem 0 0.6rem 1.2rem; font-style: italic; }
.legend-help { font-size: 0.9em; color: #333; }
"""


def render_html(report: Report, *, generated: datetime, database: str) -> str:
    """The page: pictures, their notes and evidence, and the Vega libraries inline (no network needed)."""
    import vl_convert

    def notes(key: str) -> str:
        return "".join(f'<p class="note">{html.escape(n)}</p>' for n in report.notes.get(key, []))

    def section(picture: Picture) -> str:
        details = "".join(
            f'<details id="{k}">{v}</details>'
            for k, v in report.evidence_html.items()
            if k.startswith(f"ev-{picture.id}-")
        )
        heading = "h2" if picture.id == "timeline" else "h3"
        return (
            f'<section id="section-{picture.id}"><{heading}>{html.escape(picture.title)}</{heading}>'
            f'<div class="chart" id="chart-{picture.id}"></div>{notes(picture.id)}'
            f'<div class="evidence">{details}</div></section>'
        )

    timelines = [p for p in report.pictures if p.id == "timeline"]
    charts = [p for p in report.pictures if p.id != "timeline"]
    sections = [section(p) for p in timelines] or [
        f"<section><h2>Rankings by year</h2>{notes('timeline')}</section>"
    ]
    sections.append(f"<h2>Indicators</h2>{notes('indicators')}")
    sections += [section(p) for p in charts]
    specs = {p.id: p.spec for p in report.pictures}
    legend = (
        "Marks: ● achieved, ▲ candidate (a finalist), ◆ aspiration (a goal), ✚ other (lost, overtaken, "
        "not yet). Filled blue: stated on an ICF page (official); hollow orange: the press only. "
        "Bigger marks: more documents. Click a mark to open its sentences."
    )
    title = f"chiso report: {report.entity_local}"
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>"
        f"<h1>{html.escape(report.entity_local)} ({html.escape(report.entity)})</h1>"
        f'<p class="meta">Generated {generated.astimezone(UTC):%Y-%m-%d %H:%M} UTC from {html.escape(database)}'
        f' by chiso. <span class="legend-help">{html.escape(legend)}</span></p>'
        + "".join(sections)
        + f'<script type="application/json" id="chiso-specs">{_json_for_script(specs)}</script>'
        + f"<script>{vl_convert.javascript_bundle(RENDER_SCRIPT)}</script></body></html>"
    )


def write_pngs(report: Report, directory: Path) -> list[Path]:
    """Each picture as a PNG (twice the page's resolution, for slides); no browser and no network."""
    import vl_convert

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for picture in report.pictures:
        path = directory / f"{slug(report.entity)}-{picture.id}.png"
        path.write_bytes(vl_convert.vegalite_to_png(picture.spec, scale=2, allowed_base_urls=[]))
        written.append(path)
    return written


@dataclass(frozen=True)
class Written:
    """The files a report wrote."""

    html: Path
    pngs: list[Path]
    pictures: int


def write_report(
    engine: Engine,
    entity: str,
    *,
    out: Path,
    png_dir: Path | None = None,
    programs: list[str] | None = None,
    indicators: list[str] | None = None,
    database: str = "",
) -> Written:
    """Build the report on `entity`, write the HTML to `out` and, if asked, the PNGs into `png_dir`."""
    report = build(engine, entity, programs=programs, indicators=indicators)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(report, generated=datetime.now(UTC), database=database), encoding="utf-8")
    pngs = write_pngs(report, png_dir) if png_dir is not None else []
    return Written(html=out, pngs=pngs, pictures=len(report.pictures))
