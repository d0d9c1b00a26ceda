// The 1-3-5 board: one card per open incident, one row per tier with its units' states and
// the countdown to the tier's on-scene deadline (the 1, 3 and 5 minutes of the response model).
import { t } from "../i18n.js";
import { $, esc, fmtTime, sevLabel, stateLabel } from "../session.js";

const LIVE = new Set(["pending", "notified", "acknowledged", "en_route", "on_scene", "escalated"]);

function tierRow(inc, tier, orders) {
  const now = Date.now() / 1000;
  const chips = orders.map((o) => `<span class="chip ${esc(o.state)}" data-order-id="${o.id}" data-responder="${esc(o.responder_id)}"
      data-state="${esc(o.state)}">${esc(o.responder_id)}: ${esc(stateLabel(o.state))}</span>`).join("");
  const arrived = orders.filter((o) => o.on_scene_at).map((o) => o.on_scene_at - inc.opened_at);
  let count;
  if (arrived.length) {
    count = `✓ ${Math.round(Math.min(...arrived))} s`;
  } else {
    const live = orders.filter((o) => LIVE.has(o.state));
    if (!live.length) count = "—";
    else {
      const left = Math.round(Math.min(...live.map((o) => o.arrival_deadline_at)) - now);
      count = left >= 0 ? `${left} s ${t("left")}` : `<span class="late">${-left} s ${t("late")}</span>`;
    }
  }
  return `<tr data-tier="${tier}"><th scope="row">${esc(t("tier"))} ${tier}<br><span class="muted">${esc(t("tier" + tier))}</span></th>
    <td>${chips || `<span class="muted">${esc(t("noOrder"))}</span>`}</td><td class="count">${count}</td></tr>`;
}

// `acks`: incident id → {by, at}, the operator acknowledge kept on the server.
export function renderBoard(incidents, orders, acks = new Map()) {
  const open = [...incidents.values()].filter((i) => i.status === "open").sort((a, b) => b.id - a.id);
  const byIncident = new Map();
  for (const o of orders.values()) {
    if (!byIncident.has(o.incident_id)) byIncident.set(o.incident_id, []);
    byIncident.get(o.incident_id).push(o);
  }
  $("incidents").innerHTML = open.map((inc) => {
    const mine = (byIncident.get(inc.id) || []).sort((a, b) => a.id - b.id);
    const tiers = [...new Set(mine.map((o) => o.tier))].sort();
    const rows = (tiers.length ? tiers : [1]).map((tr) => tierRow(inc, tr, mine.filter((o) => o.tier === tr))).join("");
    const ack = acks.get(inc.id);
    const ackBadge = ack
      ? `<span class="chip acked" title="${esc(fmtTime(ack.at))}">✓ ${esc(t("ackedBy"))} ${esc(ack.by.split(":").pop())}</span>`
      : `<span class="chip unacked">${esc(t("notAcked"))}</span>`;
    return `<article class="incident" data-incident-id="${inc.id}" data-acked="${ack ? "true" : "false"}" aria-label="${esc(t("incident"))} ${inc.id}">
      <h3><span class="sev ${esc(inc.severity)}">${esc(sevLabel(inc.severity))}</span> ${esc(t("incident"))} #${inc.id}
        <span class="muted">${esc(inc.source_id)}${inc.zone ? " · " + esc(inc.zone) : ""} · ${fmtTime(inc.opened_at)} · ×${inc.alert_count}</span>${ackBadge}</h3>
      <table>${rows}</table></article>`;
  }).join("");
  $("no-incidents").hidden = open.length > 0;
}
