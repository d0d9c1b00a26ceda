// Alert detail: the annotated snapshot full size, the evidence clip when the alert has one
// (GET /api/alerts/{id}/clip; the worker writes it a few seconds after the alert, so a missing
// file is "not ready yet", not an error), the evidence fields, and the units' field reports
// (notes and photos sent with "resolved") for its incident.
import { t } from "../i18n.js";
import { $, api, esc, fmtTime, sevLabel, withToken } from "../session.js";

let current = null; // {alert_id, incident_id} shown now

// Clip URI: Alert v1 `clip.uri`; older producers put it in the evidence.
export function clipOf(payload) {
  const ev = payload?.evidence || {};
  const clip = payload?.clip || ev.clip || (ev.clip_uri ? { uri: ev.clip_uri } : null);
  return clip && (clip.uri || typeof clip === "string") ? clip : null;
}

const value = (v) => (v !== null && typeof v === "object" ? JSON.stringify(v) : String(v ?? "—"));

function reportsHtml(reports) {
  if (!reports.length) return `<p class="muted">${esc(t("noReports"))}</p>`;
  return `<ul class="reports">${reports.map((r) => `<li data-order-id="${r.order_id}">
    <div><b>${esc(r.responder_id || r.by)}</b> <span class="muted">${fmtTime(r.at)} · #${r.order_id}</span></div>
    ${r.note ? `<p>${esc(r.note)}</p>` : ""}
    ${r.photo_url ? `<a href="${esc(withToken(r.photo_url))}" target="_blank" rel="noopener"><img class="photo"
      src="${esc(withToken(r.photo_url))}" alt="${esc(t("photoBy"))} ${esc(r.responder_id || r.by)}"></a>` : ""}</li>`).join("")}</ul>`;
}

async function fill() {
  const { alert_id, incident_id } = current;
  const [full, reports] = await Promise.all([
    api(`/api/alerts/${encodeURIComponent(alert_id)}`),
    incident_id ? api(`/api/console/incidents/${incident_id}/reports`).catch(() => []) : Promise.resolve([]),
  ]);
  if (current?.alert_id !== alert_id) return; // another alert was opened meanwhile
  const p = full.payload || {};
  const clip = clipOf(p);
  const evidence = Object.entries(p.evidence || {}).filter(([k]) => k !== "clip");
  $("detail-title").innerHTML = `<span class="sev ${esc(full.severity)}">${esc(sevLabel(full.severity))}</span>
    ${esc(full.rule_id)} · ${esc(full.source_id)}${full.zone ? " · " + esc(full.zone) : ""}`;
  $("detail-body").innerHTML = `
    <div class="media">
      ${full.snapshot_url ? `<img src="${esc(withToken(full.snapshot_url))}" alt="${esc(t("snapshot"))} ${esc(full.source_id)}">` : ""}
      ${clip ? `<figure><video id="clip" controls preload="metadata" playsinline
          src="${esc(withToken(`/api/alerts/${encodeURIComponent(alert_id)}/clip`))}"
          aria-label="${esc(t("clip"))}"></video>
        <figcaption class="muted">${esc(t("clip"))}${clip.pre_s != null ? ` · −${clip.pre_s} s … +${clip.post_s} s` : ""}
          <span id="clip-state" role="status"></span></figcaption></figure>` : ""}
    </div>
    <dl><dt>${esc(t("observed"))}</dt><dd>${fmtTime(full.observed_at)}</dd>
      <dt>${esc(t("incident"))}</dt><dd>#${esc(full.incident_id ?? "—")}</dd>
      ${evidence.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(value(v))}</dd>`).join("")}</dl>
    <h3>${esc(t("fieldReports"))}</h3><div id="detail-reports">${reportsHtml(reports)}</div>`;
  const video = $("clip");
  if (video) video.onerror = () => { $("clip-state").textContent = " · " + t("clipNotReady"); };
}

export function openDetail(alert) {
  current = { alert_id: alert.alert_id, incident_id: alert.incident_id };
  $("detail-title").textContent = alert.rule_id;
  $("detail-body").innerHTML = `<p class="muted">${esc(t("connecting"))}</p>`;
  const dlg = $("detail");
  if (!dlg.open) dlg.showModal();
  fill().catch((e) => { $("detail-body").innerHTML = `<p class="err">${esc(t("error"))}: ${esc(e.message)}</p>`; });
}

// A unit just sent a report for the incident on screen: show it without reopening.
export async function reportArrived(incidentId) {
  if (!current || current.incident_id !== incidentId || !$("detail").open) return;
  const reports = await api(`/api/console/incidents/${incidentId}/reports`).catch(() => null);
  if (reports && $("detail-reports")) $("detail-reports").innerHTML = reportsHtml(reports);
}

export function wireDetail() {
  $("detail-close").onclick = () => $("detail").close();
  $("detail").addEventListener("close", () => { current = null; $("detail-body").innerHTML = ""; });
}
