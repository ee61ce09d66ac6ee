"""`pocopool explain` accepts the public docs' spellings of the seed tables (spec/debugging.md §1.8)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pocopool.protocol import explanations
from pocopool.protocol.statuses import DOC_SPELLINGS, ReplicateStatus, ReplicateStatusCause, TaskStatus

DOCS_TO_CODE = {
    "POST_COMPUTE_FAILED_UNKOWN_ISSUE": "POST_COMPUTE_FAILED_UNKNOWN_ISSUE",
    "TEE_SESSION_GENERATION_SECURE_SESSION_NO_TEE_PROVIDER": "TEE_SESSION_GENERATION_SECURE_SESSION_NO_TEE_FRAMEWORK",
    "TEE_SESSION_GENERATION_POST_COMPUTE_GET_SIGNATURE_TOKENS_FAILED_EMPTY_WORKER_ADDRESS": "TEE_SESSION_GENERATION_GET_SIGNATURE_TOKENS_FAILED_EMPTY_WORKER_ADDRESS",
    "TEE_SESSION_GENERATION_POST_COMPUTE_GET_SIGNATURE_TOKENS_FAILED_EMPTY_PUBLIC_ENCLAVE_CHALLENGE": "TEE_SESSION_GENERATION_GET_SIGNATURE_TOKENS_FAILED_EMPTY_PUBLIC_ENCLAVE_CHALLENGE",
    "TEE_SESSION_GENERATION_POST_COMPUTE_GET_SIGNATURE_TOKENS_FAILED_EMPTY_TEE_CHALLENGE": "TEE_SESSION_GENERATION_GET_SIGNATURE_TOKENS_FAILED_EMPTY_TEE_CHALLENGE",
    "TEE_SESSION_GENERATION_POST_COMPUTE_GET_SIGNATURE_TOKENS_FAILED_EMPTY_TEE_CREDENTIALS": "TEE_SESSION_GENERATION_GET_SIGNATURE_TOKENS_FAILED_EMPTY_TEE_CREDENTIALS",
    "UPLOADING": "RESULT_UPLOADING",
}


def test_the_alias_table_is_the_drift_table_and_points_at_real_names() -> None:
    assert DOC_SPELLINGS == DOCS_TO_CODE
    known = {*TaskStatus.__members__, *ReplicateStatus.__members__, *ReplicateStatusCause.__members__}
    assert set(DOC_SPELLINGS.values()) <= known
    assert not set(DOC_SPELLINGS) & known  # an alias never hides a real name


@pytest.mark.parametrize(("docs", "code"), sorted(DOCS_TO_CODE.items()))
def test_a_doc_spelling_explains_the_code_name(docs: str, code: str) -> None:
    found = explanations.lookup(docs.lower())
    assert found["name"] == code and found["docSpelling"] == docs
    assert found == {**explanations.lookup(code), "docSpelling": docs}


def test_the_cli_says_which_spelling_it_resolved() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pocopool.cli", "explain", "POST_COMPUTE_FAILED_UNKOWN_ISSUE"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(
        "POST_COMPUTE_FAILED_UNKOWN_ISSUE is the docs' spelling of POST_COMPUTE_FAILED_UNKNOWN_ISSUE"
    )
    as_json = subprocess.run(
        [sys.executable, "-m", "pocopool.cli", "explain", "UPLOADING", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(as_json.stdout)["name"] == "RESULT_UPLOADING"
