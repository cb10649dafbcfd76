"""Type stubs for the private C++ extension behind the edgeos package (pybind/src)."""

from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

Duration = Union[int, str]
TRACE_EVENTS: List[str]

class InputError(ValueError): ...

class Task:
    def __init__(self, name: str, wcet: Duration, period: Duration, deadline: Duration = 0, tenant: str = "",
                 cpu: int = 0, kind: str = "periodic", priority: int = 0, phase: Duration = 0, bcet: Duration = 0,
                 max_extra: Duration = 0) -> None: ...
    name: str
    tenant: str
    cpu: int
    priority: int
    kind: str
    wcet: int
    period: int
    deadline: int
    phase: int
    utilisation: float

class TaskSet:
    def __init__(self, tasks: Sequence[Task], cpus: int = 1, name: str = "tasks") -> None: ...
    name: str
    cpus: int
    tasks: List[Task]
    def __len__(self) -> int: ...
    def to_csv(self) -> str: ...
    def write_csv(self, path: str) -> None: ...

def read_task_set_csv(path: str) -> TaskSet: ...
def rate_monotonic(task_set: TaskSet) -> TaskSet: ...
def deadline_monotonic(task_set: TaskSet) -> TaskSet: ...

class Scenario:
    name: str
    file: str
    seed: int
    duration: int
    servers: List[Dict[str, Any]]
    tenants: List[str]
    threads: List[str]

def load_scenario(path: str) -> Scenario: ...
def parse_scenario(text: str, name: str = "<string>", base_dir: str = ".") -> Scenario: ...

class Thread:
    index: int
    cpu: int
    fwp: int
    state: str
    priority: int
    deadline: int
    deadline_seq: int
    job_deadline: int
    release: int
    job: int
    job_exec: int
    period: int
    relative_deadline: int
    budget: int

class Policy:
    _policy_name: str
    _orders_by_deadline: bool
    ready: int
    def __init__(self) -> None: ...
    def enqueue(self, thread: Thread, head: bool) -> None: ...
    def dequeue(self, thread: Thread) -> None: ...
    def pick(self) -> Optional[Thread]: ...
    def preempts(self, candidate: Thread, running: Thread) -> bool: ...

class KeyPolicy(Policy):
    def key(self, thread: Thread) -> Union[int, Tuple[int, ...]]: ...

class TraceData:
    def __len__(self) -> int: ...
    def columns(self) -> Dict[str, np.ndarray]: ...
    def write_csv(self, path: str) -> None: ...
    def write_perfetto(self, path: str, names: Dict[str, Any], end_ns: int) -> None: ...

PolicyArg = Union[None, str, Callable[[int], Policy]]

def simulate_task_set(task_set: TaskSet, policy: PolicyArg, duration_ns: int, seed: int = 1,
                      check_invariants: bool = False, overheads: Sequence[int] = ...) -> Dict[str, Any]: ...
def simulate_scenario(scenario: Scenario, policy: PolicyArg = None, seed: Optional[int] = None,
                      duration_ns: Optional[int] = None, check_invariants: bool = False) -> Dict[str, Any]: ...

def sweep_tests() -> List[str]: ...
def sweep_steps(params: Dict[str, Any]) -> List[float]: ...
def sweep_sets(params: Dict[str, Any], step: int, first: int, count: int) -> List[Tuple[float, str, int, int]]: ...
def sweep(params: Dict[str, Any]) -> List[Tuple[float, str, int, int]]: ...
def duration(value: Duration) -> int: ...
def format_duration(ns: int) -> str: ...

class analysis:
    class Task:
        def __init__(self, wcet: Duration, period: Duration, deadline: Optional[Duration] = None, jitter: Duration = 0,
                     blocking: Duration = 0, priority: int = 0) -> None: ...
        wcet: int
        period: int
        deadline: int
        jitter: int
        blocking: int
        priority: int
    class Result:
        verdict: str
        test: str
        detail: str
        schedulable: bool
        response_times: List[Optional[int]]
        def __bool__(self) -> bool: ...
    @staticmethod
    def response_time_analysis(tasks: Sequence["analysis.Task"]) -> "analysis.Result": ...
    @staticmethod
    def liu_layland_bound(tasks: Sequence["analysis.Task"]) -> "analysis.Result": ...
    @staticmethod
    def hyperbolic_bound(tasks: Sequence["analysis.Task"]) -> "analysis.Result": ...
    @staticmethod
    def edf_utilisation(tasks: Sequence["analysis.Task"]) -> "analysis.Result": ...
    @staticmethod
    def edf_demand(tasks: Sequence["analysis.Task"]) -> "analysis.Result": ...
    @staticmethod
    def utilisation(tasks: Sequence["analysis.Task"]) -> float: ...
    @staticmethod
    def rate_monotonic(tasks: Sequence["analysis.Task"]) -> List["analysis.Task"]: ...
    @staticmethod
    def deadline_monotonic(tasks: Sequence["analysis.Task"]) -> List["analysis.Task"]: ...
    @staticmethod
    def to_analysis(task_set: TaskSet) -> List["analysis.Task"]: ...

class generators:
    @staticmethod
    def uunifast(seed: int, n: int, total: float) -> List[float]: ...
    @staticmethod
    def randfixedsum(seed: int, n: int, total: float, lo: float = 0.0, hi: float = 1.0) -> List[float]: ...
    @staticmethod
    def generate(seed: int, tasks: int = 10, utilisation: float = 0.5, utilisations: str = "uunifast",
                 period_min: Duration = "10ms", period_max: Duration = "1s", granularity: Duration = "1ms",
                 deadlines: str = "implicit") -> List["analysis.Task"]: ...
    @staticmethod
    def to_task_set(tasks: Sequence["analysis.Task"], cpu: Sequence[int] = ..., cpus: int = 1,
                    name: str = "generated") -> TaskSet: ...
    @staticmethod
    def partition(tasks: Sequence["analysis.Task"], cpus: int, fit: str = "first",
                  admission: str = "edf") -> Optional[List[int]]: ...
