import math

import pytest

from minilvdm.exercises import ExerciseFailed, check
from minilvdm.methods.long_video import keyframe_count, prediction_calls


def test_checkers_accept_the_reference_and_reject_off_by_one_answers():
    check("keyframe_count", keyframe_count)
    check("prediction_calls", prediction_calls)
    with pytest.raises(ExerciseFailed, match="round up"):
        check("keyframe_count", lambda n, s: (n - 1) // s + 1)
    with pytest.raises(ExerciseFailed):
        check("prediction_calls", lambda k, p, g: math.ceil(k / p))
