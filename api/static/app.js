// Lookout console: token in localStorage, alerts and orders live over server-sent events.
"use strict";
const OPEN = new Set(["pending", "notified", "acknowledged", "en_route", "on_scene", "escalated"]);
const orders = new Map();
let source = null;

const $ = (id) => document.getElementById(id);
const token = () => localStorage.getItem("lookout.token") || "";
const esc = (s) => String(s ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

async function api(path) {
  const r = await fetch(path, { headers: { Authorization: "Bearer " + token() } });
  if (!r.ok) throw new Error(path + ": " + r.status);
  return r.json();
}

function addAlert(a, top = true) {
  const div = document.createElement("div");
  div.className = "alert";
  // <img> cannot send a header, so the snapshot URL carries the token like the stream does.
  const img = a.snapshot_url ? `<img src="${esc(a.snapshot_url)}?access_token=${encodeURIComponent(token())}" alt="">` : "";
  div.innerHTML = `${img}<div><div class="sev-${esc(a.severity)}">${esc(a.severity)} · ${esc(a.rule_id)}</div>
    <div>${esc(a.source_id)} ${esc(a.zone || "")}</div>
    <div>${new Date(a.observed_at * 1000).toLocaleTimeString()} · incident ${esc(a.incident_id)}</div></div>`;
  const list = $("alerts");
  top ? list.prepend(div) : list.append(div);
  while (list.children.length > 50) list.lastChild.remove();
}

function setOrder(o) {
  if (OPEN.has(o.state)) orders.set(o.id, o); else orders.delete(o.id);
  renderOrders();
}

function renderOrders() {
  const now = Date.now() / 1000;
  const rows = [...orders.values()].sort((a, b) => a.id - b.id).map((o) => {
    const due = ["pending", "notified"].includes(o.state) ? o.ack_deadline_at : o.arrival_deadline_at;
    const left = Math.round(due - now);
    const cls = left < 0 ? "late" : "";
    return `<tr><td>${o.id}</td><td>${esc(o.responder_id)}</td><td>${o.tier}</td><td>${esc(o.state)}</td>
      <td class="${cls}">${o.state === "on_scene" ? "—" : left + " s"}</td></tr>`;
  });
  $("orders").innerHTML = rows.join("");
}

async function connect() {
  if (source) source.close();
  $("status").textContent = "connecting…";
  try {
    (await api("/api/alerts?limit=20")).forEach((a) => addAlert(a, false));
    orders.clear();
    (await api("/api/orders?open=true")).forEach(setOrder);
  } catch (e) {
    $("status").textContent = "error: " + e.message;
    return;
  }
  source = new EventSource("/api/stream?access_token=" + encodeURIComponent(token()));
  source.addEventListener("hello", () => ($("status").textContent = "live"));
  source.addEventListener("alert", (e) => addAlert(JSON.parse(e.data).alert));
  source.addEventListener("order", (e) => setOrder(JSON.parse(e.data).order));
  source.addEventListener("alarm", (e) => {
    const d = JSON.parse(e.data).event.detail;
    $("status").textContent = "ALARM: " + (d.reason || "") + (d.responder_id ? " (" + d.responder_id + ")" : "");
  });
  source.onerror = () => ($("status").textContent = "reconnecting…");
}

// `lookout run` prints the console URL as /#token=...: take it, then drop it from the address bar.
const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
if (fromHash) { localStorage.setItem("lookout.token", fromHash); history.replaceState(null, "", location.pathname); }
$("token").value = token();
$("save").onclick = () => { localStorage.setItem("lookout.token", $("token").value); $("alerts").innerHTML = ""; connect(); };
setInterval(renderOrders, 1000);
if (token()) connect();
