// Patrol unit page: the unit's own stream (/api/units/<me>/stream) replays every open order on
// each connect, so after a reconnect the list is rebuilt from the server, never from memory.
import { onLanguage, t } from "./i18n.js";
import { $, api, esc, fmtTime, sevLabel, startSession, stateLabel, stream, withToken } from "./session.js";

const OPEN = new Set(["pending", "notified", "acknowledged", "en_route", "on_scene", "escalated"]);
// Which buttons make sense from each state (the server's state machine has the final word).
const NEXT = {
  pending: ["acknowledge", "on_scene", "decline"], notified: ["acknowledge", "on_scene", "decline"],
  acknowledged: ["en_route", "on_scene"], en_route: ["on_scene"], escalated: ["en_route", "on_scene"],
  on_scene: ["resolve"],
};
const orders = new Map();
let src = null;

function card(o) {
  const acts = (NEXT[o.state] || []).map((a) => `<button type="button" data-act="${a}"
      class="${a === "decline" ? "danger" : "primary"}">${esc(t("a_" + a))}</button>`).join("");
  const note = o.state === "on_scene"
    ? `<label for="note-${o.id}">${esc(t("note"))}</label><textarea id="note-${o.id}"></textarea>` : "";
  const place = [o.zone, o.source_id].filter(Boolean).join(" · ");
  // A geo: link opens the phone's own (offline-capable) map app at the scene.
  const coords = o.lat != null
    ? `<a href="geo:${o.lat},${o.lon}?q=${o.lat},${o.lon}(${encodeURIComponent(place || "scene")})">${o.lat.toFixed(5)}, ${o.lon.toFixed(5)}</a>`
    : "—";
  return `<article class="order ${esc(o.severity)}" data-order-id="${o.id}" data-state="${esc(o.state)}">
    <h3><span class="sev ${esc(o.severity)}">${esc(sevLabel(o.severity))}</span> #${o.id} · ${esc(t("tier"))} ${o.tier}
      <span class="chip ${esc(o.state)}">${esc(stateLabel(o.state))}</span></h3>
    <img src="${esc(withToken(`/api/console/orders/${o.id}/snapshot`))}" alt="${esc(place)}" onerror="this.hidden=true">
    <dl><dt>${esc(t("place"))}</dt><dd>${esc(place || "—")}</dd>
      <dt>${esc(t("openMap"))}</dt><dd>${coords}</dd>
      <dt>${esc(t("eta"))}</dt><dd>${o.eta_s != null ? Math.round(o.eta_s) + " s" : "—"}${o.distance_m != null ? ` · ${Math.round(o.distance_m)} m` : ""}</dd>
      <dt>${esc(t("incident"))}</dt><dd>#${o.incident_id} · ${fmtTime(o.created_at)}</dd></dl>
    ${note}<div class="buttons">${acts}</div><p class="err" role="alert"></p></article>`;
}

function render() {
  const list = [...orders.values()].sort((a, b) => a.id - b.id);
  // Keep a half-typed note across re-renders caused by pushes.
  const notes = Object.fromEntries([...document.querySelectorAll("textarea[id^=note-]")].map((x) => [x.id, x.value]));
  $("orders").innerHTML = list.map(card).join("");
  for (const [id, v] of Object.entries(notes)) if ($(id)) $(id).value = v;
  $("no-orders").hidden = list.length > 0;
  document.querySelectorAll(".order button[data-act]").forEach((b) => { b.onclick = () => act(b); });
}

async function act(button) {
  const el = button.closest(".order");
  const id = Number(el.dataset.orderId);
  el.querySelectorAll("button").forEach((b) => { b.disabled = true; });
  try {
    // The note travels with "resolve"; servers that keep notes record it in the order's audit.
    const note = $(`note-${id}`)?.value.trim();
    const o = await api(`/api/orders/${id}/${button.dataset.act}`, { method: "POST", body: note ? { note } : {} });
    setOrder(o);
  } catch (e) {
    el.querySelector(".err").textContent = `${t("error")}: ${e.message}`;
    el.querySelectorAll("button").forEach((b) => { b.disabled = false; });
  }
}

function setOrder(o) {
  if (OPEN.has(o.state)) orders.set(o.id, o); else orders.delete(o.id);
  render();
}

function start(who) {
  src?.close();
  orders.clear();
  render();
  const unitId = who.role === "unit" ? who.subject : new URLSearchParams(location.search).get("unit");
  if (!unitId) { $("forbidden").hidden = false; return; }
  if (who.role === "unit") sharePosition(unitId);
  // On every (re)connect the server sends all open orders first: start from an empty list.
  src = stream(`/api/units/${encodeURIComponent(unitId)}/stream`, {
    order: (m) => { if (m.order.responder_id === unitId) setOrder(m.order); },
  }, () => { orders.clear(); render(); });
}

// Share the crew's position while the page is open (the dispatcher's ETAs use it); throttled,
// and silently skipped where the browser has no location or the crew declined.
let watch = null, lastSent = 0;
function sharePosition(unitId) {
  if (!navigator.geolocation || watch !== null) return;
  watch = navigator.geolocation.watchPosition((p) => {
    if (Date.now() - lastSent < 15000) return;
    lastSent = Date.now();
    api(`/api/responders/${encodeURIComponent(unitId)}/position`, {
      method: "POST", body: { lat: p.coords.latitude, lon: p.coords.longitude } }).catch(() => {});
  }, () => {}, { enableHighAccuracy: true, maximumAge: 10000 });
}

onLanguage(render);
startSession(start);
