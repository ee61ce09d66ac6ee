"""Deal params: the JSON string a requester puts in the deal (spec/poco.md §13.4)."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from urllib.parse import urlparse

# The only input files a worker can fetch (worker/downloads.py).
DOWNLOADABLE_SCHEMES = ("http", "https")


@dataclass(frozen=True)
class DealParams:
    iexec_args: str = ""
    iexec_input_files: tuple[str, ...] = ()
    iexec_result_encryption: bool = False
    iexec_result_storage_provider: str = ""
    iexec_result_storage_proxy: str = ""
    iexec_secrets: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, params: str) -> DealParams:
        """A non-JSON string, or JSON that is not an object, is taken as plain iexec_args."""
        try:
            data = json.loads(params) if params else {}
        except json.JSONDecodeError:
            return cls(iexec_args=params)
        if not isinstance(data, dict):
            return cls(iexec_args=params)
        files = data.get("iexec_input_files") or []
        secrets = data.get("iexec_secrets") or {}
        return cls(
            iexec_args=str(data.get("iexec_args") or ""),
            iexec_input_files=tuple(str(f) for f in files) if isinstance(files, list) else (),
            iexec_result_encryption=bool(data.get("iexec_result_encryption", False)),
            iexec_result_storage_provider=str(data.get("iexec_result_storage_provider") or ""),
            iexec_result_storage_proxy=str(data.get("iexec_result_storage_proxy") or ""),
            iexec_secrets={str(k): str(v) for k, v in secrets.items()} if isinstance(secrets, dict) else {},
        )

    def to_json(self) -> str:
        data: dict[str, object] = {"iexec_args": self.iexec_args}
        if self.iexec_input_files:
            data["iexec_input_files"] = list(self.iexec_input_files)
        if self.iexec_result_encryption:
            data["iexec_result_encryption"] = True
        if self.iexec_result_storage_provider:
            data["iexec_result_storage_provider"] = self.iexec_result_storage_provider
        if self.iexec_result_storage_proxy:
            data["iexec_result_storage_proxy"] = self.iexec_result_storage_proxy
        if self.iexec_secrets:
            data["iexec_secrets"] = dict(self.iexec_secrets)
        return json.dumps(data, separators=(",", ":"))

    def argv(self) -> list[str]:
        """iexec_args split shell-style (quotes respected), as the reference does."""
        return shlex.split(self.iexec_args) if self.iexec_args else []


def args_problem(args: str) -> str | None:
    """Why a worker cannot turn `args` into the app's arguments (`DealParams.argv`), or None."""
    try:
        DealParams(iexec_args=args).argv()
    except ValueError as error:
        return f"cannot be split shell-style ({str(error).lower()}): close each quote or escape it with a backslash"
    if "\0" in args:
        return "holds a NUL character, which no program argument can"
    return None


def input_file_problem(url: str) -> str | None:
    """Why a worker cannot download `url` as an input file, or None."""
    try:
        parsed = urlparse(url)
        host = parsed.hostname
    except ValueError as error:
        return f"is not a URL ({error})"
    if parsed.scheme.lower() not in DOWNLOADABLE_SCHEMES:
        return "is not an http(s) URL: a worker downloads input files over http or https only"
    if not host:
        return "names no host"
    return None
