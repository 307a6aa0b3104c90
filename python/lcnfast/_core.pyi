"""Type stubs for lcnfast's compiled core (private; checked by mypy.stubtest in the tests)."""

from typing import Any, Callable, Optional

import numpy as np
from numpy.typing import NDArray

__version__: str
MAX_FAST_DEGREE: int

def hardware_threads() -> int: ...
def memory_budget() -> int: ...
def memory_limit_from_env() -> float: ...
def available_backends() -> list[str]: ...
def backend() -> str: ...
def set_backend(name: str) -> None: ...

class ProductPlan:
    def __init__(
        self,
        filter_shapes: list[tuple[int, int]],
        strides: list[tuple[int, int]],
        modulus: tuple[int, int],
    ) -> None: ...
    @property
    def n_layers(self) -> int: ...
    @property
    def n_params(self) -> int: ...
    @property
    def n_out(self) -> int: ...
    @property
    def full_shape(self) -> tuple[int, int]: ...
    @property
    def out_shape(self) -> tuple[int, int]: ...
    @property
    def circular(self) -> bool: ...
    def end_to_end(
        self, theta: NDArray[np.float64], threads: int, out: Optional[NDArray[np.float64]] = None
    ) -> NDArray[np.float64]: ...
    def vjp(self, theta: NDArray[np.float64], g: NDArray[np.float64], threads: int) -> NDArray[np.float64]: ...
    def jacobian(self, theta: NDArray[np.float64], threads: int) -> NDArray[np.float64]: ...

class PatchMap:
    def __init__(
        self,
        in_shape: tuple[int, int],
        out_shape: tuple[int, int],
        filter_shape: tuple[int, int],
        stride: tuple[int, int],
        circular: bool,
    ) -> None: ...
    @property
    def n_in(self) -> int: ...
    @property
    def n_positions(self) -> int: ...
    @property
    def n_filter(self) -> int: ...
    def gram(
        self, X: NDArray[np.float64], Y: NDArray[np.float64], threads: int
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], float]: ...
    def apply(self, X: NDArray[np.float64], v: NDArray[np.float64], threads: int) -> NDArray[np.float64]: ...

class TrainOptions:
    """How train() runs: the method, its step and stopping rules, recording, threads."""

    method: str
    lr: float
    steps: int
    tol: float
    blowup: float
    rtol: float
    atol: float
    t_max: float
    record_every: int
    threads: int
    specialised: bool
    def __init__(
        self,
        *,
        method: str = "gd",
        lr: float = 0.01,
        steps: int = 1000,
        tol: float = 0.0,
        blowup: float = 1e10,
        rtol: float = 1e-8,
        atol: float = 1e-10,
        t_max: float = 0.0,
        record_every: int = 0,
        threads: int = 1,
        specialised: bool = True,
    ) -> None: ...

class TrainOutput:
    """What train() computed, per run (arrays with the runs first)."""

    @property
    def theta(self) -> NDArray[np.float64]: ...
    @property
    def v(self) -> NDArray[np.float64]: ...
    @property
    def loss(self) -> NDArray[np.float64]: ...
    @property
    def grad_norm(self) -> NDArray[np.float64]: ...
    @property
    def status(self) -> NDArray[np.int32]: ...
    @property
    def steps(self) -> NDArray[np.int64]: ...
    @property
    def inv_initial(self) -> NDArray[np.float64]: ...
    @property
    def inv_final(self) -> NDArray[np.float64]: ...
    @property
    def inv_max_drift(self) -> NDArray[np.float64]: ...
    @property
    def inv_predicted(self) -> NDArray[np.float64]: ...
    @property
    def rec_t(self) -> Optional[NDArray[np.float64]]: ...
    @property
    def rec_v(self) -> Optional[NDArray[np.float64]]: ...
    @property
    def rec_loss(self) -> Optional[NDArray[np.float64]]: ...
    @property
    def rec_inv(self) -> Optional[NDArray[np.float64]]: ...

def train(
    plan: ProductPlan,
    theta0: NDArray[np.float64],
    G: NDArray[np.float64],
    b: NDArray[np.float64],
    c: float,
    options: TrainOptions,
    progress: Optional[Callable[..., Any]] = None,
) -> TrainOutput: ...

