"""An app that prints megabytes, through the real compute stage and runtime: the worker reports the
end of each stream to its `--app-log-kb`, from a line start, after a line saying what was cut; the
result's stdout.txt is cut to the protocol's own limit, so the setting never changes a result."""

from __future__ import annotations

import zipfile
from dataclasses import replace

from test_worker_stages import World, push, runtime, world  # noqa: F401 - fixtures

from pocopool.protocol.applogs import RESULT_LOG_BYTES, RESULT_SETTING, WORKER_SETTING, parse_cut
from pocopool.protocol.statuses import ReplicateStatus as RS
from pocopool.protocol.statuses import TaskNotificationType as Next
from pocopool.worker.context import ReplicateContext, WorkerServices
from pocopool.worker.stages import app_download, compute

LINES = 400_000  # of 13 bytes: 5.2 MB on stdout
LOUD = f"""
import json, os, sys
out = sys.stdout
for i in range({LINES}):
    out.write("line %07d\\n" % i)
sys.stderr.write("a warning\\n")
with open(os.path.join(os.environ["IEXEC_OUT"], "result.txt"), "w") as handle:
    handle.write("done")
with open(os.path.join(os.environ["IEXEC_OUT"], "computed.json"), "w") as handle:
    json.dump({{"deterministic-output-path": "/iexec_out"}}, handle)  # the digest covers stdout.txt too
"""


def with_log_kb(world: World, ctx: ReplicateContext, kib: int) -> ReplicateContext:
    config = replace(world.services.config, app_log_kb=kib)
    ctx.services = WorkerServices(**{**world.services.__dict__, "config": config})
    return ctx


async def test_a_loud_apps_logs_are_cut_at_the_workers_setting_and_its_result_is_the_same_for_any_setting(
    world: World,
) -> None:
    app = world.app(LOUD)
    digests, result_files = [], []
    for kib in (1, 8):
        deal_id, task_id = world.task(app)
        ctx = with_log_kb(world, world.context(deal_id, task_id), kib)
        await app_download.run(ctx, push(task_id, Next.PLEASE_DOWNLOAD_APP))

        computed = await compute.run(ctx, push(task_id, Next.PLEASE_COMPUTE))

        assert computed.status is RS.COMPUTED, computed
        logs = computed.details.computeLogs
        cut, body = parse_cut(logs.stdout)
        assert cut is not None, logs.stdout[:200]
        assert (cut.setting, cut.limit_bytes, cut.mid_line) == (WORKER_SETTING, kib * 1024, False)
        assert cut.dropped_bytes + cut.kept_bytes == 13 * LINES and cut.kept_bytes <= kib * 1024
        kept = body.splitlines()
        assert cut.dropped_lines == LINES - len(kept)
        assert kept[0] == f"line {cut.dropped_lines:07d}" and kept[-1] == f"line {LINES - 1:07d}"
        assert logs.stderr == "a warning\n"  # within the limit: whole, no marker

        with zipfile.ZipFile(ctx.paths.zip) as archive:
            result_files.append(archive.read("stdout.txt").decode())
        digests.append(ctx.state.result_digest)

    kept_in_result, body = parse_cut(result_files[0])
    assert kept_in_result is not None
    assert (kept_in_result.setting, kept_in_result.limit_bytes) == (RESULT_SETTING, RESULT_LOG_BYTES)
    assert body.endswith(f"line {LINES - 1:07d}\n")
    assert result_files[0] == result_files[1] and digests[0] == digests[1]  # whatever each worker's setting
