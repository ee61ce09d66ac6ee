"""What a requester asks to buy (`pocopool run`, `Requester.run`), checked before the deal.

Whatever a worker, the scheduler or the chain would refuse later, once the requester has paid, is
refused here with one line that names the option and the rule (BadInput: exit status 2 in the CLI).
`check` needs only the values, so the CLI runs it before it opens the devnet or pushes a secret;
`check_on_chain` reads the chain (no transaction). A value the protocol accepts but reads as another
(trust 0 is trust 1) is accepted, and `check` returns a note that says so (docs/decisions.md 109).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..chain.base import Chain
from ..protocol import crypto
from ..protocol.crypto import ZERO_ADDRESS, ZERO_BYTES32
from ..protocol.params import args_problem, input_file_problem
from ..protocol.tags import is_tee
from .errors import BadInput

MAX_TASKS = 10_000  # tasks of one deal: a bag of tasks larger than this is a mistake, not a purchase


@dataclass(frozen=True)
class RunRequest:
    """The requester's side of a deal: what to run, on what, how often and how sure.
    `secrets` holds the indexes N of the requester secrets (IEXEC_REQUESTER_SECRET_N)."""

    app: str
    dataset: str = ZERO_ADDRESS
    trust: int = 1
    tasks: int = 1
    category: int = 0
    args: str = ""
    input_files: tuple[str, ...] = ()
    tag: str = ZERO_BYTES32
    secrets: tuple[str, ...] = ()
    encrypt_result: bool = False
    callback: str = ZERO_ADDRESS


def _address(value: str, option: str) -> str:
    try:
        return crypto.normalize_address(value)
    except crypto.InvalidHex:
        raise BadInput(f"{option} must be an address (0x + 40 hex digits), got {value!r}") from None


def check(request: RunRequest) -> tuple[RunRequest, list[str]]:
    """The request with its addresses normalized, and the notes to show; BadInput if it cannot run."""
    request = replace(
        request,
        app=_address(request.app, "APP"),
        dataset=_address(request.dataset, "--dataset"),
        callback=_address(request.callback, "--callback"),
    )
    if not 1 <= request.tasks <= MAX_TASKS:
        raise BadInput(f"--tasks must be between 1 and {MAX_TASKS}, got {request.tasks}")
    if request.trust < 0:
        raise BadInput(f"--trust must be 0 or more, got {request.trust}")
    if request.category < 0:
        raise BadInput(f"--category must be 0 or more, got {request.category}")
    problem = args_problem(request.args)
    if problem is not None:
        raise BadInput(f"--args {request.args!r} {problem}")
    for url in request.input_files:
        problem = input_file_problem(url)
        if problem is not None:
            raise BadInput(f"--input-file {url!r} {problem}")
    if (request.secrets or request.encrypt_result) and not is_tee(request.tag):
        raise BadInput("--secret and --encrypt-result are for confidential tasks: add --tee")
    notes = []
    if request.trust == 0:
        notes.append("--trust 0 is trust 1 on chain (PoCo keeps max(trust, 1)): one worker's result is accepted")
    return request, notes


def check_on_chain(chain: Chain, request: RunRequest) -> None:
    """What the chain must hold for the deal to run: the app, the dataset, the category; a TEE app
    for a TEE tag. Reads only. `request` is one `check` returned."""
    app = chain.view_app(request.app)
    if app is None:
        raise BadInput(f"no app at {request.app} on chain: deploy it first with `pocopool app deploy`")
    if request.dataset != ZERO_ADDRESS and chain.view_dataset(request.dataset) is None:
        raise BadInput(f"no dataset at {request.dataset} on chain: deploy it first with `pocopool dataset deploy`")
    count = chain.category_count()
    if request.category >= count:
        raise BadInput(f"--category {request.category} does not exist on chain (categories 0..{count - 1})")
    if is_tee(request.tag) and not app.mrenclave:
        raise BadInput(f"app {request.app} is not a TEE app: deploy it with `pocopool app deploy DIR --tee`")
