"""Ledger rules for money, categories, registries and deals (spec/poco.md §4, §5, §10, §11, §16).

Each function is one transaction body: it checks its preconditions in the spec's order, raising
ChainRevert on the first that fails, then applies its effects through the TxState.
"""

from __future__ import annotations

from ...protocol.crypto import ZERO_ADDRESS, keccak, keccak_hex, normalize_address
from ...protocol.tags import TEE_BIT, tag_to_int
from ...protocol.time import Category
from .. import arguments as arg
from .. import errors as rule
from ..base import (
    DEFAULT_SCHEDULER_REWARD_RATIO,
    DEFAULT_WORKER_STAKE_RATIO,
    NO_RESOURCE,
    AppInfo,
    DatasetInfo,
    Deal,
    DealRequest,
    Resource,
    WorkerpoolInfo,
)
from ..reverts import revert
from .state import SQLITE_INT_MAX, TxState, scheduler_stake, task_price

# Deadlines are start time + 10 × time ref and must stay SQLite integers: ~8.9 million years is plenty.
MAX_WORK_CLOCK_TIME_REF = 2**48


def _require_owner(state: TxState, sender: str, action: str) -> None:
    if sender != state.owner:
        raise revert(rule.ONLY_OWNER, f"{action} needs the owner {state.owner}, not {sender}")


# ----- money ----------------------------------------------------------------------------------------
def mint(state: TxState, sender: str, account: str, amount: int) -> None:
    _require_owner(state, sender, "mint")
    state.mint(arg.address(account, "account"), arg.uint(amount, "amount"))


def transfer(state: TxState, sender: str, to: str, amount: int) -> None:
    state.transfer(sender, arg.address(to, "recipient"), arg.uint(amount, "amount"))


# ----- categories (§11.1) ---------------------------------------------------------------------------
def add_category(state: TxState, name: str, description: str, work_clock_time_ref: int) -> int:
    """Appends a category (no owner check: also used for the standard ones at genesis)."""
    time_ref = arg.uint(work_clock_time_ref, "work clock time ref")
    if time_ref > MAX_WORK_CLOCK_TIME_REF:
        raise revert(
            rule.INVALID_ARGUMENT, f"work clock time ref must be at most {MAX_WORK_CLOCK_TIME_REF} s, got {time_ref}"
        )
    category = Category(state.category_count(), arg.text(name, "name"), arg.text(description, "description"), time_ref)
    state.add_category(category)
    state.emit(
        "CreateCategory",
        catid=category.id,
        name=category.name,
        description=category.description,
        workClockTimeRef=category.work_clock_time_ref,
    )
    return category.id


def create_category(state: TxState, sender: str, name: str, description: str, work_clock_time_ref: int) -> int:
    _require_owner(state, sender, "create a category")
    return add_category(state, name, description, work_clock_time_ref)


# ----- registries (§16) -----------------------------------------------------------------------------
def asset_address(kind: str, owner: str, nonce: int) -> str:
    """Last 20 bytes of keccak("pocopool:<kind>" ‖ owner ‖ uint256 nonce): one address per (owner, nonce)."""
    digest = keccak(b"pocopool:" + kind.encode() + bytes.fromhex(owner[2:]) + nonce.to_bytes(32, "big"))
    return normalize_address("0x" + digest[12:].hex())


def _new_asset_address(state: TxState, kind: str, owner: str) -> str:
    return asset_address(kind, owner, state.next_nonce(owner, kind))


def create_app(
    state: TxState, owner: str, name: str, multiaddr: str, checksum: str, app_type: str, mrenclave: str, price: int
) -> str:
    app = AppInfo(
        address=_new_asset_address(state, "app", owner),
        owner=owner,
        name=arg.text(name, "name"),
        app_type=arg.text(app_type, "app type"),
        multiaddr=arg.text(multiaddr, "multiaddr"),
        checksum=arg.bytes32(checksum, "checksum"),
        mrenclave=arg.text(mrenclave, "mrenclave"),
        price=arg.uint(price, "price"),
    )
    state.save_app(app)
    state.emit("CreateApp", owner=owner, app=app.address)
    return app.address


def create_dataset(state: TxState, owner: str, name: str, multiaddr: str, checksum: str, price: int) -> str:
    dataset = DatasetInfo(
        address=_new_asset_address(state, "dataset", owner),
        owner=owner,
        name=arg.text(name, "name"),
        multiaddr=arg.text(multiaddr, "multiaddr"),
        checksum=arg.bytes32(checksum, "checksum"),
        price=arg.uint(price, "price"),
    )
    state.save_dataset(dataset)
    state.emit("CreateDataset", owner=owner, dataset=dataset.address)
    return dataset.address


def create_workerpool(state: TxState, owner: str, description: str, price: int) -> str:
    pool = WorkerpoolInfo(
        address=_new_asset_address(state, "workerpool", owner),
        owner=owner,
        description=arg.text(description, "description"),
        worker_stake_ratio=DEFAULT_WORKER_STAKE_RATIO,
        scheduler_reward_ratio=DEFAULT_SCHEDULER_REWARD_RATIO,
        price=arg.uint(price, "price"),
    )
    state.save_workerpool(pool)
    state.emit("CreateWorkerpool", owner=owner, workerpool=pool.address)
    return pool.address


