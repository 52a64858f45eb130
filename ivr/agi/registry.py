"""FastAGI routes by name, like wazo-agid: `@route("diag") async def diag(call): ...`.

`agi://127.0.0.1:4573/diag` reaches the handler registered as "diag". The
module-level `REGISTRY` is the application's; tests can build their own
`Registry` and hand it to the server.
"""
from __future__ import annotations

import importlib
import inspect
import logging
import pkgutil
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ivr.agi.call import AgiCall

Handler = Callable[["AgiCall"], Awaitable[None]]

log = logging.getLogger("ivr.agi")


class Registry:
    def __init__(self) -> None:
        self._routes: dict[str, Handler] = {}

    def route(self, name: str) -> Callable[[Handler], Handler]:
        """Decorator registering an `async def handler(call) -> None` under `name`."""
        if not name or "/" in name.strip("/") or "?" in name:
            raise ValueError(f"invalid AGI route name: {name!r}")

        def register(handler: Handler) -> Handler:
            # A sync handler would block every other call; panoramisk's
            # fallback wrapper (asyncio.coroutine) is gone from Python 3.11.
            if not inspect.iscoroutinefunction(handler):
                raise TypeError(f"AGI route {name!r}: handler {handler.__qualname__} must be `async def`")
            old = self._routes.get(name)
            if old is not None and _ident(old) != _ident(handler):
                raise ValueError(f"AGI route {name!r} is already taken by {old.__module__}.{old.__qualname__}")
            self._routes[name] = handler
            return handler

        return register

    def get(self, name: str) -> Handler | None:
        return self._routes.get(name)

    def names(self) -> list[str]:
        return sorted(self._routes)

    def __contains__(self, name: object) -> bool:
        return name in self._routes


def _ident(handler: Handler) -> tuple[str, str]:
    # Re-importing a module re-creates its functions: same name, same place, same route.
    return handler.__module__, handler.__qualname__


def import_all(package: str) -> list[str]:
    """Import every module of `package`; a broken module is logged, the others still load."""
    pkg = importlib.import_module(package)
    loaded = []
    for mod in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        name = f"{package}.{mod.name}"
        try:
            importlib.import_module(name)
        except Exception:
            # Its calls go to the fallback; the other routes keep working.
            log.exception("could not load AGI handler module %s", name)
        else:
            loaded.append(name)
    return loaded


REGISTRY = Registry()
route = REGISTRY.route
