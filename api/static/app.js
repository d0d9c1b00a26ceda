// Command room: live alerts over EventSource (server-sent events from /api/stream), the 1-3-5
// board and the site map. REST loads the current state on every (re)connect; SSE keeps it live.
import { onLanguage, t } from "./js/i18n.js";
import { $, api, esc, startSession, stream } from "./js/session.js";
import { beep, setSound, soundEnabled } from "./js/beep.js";
import { addAlert, clearFeed, markSeen, rerenderFeed, updateAlert } from "./js/command/feed.js";
import { renderBoard } from "./js/command/board.js";
import { drawMap } from "./js/command/sitemap.js";
import { applyRecord, renderHealth } from "./js/command/health.js";
import { openDetail, reportArrived, wireDetail } from "./js/command/detail.js";

const incidents = new Map();
const orders = new Map();
const acks = new Map(); // incident id → {by, at}: acknowledged on the server
const site = { cameras: [], responders: [] };
let src = null;
let endpoints = new Set();

// Incident actions; the console offers the ones this server has (read from its OpenAPI document).
// "Acknowledge" is kept on the server (every screen, and after a reload, shows who saw it) and is
// also this operator's own "seen" mark (stops the nagging); "False alarm" is the stand-down.
const ACTIONS = {
  ack: { path: "/api/console/incidents/{incident_id}/acknowledge", body: () => ({}) },
  // Dispatch one more unit: the fastest free one of the next tier up from what is already ordered.
  dispatch: { path: "/api/incidents/{incident_id}/units", body: (a) => ({ tier: nextTier(a.incident_id), count: 1 }) },
  dismiss: { path: "/api/incidents/{incident_id}/stand-down", body: () => ({ reason: "false alarm" }) },
};
const has = (name) => endpoints.has(ACTIONS[name].path);

function nextTier(incidentId) {
  const tiers = [...orders.values()].filter((o) => o.incident_id === incidentId).map((o) => o.tier);
  return Math.min(3, Math.max(0, ...tiers) + 1);
}

const actions = {
  available: (name) => name === "ack" || has(name),
  acked: (incidentId) => acks.has(incidentId),
  async run(name, alert, li) {
    if (name === "detail") { openDetail(alert); return; }
    try {
      if (has(name) && alert.incident_id != null) {
        const out = await api(ACTIONS[name].path.replace("{incident_id}", alert.incident_id), { method: "POST", body: ACTIONS[name].body(alert) });
        if (name === "ack") acks.set(alert.incident_id, out);
      }
      if (name === "ack" || name === "dismiss") markSeen(alert.alert_id);
      li.classList.add("seen");
      rerenderFeed(actions);
      if (name !== "ack") await load();
    } catch (e) { showAlarm(`${t(name)}: ${e.message}`); }
  },
};

function showAlarm(text) {
  const el = $("alarm");
  el.innerHTML = `<span>${esc(text)}</span> <button type="button" aria-label="${esc(t("close"))}">×</button>`;
  el.querySelector("button").onclick = () => { el.hidden = true; };
  el.hidden = false;
}

const redraw = () => {
  renderBoard(incidents, orders, acks);
  drawMap({ ...site, incidents: [...incidents.values()], orders: [...orders.values()] });
  renderHealth(site.cameras);
};

// Health records arrive on the stream; the poll catches cameras that fell silent (no record
// is an event too) and those without records, judged by their frame files.
setInterval(async () => {
  if (!src) return;
  try { site.cameras = await api("/api/console/camera-health"); redraw(); } catch { /* the stream's status shows outages */ }
}, 10000);

async function load() {
  const [alerts, open, recent, cams, units, acked, spec] = await Promise.all([
    api("/api/alerts?limit=30"), api("/api/incidents?status=open"), api("/api/orders?limit=500"),
    api("/api/console/camera-health"), api("/api/console/responders"), api("/api/console/incident-acks"),
    fetch("/openapi.json").then((r) => r.json()).catch(() => ({})),
  ]);
  acks.clear();
  acked.forEach((a) => acks.set(a.incident_id, a));
  endpoints = new Set(Object.keys(spec.paths || {}));
  incidents.clear();
  open.forEach((i) => incidents.set(i.id, i));
  orders.clear();
  recent.filter((o) => incidents.has(o.incident_id)).forEach((o) => orders.set(o.id, o));
  Object.assign(site, { cameras: cams, responders: units });
  alerts.forEach((a) => addAlert(a, actions, false));
  redraw();
}

function start() {
  src?.close();
  clearFeed();
  $("sound").onclick = () => { setSound(!soundEnabled()); soundLabel(); };
  soundLabel();
  src = stream("/api/stream", {
    alert: (m) => {
      if (addAlert(m.alert, actions) && ["high", "critical"].includes(m.alert.severity)) beep();
    },
    alert_update: (m) => { updateAlert(m.alert, actions); },
    incident: (m) => { incidents.set(m.incident.id, m.incident); redraw(); },
    order: (m) => { orders.set(m.order.id, m.order); redraw(); },
    health: (m) => { if (applyRecord(site.cameras, m.health)) redraw(); },
    incident_ack: (m) => { acks.set(m.incident_id, m.ack); rerenderFeed(actions); redraw(); },
    field_report: (m) => { reportArrived(m.incident_id); },
    position: (m) => {
      const r = site.responders.find((x) => x.id === m.responder.id);
      if (r) { r.position = { lat: m.responder.lat, lon: m.responder.lon, at: m.responder.position_at }; redraw(); }
    },
    alarm: (m) => {
      const d = m.event.detail || {};
      showAlarm(`${t("alarm")} · ${t("incident")} #${m.incident_id}: ${d.reason || ""}${d.responder_id ? " (" + d.responder_id + ")" : ""}`);
    },
  }, load);
}

function soundLabel() {
  $("sound").textContent = t(soundEnabled() ? "soundOn" : "soundOff");
  $("sound").setAttribute("aria-pressed", String(soundEnabled()));
}

onLanguage(() => { soundLabel(); rerenderFeed(actions); redraw(); });
setInterval(() => renderBoard(incidents, orders, acks), 1000); // countdowns tick
wireDetail();
startSession(start);
