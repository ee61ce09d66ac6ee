"""The environment of an app (spec/worker.md §6.4): IEXEC_* and nothing from the worker."""

from __future__ import annotations

from pocopool.chain.base import NO_RESOURCE, AppInfo, DatasetInfo, Deal, Resource
from pocopool.protocol.crypto import ZERO_ADDRESS, sha256_hex
from pocopool.protocol.params import DealParams
from pocopool.protocol.time import Category
from pocopool.worker.description import TaskDescription
from pocopool.worker.env import compute_env, input_file_name

DEAL = "0x" + "de" * 32
TASK = "0x" + "7a" * 32
DATASET = "0x" + "da" * 20


def description(*, dataset: bool, inputs: tuple[str, ...] = ()) -> TaskDescription:
    deal = Deal(
        deal_id=DEAL,
        app=Resource("0x" + "aa" * 20, "0x" + "01" * 20, 0),
        dataset=Resource(DATASET, "0x" + "02" * 20, 0) if dataset else NO_RESOURCE,
        workerpool=Resource("0x" + "bb" * 20, "0x" + "03" * 20, 0),
        trust=1,
        category=0,
        tag="0x" + "00" * 32,
        requester="0x" + "04" * 20,
        beneficiary="0x" + "04" * 20,
        callback=ZERO_ADDRESS,
        params="",
        start_time=0,
        bot_first=3,
        bot_size=5,
        worker_stake=0,
        scheduler_reward_ratio=1,
        sponsor="0x" + "04" * 20,
    )
    return TaskDescription(
        chain_task_id=TASK,
        task_index=4,
        deal=deal,
        app=AppInfo("0x" + "aa" * 20, "0x" + "01" * 20, "app", "BUNDLE", "http://x/app.tgz", "0x" + "00" * 32, "", 0),
        dataset=DatasetInfo(DATASET, "0x" + "02" * 20, "data", "http://x/data", "0x" + "00" * 32, 0)
        if dataset
        else None,
        category=Category(0, "XS", "", 300),
        params=DealParams(iexec_input_files=inputs),
        network=False,
    )


def test_a_task_without_inputs_gets_the_reference_variables_only() -> None:
    env = compute_env(description(dataset=False), "/iexec_in", "/iexec_out")
    assert env == {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "IEXEC_TASK_ID": TASK,
        "IEXEC_DEAL_ID": DEAL,
        "IEXEC_TASK_INDEX": "4",
        "IEXEC_IN": "/iexec_in",
        "IEXEC_OUT": "/iexec_out",
        "IEXEC_BOT_SIZE": "5",
        "IEXEC_BOT_FIRST_INDEX": "3",
        "IEXEC_BOT_TASK_INDEX": "4",
        "IEXEC_DATASET_ADDRESS": ZERO_ADDRESS,
        "IEXEC_DATASET_FILENAME": ZERO_ADDRESS,
        "IEXEC_INPUT_FILES_NUMBER": "0",
    }


def test_a_dataset_and_input_files_are_named_in_the_environment() -> None:
    urls = ("http://files/a.csv", "http://files/b.csv")
    env = compute_env(description(dataset=True, inputs=urls), "/host/in", "/host/out")
    assert env["IEXEC_DATASET_ADDRESS"] == env["IEXEC_DATASET_FILENAME"] == DATASET
    assert env["IEXEC_INPUT_FILES_NUMBER"] == "2"
    assert env["IEXEC_INPUT_FILES_FOLDER"] == "/host/in"
    assert env["IEXEC_INPUT_FILE_NAME_1"] == sha256_hex(b"http://files/a.csv") == input_file_name(urls[0])
    assert env["IEXEC_INPUT_FILE_NAME_2"] == sha256_hex(b"http://files/b.csv")
    assert "IEXEC_INPUT_FILE_NAME_3" not in env
