# pragma version ~=0.4.3
# pragma evm-version cancun
# pragma optimize codesize
"""
@title PocoLedger
@notice The PoCo ledger of spec/poco.md, rule for rule the same as pocopool's LocalChain
        (src/pocopool/chain/local/assets.py and tasks.py): accounts and escrow, registries,
        categories, direct deals, initialize, contribute, reveal, reopen, finalize, contributeAndFinalize,
        claim, scores and the kitty. A revert reason is the rule name of chain/errors.py, optionally
        followed by ": " and a message for people.
@dev    Storage packing: a task's counters, status and deadlines share two slots (TaskHead); a
        contribution's status, enclave challenge and weight share one. History lives in events only.
        TEST_HOOKS is replaced by True only in the test build (setScoreForTests).
"""

TEST_HOOKS: constant(bool) = False

# ----- limits of the ABI encoding (LocalChain has none: EvmChain refuses longer values up front) -----
MAX_NAME: constant(uint256) = 256
MAX_TYPE: constant(uint256) = 64
MAX_TEXT: constant(uint256) = 2048
MAX_PARAMS: constant(uint256) = 4096
MAX_RESULTS: constant(uint256) = 4096
MAX_SIG: constant(uint256) = 65
MAX_CONTRIBUTORS: constant(uint256) = 256

# ----- spec/poco.md §1 -----
WORKERPOOL_STAKE_RATIO: constant(uint256) = 30
KITTY_RATIO: constant(uint256) = 10
KITTY_MIN: constant(uint256) = 1000000000
KITTY_ADDRESS: constant(address) = 0x99c2268479b93fDe36232351229815DF80837e23
CONTRIBUTION_DEADLINE_RATIO: constant(uint256) = 7
REVEAL_DEADLINE_RATIO: constant(uint256) = 2
FINAL_DEADLINE_RATIO: constant(uint256) = 10
MAX_WORK_CLOCK_TIME_REF: constant(uint256) = 2**48
MAX_VOLUME: constant(uint256) = 2**63 - 1
MASK8: constant(uint256) = 255
MASK32: constant(uint256) = 2**32 - 1
MASK64: constant(uint256) = 2**64 - 1
SECP256K1_HALF_N: constant(uint256) = 57896044618658097711785492504343953926418782139537452191302581570759080747168

# task statuses (§6.1)
UNSET: constant(uint8) = 0
ACTIVE: constant(uint8) = 1
REVEALING: constant(uint8) = 2
COMPLETED: constant(uint8) = 3
FAILED: constant(uint8) = 4
# contribution statuses
C_UNSET: constant(uint8) = 0
C_CONTRIBUTED: constant(uint8) = 1
C_PROVED: constant(uint8) = 2
C_REJECTED: constant(uint8) = 3

# nonce kinds
K_APP: constant(uint256) = 0
K_DATASET: constant(uint256) = 1
K_WORKERPOOL: constant(uint256) = 2
K_DEAL: constant(uint256) = 3

# ----- events (spec/poco.md §17 and LocalChain's names; Transfer's fields are renamed from/to in the ABI) -----
event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256

event Lock:
    owner: address
    amount: uint256

event Unlock:
    owner: address
    amount: uint256

event Reward:
    owner: address
    amount: uint256
    ref: bytes32

event Seize:
    owner: address
    amount: uint256
    ref: bytes32

event CreateCategory:
    catid: uint256
    name: String[MAX_NAME]
    description: String[MAX_TEXT]
    workClockTimeRef: uint256

event CreateApp:
    owner: indexed(address)
    app: address

event CreateDataset:
    owner: indexed(address)
    dataset: address

event CreateWorkerpool:
    owner: indexed(address)
    workerpool: indexed(address)

event PolicyUpdate:
    workerpool: indexed(address)
    oldWorkerStakeRatioPolicy: uint256
    newWorkerStakeRatioPolicy: uint256
    oldSchedulerRewardRatioPolicy: uint256
    newSchedulerRewardRatioPolicy: uint256

event SchedulerNotice:
    workerpool: indexed(address)
    dealid: bytes32

event TaskInitialize:
    taskid: indexed(bytes32)
    workerpool: indexed(address)

event TaskContribute:
    taskid: indexed(bytes32)
    worker: indexed(address)
    hash: bytes32

event TaskConsensus:
    taskid: indexed(bytes32)
    consensus: bytes32

event TaskReveal:
    taskid: indexed(bytes32)
    worker: indexed(address)
    digest: bytes32

event TaskReopen:
    taskid: indexed(bytes32)

event TaskFinalize:
    taskid: indexed(bytes32)
    results: Bytes[MAX_RESULTS]

event TaskClaimed:
    taskid: indexed(bytes32)

event AccurateContribution:
    worker: indexed(address)
    taskid: indexed(bytes32)

event FaultyContribution:
    worker: indexed(address)
    taskid: indexed(bytes32)

# ----- records -----
struct Category:
    name: String[MAX_NAME]
    description: String[MAX_TEXT]
    workClockTimeRef: uint256

struct App:
    owner: address
    price: uint256
    checksum: bytes32
    tee: bool  # it has an enclave configuration (mrenclave)

struct AppTexts:
    name: String[MAX_NAME]
    appType: String[MAX_TYPE]
    multiaddr: String[MAX_TEXT]
    mrenclave: String[MAX_TEXT]

