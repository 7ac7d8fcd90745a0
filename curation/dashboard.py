"""The pipeline dashboard: what each app contributes (funnel stages, panels), and what the engine knows
(errors by class, throughput over the last 24 hours) — read by the operator page.

Apps register their stages from their own admin.py, so this module imports none of them (the domain
apps build on curation, never the other way round).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import datetime as dt
from datetime import timedelta

from django.db.models import Count
from django.db.models.functions import TruncHour
from django.utils import timezone

from curation import registry
from curation.choices import ProcessingStatus


@dataclass(frozen=True)
class FunnelStage:
    key: str
    label: str
    position: int  # order along the pipeline
    count: Callable[[], int]
    url: Callable[[], str] | None = None  # where the rows are (an admin change list)


@dataclass(frozen=True)
class Panel:
    """A small table an app adds to the dashboard (e.g. the Places spend): `rows()` gives (label, value)."""

    key: str
    title: str
    rows: Callable[[], list[tuple[str, str]]]


_stages: dict[str, FunnelStage] = {}
_panels: dict[str, Panel] = {}


def register_stage(stage: FunnelStage) -> FunnelStage:
    _stages[stage.key] = stage
    return stage


def register_panel(panel: Panel) -> Panel:
    _panels[panel.key] = panel
    return panel


def funnel() -> list[dict]:
    """The stages in pipeline order with their counts and the conversion from the stage before."""
    out: list[dict] = []
    previous = None
    for stage in sorted(_stages.values(), key=lambda s: s.position):
        n = stage.count()
        conversion = None
        if previous:
            ratio = n / previous
            conversion = f"{ratio * 100:.0f}%" if ratio <= 1 else f"×{ratio:.1f}"
        out.append({"key": stage.key, "label": stage.label, "count": n, "conversion": conversion,
                    "url": stage.url() if stage.url else None})
        previous = n
    return out


def panels() -> list[dict]:
    return [{"key": p.key, "title": p.title, "rows": p.rows()} for p in _panels.values()]


def errors_by_class(overview: list[dict]) -> list[tuple[str, int]]:
    """Rows in Error across every workflow, per error class, most first (from selectors.workflows_overview)."""
    totals: dict[str, int] = {}
    for row in overview:
        for error_class, n in row["errors_by_class"].items():
            totals[error_class or "?"] = totals.get(error_class or "?", 0) + n
    return sorted(totals.items(), key=lambda item: (-item[1], item[0]))


def throughput(hours: int = 24) -> list[dict]:
    """Rows finished per hour over the last `hours` (every workflow): completed and failed."""
    now = timezone.now()
    start = (now - timedelta(hours=hours - 1)).replace(minute=0, second=0, microsecond=0)
    buckets = {start + timedelta(hours=i): {"ok": 0, "error": 0} for i in range(hours)}
    for wf in registry.all_workflows():
        finished = (wf.model_class.objects
                    .filter(**{f"{wf.f('processed_at')}__gte": start,
                               f"{wf.status_field}__in": [ProcessingStatus.COMPLETED, ProcessingStatus.ERROR]})
                    .annotate(hour=TruncHour(wf.f("processed_at"), tzinfo=dt.UTC))
                    .values("hour", wf.status_field).annotate(n=Count("pk")).order_by())
        for row in finished:
            bucket = buckets.get(row["hour"])
            if bucket is not None:
                bucket["ok" if row[wf.status_field] == ProcessingStatus.COMPLETED else "error"] += row["n"]
    return [{"hour": hour, **counts} for hour, counts in sorted(buckets.items())]


def throughput_svg(series: list[dict], *, width: int = 480, height: int = 120) -> dict:
    """Bar geometry of the throughput chart (the template draws it as inline SVG, no script needed)."""
    top = max([s["ok"] + s["error"] for s in series] + [1])
    plot_h = height - 18
    step = width / max(len(series), 1)
    bars = []
    for i, s in enumerate(series):
        ok_h = plot_h * s["ok"] / top
        err_h = plot_h * s["error"] / top
        x = round(i * step + 1, 1)
        bars.append({
            "x": x, "w": round(max(step - 2, 1), 1),
            "ok_y": round(plot_h - ok_h, 1), "ok_h": round(ok_h, 1),
            "err_y": round(plot_h - ok_h - err_h, 1), "err_h": round(err_h, 1),
            "title": f"{timezone.localtime(s['hour']):%H:00}: {s['ok']} completed, {s['error']} failed",
            "label": f"{timezone.localtime(s['hour']):%H}" if i % 3 == 0 else "",
        })
    return {"width": width, "height": height, "plot_h": plot_h, "top": top, "bars": bars,
            "total_ok": sum(s["ok"] for s in series), "total_error": sum(s["error"] for s in series)}
