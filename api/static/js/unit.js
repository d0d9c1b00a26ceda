// Patrol unit page: the unit's own stream (/api/units/<me>/stream) replays every open order on
// each connect, so after a reconnect the list is rebuilt from the server, never from memory.
import { onLanguage, t } from "./i18n.js";
import { $, api, ApiError, esc, fmtTime, sevLabel, startSession, stateLabel, stream, token, withToken } from "./session.js";
import { bearingText, drawUnitMap } from "./unitmap.js";

const OPEN = new Set(["pending", "notified", "acknowledged", "en_route", "on_scene", "escalated"]);
// Which buttons make sense from each state (the server's state machine has the final word).
const NEXT = {
  pending: ["acknowledge", "on_scene", "decline"], notified: ["acknowledge", "on_scene", "decline"],
  acknowledged: ["en_route", "on_scene"], en_route: ["on_scene"], escalated: ["en_route", "on_scene"],
  on_scene: ["resolve"],
};
const orders = new Map();
let src = null;
let me = null; // {lat, lon, source: gps | live | post}: where the crew is, for the map
// Drafts survive re-renders, reconnects and reloads (notes in localStorage); photos stay in memory.
const DRAFTS = "lookout.unit.notes";
const notes = new Map(Object.entries(JSON.parse(localStorage.getItem(DRAFTS) || "{}")));
const photos = new Map(); // order id → {file, url}
const saveNotes = () => localStorage.setItem(DRAFTS, JSON.stringify(Object.fromEntries(notes)));

function card(o) {
  const acts = (NEXT[o.state] || []).map((a) => `<button type="button" data-act="${a}"
      class="${a === "decline" ? "danger" : "primary"}">${esc(t("a_" + a))}</button>`).join("");
  const ph = photos.get(String(o.id));
  const note = o.state === "on_scene"
    ? `<label for="note-${o.id}">${esc(t("note"))}</label><textarea id="note-${o.id}"></textarea>
      <input id="photo-${o.id}" class="photo-input" type="file" accept="image/jpeg,image/png,image/webp" capture="environment">
      <label for="photo-${o.id}" class="photo-label">${esc(t("photo"))}</label>
      ${ph ? `<p class="photo-chosen"><img src="${ph.url}" alt="${esc(t("photoChosen"))}"> <span>${esc(ph.file.name)}</span>
        <button type="button" data-clear="${o.id}">${esc(t("removePhoto"))}</button></p>` : ""}` : "";
  const place = [o.zone, o.source_id].filter(Boolean).join(" · ");
  // A geo: link opens the phone's own (offline-capable) map app at the scene.
  const coords = o.lat != null
    ? `<a href="geo:${o.lat},${o.lon}?q=${o.lat},${o.lon}(${encodeURIComponent(place || "scene")})">${o.lat.toFixed(5)}, ${o.lon.toFixed(5)}</a>`
    : "—";
  return `<article class="order ${esc(o.severity)}" data-order-id="${o.id}" data-state="${esc(o.state)}">
    <h3><span class="sev ${esc(o.severity)}">${esc(sevLabel(o.severity))}</span> #${o.id} · ${esc(t("tier"))} ${o.tier}
      <span class="chip ${esc(o.state)}">${esc(stateLabel(o.state))}</span></h3>
    <img src="${esc(withToken(`/api/console/orders/${o.id}/snapshot`))}" alt="${esc(place)}" onerror="this.hidden=true">
    ${o.lat != null ? `<canvas class="unitmap" id="map-${o.id}" width="340" height="170" role="img"></canvas>
      <p class="bearing" id="bearing-${o.id}"></p>` : ""}
    <dl><dt>${esc(t("place"))}</dt><dd>${esc(place || "—")}</dd>
      <dt>${esc(t("openMap"))}</dt><dd>${coords}</dd>
      <dt>${esc(t("eta"))}</dt><dd>${o.eta_s != null ? Math.round(o.eta_s) + " s" : "—"}${o.distance_m != null ? ` · ${Math.round(o.distance_m)} m` : ""}</dd>
      <dt>${esc(t("incident"))}</dt><dd>#${o.incident_id} · ${fmtTime(o.created_at)}</dd></dl>
    ${note}<div class="buttons">${acts}</div><p class="err" role="alert"></p></article>`;
}

