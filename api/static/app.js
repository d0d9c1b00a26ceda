// Command room: live alerts over EventSource (server-sent events from /api/stream), the 1-3-5
// board and the site map. REST loads the current state on every (re)connect; SSE keeps it live.
import { onLanguage, t } from "./js/i18n.js";
import { $, api, esc, startSession, stream } from "./js/session.js";
import { beep, setSound, soundEnabled } from "./js/beep.js";
import { addAlert, clearFeed, markSeen, rerenderFeed } from "./js/command/feed.js";
import { renderBoard } from "./js/command/board.js";
import { cameraHealth, drawMap } from "./js/command/sitemap.js";

const incidents = new Map();
const orders = new Map();
const site = { cameras: [], responders: [] };
let src = null;
let endpoints = new Set();

// Incident actions belong to the dispatch API; the console offers the ones this server has (read
// from its OpenAPI document). "Acknowledge" is also the operator's own "seen" mark (stops nagging).
const ACTIONS = {
  ack: { path: "/api/incidents/{incident_id}/acknowledge", body: () => ({}) },
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
  async run(name, alert, li) {
    try {
      if (has(name)) {
        await api(ACTIONS[name].path.replace("{incident_id}", alert.incident_id), { method: "POST", body: ACTIONS[name].body(alert) });
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
  renderBoard(incidents, orders);
  drawMap({ ...site, incidents: [...incidents.values()], orders: [...orders.values()] });
  $("cam-health").innerHTML = site.cameras.map((c) => {
    const h = cameraHealth(c);
    return `<li data-camera="${esc(c.id)}" data-health="${h}"><span>${esc(c.name)}</span><span class="${h}">${esc(t("cam_" + h))}</span></li>`;
  }).join("");
};

// Camera health is polled: frames are files the worker rewrites, not events on a stream.
setInterval(async () => {
  if (!src) return;
  try { site.cameras = await api("/api/cameras"); redraw(); } catch { /* the stream's status shows outages */ }
}, 10000);

async function load() {
  const [alerts, open, recent, cams, units, spec] = await Promise.all([
    api("/api/alerts?limit=30"), api("/api/incidents?status=open"), api("/api/orders?limit=500"),
    api("/api/cameras"), api("/api/console/responders"), fetch("/openapi.json").then((r) => r.json()).catch(() => ({})),
  ]);
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
    incident: (m) => { incidents.set(m.incident.id, m.incident); redraw(); },
    order: (m) => { orders.set(m.order.id, m.order); redraw(); },
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
setInterval(() => renderBoard(incidents, orders), 1000); // countdowns tick
startSession(start);