struct Dataset:
    owner: address
    price: uint256
    checksum: bytes32
    name: String[MAX_NAME]
    multiaddr: String[MAX_TEXT]

struct Workerpool:
    owner: address
    price: uint256
    workerStakeRatio: uint256
    schedulerRewardRatio: uint256
    description: String[MAX_TEXT]

struct Resource:
    pointer: address
    owner: address
    price: uint256

struct Deal:
    app: Resource
    dataset: Resource
    workerpool: Resource
    trust: uint256
    category: uint256
    tag: bytes32
    requester: address
    beneficiary: address
    callback: address
    startTime: uint256
    botFirst: uint256
    botSize: uint256
    workerStake: uint256
    schedulerRewardRatio: uint256
    sponsor: address

# How a deal is stored: Deal without its constant or redundant fields. botFirst is always 0 and the
# sponsor is the requester (direct deals); start time, bag size, category and scheduler reward ratio
# share one slot: startTime (64 bits) | botSize (64) | category (64) | schedulerRewardRatio (8).
struct StoredDeal:
    app: Resource
    dataset: Resource
    workerpool: Resource
    trust: uint256
    tag: bytes32
    requester: address
    beneficiary: address
    callback: address
    workerStake: uint256
    packed: uint256

# Packed: status (8 bits) | revealCounter (32) | winnerCounter (32) | contributorCount (32) | timeref (64)
# | idx (64); deadlines in a second slot: contribution (64) | reveal (64) | final (64).
struct TaskHead:
    status: uint8
    revealCounter: uint32
    winnerCounter: uint32
    contributorCount: uint32
    timeref: uint64
    idx: uint64

struct TaskDeadlines:
    contributionDeadline: uint64
    revealDeadline: uint64
    finalDeadline: uint64

struct Task:
    status: uint8
    dealid: bytes32
    idx: uint256
    timeref: uint256
    contributionDeadline: uint256
    revealDeadline: uint256
    finalDeadline: uint256
    consensusValue: bytes32
    revealCounter: uint256
    winnerCounter: uint256
    contributors: DynArray[address, MAX_CONTRIBUTORS]
    resultDigest: bytes32
    results: Bytes[MAX_RESULTS]
    resultsCallback: Bytes[MAX_RESULTS]

struct Contribution:
    status: uint8
    resultHash: bytes32
    resultSeal: bytes32
    enclaveChallenge: address
    weight: uint256

# ----- state -----
owner: public(address)
genesisBlock: public(uint256)
totalSupply: public(uint256)
balances: HashMap[address, uint256]
frozens: HashMap[address, uint256]
scores: HashMap[address, uint256]
nonces: HashMap[address, HashMap[uint256, uint256]]

categoryCount: public(uint256)
categories: HashMap[uint256, Category]
apps: HashMap[address, App]
appTexts: HashMap[address, AppTexts]
datasets: HashMap[address, Dataset]
workerpools: HashMap[address, Workerpool]
deals: HashMap[bytes32, StoredDeal]
dealParams: HashMap[bytes32, String[MAX_PARAMS]]  # apart: the task functions never read it

taskHeads: HashMap[bytes32, uint256]  # TaskHead, packed by hand
taskDeadlines: HashMap[bytes32, uint256]  # TaskDeadlines, packed by hand
taskDeal: HashMap[bytes32, bytes32]
taskConsensusValue: HashMap[bytes32, bytes32]
taskResultDigest: HashMap[bytes32, bytes32]
taskResults: HashMap[bytes32, Bytes[MAX_RESULTS]]
taskResultsCallback: HashMap[bytes32, Bytes[MAX_RESULTS]]
taskContributors: HashMap[bytes32, HashMap[uint256, address]]

# status (8) | weight (8) | enclave challenge (160), then hash and seal
contributionHead: HashMap[bytes32, HashMap[address, uint256]]
contributionHash: HashMap[bytes32, HashMap[address, bytes32]]
contributionSeal: HashMap[bytes32, HashMap[address, bytes32]]

consensusGroup: HashMap[bytes32, HashMap[bytes32, uint256]]
consensusTotal: HashMap[bytes32, uint256]


@deploy
def __init__():
    self.owner = msg.sender
    self.genesisBlock = block.number
    self._add_category("XS", "", 300)
    self._add_category("S", "", 1200)
    self._add_category("M", "", 3600)
    self._add_category("L", "", 10800)
    self._add_category("XL", "", 36000)


# ===== packing =========================================================================================
@internal
@pure
def _pack_head(h: TaskHead) -> uint256:
    return (convert(h.status, uint256) | (convert(h.revealCounter, uint256) << 8)
            | (convert(h.winnerCounter, uint256) << 40) | (convert(h.contributorCount, uint256) << 72)
            | (convert(h.timeref, uint256) << 104) | (convert(h.idx, uint256) << 168))


@internal
@pure
def _unpack_head(v: uint256) -> TaskHead:
    return TaskHead(
        status=convert(v & MASK8, uint8),
        revealCounter=convert((v >> 8) & MASK32, uint32),
        winnerCounter=convert((v >> 40) & MASK32, uint32),
        contributorCount=convert((v >> 72) & MASK32, uint32),
        timeref=convert((v >> 104) & MASK64, uint64),
        idx=convert((v >> 168) & MASK64, uint64),
    )


