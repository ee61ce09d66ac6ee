"""Task failure causes are one typed list in protocol/ (decision 119): each has a meaning, an explanation
with a fix, and the statuses it comes with; the chain's rules are one cause each; `pocopool explain`
knows them. That the engine writes no other cause: test_scheduler_engine_causes.py."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pocopool.chain import errors as rule
from pocopool.cli.main import app
from pocopool.protocol.explanations import lookup
from pocopool.protocol.task_causes import WRITTEN_WITH, TaskFailureCause
from pocopool.protocol.task_explanations import TASK_CAUSES, explain_task_cause

# Every rule the scheduler's own transactions (initialize, reopen, finalize) can break, on either chain.
SCHEDULER_TX_RULES = {
    rule.UNKNOWN_DEAL: TaskFailureCause.UNKNOWN_DEAL,
    rule.TASK_INDEX_OUT_OF_RANGE: TaskFailureCause.TASK_INDEX_OUT_OF_RANGE,
    rule.TASK_ALREADY_INITIALIZED: TaskFailureCause.TASK_ALREADY_INITIALIZED,
    rule.CONTRIBUTION_DEADLINE_PASSED: TaskFailureCause.CONTRIBUTION_DEADLINE_PASSED,
    rule.ONLY_SCHEDULER: TaskFailureCause.ONLY_SCHEDULER,
    rule.TASK_NOT_REVEALING: TaskFailureCause.TASK_NOT_REVEALING,
    rule.FINAL_DEADLINE_PASSED: TaskFailureCause.FINAL_DEADLINE_REACHED,
    rule.REVEAL_DEADLINE_NOT_REACHED: TaskFailureCause.REVEAL_DEADLINE_NOT_REACHED,
    rule.TASK_HAS_REVEALS: TaskFailureCause.TASK_HAS_REVEALS,
    rule.REVEALS_PENDING: TaskFailureCause.REVEALS_PENDING,
    rule.WRONG_RESULTS_CALLBACK: TaskFailureCause.WRONG_RESULTS_CALLBACK,
}


@pytest.mark.parametrize("cause", list(TaskFailureCause))
def test_every_task_cause_has_a_meaning_an_explanation_with_a_fix_and_its_statuses(cause: TaskFailureCause) -> None:
    assert cause.value == cause.name
    assert cause.description.endswith(".") and "\n" not in cause.description
    explained = explain_task_cause(cause)
    assert explained.explanation and explained.fix.endswith((".", ")"))
    assert WRITTEN_WITH[cause] and all(status.is_failure for status in WRITTEN_WITH[cause])


def test_the_tables_name_exactly_the_task_causes() -> None:
    assert set(TASK_CAUSES) == set(WRITTEN_WITH) == set(TaskFailureCause)


@pytest.mark.parametrize(("chain_rule", "cause"), sorted(SCHEDULER_TX_RULES.items()))
def test_each_rule_a_scheduler_transaction_can_break_is_one_cause(chain_rule: str, cause: TaskFailureCause) -> None:
    assert chain_rule in rule.ALL_RULES
    assert TaskFailureCause.of_chain_rule(chain_rule) is cause
    assert TaskFailureCause.parse(chain_rule) is cause  # a row written before decision 119 reads the same


def test_a_rule_no_cause_names_is_a_ledger_refusal() -> None:
    assert TaskFailureCause.of_chain_rule(rule.INSUFFICIENT_BALANCE) is TaskFailureCause.LEDGER_REFUSED
    assert TaskFailureCause.of_chain_rule(None) is TaskFailureCause.LEDGER_REFUSED


def test_stored_causes_read_back_as_the_cause_they_are_written_as_now() -> None:
    assert all(TaskFailureCause.parse(cause.value) is cause for cause in TaskFailureCause)
    assert TaskFailureCause.parse("TASK_FAILED") is TaskFailureCause.TASK_CLAIMED
    assert TaskFailureCause.parse(None) is None and TaskFailureCause.parse("") is None
    assert TaskFailureCause.parse("SOMETHING_ELSE") is None


def test_explain_finds_a_task_cause_by_its_name_or_by_the_chains_rule() -> None:
    found = lookup("task-has-reveals")
    assert found["name"] == "TASK_HAS_REVEALS"
    [entry] = found["entries"]
    assert entry["kind"] == "task cause" and entry["fix"] and entry["origin"] == "protocol"


def test_a_name_that_is_a_status_and_a_task_cause_explains_both() -> None:
    kinds = [entry["kind"] for entry in lookup("RESULT_UPLOAD_TIMEOUT")["entries"]]
    assert kinds == ["task status", "task cause"]


def test_the_cli_explains_a_task_cause() -> None:
    result = CliRunner().invoke(app, ["explain", "all_alive_workers_failed"], prog_name="pocopool")
    assert result.exit_code == 0, result.output
    assert "ALL_ALIVE_WORKERS_FAILED (task cause)" in result.stdout
    assert "what to do" in result.stdout and "whose          input (app)" in result.stdout


def test_the_cli_explains_a_task_cause_as_json_and_suggests_one_when_mistyped() -> None:
    result = CliRunner().invoke(app, ["explain", "SMS_UNREACHABLE", "--json"], prog_name="pocopool")
    assert result.exit_code == 0, result.output
    entry = json.loads(result.stdout)["entries"][0]
    assert (entry["kind"], entry["component"], entry["origin"]) == ("task cause", "scheduler", "platform")
    mistyped = CliRunner().invoke(app, ["explain", "SMS_UNREACHABL"], prog_name="pocopool")
    assert mistyped.exit_code == 2 and "did you mean SMS_UNREACHABLE" in mistyped.stderr
