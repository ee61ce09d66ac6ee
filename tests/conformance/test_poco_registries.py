"""Apps, datasets and workerpools, and the workerpool policy (poco.md §1, §16)."""

from __future__ import annotations

from eth_account import Account

from poco_world import CHECKSUM, KEYS, assert_reverts
from pocopool.chain import DEFAULT_SCHEDULER_REWARD_RATIO, DEFAULT_WORKER_STAKE_RATIO
from pocopool.chain import errors as rule
from pocopool.protocol.crypto import keccak, normalize_address

ALICE = Account.from_key(KEYS["app_owner"])
BOB = Account.from_key(KEYS["stranger"])


def expected_address(kind: str, owner: str, nonce: int) -> str:
    digest = keccak(f"pocopool:{kind}".encode() + bytes.fromhex(owner[2:]) + nonce.to_bytes(32, "big"))
    return normalize_address("0x" + digest[12:].hex())


def test_an_app_is_registered_at_an_address_derived_from_its_owner_and_nonce(chain):
    receipt = chain.create_app(ALICE, "echo", "http://files/echo.tar.gz", CHECKSUM, price=7)
    second = chain.create_app(ALICE, "echo2", "http://files/echo2.tar.gz", CHECKSUM).return_value
    assert receipt.return_value == expected_address("app", ALICE.address, 0)
    assert second == expected_address("app", ALICE.address, 1)
    app = chain.view_app(receipt.return_value)
    assert app is not None
    assert (app.address, app.owner, app.name, app.app_type, app.multiaddr, app.checksum, app.mrenclave, app.price) == (
        receipt.return_value,
        ALICE.address,
        "echo",
        "BUNDLE",
        "http://files/echo.tar.gz",
        CHECKSUM,
        "",
        7,
    )
    assert receipt.events[-1].name == "CreateApp"
    assert receipt.events[-1].args == {"owner": ALICE.address, "app": receipt.return_value}


def test_an_app_keeps_its_type_and_enclave_configuration(chain):
    address = chain.create_app(ALICE, "tee", "http://x", CHECKSUM, app_type="DOCKER", mrenclave='{"a":1}').return_value
    app = chain.view_app(address)
    assert app is not None and (app.app_type, app.mrenclave) == ("DOCKER", '{"a":1}')


def test_a_dataset_is_registered_like_an_app(chain):
    receipt = chain.create_dataset(ALICE, "data", "http://files/data", CHECKSUM, price=3)
    assert receipt.return_value == expected_address("dataset", ALICE.address, 0)
    dataset = chain.view_dataset(receipt.return_value)
    assert dataset is not None
    assert (dataset.owner, dataset.name, dataset.multiaddr, dataset.checksum, dataset.price) == (
        ALICE.address,
        "data",
        "http://files/data",
        CHECKSUM,
        3,
    )
    assert receipt.events[-1].name == "CreateDataset"


def test_a_workerpool_starts_with_the_default_policy(chain):
    receipt = chain.create_workerpool(ALICE, "my pool", price=1000)
    assert receipt.return_value == expected_address("workerpool", ALICE.address, 0)
    pool = chain.view_workerpool(receipt.return_value)
    assert pool is not None
    assert (pool.owner, pool.description, pool.price) == (ALICE.address, "my pool", 1000)
    assert (pool.worker_stake_ratio, pool.scheduler_reward_ratio) == (30, 1)
    assert (DEFAULT_WORKER_STAKE_RATIO, DEFAULT_SCHEDULER_REWARD_RATIO) == (30, 1)
    assert receipt.events[-1].name == "CreateWorkerpool"


def test_unknown_assets_read_as_none(chain):
    nobody = expected_address("app", BOB.address, 99)
    assert chain.view_app(nobody) is None
    assert chain.view_dataset(nobody) is None
    assert chain.view_workerpool(nobody) is None


def test_a_malformed_checksum_reverts(chain):
    assert_reverts(rule.INVALID_ARGUMENT, chain, lambda: chain.create_app(ALICE, "x", "http://x", "0x12"))


def test_the_workerpool_owner_changes_its_policy(chain):
    pool = chain.create_workerpool(ALICE, "pool").return_value
    receipt = chain.change_workerpool_policy(ALICE, pool, 50, 100)
    info = chain.view_workerpool(pool)
    assert info is not None and (info.worker_stake_ratio, info.scheduler_reward_ratio) == (50, 100)
    assert receipt.events[-1].name == "PolicyUpdate"
    assert receipt.events[-1].args == {
        "workerpool": pool,
        "oldWorkerStakeRatioPolicy": 30,
        "newWorkerStakeRatioPolicy": 50,
        "oldSchedulerRewardRatioPolicy": 1,
        "newSchedulerRewardRatioPolicy": 100,
    }


def test_only_the_workerpool_owner_changes_its_policy(chain):
    pool = chain.create_workerpool(ALICE, "pool").return_value
    assert_reverts(rule.ONLY_WORKERPOOL_OWNER, chain, lambda: chain.change_workerpool_policy(BOB, pool, 50, 5))


def test_the_scheduler_reward_ratio_is_at_most_100(chain):
    pool = chain.create_workerpool(ALICE, "pool").return_value
    assert_reverts(rule.INVALID_REWARD_RATIO, chain, lambda: chain.change_workerpool_policy(ALICE, pool, 30, 101))


def test_the_policy_of_an_unknown_workerpool_cannot_change(chain):
    nobody = expected_address("workerpool", ALICE.address, 5)
    assert_reverts(rule.UNKNOWN_WORKERPOOL, chain, lambda: chain.change_workerpool_policy(ALICE, nobody, 30, 1))
