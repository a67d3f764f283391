"""Order tests by `needs`: a stable topological order (file order among equals)."""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence


class CycleError(ValueError):
    """`needs` form a cycle; `cycle` lists the ids around it, first id repeated at the end."""

    def __init__(self, cycle: list[str]) -> None:
        super().__init__("dependency cycle: " + " -> ".join(cycle))
        self.cycle = cycle


def stable_order(ids: Sequence[str], needs: Mapping[str, Sequence[str]]) -> list[str]:
    """Ids ordered so every test comes after what it needs; ties keep file order.

    Needs naming unknown ids are ignored here (the loader reports them).
    """
    index = {test_id: i for i, test_id in enumerate(ids)}
    waiting = {t: {n for n in needs.get(t, ()) if n in index and n != t} for t in ids}
    users: dict[str, list[str]] = {t: [] for t in ids}
    for t, deps in waiting.items():
        for d in deps:
            users[d].append(t)
    ready = [index[t] for t, deps in waiting.items() if not deps]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        current = ids[heapq.heappop(ready)]
        order.append(current)
        for user in users[current]:
            waiting[user].discard(current)
            if not waiting[user]:
                heapq.heappush(ready, index[user])
    if len(order) < len(ids):
        raise CycleError(_find_cycle({t: d for t, d in waiting.items() if d}))
    for t in ids:  # self-needs are cycles too
        if t in needs.get(t, ()):
            raise CycleError([t, t])
    return order


def _find_cycle(edges: Mapping[str, set[str]]) -> list[str]:
    start = next(iter(edges))
    path: list[str] = []
    seen: dict[str, int] = {}
    node = start
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        node = sorted(edges[node])[0]
    return [*path[seen[node] :], node]
