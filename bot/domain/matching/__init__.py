"""The matching engine: compatibility scores with reasons, suggestions and optimal batch rounds.

Pure (numpy, OR-Tools); no Discord or SQL. See :mod:`.scoring` for how a pair is scored and
:mod:`.assignment` for how rounds are solved and proven optimal.
"""

from bot.domain.matching.assignment import (
    Assignment,
    Report,
    RoundPhase,
    RoundResult,
    assign_round,
)
from bot.domain.matching.live import LivePool
from bot.domain.matching.pool import MentorPool, MentorSlot, Suggestion
from bot.domain.matching.scoring import explain, is_compatible, score_pair
from bot.domain.matching.weights import (
    DEFAULT_WEIGHTS,
    Weights,
    WeightsError,
    load_weights,
    read_default_weights,
)

__all__ = [
    "DEFAULT_WEIGHTS",
    "Assignment",
    "LivePool",
    "MentorPool",
    "MentorSlot",
    "Report",
    "RoundPhase",
    "RoundResult",
    "Suggestion",
    "Weights",
    "WeightsError",
    "assign_round",
    "explain",
    "is_compatible",
    "load_weights",
    "read_default_weights",
    "score_pair",
]
