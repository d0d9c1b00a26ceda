// Reports: the 1-3-5 attainment per tier (share of incidents with a unit on scene within 1, 3
// and 5 minutes), median / p90 response times and their distribution; the same per area, period or unit; alerts per
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

// Response-time distribution: per tier a small inline-SVG bar chart, bars per fixed time bin for
// "to acknowledge" (light) and "to on scene" (blue), the incidents never reached at the right, and
// the tier's deadline as a dashed line on its bin edge. The SVG is hidden from screen readers; a
// visually hidden table beside it carries the same numbers.
const binKey = (b) => (b.to_s == null ? `${b.from_s}+` : `${b.from_s}-${b.to_s}`);
const binText = (b) => (b.to_s == null ? `≥${b.from_s}` : `${b.from_s}–${b.to_s}`);

function distSvg(d) {
  const W = 400, H = 130, L = 6, R = 6, TOP = 20, BOT = 22, GAP = 12;
  const scene = d.on_scene_histogram, ack = d.ack_histogram;
  const groups = scene.bins.length + 1, gw = (W - L - R - GAP) / groups, ph = H - TOP - BOT;
  const max = Math.max(1, ...scene.bins.map((b) => b.count), ...ack.bins.map((b) => b.count), scene.not_reached, ack.not_reached);
  const bar = (x, n, cls) => {
    const h = (n / max) * ph, y = TOP + ph - h;
    return `<rect class="${cls}" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(gw * 0.38).toFixed(1)}" height="${h.toFixed(1)}"/>`
      + (n ? `<text class="n" x="${(x + gw * 0.19).toFixed(1)}" y="${(y - 2).toFixed(1)}">${n}</text>` : "");
  };
  const group = (i, a, sc) => {
    const x0 = L + i * gw + (i === groups - 1 ? GAP : 0);
    return bar(x0 + gw * 0.1, a, "ack") + bar(x0 + gw * 0.5, sc, "scene");
  };
  // A pale red band behind the "not reached" pair: those incidents missed every deadline.
  let out = `<rect class="nr-bg" x="${(L + (groups - 1) * gw + GAP).toFixed(1)}" y="${TOP - 12}" width="${gw.toFixed(1)}" height="${ph + 12}"/>`;
  out += scene.bins.map((b, i) => group(i, ack.bins[i].count, b.count)).join("");
  out += group(groups - 1, ack.not_reached, scene.not_reached);
  // The axis is labelled at the bin edges (seconds), so the deadline line sits on a labelled tick.
  out += data.bin_edges_s.map((e, i) => `<line class="tick" x1="${L + i * gw}" x2="${L + i * gw}" y1="${TOP + ph}" y2="${TOP + ph + 4}"/>`
    + `<text class="axis" x="${L + i * gw + (i ? 0 : 4)}" y="${H - 8}">${e}</text>`).join("")
    + `<text class="axis" x="${(W - R - gw / 2).toFixed(1)}" y="${H - 8}">—</text>`;
  const edge = data.bin_edges_s.indexOf(d.deadline_s);
  if (edge >= 0) {
    const x = L + edge * gw, right = x > W * 0.6;
    out += `<line class="deadline" x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${TOP - 12}" y2="${TOP + ph}"/>`
      + `<text class="deadline" x="${(x + (right ? -3 : 3)).toFixed(1)}" y="${TOP - 6}" text-anchor="${right ? "end" : "start"}">${esc(t("deadline"))} ${d.deadline_s} ${esc(t("sec"))}</text>`;
  }
  out += `<line class="base" x1="${L}" x2="${W - R}" y1="${TOP + ph}" y2="${TOP + ph}"/>`;
  return `<svg viewBox="0 0 ${W} ${H}" aria-hidden="true" focusable="false">${out}</svg>`;
}

function renderDist() {
  $("dist").innerHTML = Object.entries(data.tiers).map(([tier, d]) => {
    const scene = d.on_scene_histogram, ack = d.ack_histogram;
    if (!scene) return "";
    const rows = scene.bins.map((b, i) => `<tr data-bin="${binKey(b)}"><th scope="row">${binText(b)} ${esc(t("sec"))}</th>
      <td class="scene">${b.count}</td><td class="ack">${ack.bins[i].count}</td></tr>`).join("")
      + `<tr data-bin="none"><th scope="row">${esc(t("notReached"))}</th><td class="scene">${scene.not_reached}</td><td class="ack">${ack.not_reached}</td></tr>`;
    return `<figure class="dist-card" data-tier="${tier}" data-deadline="${d.deadline_s}">
      <figcaption><b>${esc(t("tier"))} ${tier}</b> <span class="muted">${esc(t("tier" + tier))} · ${d.count} ${esc(t("count"))}</span></figcaption>
      ${distSvg(d)}
      <div class="legend" aria-hidden="true"><span><i class="ack"></i>${esc(t("toAck"))}</span><span><i class="scene"></i>${esc(t("toScene"))}</span>
        <span>— ${esc(t("notReached"))}</span><span class="muted">${esc(t("timeBin"))}</span></div>
      <table class="sr-only"><caption>${esc(t("distribution"))}, ${esc(t("tier"))} ${tier} (${esc(t("deadline"))} ${d.deadline_s} ${esc(t("sec"))})</caption>
        <tr><th scope="col">${esc(t("timeBin"))}</th><th scope="col">${esc(t("onSceneN"))}</th><th scope="col">${esc(t("ackN"))}</th></tr>${rows}</table>
    </figure>`;
  }).join("");
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
  renderDist();
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
