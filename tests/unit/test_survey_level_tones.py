"""The colour of an outcome level in the results' charts follows its band: red for the worst,
green for the best, whatever order the definition lists them in."""

from rounds.runtime.surveys.results import level_tones


def test_outcome_levels_are_toned_from_worst_to_best_whatever_their_order() -> None:
    bands = [{"id": "good", "min": 75}, {"id": "poor", "min": 0}, {"id": "fair", "min": 50}]
    assert level_tones(bands, "higher_better") == (1.0, 0.0, 0.5)
    assert level_tones(bands, "lower_better") == (0.0, 1.0, 0.5)
    assert level_tones([{"id": "only"}], "higher_better") == (1.0,)
