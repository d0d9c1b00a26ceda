"""Config files of the api: `responders.yaml` (who can respond) and `dispatch.yaml` (policies)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from alerts.site import GeoPoint
from api.org import OrgFile
from rules.configfile import load_model

ResponderType = Literal[
    "guard", "volunteer", "grid_member", "patrol_car", "foot_patrol", "ebike_patrol",
    "community_police", "station_force", "special_unit", "drone",
]
Tier = Literal[1, 2, 3]
# As a mapping key: YAML keys reach the model as strings (rules.configfile), so coerce "1" → 1.
TierKey = Annotated[int, Field(ge=1, le=3)]
Severity = Literal["low", "medium", "high", "critical"]

# The 1-3-5 model (DESIGN.md): who is which tier unless a unit says otherwise.
DEFAULT_TIER: dict[str, int] = {
    "guard": 1, "volunteer": 1, "grid_member": 1,
    "patrol_car": 2, "foot_patrol": 2, "ebike_patrol": 2, "community_police": 2,
    "station_force": 3, "special_unit": 3, "drone": 3,
}
# Typical urban speeds in m/s (walking ~1.4, running guard ~2.5, car in traffic ~8, drone ~12).
DEFAULT_SPEED: dict[str, float] = {
    "guard": 2.0, "volunteer": 1.4, "grid_member": 1.4,
    "patrol_car": 8.0, "foot_patrol": 1.6, "ebike_patrol": 5.0, "community_police": 3.0,
    "station_force": 9.0, "special_unit": 10.0, "drone": 12.0,
}


class Responder(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="Stable unit id; a unit token's subject")
    name: str = Field(description="Human name shown in the console")
    type: ResponderType = Field(description="Kind of unit; sets the default tier and speed")
    tier: Tier | None = Field(default=None, description="1, 2 or 3; default from type")
    speed_mps: float | None = Field(default=None, gt=0, description="Travel speed in m/s; default from type")
    position: GeoPoint | None = Field(default=None, description="Initial position; live updates replace it")
    post: GeoPoint | None = Field(default=None, description="Duty post, used when the live position is stale")
    status: Literal["available", "busy", "off_duty"] = Field(default="available", description="Availability")
    node: str | None = Field(default=None, description="Org node (org.yaml) the unit belongs to; unset: none")

    @model_validator(mode="after")
    def _defaults_from_type(self) -> "Responder":
        if self.tier is None:
            self.tier = DEFAULT_TIER[self.type]  # type: ignore[assignment]
        if self.speed_mps is None:
            self.speed_mps = DEFAULT_SPEED[self.type]
        return self


class RespondersFile(BaseModel):
    """`responders.yaml`."""

    model_config = ConfigDict(extra="forbid")
    responders: list[Responder] = Field(default_factory=list, description="Every unit that can be dispatched")

    @field_validator("responders")
    @classmethod
    def _unique_ids(cls, v: list[Responder]) -> list[Responder]:
        seen: set[str] = set()
        for r in v:
            if r.id in seen:
                raise ValueError(f"duplicate responder id {r.id!r}")
            seen.add(r.id)
        return v


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tiers: list[Tier] = Field(min_length=1, description="Tiers to dispatch for this severity")
    units_per_tier: int = Field(default=1, ge=1, description="Units ordered per tier at once")
    ack_deadline_s: float = Field(default=30, gt=0, description="Seconds a unit has to acknowledge")
    arrival_deadline_s: dict[TierKey, float] = Field(
        default_factory=lambda: {1: 60, 2: 180, 3: 300},
        description="Seconds from the alert to on-scene, per tier (the 1-3-5 model)",
    )

    @model_validator(mode="after")
    def _deadline_per_tier(self) -> "Policy":
        missing = [t for t in self.tiers if t not in self.arrival_deadline_s]
        if missing:
            raise ValueError(f"arrival_deadline_s has no entry for tier(s) {missing}")
        return self


def _default_policies() -> dict[str, Policy]:
    return {
        "low": Policy(tiers=[1]),
        "medium": Policy(tiers=[1, 2]),
        "high": Policy(tiers=[1, 2]),
        "critical": Policy(tiers=[1, 2, 3]),
    }


class PointOfInterest(BaseModel):
    """A place that needs cover even before any alert came from it (a gate, a fence, a camera)."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=128, description="Name shown in the coverage report")
    lat: float = Field(ge=-90, le=90, description="Latitude, WGS84 degrees")
    lon: float = Field(ge=-180, le=180, description="Longitude, WGS84 degrees")


