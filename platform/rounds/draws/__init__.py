"""Random double checks (双随机抽查): a check campaign as data and its fair, reproducible draw.

An engine (pure, no I/O): ``spec`` decodes and checks a campaign, ``draw`` draws its sites
and inspectors from a recorded seed so that anyone can re-run it (docs/draws.md).
"""

from rounds.draws.draw import DrawInputs, DrawResult, decode_inputs, draw, new_seed, verify
from rounds.draws.spec import (
    CampaignError,
    CampaignSpec,
    DrawSpec,
    Publication,
    check_spec,
    draw_part,
)

__all__ = ["CampaignError", "CampaignSpec", "DrawInputs", "DrawResult", "DrawSpec",
           "Publication", "check_spec", "decode_inputs", "draw", "draw_part", "new_seed",
           "verify"]
