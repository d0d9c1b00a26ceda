// Offline site map: a plain coordinate canvas (no map tiles). Lat/lon are projected
// equirectangularly around the points' centre (metres east/north), which is exact enough for
// a site a few kilometres across, and fitted to the canvas with a margin.
import { t } from "../i18n.js";
import { $, esc } from "../session.js";
import { BAD, cameraHealth } from "./health.js";

// Cameras: dark when live, red when stalled / lost / silent / stale, grey otherwise.
const healthColour = (h) => (h === "live" ? "#14202e" : BAD.has(h) ? "#b3261e" : "#8a96a3");
const TIER_COLOUR = { 1: "#2e6b30", 2: "#1a5fd1", 3: "#6a3fb5" };

function projector(points, w, h, pad = 28) {
  const lat0 = points.reduce((s, p) => s + p.lat, 0) / points.length;
  const k = Math.cos((lat0 * Math.PI) / 180);
  const xy = (p) => [p.lon * k, p.lat];
  const xs = points.map((p) => xy(p)[0]), ys = points.map((p) => xy(p)[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const span = Math.max(x1 - x0, y1 - y0, 1e-4);
  const scale = Math.min(w - 2 * pad, h - 2 * pad) / span;
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  return (p) => { const [x, y] = xy(p); return [w / 2 + (x - cx) * scale, h / 2 - (y - cy) * scale]; };
}

const ORDER_COLOUR = { pending: "#6b7785", notified: "#6b7785", acknowledged: "#b08800", en_route: "#b08800",
  escalated: "#b3261e", on_scene: "#2e6b30" };

export function drawMap({ cameras = [], responders = [], incidents = [], orders = [] }) {
  const canvas = $("sitemap");
  const g = canvas.getContext("2d");
  const { width: w, height: h } = canvas;
  g.clearRect(0, 0, w, h);
  const unitAt = (r) => r.position || r.post;
  const pts = [...cameras.map((c) => c.location), ...responders.map(unitAt), ...incidents.map((i) => (i.lat != null ? i : null))]
    .filter(Boolean);
  const list = [];
  if (!pts.length) { $("map-list").innerHTML = ""; return; }
  const at = projector(pts, w, h);
  g.font = "11px system-ui, sans-serif";
  g.strokeStyle = "#e1e6ec";
  for (let x = 0; x < w; x += 40) { g.beginPath(); g.moveTo(x, 0); g.lineTo(x, h); g.stroke(); }
  for (let y = 0; y < h; y += 40) { g.beginPath(); g.moveTo(0, y); g.lineTo(w, y); g.stroke(); }
  // Who is sent where: a line from each ordered unit to its incident, coloured by the order's state.
  const byId = new Map(responders.map((r) => [r.id, r]));
  const openInc = new Map(incidents.filter((i) => i.status === "open" && i.lat != null).map((i) => [i.id, i]));
  for (const o of orders) {
    const r = byId.get(o.responder_id), inc = openInc.get(o.incident_id);
    if (!r || !inc || !unitAt(r) || !(o.state in ORDER_COLOUR)) continue;
    const [x1, y1] = at(unitAt(r)), [x2, y2] = at(inc);
    g.strokeStyle = ORDER_COLOUR[o.state]; g.lineWidth = 2;
    g.setLineDash(["pending", "notified"].includes(o.state) ? [5, 4] : []);
    g.beginPath(); g.moveTo(x1, y1); g.lineTo(x2, y2); g.stroke();
  }
  g.setLineDash([]); g.lineWidth = 1;
  for (const r of responders) {
    const p = unitAt(r);
    if (!p) continue;
    const [x, y] = at(p);
    g.fillStyle = TIER_COLOUR[r.tier] || "#444";
    g.beginPath(); g.arc(x, y, 6, 0, 2 * Math.PI); g.fill();
    g.fillStyle = "#1b1f24"; g.fillText(r.id, x + 8, y + 4);
    list.push(`${t("unitFor")} ${r.id} (${t("tier")} ${r.tier})`);
  }
  for (const c of cameras) {
    if (!c.location) continue;
    const [x, y] = at(c.location);
    const health = cameraHealth(c);
    g.fillStyle = healthColour(health); g.fillRect(x - 6, y - 6, 12, 12);
    g.fillStyle = "#14202e"; g.fillText(c.id, x + 8, y - 6);
    list.push(`${t("camera")} ${c.id}: ${t("cam_" + health)}`);
  }
  for (const i of incidents) {
    if (i.lat == null || i.status !== "open") continue;
    const [x, y] = at(i);
    g.fillStyle = "#b3261e"; g.strokeStyle = "#fff"; g.lineWidth = 2;
    g.beginPath(); g.moveTo(x, y - 11); g.lineTo(x + 10, y + 7); g.lineTo(x - 10, y + 7); g.closePath(); g.fill(); g.stroke();
    g.lineWidth = 1; g.fillStyle = "#b3261e"; g.font = "bold 12px system-ui, sans-serif";
    g.fillText(`#${i.id}`, x - 30, y + 6);
    g.font = "11px system-ui, sans-serif";
    list.push(`${t("incident")} #${i.id}`);
  }
  legend(g, h);
  $("map-list").innerHTML = list.map((s) => `<li>${esc(s)}</li>`).join("");
}

function legend(g, h) {
  const items = [["■", "#14202e", t("cameras")], ["●", TIER_COLOUR[1], `${t("tier")} 1`], ["●", TIER_COLOUR[2], `${t("tier")} 2`],
    ["●", TIER_COLOUR[3], `${t("tier")} 3`], ["▲", "#b3261e", t("incident")]];
  g.font = "12px system-ui, sans-serif";
  let x = 8;
  for (const [sym, colour, label] of items) {
    g.fillStyle = colour; g.fillText(sym, x, h - 10);
    g.fillStyle = "#1b1f24"; g.fillText(label, x + 13, h - 10);
    x += 20 + g.measureText(label).width;
  }
}
