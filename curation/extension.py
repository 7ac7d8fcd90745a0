"""Extension points: how an earlier app hands work to a later one without importing it.

The domain apps form a chain, places ← pages ← contacts: a later app may import an earlier one, never the
reverse (tests/test_import_graph.py). Where an earlier stage must reach a later one — a page scrape hands
the page to contact extraction, a domain extraction creates the pages app's domain row — the earlier app
declares an `ExtensionPoint` and the later app provides its implementation from its `AppConfig.ready()`.
"""
from __future__ import annotations

from collections.abc import Callable


class ExtensionPoint:
    """A named call an earlier app makes and a later app implements (`provide`).

    Without a provider (the later app is not installed) the call returns `default`, so an earlier app works
    on its own; providing twice with a different function is a configuration error.
    """

    def __init__(self, name: str, *, default: Callable | None = None):
        self.name = name
        self._default = default
        self._impl: Callable | None = None

    def provide(self, func: Callable) -> Callable:
        if self._impl is not None and self._impl is not func:
            raise RuntimeError(f"{self.name} is provided twice: {self._impl!r} and {func!r}")
        self._impl = func
        return func

    @property
    def provided(self) -> bool:
        return self._impl is not None

    def __call__(self, **kwargs):
        if self._impl is not None:
            return self._impl(**kwargs)
        if self._default is not None:
            return self._default(**kwargs)
        return None

    def __repr__(self) -> str:
        return f"<ExtensionPoint {self.name}: {'provided' if self._impl else 'not provided'}>"
