"""Organisation hierarchy (`configs/org.yaml`): city command room → counties → police stations.

Sites, responders and users belong to a node. A user sees incidents of their node and below; an
incident is dispatched from its node's units first, and one level up when its tiers cannot be
met there (no unit, or the best ETA misses the tier's deadline). Without org.yaml there is one
implicit scope: everyone sees and dispatches everything, as before.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class Node(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=ID, max_length=64, description="Stable node id; responders and tokens name it")
    name: str = Field(description="Shown in the console")
    kind: str = Field(default="station", description="city, county, station, ... (informational)")
    parent: str | None = Field(default=None, description="Parent node id; exactly one node has none (the root)")
    sites: list[str] = Field(default_factory=list, description="Alert `site` values whose incidents belong here")


class OrgFile(BaseModel):
    """`org.yaml`."""

    model_config = ConfigDict(extra="forbid")
    nodes: list[Node] = Field(default_factory=list, description="Every node of the hierarchy")

    @model_validator(mode="after")
    def _tree(self) -> "OrgFile":
        ids = [n.id for n in self.nodes]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"duplicate node id(s) {sorted(dup)}")
        known = set(ids)
        for n in self.nodes:
            if n.parent is not None and n.parent not in known:
                raise ValueError(f"node {n.id!r}: parent {n.parent!r} is not a node")
        roots = [n.id for n in self.nodes if n.parent is None]
        if self.nodes and len(roots) != 1:
            raise ValueError(f"exactly one root node (no parent) expected, found {roots}")
        parent = {n.id: n.parent for n in self.nodes}
        for n in self.nodes:  # a parent chain longer than the node count is a cycle
            cur, steps = n.id, 0
            while cur is not None:
                cur, steps = parent[cur], steps + 1
                if steps > len(ids):
                    raise ValueError(f"node {n.id!r}: parent chain has a cycle")
        sites = [s for n in self.nodes for s in n.sites]
        if len(sites) != len(set(sites)):
            raise ValueError("a site belongs to more than one node")
        return self


class Org:
    def __init__(self, f: OrgFile | None = None):
        f = f or OrgFile()
        self.parent = {n.id: n.parent for n in f.nodes}
        self.children: dict[str, list[str]] = {n.id: [] for n in f.nodes}
        for n in f.nodes:
            if n.parent is not None:
                self.children[n.parent].append(n.id)
        self.site_node = {s: n.id for n in f.nodes for s in n.sites}

    @property
    def enabled(self) -> bool:
        return bool(self.parent)

    def subtree(self, node: str) -> set[str]:
        out, stack = set(), [node]
        while stack:
            cur = stack.pop()
            if cur not in out:
                out.add(cur)
                stack.extend(self.children.get(cur, ()))
        return out

    def node_of_site(self, site: str) -> str | None:
        return self.site_node.get(site)

    def scopes(self, node: str | None) -> list[tuple[str | None, set[str] | None]]:
        """Dispatch scopes, narrowest first: the node's subtree, then each ancestor's. None = everyone."""
        if not self.enabled or node is None or node not in self.parent:
            return [(None, None)]
        out: list[tuple[str | None, set[str] | None]] = []
        cur: str | None = node
        while cur is not None:
            # The root's scope is everyone: units without a node belong to the whole organisation.
            out.append((cur, self.subtree(cur) if self.parent[cur] is not None else None))
            cur = self.parent[cur]
        return out

    def visible(self, user_node: str | None) -> set[str] | None:
        """Nodes whose incidents a user sees; None = all (no org, or a user without a node)."""
        if not self.enabled or user_node is None or self.parent.get(user_node, "") is None:
            return None  # the root (city command room) sees everything, incidents without a node too
        return self.subtree(user_node)
