"""Positions on the earth, for "nearest first" and check-in radius checks. The distance is
the rules' own ``haversine_m`` (the one formula; the engines cannot import the runtime)."""

from __future__ import annotations

import math

from rounds.rules.operations import haversine_m

__all__ = ["haversine_m", "valid_position"]


def valid_position(lat: float, lng: float) -> bool:
    return math.isfinite(lat) and math.isfinite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180
