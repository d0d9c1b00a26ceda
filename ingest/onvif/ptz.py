"""PTZ presets: list them, go to one (e.g. swing a camera onto an alarm zone), save the current view.

Presets are addressed by token or by name, like media profiles. Only preset operations are here;
continuous/absolute moves are a console concern and not needed by the rules or dispatch.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.onvif.client import MediaProfile, OnvifCamera, OnvifError

PTZ_NS = "http://www.onvif.org/ver20/ptz/wsdl"


@dataclass(frozen=True)
class Preset:
    token: str
    name: str


class PtzPresets:
    """`PtzPresets(camera).goto("Gate")` moves the camera's PTZ head to the preset named Gate."""

    def __init__(self, camera: OnvifCamera, profile: str | MediaProfile | None = None):
        self.camera = camera
        if not camera.has_service(PTZ_NS):
            raise OnvifError(camera.camera_id, "GetCapabilities", "no_ptz", "camera has no PTZ service")
        self._profile = camera.profile_token(profile)
        self._svc = camera.service("ptz")

    def presets(self) -> list[Preset]:
        got = self.camera.call("GetPresets", lambda: self._svc.GetPresets(ProfileToken=self._profile)) or []
        return [Preset(p.token, p.Name or "") for p in got]

    def token(self, preset: str) -> str:
        """Token of `preset`, given as token or name."""
        known = self.presets()
        for p in known:
            if preset in (p.token, p.name):
                return p.token
        names = ", ".join(f"{p.token} ({p.name})" for p in known) or "none"
        raise OnvifError(self.camera.camera_id, "GetPresets", "no_preset", f"no preset {preset!r}; camera has {names}")

    def goto(self, preset: str) -> None:
        token = self.token(preset)
        self.camera.call("GotoPreset", lambda: self._svc.GotoPreset(ProfileToken=self._profile, PresetToken=token))

    def save(self, name: str) -> str:
        """Store the current position as a new preset called `name`; returns its token."""
        return self.camera.call("SetPreset", lambda: self._svc.SetPreset(ProfileToken=self._profile, PresetName=name))
