// The unit page's small offline map: no tiles, just the scene and the crew on a plain canvas,
// projected around the two points (metres east/north) with a scale bar and north up. The
// distance and compass direction are written out too, for a glance (and for screen readers).
import { t } from "./i18n.js";

const R = 6371000;
const DIRS = ["N", "NE", "E", "SE", "S", "SW", "W", "NW"];

export function offsetM(from, to) {
  const k = Math.cos(((from.lat + to.lat) / 2) * Math.PI / 180);
  return [((to.lon - from.lon) * Math.PI / 180) * R * k, ((to.lat - from.lat) * Math.PI / 180) * R];
}

// "420 m NE": where the scene is, seen from the unit.
export function bearingText(me, scene) {
  const [dx, dy] = offsetM(me, scene);
  const d = Math.hypot(dx, dy);
  if (d < 15) return t("atScene");
  const deg = (Math.atan2(dx, dy) * 180 / Math.PI + 360) % 360;
  const dist = d < 1000 ? `${Math.round(d)} m` : `${(d / 1000).toFixed(1)} km`;
  return `${dist} ${t("dir_" + DIRS[Math.round(deg / 45) % 8])}`;
}

function niceStep(m) {
  const p = 10 ** Math.floor(Math.log10(m));
  return [1, 2, 5, 10].map((f) => f * p).find((s) => s >= m) || m;
}

export function drawUnitMap(canvas, scene, me) {
  const g = canvas.getContext("2d");
  const { width: w, height: h } = canvas;
  g.clearRect(0, 0, w, h);
  g.fillStyle = "#f8fafc"; g.fillRect(0, 0, w, h);
  g.strokeStyle = "#e1e6ec";
  for (let x = 0; x < w; x += 30) { g.beginPath(); g.moveTo(x, 0); g.lineTo(x, h); g.stroke(); }
  for (let y = 0; y < h; y += 30) { g.beginPath(); g.moveTo(0, y); g.lineTo(w, y); g.stroke(); }
  // Scene in the middle when alone; otherwise both points fitted with a margin.
  const [dx, dy] = me ? offsetM(scene, me) : [0, 0];
  const span = Math.max(Math.abs(dx) / (w - 60), Math.abs(dy) / (h - 60), 100 / (w - 60)); // m per px, ≥100 m across
  const cx = w / 2 - dx / span / 2, cy = h / 2 + dy / span / 2;
  const at = ([ex, ny]) => [cx + ex / span, cy - ny / span];
  const [sx, sy] = at([0, 0]);
  if (me) {
    const [ux, uy] = at([dx, dy]);
    g.strokeStyle = "#1a5fd1"; g.lineWidth = 2; g.setLineDash([6, 4]);
    g.beginPath(); g.moveTo(ux, uy); g.lineTo(sx, sy); g.stroke(); g.setLineDash([]);
    g.fillStyle = "#1a5fd1"; g.strokeStyle = "#fff";
    g.beginPath(); g.arc(ux, uy, 8, 0, 2 * Math.PI); g.fill(); g.stroke();
    g.fillStyle = "#14202e"; g.font = "bold 13px system-ui, sans-serif"; g.fillText(t("you"), ux + 11, uy + 4);
  }
  g.fillStyle = "#b3261e"; g.strokeStyle = "#fff"; g.lineWidth = 2;
  g.beginPath(); g.moveTo(sx, sy - 13); g.lineTo(sx + 12, sy + 8); g.lineTo(sx - 12, sy + 8); g.closePath(); g.fill(); g.stroke();
  g.fillStyle = "#b3261e"; g.font = "bold 13px system-ui, sans-serif"; g.fillText(t("scene"), sx + 14, sy + 4);
  // North arrow and scale bar.
  g.fillStyle = "#14202e"; g.font = "bold 12px system-ui, sans-serif";
  g.beginPath(); g.moveTo(w - 16, 8); g.lineTo(w - 10, 22); g.lineTo(w - 22, 22); g.closePath(); g.fill();
  g.fillText("N", w - 20, 36);
  const step = niceStep(span * 80);
  const px = step / span;
  g.lineWidth = 3; g.strokeStyle = "#14202e";
  g.beginPath(); g.moveTo(10, h - 12); g.lineTo(10 + px, h - 12); g.stroke(); g.lineWidth = 1;
  g.font = "12px system-ui, sans-serif"; g.fillText(step < 1000 ? `${step} m` : `${step / 1000} km`, 14 + px, h - 8);
  canvas.dataset.scene = `${scene.lat.toFixed(6)},${scene.lon.toFixed(6)}`;
  canvas.dataset.unit = me ? `${me.lat.toFixed(6)},${me.lon.toFixed(6)}` : "";
}
