"""Type stubs for lcnfast's compiled core (private; checked by mypy.stubtest in the tests)."""

from typing import Any, Callable, Optional

import numpy as np
from numpy.typing import NDArray

__version__: str
MAX_FAST_DEGREE: int

def hardware_threads() -> int: ...
def memory_budget() -> int: ...
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

def solve_total_degree(
    n: int,
    term_begin: list[int],
    exps: list[int],
    coeff: NDArray[np.complex128],
    degree: list[int],
    gamma: complex,
    threads: int,
    first: int = 0,
    count: int = -1,
) -> tuple[NDArray[np.complex128], NDArray[np.int32], NDArray[np.float64], NDArray[np.float64]]: ...
def track_stratum_paths(
    N: int,
    K: int,
    begin: list[int],
    exps: list[int],
    coeff: list[float],
    patch: NDArray[np.complex128],
    w0: NDArray[np.complex128],
    G0: NDArray[np.complex128],
    w1: NDArray[np.complex128],
    G1: NDArray[np.complex128],
    starts: NDArray[np.complex128],
    endgame: bool,
    endgame_start: float,
    max_steps: int,
    threads: int,
    predictor_tolerance: float = 1e-5,
    groups: list[tuple[int, int]] = ...,
) -> tuple[NDArray[np.complex128], NDArray[np.int32], NDArray[np.int32], NDArray[np.int32], NDArray[np.float64],
           NDArray[np.float64], NDArray[np.int32]]: ...
def certify_stratum_points(
    N: int,
    K: int,
    begin: list[int],
    exps: list[int],
    coeff: list[float],
    w_lo: NDArray[np.float64],
    w_hi: NDArray[np.float64],
    G_lo: NDArray[np.float64],
    G_hi: NDArray[np.float64],
    centres: NDArray[np.complex128],
    real: list[bool],
    threads: int,
) -> tuple[NDArray[np.bool_], NDArray[np.float64], NDArray[np.complex128], NDArray[np.float64], NDArray[np.bool_],
           NDArray[np.bool_]]: ...
MAX_UNKNOWNS: int

def track_trace_paths(
    N: int,
    K: int,
    begin: list[int],
    exps: list[int],
    coeff: list[float],
    patch: NDArray[np.complex128],
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
    groups: list[tuple[int, int]] = ...,
) -> tuple[NDArray[np.complex128], NDArray[np.int32]]: ...
