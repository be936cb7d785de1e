"""Response curves: composable transforms and statsmodels fits of paid GMV and organic uplift.

`ResponseModel().fit(panel)` fits every package's paid curve and the room's organic model;
`.response(minutes, packages)` gives the `SessionResponse` the planner optimises.
"""

from optimizer.curves.artifact import (
    ModelArtifact,
    fitted_model,
    from_artifact,
    load_model,
    save_model,
    to_artifact,
)
from optimizer.curves.floor import wape
from optimizer.curves.model import FitOptions, ResponseModel, fingerprint
from optimizer.curves.response import ResponseTerm, SessionResponse
from optimizer.curves.transforms import Carryover, Exponential, Hill, Linear, Logarithmic

__all__ = [
    "Carryover",
    "Exponential",
    "FitOptions",
    "Hill",
    "Linear",
    "Logarithmic",
    "ModelArtifact",
    "ResponseModel",
    "ResponseTerm",
    "SessionResponse",
    "fingerprint",
    "fitted_model",
    "from_artifact",
    "load_model",
    "save_model",
    "to_artifact",
    "wape",
]
