"""The environment an app runs with (spec/worker.md §6.4, `IexecEnvUtils.getComputeStageEnvMap`)."""

from __future__ import annotations

from ..protocol.crypto import sha256_hex
from .description import TaskDescription

PATH = "/usr/local/bin:/usr/bin:/bin"


def input_file_name(url: str) -> str:
    """Local name of an input file: 0x + sha256 of its URL (spec/worker.md §10.3)."""
    return sha256_hex(url.encode("utf-8"))


def compute_env(description: TaskDescription, iexec_in: str, iexec_out: str, home: str = "/tmp") -> dict[str, str]:
    """Every variable the app sees; nothing is inherited from the worker's own environment."""
    deal = description.deal
    dataset = description.dataset_address
    env = {
        "PATH": PATH,
        "HOME": home,
        "LANG": "C.UTF-8",
        "IEXEC_TASK_ID": description.chain_task_id,
        "IEXEC_DEAL_ID": deal.deal_id,
        "IEXEC_TASK_INDEX": str(description.task_index),
        "IEXEC_IN": iexec_in,
        "IEXEC_OUT": iexec_out,
        "IEXEC_BOT_SIZE": str(deal.bot_size),
        "IEXEC_BOT_FIRST_INDEX": str(deal.bot_first),
        "IEXEC_BOT_TASK_INDEX": str(description.task_index),
        "IEXEC_DATASET_ADDRESS": dataset,
        "IEXEC_DATASET_FILENAME": dataset,
        "IEXEC_INPUT_FILES_NUMBER": str(len(description.params.iexec_input_files)),
    }
    if description.params.iexec_input_files:
        env["IEXEC_INPUT_FILES_FOLDER"] = iexec_in
        for index, url in enumerate(description.params.iexec_input_files, start=1):
            env[f"IEXEC_INPUT_FILE_NAME_{index}"] = input_file_name(url)
    return env
