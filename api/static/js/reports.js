// Reports: the 1-3-5 attainment per tier (share of incidents with a unit on scene within 1, 3
// and 5 minutes) and median / p90 response times; the same per area, period or unit; alerts per
// rule and per camera; and a coverage map of the tiers. Plain HTML bars and a canvas (no chart
// library, no map tiles): the page works offline.
import { onLanguage, t } from "./i18n.js";
import { $, api, esc, startSession } from "./session.js";

let data = null, attain = [], counts = null, cov = null, cams = [], units = [];
const SEVS = ["low", "medium", "high", "critical"];
const secs = (v) => (v == null ? "—" : `${Math.round(v)} s`);
const pct = (v) => (v == null ? "—" : `${Math.round(v * 100)}%`);

function renderTiers() {
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

// One row per (area | period | unit, tier): the share on scene within the tier's own target.
function renderAttainment() {
  const by = $("group").value;
  const head = `<tr><th scope="col">${esc(t({ zone: "byArea", unit: "byUnit", day: "byDay", node: "byNode" }[by] || "byWeek"))}</th>
    <th scope="col">${esc(t("tier"))}</th><th scope="col">${esc(t("count"))}</th><th scope="col">${esc(t("withinTarget"))}</th>
    <th scope="col">${esc(t("toScene"))} (${esc(t("median"))} / ${esc(t("p90"))})</th></tr>`;
  $("attain").innerHTML = attain.length ? head + attain.map((r) => {
    const share = Math.round(r.within_tier_target * 100);
    return `<tr data-key="${esc(r.key)}" data-tier="${r.tier}"><th scope="row">${esc(r.key)}</th><td>${r.tier}</td>
      <td class="num">${r.count}</td>
      <td><span class="track" role="meter" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${share}"
        aria-label="${esc(r.key)} ${esc(t("tier"))} ${r.tier}"><span class="fill${share < 80 ? " miss" : ""}" style="width:${share}%"></span></span>
        <span class="share">${share}%</span></td>
      <td class="num">${secs(r.on_scene_median_s)} / ${secs(r.on_scene_p90_s)}</td></tr>`;
  }).join("") : "";
  $("no-attain").hidden = attain.length > 0;
}

// Horizontal bars, stacked by severity, scaled to the largest row.
function renderCounts(el, rows) {
  if (!rows.length) { el.innerHTML = `<p class="muted">${esc(t("noData"))}</p>`; return; }
  const max = Math.max(...rows.map((r) => r.count));
  el.innerHTML = rows.map((r) => `<div class="crow" data-key="${esc(r.key)}" data-count="${r.count}">
    <span class="key" title="${esc(r.key)}">${esc(r.key)}</span>
    <span class="stack" role="img" aria-label="${esc(r.key)}: ${SEVS.filter((s) => r.by_severity[s]).map((s) => `${t("sev_" + s)} ${r.by_severity[s]}`).join(", ")}">
      ${SEVS.map((s) => (r.by_severity[s] ? `<span class="s-${s}" style="width:${(r.by_severity[s] / max) * 100}%"></span>` : "")).join("")}</span>
    <span class="n">${r.count}</span></div>`).join("")
    + `<div class="legend" aria-hidden="true">${SEVS.map((s) => `<span><i class="s-${s}"></i>${esc(t("sev_" + s))}</span>`).join("")}</div>`;
}

function projector(points, w, h, pad = 30) {
  const lat0 = points.reduce((s, p) => s + p.lat, 0) / points.length;
  const k = Math.cos((lat0 * Math.PI) / 180);
  const xs = points.map((p) => p.lon * k), ys = points.map((p) => p.lat);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const span = Math.max(x1 - x0, y1 - y0, 2e-3);
  const scale = Math.min(w - 2 * pad, h - 2 * pad) / span;
  return (p) => [w / 2 + (p.lon * k - (x0 + x1) / 2) * scale, h / 2 - (p.lat - (y0 + y1) / 2) * scale];
}

// Coverage map: every place that needs cover (alert locations, points of interest) green when the
// chosen tier's nearest post reaches it within the deadline, red when not, with a line to that
// post; the tier's units at their posts; cameras as squares. A list repeats it for screen readers.
function renderCoverage() {
  if (!cov) return;
  const tier = $("cov-tier").value;
  const canvas = $("coverage"), g = canvas.getContext("2d");
  const { width: w, height: h } = canvas;
  g.clearRect(0, 0, w, h);
  const posts = units.filter((u) => String(u.tier) === tier && u.post);
  const pts = [...cov.places, ...posts.map((u) => u.post), ...cams.filter((c) => c.location).map((c) => c.location)];
  const s = cov.summary[tier] || { places: 0, covered: 0 };
  $("cov-summary").textContent = `${t("tier")} ${tier}: ${s.covered} / ${s.places} ${t("placesCovered")}`;
  canvas.dataset.places = String(cov.places.length);
  canvas.dataset.covered = String(s.covered);
  if (!pts.length) { $("cov-list").innerHTML = `<li class="muted">${esc(t("noData"))}</li>`; return; }
  const at = projector(pts, w, h);
  g.strokeStyle = "#e1e6ec";
  for (let x = 0; x < w; x += 40) { g.beginPath(); g.moveTo(x, 0); g.lineTo(x, h); g.stroke(); }
  for (let y = 0; y < h; y += 40) { g.beginPath(); g.moveTo(0, y); g.lineTo(w, y); g.stroke(); }
  const byId = new Map(units.map((u) => [u.id, u]));
  g.font = "11px system-ui, 'Noto Sans CJK SC', sans-serif";
  for (const p of cov.places) {
    const v = p.tiers[tier];
    const u = v && byId.get(v.best_unit);
    if (u?.post) {
      const [x1, y1] = at(u.post), [x2, y2] = at(p);
      g.strokeStyle = v.in_time ? "#2e6b30" : "#b3261e"; g.setLineDash(v.in_time ? [] : [5, 4]);
      g.beginPath(); g.moveTo(x1, y1); g.lineTo(x2, y2); g.stroke(); g.setLineDash([]);
    }
  }
  for (const c of cams) {
    if (!c.location) continue;
    const [x, y] = at(c.location);
    g.fillStyle = "#14202e"; g.fillRect(x - 4, y - 4, 8, 8);
  }
  for (const u of posts) {
    const [x, y] = at(u.post);
    g.fillStyle = "#1a5fd1"; g.beginPath(); g.arc(x, y, 6, 0, 2 * Math.PI); g.fill();
    g.fillStyle = "#1b1f24"; g.fillText(u.id, x + 8, y + 4);
  }
  for (const p of cov.places) {
    const v = p.tiers[tier];
    const [x, y] = at(p);
    g.fillStyle = v?.in_time ? "#2e6b30" : "#b3261e"; g.strokeStyle = "#fff"; g.lineWidth = 2;
    g.beginPath(); g.arc(x, y, 9, 0, 2 * Math.PI); g.fill(); g.stroke(); g.lineWidth = 1;
    g.fillStyle = "#1b1f24"; g.fillText(p.id, x + 11, y - 8);
  }
  const legend = [["●", "#2e6b30", t("inTime")], ["●", "#b3261e", t("missed")], ["●", "#1a5fd1", `${t("tier")} ${tier} ${t("post")}`], ["■", "#14202e", t("cameras")]];
  let lx = 8;
  g.font = "12px system-ui, 'Noto Sans CJK SC', sans-serif";
  for (const [sym, col, label] of legend) {
    g.fillStyle = col; g.fillText(sym, lx, h - 10); g.fillStyle = "#1b1f24"; g.fillText(label, lx + 13, h - 10);
    lx += 24 + g.measureText(label).width;
  }
  $("cov-list").innerHTML = cov.places.map((p) => {
    const v = p.tiers[tier] || {};
    return `<li data-place="${esc(p.id)}" data-in-time="${v.in_time ? "true" : "false"}"><b>${esc(p.id)}</b>:
      <span class="${v.in_time ? "in" : "out"}">${esc(t(v.in_time ? "inTime" : "missed"))}</span>
      <span class="muted">${v.best_unit ? `${esc(v.best_unit)} ${secs(v.eta_s)} / ${secs(v.deadline_s)}` : esc(t("noUnit"))}</span></li>`;
  }).join("");
}

function render() {
  if (!data) return;
  renderTiers();
  renderAttainment();
  if (counts) { renderCounts($("by-rule"), counts.by_rule); renderCounts($("by-camera"), counts.by_camera); }
  renderCoverage();
}

async function load() {
  const period = $("period").value;
  const since = period ? Date.now() / 1000 - Number(period) : null;
  const q = since ? `?since=${since}` : "";
  const qa = (extra) => `?${since ? `since=${since}&` : ""}${extra}`;
  [data, attain, counts, cov, cams, units] = await Promise.all([
    api(`/api/reports/response-times${q}`),
    api(`/api/reports/breakdown${qa(`by=${$("group").value}&tz=${encodeURIComponent(Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC")}`)}`)
      .catch(() => api(`/api/reports/breakdown${qa(`by=${$("group").value}`)}`)),
    api(`/api/console/reports/alert-counts${q}`),
    api("/api/reports/coverage"), api("/api/cameras"), api("/api/console/responders"),
  ]);
  render();
}

async function start() {
  $("period").onchange = load;
  $("group").onchange = load;
  $("cov-tier").onchange = renderCoverage;
  await load();
}

onLanguage(render);
startSession(start);
