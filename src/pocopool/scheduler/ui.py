"""The web dashboard at `/ui`: plain server-rendered HTML (the Jinja2 templates of templates/), no script,
nothing fetched from outside.

    /ui                  workers (alive, slots, current replicates) and deals (task counts by status)
    /ui/deals/{id}       the tasks of a deal
    /ui/tasks/{id}       a task: diagnosis, what it waits for, on-chain and off-chain statuses, the
                         timeline as an SVG chart, consensus per replicate (with each worker's
                         weight and score), each replicate's history and whether its logs were cut

Every page is a view of the same data as the API and the CLI: the `TaskView` of `GET /tasks/{id}`
(built by scheduler/views.py) handed to the pure functions of protocol/ (diagnose, waiting_for,
timeline, contributions); the page shows its fields as the API spells them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined

from ..chain.aio import chain_read
from ..chain.base import Chain
from ..protocol.applogs import describe_cut
from ..protocol.contributions import contributions, describe_score_change
from ..protocol.crypto import InvalidHex, normalize_bytes32
from ..protocol.diagnosis import diagnose
from ..protocol.explanations import explain_cause
from ..protocol.statuses import ReplicateStatusCause, TaskStatus
from ..protocol.time import Clock, iso
from ..protocol.timeline import axis, timeline
from ..protocol.views import SCORE_EVENTS, OnChainTask, ScoreMove, StakeMove, TaskView, WorkerView
from ..protocol.waiting import waiting_for
from .registry import WorkerRegistry
from .store import Store
from .views import task_view

SHORTEST_STAGE = 8  # px: the least room a stage gets on the timeline (the axis is warped to give it)
FAILURE_MARK = 24  # px: the narrowest a failure is drawn, so that one that took no time still shows
COLORS = {"failure": "#d64545", "COMPLETED": "#2f9e55", "default": "#5b8def", "wait": "#9aa5b1"}
# the diagnosis' fields shown, in order, with their label on the page
DIAGNOSIS_FIELDS = (
    ("cause", "cause"),
    ("stage", "stage"),
    ("replicate", "replicate"),
    ("origin", "whose"),
    ("message", "error"),
    ("explanation", "meaning"),
    ("fix", "what to do"),
)


def status_class(status: str | None) -> str:
    """The CSS class of a status: `ok` (COMPLETED), `fail` (a failure or a timeout), `run` (anything else)."""
    if not status:
        return ""
    if status == "COMPLETED":
        return "ok"
    if "FAIL" in status or "TIMEOUT" in status or status in ("WORKER_LOST", "ABORTED", "FINAL_DEADLINE_REACHED"):
        return "fail"
    return "run"


# The pages are the templates/ next to this file; every value is escaped (autoescape) and None shows as
# nothing, as the API's missing fields do.
PAGES = Environment(
    loader=PackageLoader("pocopool.scheduler", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    finalize=lambda value: "" if value is None else value,
)
PAGES.filters["status_class"] = status_class


def _page(template: str, title: str, refresh: int | None = None, **context: Any) -> HTMLResponse:
    """`refresh`: reload every so many seconds (pages of things still moving; no script needed)."""
    return HTMLResponse(PAGES.get_template(template).render(title=title, refresh=refresh, **context))


def _message(title: str, text: str, code: str | None = None, after: str = "") -> HTMLResponse:
    return _page("message.html", title, text=text, code=code, after=after)


def task_actions(task_id: str, status: str, result_link: str | None, final_deadline: int, now: float) -> dict[str, Any]:
    """What the requester can do next, as the commands to run: download a completed task's result,
    claim a failed one's refund (from its final deadline on: the chain's rule), read the app's logs
    (signed with the requester's key, which the dashboard never holds)."""
    actions: dict[str, Any] = {"logs": f"pocopool task debug {task_id} --logs"}
    if status == TaskStatus.COMPLETED.value:
        actions["result"] = result_link
        actions["download"] = f"pocopool task download {task_id} out/"
    elif status == TaskStatus.FAILED.value:
        actions["claim"] = f"pocopool task claim {task_id}"
        if final_deadline and now < final_deadline:
            actions["claimFrom"] = iso(final_deadline)
    return actions


def timeline_chart(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """The geometry of the timeline chart (templates/timeline.svg): one row for the task, one per
    replicate, on the timeline's axis (protocol/timeline.py: warped when a short stage would not show,
    each bar labelled with its phase where it fits)."""
    if not data:
        return None
    label_w, chart_w, row_h = 190, 760, 26
    rows = [("task", data["task"])] + [(f"{(r['worker'] or '')[:10]}…", r["stages"]) for r in data["replicates"]]
    scale = axis(data, chart_w, SHORTEST_STAGE)
    chart_rows = []
    for index, (label, segments) in enumerate(rows):
        bars = []
        for segment in segments:
            title = f"{segment['phase']}: {segment['status']} at {segment['at']} (+{segment['start']:.1f}s)"
            if segment.get("cause"):
                title += f" cause {segment['cause']}"
            start, end = scale.at(segment["start"]), scale.at(segment["end"])
            # A failure that ends the task at once lasts no time: it is still drawn, as a marker wide
            # enough to see, kept inside the chart.
            width = max(end - start, FAILURE_MARK if segment["failure"] else 2)
            x = label_w + min(start, chart_w - width)
            bars.append(
                {
                    "x": x,
                    "width": width,
                    "color": COLORS["failure"]
                    if segment["failure"]
                    else COLORS.get(segment["status"], COLORS["default"]),
                    "failure": segment["failure"],
                    "title": title,
                    "label": segment["phase"] if width >= len(segment["phase"]) * 6.5 + 6 else None,
                }
            )
        chart_rows.append({"label": label, "y": index * row_h + 4, "bars": bars})
    return {
        "width": label_w + chart_w + 60,
        "height": row_h * len(rows) + 30,
        "bar_height": row_h - 8,
        "rows": chart_rows,
        "axis_y": row_h * len(rows) + 20,
        "linear": scale.linear,
        "ticks": [{"x": label_w + position, "seconds": seconds} for seconds, position in scale.ticks()],
    }


def _first_cause(task: TaskView) -> dict[str, Any] | None:
    """The first failure cause of the task's replicates, explained (when the diagnosis finds nothing decisive)."""
    for replicate in task.replicates:
        for update in replicate.statusUpdateList:
            if update.cause is not None:
                explanation = explain_cause(update.cause)
                return {
                    "cause": update.cause.value,
                    "worker": replicate.walletAddress,
                    "status": update.status.value,
                    "explanation": explanation.explanation,
                    "fix": explanation.fix,
                }
    return None


def _replicate_rows(replicate: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for update in replicate.get("statusUpdateList", []):
        cause = update.get("cause")
        meaning = (
            explain_cause(ReplicateStatusCause[cause]).explanation if cause in ReplicateStatusCause.__members__ else ""
        )
        rows.append(
            {
                "date": update.get("date"),
                "status": update["status"],
                "cause": cause,
                "meaning": meaning or update.get("errorMessage") or "",
            }
        )
    return rows


def router(store: Store, chain: Chain, clock: Clock, registry: WorkerRegistry) -> APIRouter:
    """The dashboard's pages, read from the store, the chain and the worker registry."""
    ui = APIRouter(tags=["ui"], include_in_schema=False)

    async def workers_json() -> list[WorkerView]:
        return [WorkerView.model_validate(w) for w in await registry.all()]

    @ui.get("/ui", response_class=HTMLResponse, tags=["ui"], include_in_schema=False)
    async def home() -> HTMLResponse:
        return _page(
            "home.html", "Workerpool", refresh=10, workers=await workers_json(), deals=await store.deals_overview()
        )

    @ui.get("/ui/deals/{dealId}", response_class=HTMLResponse)
    async def deal_page(dealId: str) -> HTMLResponse:
        try:
            deal_id = normalize_bytes32(dealId)
        except InvalidHex:
            return _message("Not a deal id", f"{dealId} is not 0x + 64 hex digits.")
        rows = await store.deal_tasks(deal_id)
        counts: dict[str, int] = {}
        for r in rows:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        return _page("deal.html", f"Deal {deal_id}", tasks=rows, by_status=counts)

    @ui.get("/ui/tasks/{chainTaskId}", response_class=HTMLResponse)
    async def task_page(chainTaskId: str) -> HTMLResponse:
        try:
            task_id = normalize_bytes32(chainTaskId)
        except InvalidHex:
            return _message("Not a task id", f"{chainTaskId} is not 0x + 64 hex digits.")
        details = await store.task_details(task_id)
        if details is None:
            return _message("Unknown task", "The scheduler does not know task ", code=task_id, after=".")
        task = task_view(details, "/")
        model = task.wire()  # the fields as the API spells them, for display
        chain_task = await chain_read(chain, chain.view_task, task_id)
        raw_events = await chain_read(
            chain, chain.events, details.task["deal_block"], None, ("Reward", "Seize", *SCORE_EVENTS)
        )
        moves = [StakeMove.from_event(e.name, e.args) for e in raw_events if e.name not in SCORE_EVENTS]
        score_moves = [ScoreMove.from_event(e.name, e.args) for e in raw_events if e.name in SCORE_EVENTS]
        scores = {r.walletAddress: await chain_read(chain, chain.view_score, r.walletAddress) for r in task.replicates}
        onchain = OnChainTask(status=chain_task.status, consensus_value=chain_task.consensus_value)
        now = clock.now()
        status = model["currentStatus"]
        diagnosis = diagnose(task)
        final = status in (TaskStatus.COMPLETED.value, TaskStatus.FAILED.value)
        return _page(
            "task.html",
            f"Task {task_id}",
            refresh=None if final else 5,
            actions=task_actions(task_id, status, model.get("resultLink"), chain_task.final_deadline, now),
            model=model,
            diagnosis=diagnosis,
            diagnosis_fields=DIAGNOSIS_FIELDS,
            first_cause=None if diagnosis else _first_cause(task),
            waiting=waiting_for(task, await workers_json(), onchain, now),
            description=TaskStatus(status).description if status in TaskStatus.__members__ else "",
            chain_status=chain_task.status.value,
            chart=timeline_chart(timeline(task, now)),
            consensus=[
                {**row, "scoreChangeText": describe_score_change(row["scoreChange"])}
                for row in contributions(task, onchain, moves, scores, score_moves)
            ],
            replicates=[
                {
                    "walletAddress": r["walletAddress"],
                    "currentStatus": r["currentStatus"],
                    "exitCode": r.get("appExitCode"),
                    "updates": _replicate_rows(r),
                    # which stored logs were cut and how; the logs themselves are the requester's
                    "logsCut": {stream: describe_cut(cut) for stream, cut in (r.get("appLogsCut") or {}).items()},
                }
                for r in model.get("replicates", [])
            ],
        )

    return ui