@internal
@pure
def _pack_deadlines(d: TaskDeadlines) -> uint256:
    return (convert(d.contributionDeadline, uint256) | (convert(d.revealDeadline, uint256) << 64)
            | (convert(d.finalDeadline, uint256) << 128))


@internal
@pure
def _unpack_deadlines(v: uint256) -> TaskDeadlines:
    return TaskDeadlines(
        contributionDeadline=convert(v & MASK64, uint64),
        revealDeadline=convert((v >> 64) & MASK64, uint64),
        finalDeadline=convert((v >> 128) & MASK64, uint64),
    )


@internal
@view
def _contribution_status(task_id: bytes32, worker: address) -> uint8:
    return convert(self.contributionHead[task_id][worker] & MASK8, uint8)


@internal
def _set_contribution_head(task_id: bytes32, worker: address, status: uint8, weight: uint256, challenge: address):
    self.contributionHead[task_id][worker] = (
        convert(status, uint256) | (weight << 8) | (convert(challenge, uint256) << 16)
    )


# ===== money (§10.1) ===================================================================================
@internal
def _move_out(owner: address, amount: uint256):
    have: uint256 = self.balances[owner]
    if have < amount:
        raise concat("insufficient-balance: ", uint2str(amount), " ", uint2str(have))
    self.balances[owner] = have - amount


@internal
def _transfer(source: address, target: address, amount: uint256):
    assert source != empty(address) and target != empty(address), "zero-address"
    self._move_out(source, amount)
    self.balances[target] += amount
    log Transfer(sender=source, receiver=target, value=amount)


@internal
def _lock(owner: address, amount: uint256):
    self._transfer(owner, self, amount)
    self.frozens[owner] += amount
    log Lock(owner=owner, amount=amount)


@internal
def _unlock(owner: address, amount: uint256):
    self._transfer(self, owner, amount)
    self.frozens[owner] -= amount
    log Unlock(owner=owner, amount=amount)


@internal
def _reward(owner: address, amount: uint256, ref: bytes32):
    self._transfer(self, owner, amount)
    log Reward(owner=owner, amount=amount, ref=ref)


@internal
def _seize(owner: address, amount: uint256, ref: bytes32):
    self.frozens[owner] -= amount
    log Seize(owner=owner, amount=amount, ref=ref)


@external
def mint(account: address, amount: uint256):
    assert msg.sender == self.owner, "only-owner"
    assert account != empty(address), "zero-address"
    assert amount <= max_value(uint256) - self.totalSupply, "arithmetic-overflow"
    self.totalSupply += amount
    self.balances[account] += amount
    log Transfer(sender=empty(address), receiver=account, value=amount)


@external
def transfer(to: address, amount: uint256) -> bool:
    self._transfer(msg.sender, to, amount)
    return True


# ===== categories (§11.1) ==============================================================================
@internal
def _add_category(name: String[MAX_NAME], description: String[MAX_TEXT], time_ref: uint256) -> uint256:
    assert time_ref <= MAX_WORK_CLOCK_TIME_REF, "invalid-argument"
    catid: uint256 = self.categoryCount
    self.categories[catid] = Category(name=name, description=description, workClockTimeRef=time_ref)
    self.categoryCount = catid + 1
    log CreateCategory(catid=catid, name=name, description=description, workClockTimeRef=time_ref)
    return catid


@external
def createCategory(name: String[MAX_NAME], description: String[MAX_TEXT], workClockTimeRef: uint256) -> uint256:
    assert msg.sender == self.owner, "only-owner"
    return self._add_category(name, description, workClockTimeRef)


# ===== registries (§16) ================================================================================
@internal
def _new_asset_address(kind: String[32], owner: address, kind_id: uint256) -> address:
    nonce: uint256 = self.nonces[owner][kind_id]
    self.nonces[owner][kind_id] = nonce + 1
    digest: bytes32 = keccak256(concat(convert(kind, Bytes[32]), convert(owner, bytes20), convert(nonce, bytes32)))
    return convert(convert(digest, uint256) & (2**160 - 1), address)


@external
def createApp(name: String[MAX_NAME], multiaddr: String[MAX_TEXT], checksum: bytes32, appType: String[MAX_TYPE],
              mrenclave: String[MAX_TEXT], price: uint256) -> address:
    app: address = self._new_asset_address("pocopool:app", msg.sender, K_APP)
    self.apps[app] = App(owner=msg.sender, price=price, checksum=checksum, tee=len(mrenclave) > 0)
    self.appTexts[app] = AppTexts(name=name, appType=appType, multiaddr=multiaddr, mrenclave=mrenclave)
    log CreateApp(owner=msg.sender, app=app)
    return app


@external
def createDataset(name: String[MAX_NAME], multiaddr: String[MAX_TEXT], checksum: bytes32, price: uint256) -> address:
    dataset: address = self._new_asset_address("pocopool:dataset", msg.sender, K_DATASET)
    self.datasets[dataset] = Dataset(owner=msg.sender, price=price, checksum=checksum, name=name, multiaddr=multiaddr)
    log CreateDataset(owner=msg.sender, dataset=dataset)
    return dataset


@external
def createWorkerpool(description: String[MAX_TEXT], price: uint256) -> address:
    pool: address = self._new_asset_address("pocopool:workerpool", msg.sender, K_WORKERPOOL)
    self.workerpools[pool] = Workerpool(owner=msg.sender, price=price, workerStakeRatio=30, schedulerRewardRatio=1,
                                        description=description)
    log CreateWorkerpool(owner=msg.sender, workerpool=pool)
    return pool


