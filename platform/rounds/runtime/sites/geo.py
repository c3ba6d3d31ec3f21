"""Positions on the earth: whether a latitude and longitude can be one. Distances are the
rules' own ``rounds.rules.operations.haversine_m`` (one formula for rules, nearest first
and the check-in radius)."""

from __future__ import annotations

import math


def valid_position(lat: float, lng: float) -> bool:
    return math.isfinite(lat) and math.isfinite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180