function render() {
  const list = [...orders.values()].sort((a, b) => a.id - b.id);
  $("orders").innerHTML = list.map(card).join("");
  $("no-orders").hidden = list.length > 0;
  for (const o of list) {
    const area = $(`note-${o.id}`);
    if (area) {
      area.value = notes.get(String(o.id)) || "";
      area.oninput = () => { notes.set(String(o.id), area.value); saveNotes(); };
    }
    const input = $(`photo-${o.id}`);
    if (input) input.onchange = () => choosePhoto(o.id, input.files[0]);
  }
  document.querySelectorAll(".order button[data-act]").forEach((b) => { b.onclick = () => act(b); });
  document.querySelectorAll(".order button[data-clear]").forEach((b) => { b.onclick = () => choosePhoto(b.dataset.clear, null); });
  refreshMaps();
}

// Maps and "scene is 420 m NE" redrawn in place (a position fix must not re-render the cards
// and steal the focus from a note being typed).
function refreshMaps() {
  for (const o of orders.values()) {
    const canvas = $(`map-${o.id}`);
    if (!canvas) continue;
    drawUnitMap(canvas, { lat: o.lat, lon: o.lon }, me);
    const where = me ? bearingText(me, o) : t("whereUnknown");
    canvas.setAttribute("aria-label", `${t("mapLabel")}: ${t("sceneIs")} ${where}`);
    $(`bearing-${o.id}`).innerHTML = `${esc(t("sceneIs"))}: <b>${esc(where)}</b>${me
      ? ` <span class="muted">(${esc(t("from_" + me.source))})</span>` : ""}`;
  }
}

function choosePhoto(id, file) {
  const old = photos.get(String(id));
  if (old) URL.revokeObjectURL(old.url);
  if (file) photos.set(String(id), { file, url: URL.createObjectURL(file) }); else photos.delete(String(id));
  render();
}

// multipart/form-data: the note and the photo travel together, before "resolved" (a failed upload
// keeps the order open, with the note and the photo still on the page, to try again).
async function sendReport(id, note, photo) {
  const form = new FormData();
  form.append("note", note);
  if (photo) form.append("photo", photo, photo.name || "photo.jpg");
  const r = await fetch(`/api/console/orders/${id}/report`, {
    method: "POST", headers: { Authorization: "Bearer " + token() }, body: form });
  const data = r.headers.get("content-type")?.includes("json") ? await r.json() : null;
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

async function act(button) {
  const el = button.closest(".order");
  const id = Number(el.dataset.orderId);
  el.querySelectorAll("button").forEach((b) => { b.disabled = true; });
  try {
    const note = $(`note-${id}`)?.value.trim() || "";
    const photo = photos.get(String(id))?.file;
    if (button.dataset.act === "resolve" && (note || photo)) await sendReport(id, note, photo);
    const o = await api(`/api/orders/${id}/${button.dataset.act}`, { method: "POST", body: note ? { note } : {} });
    if (button.dataset.act === "resolve") {
      notes.delete(String(id)); saveNotes();
      choosePhoto(id, null);
    }
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
  loadPosition(unitId);
  // On every (re)connect the server sends all open orders first: start from an empty list.
  src = stream(`/api/units/${encodeURIComponent(unitId)}/stream`, {
    order: (m) => { if (m.order.responder_id === unitId) setOrder(m.order); },
  }, () => { orders.clear(); render(); loadPosition(unitId); });
}

// The server's view of where the unit is (its last posted position, else its duty post); the
// phone's own fix, when the browser gives one, wins.
async function loadPosition(unitId) {
  if (me?.source === "gps") return;
  try {
    const p = await api(`/api/console/units/${encodeURIComponent(unitId)}/position`);
    const at = p.position || p.post;
    me = at ? { lat: at.lat, lon: at.lon, source: p.position ? "live" : "post" } : null;
    refreshMaps();
  } catch { /* the map shows the scene alone */ }
}

// Share the crew's position while the page is open (the dispatcher's ETAs use it); throttled,
// and silently skipped where the browser has no location or the crew declined.
let watch = null, lastSent = 0;
function sharePosition(unitId) {
  if (!navigator.geolocation || watch !== null) return;
  watch = navigator.geolocation.watchPosition((p) => {
    me = { lat: p.coords.latitude, lon: p.coords.longitude, source: "gps" };
    refreshMaps();
    if (Date.now() - lastSent < 15000) return;
    lastSent = Date.now();
    api(`/api/responders/${encodeURIComponent(unitId)}/position`, {
      method: "POST", body: { lat: p.coords.latitude, lon: p.coords.longitude } }).catch(() => {});
  }, () => {}, { enableHighAccuracy: true, maximumAge: 10000 });
}

onLanguage(render);
startSession(start);
