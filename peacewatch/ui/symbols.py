"""APP-6D / MIL-STD-2525D symbols as SVG, drawn on the server by ``milsymbol`` from numeric SIDCs."""

from __future__ import annotations

from functools import lru_cache

import milsymbol

# 20-digit APP-6D codes (letter-based 2525C codes render as a red "?" in milsymbol)
OBSERVATION_POST = "10032500001601000000"
CHECKPOINT = "10032500001303000000"
PATROL = "10031000121211000000"  # friendly infantry squad
MILITARY_POLICE = "10031000151412000000"
# activities (symbol set 40): what happened, in the frame of who it concerns; distinct from one another at a glance
INCIDENT = "10014000001100000000"  # an incident, its author unknown (yellow)
SHOOTING = "10014000001104000000"  # a shooting incident: the ceasefire violation most reported
ALERT = "10034000001301000000"  # one of our patrols' activity that needs a look (left its area, silent, not back)
EMERGENCY = "10034000001312000000"  # emergency operation: a call for help
CASEVAC = "10034000001313000000"  # emergency medical operation: a casualty evacuation asked for
SIDCS = {"observation_post": OBSERVATION_POST, "checkpoint": CHECKPOINT, "patrol": PATROL,
         "military_police": MILITARY_POLICE, "incident": INCIDENT, "shooting": SHOOTING, "alert": ALERT,
         "emergency": EMERGENCY, "casevac": CASEVAC}


class UnknownSymbol(ValueError):
    pass


@lru_cache(maxsize=512)
def symbol_svg(sidc: str, size: int = 30) -> str:
    """The symbol's SVG; raises UnknownSymbol for a code milsymbol cannot draw."""
    if len(sidc) != 20 or not (sidc.isascii() and sidc.isdigit()):
        raise UnknownSymbol(f"{sidc!r} is not a 20-digit APP-6D code")
    symbol = milsymbol.Symbol(sidc, size=size)
    if not symbol.is_valid():
        raise UnknownSymbol(f"{sidc} is not a symbol milsymbol knows")
    return str(symbol.as_svg())


@lru_cache(maxsize=64)
def icon(sidc: str, size: int = 26) -> dict[str, object]:
    """What a Leaflet icon needs: the SVG's URL, its size, and the point that sits on the position."""
    symbol = milsymbol.Symbol(sidc, size=size)
    box, anchor = symbol.get_size(), symbol.get_anchor()
    return {"url": f"/ui/symbols/{sidc}.svg?size={size}", "size": [round(box["width"]), round(box["height"])],
            "anchor": [round(anchor["x"]), round(anchor["y"])]}


def icons(size: int = 26) -> dict[str, dict[str, object]]:
    return {kind: icon(sidc, size) for kind, sidc in SIDCS.items()}
