// The live alert feed: newest first, severity colour, snapshot thumbnail, per-alert actions.
import { t } from "../i18n.js";
import { $, esc, fmtTime, sevLabel, withToken } from "../session.js";

const MAX = 60;
const seen = new Set(JSON.parse(localStorage.getItem("lookout.seen") || "[]"));
const shown = new Map(); // alert_id → alert, so a resync after reconnect does not duplicate

// Lifecycle of a long condition (Alert v1 start / update / end): one line, updated in place.
function lifecycle(a) {
  if (a.lifecycle === "end") return ` · <span class="chip" data-lifecycle="end">${esc(t("alertEnded"))}</span>`;
  if (a.lifecycle === "update") {
    return ` · <span class="chip" data-lifecycle="update">${esc(t("alertOngoing").replace("{n}", a.sequence))}</span>`;
  }
  return "";
}

function item(a, actions) {
  const li = document.createElement("li");
  // Acknowledged: this operator's own mark, or the incident acknowledged on the server by anyone.
  const acked = seen.has(a.alert_id) || actions.acked(a.incident_id);
  li.className = `${a.severity}${acked ? " seen" : ""}`;
  li.dataset.alertId = a.alert_id;
  li.dataset.incidentId = a.incident_id ?? "";
  const img = a.snapshot_url
    ? `<img src="${esc(withToken(a.snapshot_url))}" alt="${esc(a.source_id)} ${esc(a.rule_id)}" loading="lazy">`
    : `<div class="noimg" aria-hidden="true"></div>`;
  const btn = (name, label, cls = "") => {
    const ok = actions.available(name);
    return `<button type="button" data-act="${name}" class="${cls}" ${ok ? "" : `disabled title="${esc(t("notAvailable"))}"`}>${esc(t(label))}</button>`;
  };
  li.innerHTML = `${img}<div>
    <div><span class="sev ${esc(a.severity)}">${esc(sevLabel(a.severity))}</span> <b>${esc(a.rule_id)}</b></div>
    <div>${esc(a.source_id)}${a.zone ? " · " + esc(a.zone) : ""}</div>
    <div class="muted">${fmtTime(a.observed_at)} · ${esc(t("incident"))} #${esc(a.incident_id)}${lifecycle(a)}</div>
    <div class="acts">${acked ? `<span class="chip">${esc(t("acked"))}</span>` : btn("ack", "ack")}
      ${btn("dispatch", "dispatch")}${btn("dismiss", "dismiss", "danger")}
      <button type="button" data-act="detail" aria-haspopup="dialog">${esc(t("details"))}</button></div></div>`;
  li.querySelectorAll("button[data-act]").forEach((b) => { b.onclick = () => actions.run(b.dataset.act, a, li); });
  return li;
}

export function markSeen(alertId) {
  seen.add(alertId);
  localStorage.setItem("lookout.seen", JSON.stringify([...seen].slice(-500)));
}

export function clearFeed() { shown.clear(); $("alerts").innerHTML = ""; $("no-alerts").hidden = false; }

// Returns true when the alert is new to this page (the caller beeps for new high ones).
export function addAlert(a, actions, top = true) {
  if (shown.has(a.alert_id)) return false;
  shown.set(a.alert_id, a);
  const list = $("alerts");
  const li = item(a, actions);
  top ? list.prepend(li) : list.append(li);
  while (list.children.length > MAX) {
    shown.delete(list.lastChild.dataset.alertId);
    list.lastChild.remove();
  }
  $("no-alerts").hidden = true;
  return true;
}

// An update or end of an alert already shown replaces its entry (no second entry, no beep).
export function updateAlert(a, actions) {
  if (!shown.has(a.alert_id)) return addAlert(a, actions);
  shown.set(a.alert_id, a);
  const li = [...$("alerts").children].find((x) => x.dataset.alertId === a.alert_id);
  if (li) li.replaceWith(item(a, actions));
  return false;
}

export function rerenderFeed(actions) {
  const list = $("alerts");
  for (const li of [...list.children]) li.replaceWith(item(shown.get(li.dataset.alertId), actions));
}