@external
def changePolicy(workerpool: address, workerStakeRatio: uint256, schedulerRewardRatio: uint256):
    pool: Workerpool = self.workerpools[workerpool]
    assert pool.owner != empty(address), "unknown-workerpool"
    assert msg.sender == pool.owner, "only-workerpool-owner"
    assert schedulerRewardRatio <= 100, "invalid-reward-ratio"
    self.workerpools[workerpool].workerStakeRatio = workerStakeRatio
    self.workerpools[workerpool].schedulerRewardRatio = schedulerRewardRatio
    log PolicyUpdate(workerpool=workerpool, oldWorkerStakeRatioPolicy=pool.workerStakeRatio,
                     newWorkerStakeRatioPolicy=workerStakeRatio,
                     oldSchedulerRewardRatioPolicy=pool.schedulerRewardRatio,
                     newSchedulerRewardRatioPolicy=schedulerRewardRatio)


# ===== deals (§4, §5) ==================================================================================
@external
def createDeal(app: address, dataset: address, workerpool: address, category: uint256, trust: uint256, tag: bytes32,
               params: String[MAX_PARAMS], volume: uint256, beneficiary: address, callback: address,
               appMaxPrice: uint256, datasetMaxPrice: uint256, workerpoolMaxPrice: uint256) -> bytes32:
    """Direct deal creation: the checks of matchOrders that apply without orders, in LocalChain's order.
    A max price of 2^256 - 1 means "no limit"."""
    assert volume >= 1 and volume <= MAX_VOLUME, "invalid-volume"
    assert category < self.categoryCount, "unknown-category"
    a: App = self.apps[app]
    assert a.owner != empty(address), "unknown-app"
    ds: Resource = empty(Resource)
    if dataset != empty(address):
        d: Dataset = self.datasets[dataset]
        assert d.owner != empty(address), "unknown-dataset"
        ds = Resource(pointer=dataset, owner=d.owner, price=d.price)
    pool: Workerpool = self.workerpools[workerpool]
    assert pool.owner != empty(address), "unknown-workerpool"
    assert appMaxPrice >= a.price, "max-price-exceeded: app"
    assert datasetMaxPrice >= ds.price, "max-price-exceeded: dataset"
    assert workerpoolMaxPrice >= pool.price, "max-price-exceeded: workerpool"
    if convert(tag, uint256) & 1 != 0:
        assert a.tee, "tee-app-required"
    nonce: uint256 = self.nonces[msg.sender][K_DEAL]
    self.nonces[msg.sender][K_DEAL] = nonce + 1
    dealid: bytes32 = keccak256(concat(b"pocopool:deal", convert(msg.sender, bytes20), convert(nonce, bytes32)))
    stake_ratio: uint256 = pool.workerStakeRatio
    if len(params) > 0:
        self.dealParams[dealid] = params
    assert category <= MASK64, "unknown-category"  # never reached: there are fewer categories
    self.deals[dealid] = StoredDeal(
        app=Resource(pointer=app, owner=a.owner, price=a.price),
        dataset=ds,
        workerpool=Resource(pointer=workerpool, owner=pool.owner, price=pool.price),
        trust=max(trust, 1),
        tag=tag,
        requester=msg.sender,
        beneficiary=beneficiary,
        callback=callback,
        workerStake=pool.price * stake_ratio // 100,
        packed=block.timestamp | (volume << 64) | (category << 128) | (pool.schedulerRewardRatio << 192),
    )
    self._lock(msg.sender, (a.price + ds.price + pool.price) * volume)
    self._lock(pool.owner, (pool.price * WORKERPOOL_STAKE_RATIO // 100) * volume)
    log SchedulerNotice(workerpool=workerpool, dealid=dealid)
    return dealid


@internal
@view
def _deal(dealid: bytes32) -> Deal:
    stored: StoredDeal = self.deals[dealid]
    return Deal(
        app=stored.app, dataset=stored.dataset, workerpool=stored.workerpool, trust=stored.trust,
        category=(stored.packed >> 128) & MASK64, tag=stored.tag, requester=stored.requester,
        beneficiary=stored.beneficiary, callback=stored.callback, startTime=stored.packed & MASK64, botFirst=0,
        botSize=(stored.packed >> 64) & MASK64, workerStake=stored.workerStake,
        schedulerRewardRatio=(stored.packed >> 192) & MASK8, sponsor=stored.requester,
    )


# ===== task helpers ====================================================================================
@internal
@pure
def _eth_signed(message: bytes32) -> bytes32:
    return keccak256(concat(b"\x19Ethereum Signed Message:\n32", message))


@internal
@pure
def _recover(digest: bytes32, signature: Bytes[MAX_SIG]) -> address:
    """The signer of a 65-byte r‖s‖v signature, or the zero address (malformed, high s, bad v)."""
    if len(signature) != 65:
        return empty(address)
    r: uint256 = convert(slice(signature, 0, 32), uint256)
    s: uint256 = convert(slice(signature, 32, 32), uint256)
    v: uint256 = convert(slice(signature, 64, 1), uint256)
    if v < 2:
        v += 27
    if v != 27 and v != 28:
        return empty(address)
    if r == 0 or s == 0 or s > SECP256K1_HALF_N:
        return empty(address)
    return ecrecover(digest, v, r, s)


@internal
def _check_signatures(tag: bytes32, scheduler: address, task_id: bytes32, worker: address, result_hash: bytes32, result_seal: bytes32,
                      challenge: address, enclave_sign: Bytes[MAX_SIG], authorization_sign: Bytes[MAX_SIG]):
    if challenge == empty(address):
        assert convert(tag, uint256) & 1 == 0, "enclave-challenge-required"
    auth: bytes32 = self._eth_signed(keccak256(concat(convert(worker, bytes20), task_id, convert(challenge, bytes20))))
    signer: address = self._recover(auth, authorization_sign)
    assert signer != empty(address) and signer == scheduler, \
        "invalid-authorization"
    if challenge != empty(address):
        result: bytes32 = self._eth_signed(keccak256(concat(result_hash, result_seal)))
        enclave: address = self._recover(result, enclave_sign)
        assert enclave != empty(address) and enclave == challenge, \
            "invalid-enclave-signature"


@internal
@pure
def _status_name(status: uint8) -> String[16]:
    if status == C_CONTRIBUTED:
        return "CONTRIBUTED"
    if status == C_PROVED:
        return "PROVED"
    if status == C_REJECTED:
        return "REJECTED"
    return "UNSET"


@internal
@pure
def _worker_weight(score: uint256) -> uint256:
    return max(score // 3, 3) - 1


@internal
@pure
def _log2(x: uint256) -> uint256:
    result: uint256 = 0
    v: uint256 = x
    for i: uint256 in range(256):
        if v <= 1:
            break
        v = v >> 1
        result += 1
    return result


@internal
def _check_results_callback(callback: address, result_digest: bytes32, results_callback: Bytes[MAX_RESULTS]):
    if callback == empty(address) and len(results_callback) == 0:
        return
    assert keccak256(results_callback) == result_digest, \
        "wrong-results-callback"


@internal
def _only_scheduler(head: TaskHead, task_id: bytes32):
    assert head.status != UNSET, "only-scheduler"
    assert msg.sender == self.deals[self.taskDeal[task_id]].workerpool.owner, "only-scheduler"


# ===== initialize (§7.1) ===============================================================================
@internal
def _initialize(dealid: bytes32, idx: uint256) -> bytes32:
    # Single fields, not the whole Deal: each storage slot read costs 2,100 gas (gas report, bench/RESULTS.md).
    packed: uint256 = self.deals[dealid].packed
    bot_size: uint256 = (packed >> 64) & MASK64
    assert bot_size != 0, "unknown-deal"
    assert idx < bot_size, \
        "task-index-out-of-range"
    task_id: bytes32 = keccak256(concat(dealid, convert(idx, bytes32)))
    assert self.taskHeads[task_id] & MASK8 == convert(UNSET, uint256), \
        "task-already-initialized"
    timeref: uint256 = self.categories[(packed >> 128) & MASK64].workClockTimeRef
    start: uint256 = packed & MASK64
    self.taskHeads[task_id] = self._pack_head(TaskHead(
        status=ACTIVE, revealCounter=0, winnerCounter=0, contributorCount=0,
        timeref=convert(timeref, uint64), idx=convert(idx, uint64)))
    self.taskDeadlines[task_id] = self._pack_deadlines(TaskDeadlines(
        contributionDeadline=convert(start + timeref * CONTRIBUTION_DEADLINE_RATIO, uint64),
        revealDeadline=0,
        finalDeadline=convert(start + timeref * FINAL_DEADLINE_RATIO, uint64)))
    self.taskDeal[task_id] = dealid
    self.consensusTotal[task_id] = 1
    log TaskInitialize(taskid=task_id, workerpool=self.deals[dealid].workerpool.pointer)
    return task_id


@external
def initialize(dealid: bytes32, idx: uint256) -> bytes32:
    return self._initialize(dealid, idx)


# ===== contribute (§7.2, §8.2, §8.3) ===================================================================
@external
def contribute(taskid: bytes32, resultHash: bytes32, resultSeal: bytes32, enclaveChallenge: address,
               enclaveSign: Bytes[MAX_SIG], authorizationSign: Bytes[MAX_SIG]):
    head: TaskHead = self._unpack_head(self.taskHeads[taskid])
    assert head.status == ACTIVE, "task-not-active"
    deadlines: TaskDeadlines = self._unpack_deadlines(self.taskDeadlines[taskid])
    assert convert(deadlines.contributionDeadline, uint256) > block.timestamp, \
        "contribution-deadline-passed"
    existing: uint8 = self._contribution_status(taskid, msg.sender)
    assert existing == C_UNSET, concat("already-contributed: ", self._status_name(existing))
    dealid: bytes32 = self.taskDeal[taskid]
    self._check_signatures(self.deals[dealid].tag, self.deals[dealid].workerpool.owner, taskid, msg.sender, resultHash, resultSeal, enclaveChallenge, enclaveSign,
                           authorizationSign)
    assert convert(head.contributorCount, uint256) < MAX_CONTRIBUTORS, "invalid-argument"

    weight: uint256 = self._worker_weight(self.scores[msg.sender])
    self._set_contribution_head(taskid, msg.sender, C_CONTRIBUTED, self._log2(weight), enclaveChallenge)
    self.contributionHash[taskid][msg.sender] = resultHash
    self.contributionSeal[taskid][msg.sender] = resultSeal
    self.taskContributors[taskid][convert(head.contributorCount, uint256)] = msg.sender
    head.contributorCount += 1
    self._lock(msg.sender, self.deals[dealid].workerStake)
    log TaskContribute(taskid=taskid, worker=msg.sender, hash=resultHash)

    # A group weighs the product of its voters' weights; total (1 + Σ groups) grows by the same delta.
    g: uint256 = self.consensusGroup[taskid][resultHash]
    group: uint256 = max(g, 1) * weight
    self.consensusGroup[taskid][resultHash] = group
    total: uint256 = self.consensusTotal[taskid] + group - g
    self.consensusTotal[taskid] = total
    trust: uint256 = self.deals[dealid].trust
    if group * trust > total * (trust - 1):
        winners: uint32 = 0
        for i: uint256 in range(convert(head.contributorCount, uint256), bound=MAX_CONTRIBUTORS):
            who: address = self.taskContributors[taskid][i]
            if self.contributionHash[taskid][who] == resultHash and self._contribution_status(taskid, who) == C_CONTRIBUTED:
                winners += 1
        head.status = REVEALING
        head.revealCounter = 0
        head.winnerCounter = winners
        deadlines.revealDeadline = convert(block.timestamp + convert(head.timeref, uint256) * REVEAL_DEADLINE_RATIO, uint64)
        self.taskDeadlines[taskid] = self._pack_deadlines(deadlines)
        self.taskConsensusValue[taskid] = resultHash
        log TaskConsensus(taskid=taskid, consensus=resultHash)
    self.taskHeads[taskid] = self._pack_head(head)


# ===== reveal (§7.3) ===================================================================================
@external
def reveal(taskid: bytes32, resultDigest: bytes32):
    head: TaskHead = self._unpack_head(self.taskHeads[taskid])
    assert head.status == REVEALING, "task-not-revealing"
    deadlines: TaskDeadlines = self._unpack_deadlines(self.taskDeadlines[taskid])
    assert convert(deadlines.revealDeadline, uint256) > block.timestamp, \
        "reveal-deadline-passed"
    status: uint8 = self._contribution_status(taskid, msg.sender)
    assert status == C_CONTRIBUTED, concat("not-contributed: ", self._status_name(status))
    voted: bytes32 = self.contributionHash[taskid][msg.sender]
    assert voted == self.taskConsensusValue[taskid], "not-in-consensus"
    assert voted == keccak256(concat(taskid, resultDigest)), \
        "wrong-result-hash"
    assert self.contributionSeal[taskid][msg.sender] == keccak256(concat(convert(msg.sender, bytes20), taskid, resultDigest)), \
        "wrong-result-seal"
    self.contributionHead[taskid][msg.sender] = (self.contributionHead[taskid][msg.sender] & ~MASK8) \
        | convert(C_PROVED, uint256)
    head.revealCounter += 1
    self.taskHeads[taskid] = self._pack_head(head)
    self.taskResultDigest[taskid] = resultDigest
    log TaskReveal(taskid=taskid, worker=msg.sender, digest=resultDigest)


# ===== reopen (§7.4) ===================================================================================
@external
def reopen(taskid: bytes32):
    head: TaskHead = self._unpack_head(self.taskHeads[taskid])
    self._only_scheduler(head, taskid)
    assert head.status == REVEALING, "task-not-revealing"
    deadlines: TaskDeadlines = self._unpack_deadlines(self.taskDeadlines[taskid])
    assert convert(deadlines.finalDeadline, uint256) > block.timestamp, \
        "final-deadline-passed"
    assert convert(deadlines.revealDeadline, uint256) <= block.timestamp, \
        "reveal-deadline-not-reached"
    assert head.revealCounter == 0, "task-has-reveals"
    consensus: bytes32 = self.taskConsensusValue[taskid]
    for i: uint256 in range(convert(head.contributorCount, uint256), bound=MAX_CONTRIBUTORS):
        who: address = self.taskContributors[taskid][i]
        if self.contributionHash[taskid][who] == consensus:
            self.contributionHead[taskid][who] = (self.contributionHead[taskid][who] & ~MASK8) \
                | convert(C_REJECTED, uint256)
    self.consensusTotal[taskid] -= self.consensusGroup[taskid][consensus]
    self.consensusGroup[taskid][consensus] = 0
    head.status = ACTIVE
    head.winnerCounter = 0
    deadlines.revealDeadline = 0
    self.taskHeads[taskid] = self._pack_head(head)
    self.taskDeadlines[taskid] = self._pack_deadlines(deadlines)
    self.taskConsensusValue[taskid] = empty(bytes32)
    log TaskReopen(taskid=taskid)


# ===== finalize (§7.5, §8.5, §10.3) ====================================================================
@internal
def _success_work(deal: Deal, task_id: bytes32):
    self._seize(deal.sponsor, deal.app.price + deal.dataset.price + deal.workerpool.price, task_id)
    if deal.app.price > 0:
        self._reward(deal.app.owner, deal.app.price, task_id)
    if deal.dataset.price > 0 and deal.dataset.pointer != empty(address):
        self._reward(deal.dataset.owner, deal.dataset.price, task_id)
    self._unlock(deal.workerpool.owner, deal.workerpool.price * WORKERPOOL_STAKE_RATIO // 100)
    kitty: uint256 = self.frozens[KITTY_ADDRESS]
    if kitty > 0:
        share: uint256 = min(max(kitty * KITTY_RATIO // 100, KITTY_MIN), kitty)
        self._seize(KITTY_ADDRESS, share, task_id)
        self._reward(deal.workerpool.owner, share, task_id)


@internal
def _distribute_rewards(deal: Deal, task_id: bytes32, count: uint256):
    total_reward: uint256 = deal.workerpool.price
    total_weight: uint256 = 0
    for i: uint256 in range(count, bound=MAX_CONTRIBUTORS):
        packed: uint256 = self.contributionHead[task_id][self.taskContributors[task_id][i]]
        if packed & MASK8 == convert(C_PROVED, uint256):
            total_weight += (packed >> 8) & MASK8
        else:
            total_reward += deal.workerStake
    workers_reward: uint256 = total_reward * (100 - deal.schedulerRewardRatio) // 100
    for i: uint256 in range(count, bound=MAX_CONTRIBUTORS):
        who: address = self.taskContributors[task_id][i]
        packed: uint256 = self.contributionHead[task_id][who]
        if packed & MASK8 == convert(C_PROVED, uint256):
            share: uint256 = workers_reward * ((packed >> 8) & MASK8) // total_weight
            total_reward -= share
            self._unlock(who, deal.workerStake)
            self._reward(who, share, task_id)
            if count > 1:
                self.scores[who] += 1
                log AccurateContribution(worker=who, taskid=task_id)
        else:
            self._seize(who, deal.workerStake, task_id)
            self.scores[who] = self.scores[who] * 2 // 3
            log FaultyContribution(worker=who, taskid=task_id)
    self._reward(deal.workerpool.owner, total_reward, task_id)


@external
def finalize(taskid: bytes32, results: Bytes[MAX_RESULTS], resultsCallback: Bytes[MAX_RESULTS]):
    head: TaskHead = self._unpack_head(self.taskHeads[taskid])
    self._only_scheduler(head, taskid)
    deal: Deal = self._deal(self.taskDeal[taskid])
    assert head.status == REVEALING, "task-not-revealing"
    deadlines: TaskDeadlines = self._unpack_deadlines(self.taskDeadlines[taskid])
    assert convert(deadlines.finalDeadline, uint256) > block.timestamp, \
        "final-deadline-passed"
    all_revealed: bool = head.revealCounter == head.winnerCounter
    assert all_revealed or (head.revealCounter > 0 and convert(deadlines.revealDeadline, uint256) <= block.timestamp), \
        concat("reveals-pending: ", uint2str(head.winnerCounter), " ", uint2str(head.revealCounter))
    self._check_results_callback(deal.callback, self.taskResultDigest[taskid], resultsCallback)
    head.status = COMPLETED
    self.taskHeads[taskid] = self._pack_head(head)
    self.taskResults[taskid] = results
    self.taskResultsCallback[taskid] = resultsCallback
    self._success_work(deal, taskid)
    self._distribute_rewards(deal, taskid, convert(head.contributorCount, uint256))
    log TaskFinalize(taskid=taskid, results=results)


# ===== contributeAndFinalize (§7.6) ====================================================================
@external
def contributeAndFinalize(taskid: bytes32, resultDigest: bytes32, results: Bytes[MAX_RESULTS],
                          resultsCallback: Bytes[MAX_RESULTS], enclaveChallenge: address,
                          enclaveSign: Bytes[MAX_SIG], authorizationSign: Bytes[MAX_SIG]):
    head: TaskHead = self._unpack_head(self.taskHeads[taskid])
    assert head.status == ACTIVE, "task-not-active"
    deadlines: TaskDeadlines = self._unpack_deadlines(self.taskDeadlines[taskid])
    assert convert(deadlines.contributionDeadline, uint256) > block.timestamp, \
        "contribution-deadline-passed"
    assert head.contributorCount == 0, "task-already-contributed"
    deal: Deal = self._deal(self.taskDeal[taskid])
    assert deal.trust == 1, "trust-not-1"
    result_hash: bytes32 = keccak256(concat(taskid, resultDigest))
    result_seal: bytes32 = keccak256(concat(convert(msg.sender, bytes20), taskid, resultDigest))
    self._check_results_callback(deal.callback, resultDigest, resultsCallback)
    self._check_signatures(deal.tag, deal.workerpool.owner, taskid, msg.sender, result_hash, result_seal, enclaveChallenge, enclaveSign,
                           authorizationSign)

    # No stake, no weight, no score: there is nothing to compare the result with.
    self._set_contribution_head(taskid, msg.sender, C_PROVED, 0, enclaveChallenge)
    self.contributionHash[taskid][msg.sender] = result_hash
    self.contributionSeal[taskid][msg.sender] = result_seal
    self.taskContributors[taskid][0] = msg.sender
    head.status = COMPLETED
    head.revealCounter = 1
    head.winnerCounter = 1
    head.contributorCount = 1
    deadlines.revealDeadline = convert(block.timestamp + convert(head.timeref, uint256) * REVEAL_DEADLINE_RATIO, uint64)
    self.taskHeads[taskid] = self._pack_head(head)
    self.taskDeadlines[taskid] = self._pack_deadlines(deadlines)
    self.taskConsensusValue[taskid] = result_hash
    self.taskResultDigest[taskid] = resultDigest
    self.taskResults[taskid] = results
    self.taskResultsCallback[taskid] = resultsCallback
    self._success_work(deal, taskid)
    worker_reward: uint256 = deal.workerpool.price * (100 - deal.schedulerRewardRatio) // 100
    self._reward(msg.sender, worker_reward, taskid)
    self._reward(deal.workerpool.owner, deal.workerpool.price - worker_reward, taskid)
    log TaskContribute(taskid=taskid, worker=msg.sender, hash=result_hash)
    log TaskConsensus(taskid=taskid, consensus=result_hash)
    log TaskReveal(taskid=taskid, worker=msg.sender, digest=resultDigest)
    log TaskFinalize(taskid=taskid, results=results)


# ===== claim (§7.7, §10.4) =============================================================================
@internal
def _claim(taskid: bytes32):
    head: TaskHead = self._unpack_head(self.taskHeads[taskid])
    assert head.status == ACTIVE or head.status == REVEALING, "task-not-claimable"
    deadlines: TaskDeadlines = self._unpack_deadlines(self.taskDeadlines[taskid])
    assert convert(deadlines.finalDeadline, uint256) <= block.timestamp, \
        "final-deadline-not-reached"
    deal: Deal = self._deal(self.taskDeal[taskid])
    head.status = FAILED
    self.taskHeads[taskid] = self._pack_head(head)
    # failedWork: the payer is refunded; the scheduler's stake stays in escrow as the kitty's.
    self._unlock(deal.sponsor, deal.app.price + deal.dataset.price + deal.workerpool.price)
    stake: uint256 = deal.workerpool.price * WORKERPOOL_STAKE_RATIO // 100
    self._seize(deal.workerpool.owner, stake, taskid)
    self.frozens[KITTY_ADDRESS] += stake
    log Reward(owner=KITTY_ADDRESS, amount=stake, ref=taskid)
    log Lock(owner=KITTY_ADDRESS, amount=stake)
    for i: uint256 in range(convert(head.contributorCount, uint256), bound=MAX_CONTRIBUTORS):
        self._unlock(self.taskContributors[taskid][i], deal.workerStake)
    log TaskClaimed(taskid=taskid)


@external
def claim(taskid: bytes32):
    self._claim(taskid)


@external
def initializeAndClaim(dealid: bytes32, idx: uint256) -> bytes32:
    taskid: bytes32 = self._initialize(dealid, idx)
    self._claim(taskid)
    return taskid


# ===== test hook (compiled in the test build only) =====================================================
@external
def setScoreForTests(worker: address, score: uint256):
    assert TEST_HOOKS, "only-owner"
    assert msg.sender == self.owner, "only-owner"
    self.scores[worker] = score


# ===== views ===========================================================================================
@external
@view
def viewAccount(account: address) -> (uint256, uint256):
    return self.balances[account], self.frozens[account]


@external
@view
def viewScore(worker: address) -> uint256:
    return self.scores[worker]


@external
@view
def viewCategory(catid: uint256) -> Category:
    assert catid < self.categoryCount, "unknown-category"
    return self.categories[catid]


@external
@view
def viewApp(app: address) -> (App, AppTexts):
    return self.apps[app], self.appTexts[app]


@external
@view
def viewDataset(dataset: address) -> Dataset:
    return self.datasets[dataset]


@external
@view
def viewWorkerpool(workerpool: address) -> Workerpool:
    return self.workerpools[workerpool]


@external
@view
def viewDeal(dealid: bytes32) -> (Deal, String[MAX_PARAMS]):
    return self._deal(dealid), self.dealParams[dealid]


@external
@view
def viewTask(taskid: bytes32) -> Task:
    head: TaskHead = self._unpack_head(self.taskHeads[taskid])
    deadlines: TaskDeadlines = self._unpack_deadlines(self.taskDeadlines[taskid])
    contributors: DynArray[address, MAX_CONTRIBUTORS] = []
    for i: uint256 in range(convert(head.contributorCount, uint256), bound=MAX_CONTRIBUTORS):
        contributors.append(self.taskContributors[taskid][i])
    return Task(
        status=head.status, dealid=self.taskDeal[taskid], idx=convert(head.idx, uint256),
        timeref=convert(head.timeref, uint256),
        contributionDeadline=convert(deadlines.contributionDeadline, uint256),
        revealDeadline=convert(deadlines.revealDeadline, uint256),
        finalDeadline=convert(deadlines.finalDeadline, uint256),
        consensusValue=self.taskConsensusValue[taskid],
        revealCounter=convert(head.revealCounter, uint256), winnerCounter=convert(head.winnerCounter, uint256),
        contributors=contributors, resultDigest=self.taskResultDigest[taskid],
        results=self.taskResults[taskid], resultsCallback=self.taskResultsCallback[taskid],
    )


@external
@view
def viewContribution(taskid: bytes32, worker: address) -> Contribution:
    packed: uint256 = self.contributionHead[taskid][worker]
    return Contribution(
        status=convert(packed & MASK8, uint8),
        resultHash=self.contributionHash[taskid][worker],
        resultSeal=self.contributionSeal[taskid][worker],
        enclaveChallenge=convert(packed >> 16, address),
        weight=(packed >> 8) & MASK8,
    )


@external
@view
def viewConsensus(taskid: bytes32, resultHash: bytes32) -> (uint256, uint256):
    return self.consensusGroup[taskid][resultHash], self.consensusTotal[taskid]
