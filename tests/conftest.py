"""Shared test settings: hypothesis profiles and torch's thread count.

CI (2 cores) uses the ``ci`` hypothesis profile (derandomized); set
``HYPOTHESIS_PROFILE=thorough`` for a longer, random search.

The day-to-day subset skips the tests marked ``slow`` (whole-zoo torch comparisons,
full-size inputs): ``python -m pytest -q -m "not slow"``; ``python -m pytest -q`` runs them all.
"""

import os

# One intra-op thread per test process (torch reads this when it is first imported). On two
# cores shared with other work, or with pytest-xdist's workers, a second OpenMP thread spins
# and multiplies CPU time (measured: 2.5x on the torch bridge's random graphs under load).
# An explicit OMP_NUM_THREADS wins.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from hypothesis import HealthCheck, settings  # noqa: E402

# derandomized: a CI run is reproducible; the thorough profile searches afresh each time
settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough", max_examples=400, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

import ctypes  # noqa: E402
import gc  # noqa: E402

import pytest  # noqa: E402

#: test files that build real networks in torch (hundreds of MB each): after each of their
#: tests the garbage is collected and glibc's free heap handed back to the system, so a
#: worker's resident memory stays near one network's, not the sum of the fragments
_HEAVY = {
    "test_check.py",
    "test_torch_bridge.py",
    "test_training_torch.py",
    "test_vit.py",
    "test_import_real.py",
    "test_conventions.py",
    "test_conventions_real.py",
}
try:
    _malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
except (OSError, AttributeError):  # not glibc
    _malloc_trim = None


@pytest.fixture(autouse=True)
def _release_memory_after_torch_tests(request):
    yield
    if request.node.path.name in _HEAVY:
        gc.collect()
        if _malloc_trim is not None:
            _malloc_trim(0)
