"""The desk's pages, one module per page group; each module's routes() closes over the Desk."""

from __future__ import annotations

from collections.abc import Callable

from starlette.responses import Response
from starlette.routing import Route

from ..jobs import Jobs
from ..settings import Settings
from . import audit, auth, board, intake, summary, tasks, unit
from .common import Desk


def routes(settings: Settings, render: Callable[..., Response], jobs: Jobs) -> list[Route]:
    desk = Desk(settings, render, jobs)
    return [r for module in (board, intake, unit, tasks, summary, audit, auth) for r in module.routes(desk)]
