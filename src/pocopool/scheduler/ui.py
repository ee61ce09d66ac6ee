"""The web dashboard at `/ui`: plain server-rendered HTML, no script, nothing fetched from outside.

    /ui                  workers (alive, slots, current replicates) and deals (task counts by status)
    /ui/deals/{id}       the tasks of a deal
    /ui/tasks/{id}       a task: diagnosis, what it waits for, on-chain and off-chain statuses, the
                         timeline as an SVG chart, consensus per replicate, each replicate's history

Every page is a view of the same data as the API and the CLI: the `TaskView` of `GET /tasks/{id}`
(built by scheduler/views.py) handed to the pure functions of protocol/ (diagnose, waiting_for,
timeline, contributions); the page shows its fields as the API spells them.
"""

from __future__ import annotations

import html
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from ..chain.aio import chain_read
from ..chain.base import Chain
from ..protocol.contributions import contributions
from ..protocol.crypto import InvalidHex, normalize_bytes32
from ..protocol.diagnosis import diagnose
from ..protocol.explanations import explain_cause
from ..protocol.statuses import ReplicateStatusCause, TaskStatus
from ..protocol.timeline import timeline
from ..protocol.views import OnChainTask, StakeMove, TaskView, WorkerView
from ..protocol.waiting import waiting_for
from ..protocol.time import Clock
from .registry import WorkerRegistry
from .store import Store
from .views import task_view


STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1d2430;background:#fafbfc}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem;border-bottom:1px solid #d8dde3}
table{border-collapse:collapse;margin:.4rem 0}td,th{padding:.25rem .6rem;border-bottom:1px solid #e4e8ec;
text-align:left;font-size:.9rem;vertical-align:top}th{background:#eef1f4}
code{font-size:.85rem}.ok{color:#17803d}.fail{color:#c0262d;font-weight:600}.run{color:#1f5fbf}
.box{border:1px solid #d8dde3;background:#fff;padding:.6rem .9rem;border-radius:6px;margin:.5rem 0}
.diag{border-color:#c0262d;background:#fff5f5}a{color:#1f5fbf}nav a{margin-right:1rem}
"""
COLORS = {"failure": "#d64545", "COMPLETED": "#2f9e55", "default": "#5b8def", "wait": "#9aa5b1"}


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _status_class(status: str | None) -> str:
    if not status:
        return ""
    if status == "COMPLETED":
        return "ok"
    if "FAIL" in status or "TIMEOUT" in status or status in ("WORKER_LOST", "ABORTED", "FINAL_DEADLINE_REACHED"):
        return "fail"
    return "run"


def _st(status: str | None) -> str:
    return f'<span class="{_status_class(status)}">{_e(status)}</span>'


def _page(title: str, body: str, refresh: int | None = None) -> HTMLResponse:
    """`refresh`: reload every so many seconds (pages of things still moving; no script needed)."""
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    return HTMLResponse(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">{meta}<title>{_e(title)} · pocopool</title>'
        f'<style>{STYLE}</style></head><body><nav><a href="/ui">pocopool</a><a href="/metrics">metrics</a>'
        f'<a href="/docs">API</a></nav><h1>{_e(title)}</h1>{body}</body></html>'
    )


def _table(headers: list[str], rows: list[list[str]], table_id: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers) if any(headers) else ""
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    attr = f' id="{table_id}"' if table_id else ""
    thead = f"<thead><tr>{head}</tr></thead>" if head else ""
    return f"<table{attr}>{thead}<tbody>{body}</tbody></table>"


def timeline_svg(data: dict[str, Any] | None) -> str:
    """The timeline as an SVG bar chart: one row for the task, one per replicate."""
    if not data:
        return "<p>No history yet.</p>"
    label_w, chart_w, row_h = 190, 760, 26
    rows = [("task", data["task"])] + [(f"{(r['worker'] or '')[:10]}…", r["stages"]) for r in data["replicates"]]
    duration = max(data["duration"], 0.001)
    height = row_h * len(rows) + 30
    parts = [(f'<svg id="timeline-chart" class="timeline" xmlns="http://www.w3.org/2000/svg" '
              f'width="{label_w + chart_w + 60}" height="{height}" role="img" aria-label="timeline">')]
    for index, (label, segments) in enumerate(rows):
        y = index * row_h + 4
        parts.append(f'<text x="4" y="{y + 16}" font-size="12" font-family="monospace">{_e(label)}</text>')
        for segment in segments:
            x = label_w + segment["start"] / duration * chart_w
            width = max((segment["end"] - segment["start"]) / duration * chart_w, 2)
            color = (COLORS["failure"] if segment["failure"] else COLORS.get(segment["status"], COLORS["default"]))
            title = f"{segment['status']} at {segment['at']} (+{segment['start']:.1f}s)"
            if segment.get("cause"):
                title += f" cause {segment['cause']}"
            marker = ' data-failure="true"' if segment["failure"] else ""
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{row_h - 8}" fill="{color}" '
                         f'stroke="#fff" stroke-width="1"{marker}><title>{_e(title)}</title></rect>')
    axis_y = row_h * len(rows) + 20
    for tick in range(5):
        x = label_w + tick / 4 * chart_w
        parts.append(f'<text x="{x:.0f}" y="{axis_y}" font-size="11" fill="#555">+{duration * tick / 4:.1f}s</text>')
    parts.append("</svg>")
    return "".join(parts)


def _diagnosis_html(task: TaskView) -> str:
    found = diagnose(task)
    if found:
        rows = [f"<p><strong>{_e(found.get('summary'))}</strong></p>"]
        for key, label in (("cause", "cause"), ("stage", "stage"), ("replicate", "replicate"),
                           ("origin", "whose"), ("message", "error"), ("explanation", "meaning"), ("fix", "what to do")):
            if found.get(key):
                rows.append(f"<div><b>{label}</b>: <span class=\"{'fail' if key == 'cause' else ''}\">"
                            f"{_e(found[key])}</span></div>")
        return f'<div class="box diag" id="diagnosis">{"".join(rows)}</div>'
    # nothing decisive (e.g. a lost race on a completed task): the first failure cause, explained
    for replicate in task.replicates:
        for update in replicate.statusUpdateList:
            if update.cause is not None:
                explanation = explain_cause(update.cause)
                return (f'<div class="box diag" id="diagnosis"><div><b>cause</b>: <span class="fail">'
                        f'{_e(update.cause.value)}</span> (worker {_e(replicate.walletAddress)}, '
                        f'{_e(update.status.value)})</div>'
                        f"<div><b>meaning</b>: {_e(explanation.explanation)}</div>"
                        f"<div><b>what to do</b>: {_e(explanation.fix)}</div></div>")
    return ""


def router(store: Store, chain: Chain, clock: Clock, registry: WorkerRegistry) -> APIRouter:
    """The dashboard's pages, read from the store, the chain and the worker registry."""
    ui = APIRouter(tags=["ui"], include_in_schema=False)

    async def workers_json() -> list[WorkerView]:
        return [WorkerView.model_validate(w) for w in await registry.all()]

    @ui.get("/ui", response_class=HTMLResponse, tags=["ui"], include_in_schema=False)
    async def home() -> HTMLResponse:
        workers = await workers_json()
        worker_rows = [[
            f"<code>{_e(w.walletAddress)}</code>", _e(w.name),
            '<span class="ok">alive</span>' if w.alive else '<span class="fail">not alive</span>',
            f"{len(w.computingChainTaskIds)} / {w.maxNbTasks}",
            "<br>".join(f'<a href="/ui/tasks/{_e(t)}"><code>{_e(t[:18])}…</code></a>'
                        for t in w.participatingChainTaskIds) or "—",
        ] for w in workers]
        deals = await store.deals_overview()
        deal_rows = [[
            f'<a href="/ui/deals/{_e(d["dealId"])}"><code>{_e(d["dealId"])}</code></a>', _e(d["block"]),
            _e(d["tasks"]),
            ", ".join(f"{_st(status)} {count}" for status, count in sorted(d["counts"].items())),
        ] for d in deals]
        body = ("<h2>Workers</h2>" + _table(["wallet", "name", "alive", "slots used", "current replicates"],
                                             worker_rows, "workers")
                + "<h2>Deals</h2>" + _table(["deal", "block", "tasks", "tasks by status"], deal_rows, "deals"))
        return _page("Workerpool", body, refresh=10)

    @ui.get("/ui/deals/{dealId}", response_class=HTMLResponse)
    async def deal_page(dealId: str) -> HTMLResponse:
        try:
            deal_id = normalize_bytes32(dealId)
        except InvalidHex:
            return _page("Not a deal id", f"<p>{_e(dealId)} is not 0x + 64 hex digits.</p>")
        rows = await store.deal_tasks(deal_id)
        counts: dict[str, int] = {}
        for r in rows:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        body = ("<p>" + ", ".join(f"{_st(k)} {v}" for k, v in sorted(counts.items())) + "</p>"
                + _table(["index", "task", "status"], [
                    [_e(r["task_index"]), (f'<a href="/ui/tasks/{_e(r["chain_task_id"])}"><code>'
                                           f'{_e(r["chain_task_id"])}</code></a>'), _st(r["status"])]
                    for r in rows], "tasks"))
        return _page(f"Deal {deal_id}", body if rows else "<p>The scheduler does not know this deal.</p>")

    @ui.get("/ui/tasks/{chainTaskId}", response_class=HTMLResponse)
    async def task_page(chainTaskId: str) -> HTMLResponse:
        try:
            task_id = normalize_bytes32(chainTaskId)
        except InvalidHex:
            return _page("Not a task id", f"<p>{_e(chainTaskId)} is not 0x + 64 hex digits.</p>")
        details = await store.task_details(task_id)
        if details is None:
            return _page("Unknown task", f"<p>The scheduler does not know task <code>{_e(task_id)}</code>.</p>")
        task = task_view(details, "/")
        model = task.wire()  # the fields as the API spells them, for display
        chain_task = await chain_read(chain, chain.view_task, task_id)
        raw_events = await chain_read(chain, chain.events, details.task["deal_block"], None, ("Reward", "Seize"))
        moves = [StakeMove.from_event(e.name, e.args) for e in raw_events]
        onchain = OnChainTask(status=chain_task.status, consensus_value=chain_task.consensus_value)
        now = clock.now()
        status = model["currentStatus"]
        body = [_diagnosis_html(task)]
        waiting = waiting_for(task, await workers_json(), onchain, now)
        if waiting:
            deadline_rows = [[_e(d["name"]), _e(d["at"]), _e(f"{d['secondsLeft']:.0f} s"), _e(d["whenPassed"])]
                             for d in waiting["deadlines"]]
            body.append(f'<div class="box" id="waiting"><b>Waiting for</b>: {_e(waiting["summary"])}'
                        + "".join(f"<div>{_e(d)}</div>" for d in waiting["details"])
                        + _table(["deadline", "at", "left", "when it passes"], deadline_rows)
                        + (f"<div>refund: <code>{_e(waiting['claim'])}</code></div>" if waiting.get("claim") else "")
                        + "</div>")
        description = TaskStatus(status).description if status in TaskStatus.__members__ else ""
        body.append("<h2>Statuses</h2>" + _table(["", ""], [
            ["off chain (scheduler)", f"{_st(status)} — {_e(description)}"],
            ["on chain", _e(chain_task.status.value)],
            ["deal", f'<a href="/ui/deals/{_e(model.get("chainDealId"))}"><code>{_e(model.get("chainDealId"))}</code></a>'],
            ["trust", _e(model.get("trust"))],
            ["app", _e(model.get("dappName"))],
            ["contribution deadline", _e(model.get("contributionDeadline"))],
            ["reveal deadline", _e(model.get("revealDeadline"))],
            ["final deadline", _e(model.get("finalDeadline"))],
            ["consensus", f"<code>{_e(model.get('consensus'))}</code>"],
        ], "statuses"))
        body.append("<h2>Timeline</h2>" + timeline_svg(timeline(task, now)))
        body.append("<h2>Task history</h2>" + _table(["date", "status", "cause", "message"], [
            [_e(c.get("date")), _st(c["status"]), _e(c.get("cause")), _e(c.get("message"))]
            for c in model.get("dateStatusList", [])], "task-history"))
        body.append("<h2>Consensus</h2>" + _table(
            ["worker", "contribution", "agrees", "revealed", "reward", "seized"],
            [[f"<code>{_e(c['worker'])}</code>", f"<code>{_e(c['contributionHash'])}</code>",
              {True: '<span class="ok">yes</span>', False: '<span class="fail">no</span>', None: "—"}[c["agrees"]],
              "yes" if c["revealed"] else "no", _e(c["reward"]), _e(c["seized"])]
             for c in contributions(task, onchain, moves)], "consensus"))
        for replicate in model.get("replicates", []):
            rows = []
            for u in replicate.get("statusUpdateList", []):
                cause = u.get("cause")
                meaning = (explain_cause(ReplicateStatusCause[cause]).explanation
                           if cause in ReplicateStatusCause.__members__ else "")
                rows.append([_e(u.get("date")), _st(u["status"]), f'<span class="fail">{_e(cause)}</span>' if cause else "",
                             _e(meaning or u.get("errorMessage") or "")])
            exit_code = replicate.get("appExitCode")
            body.append(f"<h2>Replicate of <code>{_e(replicate['walletAddress'])}</code>: "
                        f"{_st(replicate['currentStatus'])}"
                        + (f" (exit code {_e(exit_code)})" if exit_code is not None else "") + "</h2>"
                        + _table(["date", "status", "cause", "meaning / error"], rows))
        final = status in (TaskStatus.COMPLETED.value, TaskStatus.FAILED.value)
        return _page(f"Task {task_id}", "".join(body), refresh=None if final else 5)

    return ui
