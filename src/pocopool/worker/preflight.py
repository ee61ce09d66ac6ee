"""The "can contribute" checks run before start, downloads, compute and contribute (spec/worker.md §5).

All failures are collected in order; the first is the one reported as `details.cause`, and each is
reported with its message in `details.exitCauses` (decision 122).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..chain.aio import chain_read
from ..chain.base import Chain, ChainTask
from ..protocol.crypto import same_address
from ..protocol.statuses import ChainTaskStatus
from ..protocol.statuses import ReplicateStatusCause as Cause
from .context import ReplicateContext


@dataclass(frozen=True)
class PreflightFailure:
    cause: Cause
    message: str


def _read(chain: Chain, task_id: str, wallet: str) -> tuple[ChainTask, int, int]:
    return chain.view_task(task_id), chain.view_account(wallet).balance, chain.now()


async def preflight(ctx: ReplicateContext) -> list[PreflightFailure]:
    failures: list[PreflightFailure] = []
    if not ctx.state.authorization:
        failures.append(
            PreflightFailure(Cause.WORKERPOOL_AUTHORIZATION_NOT_FOUND, "no workerpool authorization for the task")
        )
    try:
        description = await ctx.description()
        task, free_balance, now = await chain_read(
            ctx.services.chain, _read, ctx.services.chain, ctx.chain_task_id, ctx.wallet
        )
    except Exception as error:  # noqa: BLE001 - DescriptionUnavailable, ChainError or a backend bug: unreachable
        failures.append(PreflightFailure(Cause.CHAIN_UNREACHABLE, f"cannot read the task on chain: {error}"))
        return failures
    if free_balance < description.deal.worker_stake:
        failures.append(
            PreflightFailure(
                Cause.STAKE_TOO_LOW, f"free balance {free_balance} < worker stake {description.deal.worker_stake}"
            )
        )
    if task.status is not ChainTaskStatus.ACTIVE:
        failures.append(PreflightFailure(Cause.TASK_NOT_ACTIVE, f"task is {task.status.value} on chain, not ACTIVE"))
    if task.contribution_deadline <= now:
        failures.append(
            PreflightFailure(
                Cause.CONTRIBUTION_TIMEOUT,
                f"contribution deadline {task.contribution_deadline} passed (chain time {now})",
            )
        )
    if any(same_address(contributor, ctx.wallet) for contributor in task.contributors):
        failures.append(PreflightFailure(Cause.CONTRIBUTION_ALREADY_SET, "this wallet already contributed to the task"))
    return failures


def causes(failures: list[PreflightFailure]) -> list[tuple[Cause, str]]:
    return [(failure.cause, failure.message) for failure in failures]
