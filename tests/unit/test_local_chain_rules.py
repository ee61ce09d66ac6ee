"""The revert rule names: stable kebab-case, one per constant, and each one exercised by a test."""

from __future__ import annotations

import re
from pathlib import Path

from pocopool.chain import errors

TESTS = Path(__file__).resolve().parents[1]
RULE_CONSTANTS = {name: value for name, value in vars(errors).items() if name.isupper() and isinstance(value, str)}


def test_rule_names_are_unique_kebab_case():
    assert set(RULE_CONSTANTS.values()) == errors.ALL_RULES
    assert len(errors.ALL_RULES) == len(RULE_CONSTANTS)
    for value in errors.ALL_RULES:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", value), value


def test_every_rule_is_exercised_by_a_ledger_test():
    sources = [*TESTS.glob("conformance/*.py"), *TESTS.glob("integration/chain/test_local_chain_*.py")]
    text = "\n".join(path.read_text() for path in sources)
    untested = [name for name in RULE_CONSTANTS if f"rule.{name}" not in text]
    assert untested == []
