// Camera health panel: the worker's lookout.health.v1 records (via /api/console/camera-health and
// the stream's `health` events). A camera whose records stopped is "silent"; one that never sent
// any falls back to the age of its newest frame file (live / stale / none).
import { t } from "../i18n.js";
import { $, esc, fmtTime } from "../session.js";

const SILENT_AFTER_S = 30; // as api/console_health.py
const FRAME_FRESH_S = 10;
export const BAD = new Set(["stalled", "lost", "silent", "stale"]);

export function cameraHealth(c, now = Date.now() / 1000) {
  const r = c.report;
  if (r) return now - r.at > SILENT_AFTER_S ? "silent" : r.state;
  if (c.frame_age_s == null) return "none";
  return c.frame_age_s <= FRAME_FRESH_S ? "live" : "stale";
}

// A pushed record replaces the camera's report; last_seen follows the record's last frame.
export function applyRecord(cameras, rec) {
  const c = cameras.find((x) => x.id === rec.camera_id);
  if (!c) return false;
  c.report = rec;
  if (rec.last_frame_at != null) c.last_seen = rec.last_frame_at;
  return true;
}

function ago(epoch, now) {
  if (epoch == null) return t("never");
  const s = Math.max(0, Math.round(now - epoch));
  const span = s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;
  return `${fmtTime(epoch)} (${span} ${t("ago")})`;
}

export function renderHealth(cameras) {
  const now = Date.now() / 1000;
  const rows = cameras.map((c) => {
    const h = cameraHealth(c, now);
    const r = c.report;
    const extra = [];
    if (r?.outage_since && h !== "live") extra.push(`${t("outageSince")} ${fmtTime(r.outage_since)}`);
    if (r?.reconnects) extra.push(`${t("reconnects")} ${r.reconnects}`);
    if (r?.state === "live" && r.fps_in) extra.push(`${r.fps_in} fps`);
    return `<li data-camera="${esc(c.id)}" data-health="${h}"${r?.error ? ` title="${esc(r.error)}"` : ""}>
      <span class="cam"><b>${esc(c.name)}</b> <span class="muted">${esc(c.id)}</span></span>
      <span class="state ${h}">${BAD.has(h) ? "⚠ " : ""}${esc(t("cam_" + h))}</span>
      <span class="seen muted">${esc(t("lastFrame"))}: ${esc(ago(c.last_seen, now))}${extra.length ? " · " + esc(extra.join(" · ")) : ""}</span></li>`;
  });
  $("cam-health").innerHTML = rows.join("");
  const bad = cameras.filter((c) => BAD.has(cameraHealth(c, now))).length;
  $("cam-bad").textContent = bad ? `${bad} ⚠` : "";
}
