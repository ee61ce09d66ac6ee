"""The files and folders a requester names on the command line, checked before anything is sent.

Each check raises BadInput with one line that names the path and says what is wrong with it, so
that "no such file" is said only of a file that does not exist.
"""

from __future__ import annotations

from pathlib import Path

from .errors import BadInput


def existing_file(path: Path, what: str) -> Path:
    """`path` if it is a file; `what` names it in the refusal, e.g. "a dataset"."""
    if path.is_file():
        return path
    if path.is_dir():
        raise BadInput(f"{path} is a folder: {what} is one file")
    if path.exists():
        raise BadInput(f"{path} is not a regular file: {what} is one file")
    raise BadInput(f"{path}: no such file")


def folder_to_fill(path: Path, what: str) -> Path:
    """`path` if it is a folder or can be created as one; `what` names it, e.g. "the result"."""
    for parent in (path, *path.parents):
        if parent.exists():
            if not parent.is_dir():
                where = "" if parent == path else f" (in {path})"
                raise BadInput(f"{parent} is a file, not a folder{where}: give a folder for {what}")
            return path
    return path