def count_real_roots(
    v: NDArray[np.float64], threads: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.uint8], NDArray[np.uint8]]: ...

MAX_UNKNOWNS: int

class _Enum:
    """What a pybind11 enum has (the two enums below)."""

    __members__: dict[str, Any]
    def __init__(self, value: int) -> None: ...
    def __int__(self) -> int: ...
    def __index__(self) -> int: ...
    def __eq__(self, other: object) -> bool: ...
    def __ne__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def value(self) -> int: ...

class PathKind(_Enum):
    """How a homotopy path ended (pybind11 enum)."""

    REGULAR: PathKind
    AT_INFINITY: PathKind
    SINGULAR: PathKind
    FAILED: PathKind
    DEGENERATE: PathKind

class PathFailure(_Enum):
    """Why a path failed (pybind11 enum)."""

    NONE: PathFailure
    STEP_SIZE: PathFailure
    STEP_BUDGET: PathFailure
    NOT_CLOSED: PathFailure
    NOT_CONVERGED: PathFailure

class TrackerOptions:
    def __init__(
        self,
        *,
        endgame: bool = True,
        endgame_start: float = 0.9,
        max_steps: int = 20000,
        predictor_tolerance: float = 1e-5,
        threads: int = 1,
    ) -> None: ...
    @property
    def endgame(self) -> bool: ...
    @property
    def endgame_start(self) -> float: ...
    @property
    def max_steps(self) -> int: ...
    @property
    def predictor_tolerance(self) -> float: ...
    @property
    def threads(self) -> int: ...

class TrackedPaths:
    @property
    def z(self) -> NDArray[np.complex128]: ...
    @property
    def kind(self) -> NDArray[np.int32]: ...
    @property
    def winding(self) -> NDArray[np.int32]: ...
    @property
    def steps(self) -> NDArray[np.int32]: ...
    @property
    def condition(self) -> NDArray[np.float64]: ...
    @property
    def accuracy(self) -> NDArray[np.float64]: ...
    @property
    def failure(self) -> NDArray[np.int32]: ...

class Certificates:
    @property
    def proven(self) -> NDArray[np.bool_]: ...
    @property
    def radius(self) -> NDArray[np.float64]: ...
    @property
    def centre(self) -> NDArray[np.complex128]: ...
    @property
    def box(self) -> NDArray[np.float64]: ...
    @property
    def a_nonzero(self) -> NDArray[np.bool_]: ...
    @property
    def b_nonzero(self) -> NDArray[np.bool_]: ...

class TracePaths:
    @property
    def y(self) -> NDArray[np.complex128]: ...
    @property
    def kind(self) -> NDArray[np.int32]: ...

class CriticalSystem:
    def __init__(
        self,
        N: int,
        K: int,
        begin: list[int],
        exps: list[int],
        coeff: list[float],
        patch: NDArray[np.complex128],
        groups: list[tuple[int, int]] = ...,
        dilations: list[int] = ...,
        group_map: list[float] = ...,
    ) -> None: ...
    @property
    def N(self) -> int: ...
    @property
    def K(self) -> int: ...
    def track(
        self,
        w0: NDArray[np.complex128],
        G0: NDArray[np.complex128],
        w1: NDArray[np.complex128],
        G1: NDArray[np.complex128],
        starts: NDArray[np.complex128],
        options: TrackerOptions,
    ) -> TrackedPaths: ...
    def certify(
        self,
        w_lo: NDArray[np.float64],
        w_hi: NDArray[np.float64],
        G_lo: NDArray[np.float64],
        G_hi: NDArray[np.float64],
        centres: NDArray[np.complex128],
        real: list[bool],
        threads: int,
    ) -> Certificates: ...
    def track_trace(
        self,
        w0: NDArray[np.complex128],
        G0: NDArray[np.complex128],
        w1: NDArray[np.complex128],
        G1: NDArray[np.complex128],
        c0: NDArray[np.complex128],
        c1: NDArray[np.complex128],
        alpha: complex,
        beta: complex,
        gamma: complex,
        starts: NDArray[np.complex128],
        threads: int,
    ) -> TracePaths: ...
