// Reports: the 1-3-5 attainment per tier (share of incidents with a unit on scene within 1, 3
// and 5 minutes) and median / p90 response times, drawn as plain HTML bars (no chart library).
import { onLanguage, t } from "./i18n.js";
import { $, api, esc, startSession } from "./session.js";

let data = null;
const secs = (v) => (v == null ? "—" : `${Math.round(v)} s`);
const pct = (v) => (v == null ? "—" : `${Math.round(v * 100)}%`);

function render() {
  if (!data) return;
  $("tiers").innerHTML = Object.entries(data.tiers).map(([tier, d]) => `<article class="tier-card" data-tier="${tier}">
    <h3>${esc(t("tier"))} ${tier} <span class="muted">${esc(t("tier" + tier))}</span></h3>
    ${Object.entries(d.within).map(([limit, share]) => `<div class="bar"><span>≤ ${limit / 60} min</span>
      <span class="track" role="meter" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${share == null ? 0 : Math.round(share * 100)}"
        aria-label="${esc(t("within"))} ${limit / 60} min"><span class="fill" style="width:${(share || 0) * 100}%"></span></span>
      <span>${pct(share)}</span></div>`).join("")}
    <dl><dt>${esc(t("count"))}</dt><dd>${d.count}</dd>
      <dt>${esc(t("toAck"))}</dt><dd>${esc(t("median"))} ${secs(d.ack_median_s)} · ${esc(t("p90"))} ${secs(d.ack_p90_s)}</dd>
      <dt>${esc(t("toScene"))}</dt><dd>${esc(t("median"))} ${secs(d.on_scene_median_s)} · ${esc(t("p90"))} ${secs(d.on_scene_p90_s)}</dd></dl>
  </article>`).join("");
}

async function load() {
  const period = $("period").value;
  const q = period ? `?since=${Date.now() / 1000 - Number(period)}` : "";
  data = await api(`/api/reports/response-times${q}`);
  render();
}

async function start() {
  $("period").onchange = load;
  await load();
}

onLanguage(render);
startSession(start);