class RoadsConfig(BaseModel):
    """`roads:` in dispatch.yaml: a road/path graph for ETAs instead of the straight line."""

    model_config = ConfigDict(extra="forbid")
    geojson: str | None = Field(default=None, description="GeoJSON of LineString/MultiLineString roads and "
                                "paths (properties: speed_kmh, mode foot|bike|car|all, oneway); relative to the "
                                "config folder")
    travel_time_matrix: str | None = Field(default=None, description="CSV id,lat,lon,<ids...> of seconds between "
                                           "nodes; relative to the config folder")
    max_snap_m: float = Field(default=250, gt=0, description="Further than this from every node: straight-line ETA")

    # The graph, built once when the file is loaded with a config folder to resolve paths against.
    _graph: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _one_source(self, info: ValidationInfo) -> "RoadsConfig":
        if (self.geojson is None) == (self.travel_time_matrix is None):
            raise ValueError("give exactly one of geojson or travel_time_matrix")
        config_dir = (info.context or {}).get("config_dir")
        if config_dir is not None:
            # Errors name the road file, the feature/line and the problem; the YAML line is the `roads:` key's.
            self._graph = load_road_graph(self, Path(config_dir))
        return self


class DispatchFile(BaseModel):
    """`dispatch.yaml`."""

    model_config = ConfigDict(extra="forbid")
    policies: dict[Severity, Policy] = Field(
        default_factory=_default_policies, description="Policy per rule severity; a missing severity dispatches nobody"
    )
    detour_factor: float = Field(default=1.3, ge=1.0, description="Straight-line distance × this = path length")
    position_stale_s: float = Field(default=300, gt=0, description="Live positions older than this count as unknown")
    incident_window_s: float = Field(default=120, ge=0, description="Alerts of one source and zone within this join one incident")
    points_of_interest: list[PointOfInterest] = Field(
        default_factory=list, description="Places the coverage report checks besides the alert locations seen"
    )
    roads: RoadsConfig | None = Field(default=None, description="Road/path graph for ETAs; unset: straight line")
    candidate_posts: list[PointOfInterest] = Field(
        default_factory=list,
        description="Where a new post could go (coverage suggestions); empty: a grid over the places",
    )
    index_refresh_s: float = Field(default=2.0, gt=0, description="Seconds between checks that the in-memory "
                                   "responder index still matches the store (other API instances' writes)")
    # A graph set directly (tests, tools); else the one `roads` built at load. None: straight line.
    _road_graph: Any = PrivateAttr(default=None)

    @property
    def road_graph(self) -> Any:
        """The `api.dispatch.roads.RoadGraph` ETAs follow, or None for straight-line ETAs."""
        if self._road_graph is not None:
            return self._road_graph
        return self.roads._graph if self.roads is not None else None


class ApiConfig(BaseModel):
    """The api's files, as the service uses them."""

    responders: RespondersFile = Field(default_factory=RespondersFile)
    dispatch: DispatchFile = Field(default_factory=DispatchFile)
    org: OrgFile = Field(default_factory=OrgFile)


def load_api_config(config_dir: Path | str) -> ApiConfig:
    """Read the files that exist; a missing file means its defaults (no responders: nothing dispatched)."""
    d = Path(config_dir)
    out = ApiConfig()
    if (d / "responders.yaml").exists():
        out.responders = load_model(RespondersFile, d / "responders.yaml")
    if (d / "dispatch.yaml").exists():
        out.dispatch = load_model(DispatchFile, d / "dispatch.yaml", context={"config_dir": d})
    if (d / "org.yaml").exists():
        out.org = load_model(OrgFile, d / "org.yaml")
        nodes = {n.id for n in out.org.nodes}
        for r in out.responders.responders:
            if r.node is not None and r.node not in nodes:
                raise ValueError(f"{d / 'responders.yaml'}: responder {r.id!r}: node {r.node!r} is not in org.yaml")
    return out


def load_road_graph(roads: RoadsConfig | None, config_dir: Path) -> Any:
    """Build the road graph once; errors name the file, the feature/line and the problem."""
    if roads is None:
        return None
    from api.dispatch import roads as road_graphs  # scipy loads only when a graph is configured

    if roads.geojson is not None:
        return road_graphs.load_geojson(Path(config_dir) / roads.geojson, max_snap_m=roads.max_snap_m)
    assert roads.travel_time_matrix is not None  # RoadsConfig guarantees one source
    return road_graphs.load_matrix(Path(config_dir) / roads.travel_time_matrix, max_snap_m=roads.max_snap_m)
