"""Which browser tabs (Reflex client tokens) belong to which user, in this backend worker.

A tab is remembered whenever one of its events resolves its user, which always happens on the worker
that holds its socket: every page load, and every reconnect (a reconnect re-sends the page's load
events). The map is local on purpose: each worker pushes only to the sockets it holds itself, so a
signal heard by every worker reaches each tab exactly once. Tokens whose socket has gone are dropped
by `prune`, and the tab's next event brings it back.

Only the event loop thread touches this map (Reflex runs handlers and lifespan tasks on it).
"""

from __future__ import annotations

from collections.abc import Callable


class Presence:
    def __init__(self) -> None:
        self._tokens_by_user: dict[int, set[str]] = {}
        self._user_by_token: dict[str, int] = {}

    def remember(self, user_id: int, token: str) -> None:
        if not token or self._user_by_token.get(token) == user_id:
            return
        self.forget(token)
        self._user_by_token[token] = user_id
        self._tokens_by_user.setdefault(user_id, set()).add(token)

    def forget(self, token: str) -> None:
        user_id = self._user_by_token.pop(token, None)
        if user_id is None:
            return
        tokens = self._tokens_by_user.get(user_id, set())
        tokens.discard(token)
        if not tokens:
            self._tokens_by_user.pop(user_id, None)

    def tokens_of(self, user_id: int) -> list[str]:
        return list(self._tokens_by_user.get(user_id, ()))

    def prune(self, is_connected_here: Callable[[str], bool]) -> None:
        for token in [t for t in self._user_by_token if not is_connected_here(t)]:
            self.forget(token)

    def __len__(self) -> int:
        return len(self._user_by_token)


presence = Presence()


class Watchers:
    """Which tabs in this worker have a list of which admin-kit resource open, and the state class
    whose `refresh` reloads it (set by the list's load; see admin/kit and state/live.py).

    A tab watches one list at a time: opening another forgets the first, and a tab found on
    another page when a change arrives is forgotten then.
    """

    def __init__(self) -> None:
        self._by_resource: dict[str, dict[str, tuple[type, str]]] = {}
        self._resource_by_token: dict[str, str] = {}

    def watch(self, resource: str, token: str, state_cls: type, path: str) -> None:
        if not token:
            return
        self.forget(token)
        self._by_resource.setdefault(resource, {})[token] = (state_cls, path)
        self._resource_by_token[token] = resource

    def forget(self, token: str) -> None:
        resource = self._resource_by_token.pop(token, None)
        if resource is not None:
            tabs = self._by_resource.get(resource, {})
            tabs.pop(token, None)
            if not tabs:
                self._by_resource.pop(resource, None)

    def tabs_of(self, resource: str) -> list[tuple[str, type, str]]:
        """(token, state class, path of the list) of every tab watching the resource."""
        return [(token, cls, path) for token, (cls, path) in
                self._by_resource.get(resource, {}).items()]

    def prune(self, is_connected_here: Callable[[str], bool]) -> None:
        for token in [t for t in self._resource_by_token if not is_connected_here(t)]:
            self.forget(token)

    def __len__(self) -> int:
        return len(self._resource_by_token)


watchers = Watchers()
