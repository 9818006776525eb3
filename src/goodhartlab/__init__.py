"""goodhartlab: measure how far a model trained on a signal ends up from what was intended.

Every experiment reports the proxy (what training optimized), the rater (what a
rater-based evaluation would see) and the gold (the intended goal, hidden from
every learner) side by side.
"""

__version__ = "0.1.0"

# Register the goodhartlab/... Gymnasium ids (imports gymnasium, no world and no torch).
from goodhartlab import envs as _envs  # noqa: E402

_envs.register()
