"""Shared test settings: hypothesis profiles. CI (2 cores) uses ``ci`` (derandomized); set
``HYPOTHESIS_PROFILE=thorough`` for a longer, random search."""

import os

from hypothesis import HealthCheck, settings

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
