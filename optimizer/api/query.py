"""Refusing query parameters an endpoint does not declare (a typo such as `?horizn=5` was
silently ignored): an app-wide dependency that reads the matched route's declared ones."""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from optimizer.api.errors import Invalid


def declared_query(route: APIRoute) -> list[str]:
    """The names of the query parameters `route` takes (its dependencies' included), sorted."""
    return sorted(_query_names(route.dependant))


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


async def only_declared_query(request: Request) -> None:
    """Raise `Invalid` (422) naming each query parameter the matched route does not declare,
    and listing those it does."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    accepted = declared_query(route)
    unknown = sorted(set(request.query_params) - set(accepted))
    if not unknown:
        return
    takes = ", ".join(accepted) if accepted else "no query parameters"
    errors = [(name, f"unknown query parameter; this endpoint takes {takes}")
              for name in unknown]
    raise Invalid(f"unknown query parameter{'s' if len(unknown) > 1 else ''} "
                  f"{', '.join(unknown)}; {request.method} {route.path} takes {takes}",
                  unknown[0], errors)