def _registered_workerpool(state: TxState, address: str) -> WorkerpoolInfo:
    pool = state.workerpool(arg.address(address, "workerpool"))
    if pool is None:
        raise revert(rule.UNKNOWN_WORKERPOOL, str(address))
    return pool


def change_workerpool_policy(
    state: TxState, sender: str, workerpool: str, worker_stake_ratio: int, scheduler_reward_ratio: int
) -> None:
    pool = _registered_workerpool(state, workerpool)
    if sender != pool.owner:
        raise revert(rule.ONLY_WORKERPOOL_OWNER, f"the owner is {pool.owner}, not {sender}")
    stake_ratio = arg.uint(worker_stake_ratio, "worker stake ratio")
    reward_ratio = arg.uint(scheduler_reward_ratio, "scheduler reward ratio")
    if reward_ratio > 100:
        raise revert(rule.INVALID_REWARD_RATIO, f"got {reward_ratio}")
    state.save_workerpool(
        WorkerpoolInfo(
            pool.address,
            pool.owner,
            pool.description,
            stake_ratio,
            reward_ratio,
            pool.price,
        )
    )
    state.emit(
        "PolicyUpdate",
        workerpool=pool.address,
        oldWorkerStakeRatioPolicy=pool.worker_stake_ratio,
        newWorkerStakeRatioPolicy=stake_ratio,
        oldSchedulerRewardRatioPolicy=pool.scheduler_reward_ratio,
        newSchedulerRewardRatioPolicy=reward_ratio,
    )


# ----- deals (§4, §5) --------------------------------------------------------------------------------
def deal_id(requester: str, nonce: int) -> str:
    """keccak("pocopool:deal" ‖ requester ‖ uint256 nonce): without orders there is no request hash."""
    return keccak_hex(b"pocopool:deal" + bytes.fromhex(requester[2:]) + nonce.to_bytes(32, "big"))


def _check_max_price(what: str, price: int, max_price: int | None) -> None:
    if max_price is not None and arg.uint(max_price, f"{what} max price") < price:
        raise revert(rule.MAX_PRICE_EXCEEDED, f"{price} nRLC, at most {max_price} accepted", resource=what)


def _deal_resources(state: TxState, request: DealRequest) -> tuple[AppInfo, Resource, WorkerpoolInfo]:
    """The registered app, dataset (or none) and workerpool a request names, in the spec's check order."""
    app = state.app(arg.address(request.app, "app"))
    if app is None:
        raise revert(rule.UNKNOWN_APP, str(request.app))
    dataset = NO_RESOURCE
    dataset_address = arg.address(request.dataset, "dataset")
    if dataset_address != ZERO_ADDRESS:
        info = state.dataset(dataset_address)
        if info is None:
            raise revert(rule.UNKNOWN_DATASET, str(request.dataset))
        dataset = Resource(info.address, info.owner, info.price)
    pool = _registered_workerpool(state, request.workerpool)
    return app, dataset, pool


def create_deal(state: TxState, requester: str, request: DealRequest) -> str:
    """Direct deal creation: the checks of matchOrders that apply without orders (§4.1), then §4.2."""
    volume = arg.uint(request.volume, "volume")
    if volume < 1 or volume > SQLITE_INT_MAX:
        raise revert(rule.INVALID_VOLUME, f"got {volume}")
    category = arg.uint(request.category, "category")
    if state.category(category) is None:
        raise revert(rule.UNKNOWN_CATEGORY, f"category {category}, there are {state.category_count()}")
    app, dataset, pool = _deal_resources(state, request)
    _check_max_price("app", app.price, request.app_max_price)
    _check_max_price("dataset", dataset.price, request.dataset_max_price)
    _check_max_price("workerpool", pool.price, request.workerpool_max_price)
    tag = arg.bytes32(request.tag, "tag")
    if tag_to_int(tag) & TEE_BIT and not app.mrenclave:
        raise revert(rule.TEE_APP_REQUIRED, f"tag {tag}, app {app.address}")
    deal = Deal(
        deal_id=deal_id(requester, state.next_nonce(requester, "deal")),
        app=Resource(app.address, app.owner, app.price),
        dataset=dataset,
        workerpool=Resource(pool.address, pool.owner, pool.price),
        trust=max(arg.uint(request.trust, "trust"), 1),
        category=category,
        tag=tag,
        requester=requester,
        beneficiary=arg.address(request.beneficiary or requester, "beneficiary"),
        callback=arg.address(request.callback, "callback"),
        params=arg.text(request.params, "params"),
        start_time=state.now,
        bot_first=0,
        bot_size=volume,
        worker_stake=pool.price * pool.worker_stake_ratio // 100,
        scheduler_reward_ratio=pool.scheduler_reward_ratio,
        sponsor=requester,
    )
    state.save_deal(deal)
    state.lock(deal.sponsor, task_price(deal) * volume)
    state.lock(deal.workerpool.owner, scheduler_stake(deal.workerpool.price) * volume)
    state.emit("SchedulerNotice", workerpool=deal.workerpool.pointer, dealid=deal.deal_id)
    return deal.deal_id
