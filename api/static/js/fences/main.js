// Fence editor page: load the schema and the current rules, edit one camera's rules on its
// latest frame, try them on a recording (replay.js), save the whole file as a new version
// (validated server-side; errors by key path).
import { onLanguage, t } from "../i18n.js";
import { $, api, esc, startSession, withToken } from "../session.js";
import { FenceCanvas } from "./canvas.js";
import { ReplayPanel } from "./replay.js";
import { renderForm } from "./schemaform.js";

const state = { schema: null, doc: { cameras: {} }, version: 0, camera: null, selected: -1 };
let canvas = null;
let replay = null;

// The server leaves defaults out, so a camera with no rules may come as {} (no `rules` key).
const rulesOf = (cam) => ((state.doc.cameras[cam] ??= {}).rules ??= []);

function uniqueId(base) {
  const taken = new Set(rulesOf(state.camera).map((r) => r.id));
  for (let i = 1; ; i++) if (!taken.has(`${base}-${i}`)) return `${base}-${i}`;
}

function renderList() {
  const rules = rulesOf(state.camera);
  $("rule-list").innerHTML = rules.map((r, i) => `<li><button type="button" data-i="${i}" aria-pressed="${i === state.selected}">
    ${esc(r.id)} <span class="small">(${esc(r.kind)})</span></button></li>`).join("");
  $("rule-list").querySelectorAll("button").forEach((b) => { b.onclick = () => select(Number(b.dataset.i)); });
}

function renderOptions() {
  const rule = rulesOf(state.camera)[state.selected];
  $("delete-rule").hidden = !rule;
  if (!rule) { $("rule-form").innerHTML = ""; return; }
  renderForm($("rule-form"), state.schema, rule, (next) => {
    rulesOf(state.camera)[state.selected] = next;
    refresh();
  }, t("kind"));
}

function refresh() {
  renderList();
  renderOptions();
  canvas.show(rulesOf(state.camera), state.selected);
}

function select(i) { state.selected = i; refresh(); }

function showCamera(cam) {
  state.camera = cam;
  state.selected = -1;
  $("cam-name").textContent = cam;
  const img = $("frame");
  img.alt = `${t("camera")} ${cam}`;
  $("no-frame").hidden = true;
  img.onload = () => canvas.setSize(img.naturalWidth, img.naturalHeight);
  // No frame yet (worker not running): draw on a blank 16:9 area; coordinates are fractions anyway.
  img.onerror = () => { $("no-frame").hidden = false; img.removeAttribute("src"); canvas.setSize(960, 540); };
  img.src = withToken(`/api/cameras/${encodeURIComponent(cam)}/frame.jpg`) + `&t=${Date.now()}`;
  refresh();
  replay.load(cam);
}

function drawn(shape, points) {
  const rule = shape === "polygon"
    ? { id: uniqueId("zone"), kind: "zone_intrusion", polygon: points, severity: "high" }
    : { id: uniqueId("line"), kind: "tripwire", line: points, direction: "a_to_b", severity: "medium" };
  rulesOf(state.camera).push(rule);
  select(rulesOf(state.camera).length - 1);
}

function result(html) { $("save-result").innerHTML = html; }

async function save() {
  try {
    const entry = await api("/api/fences", { method: "PUT",
      body: { rules: state.doc, base_version: state.version, comment: $("comment").value } });
    state.version = entry.version;
    $("version").textContent = entry.version;
    // The API never runs recordings itself (the worker side does): say how to try the change.
    result(`<p>${esc(t("saved"))} ${entry.version}</p><p class="small">${esc(t("tryReplay"))}</p>
      <code class="small">lookout replay REC.mp4 --camera ${esc(state.camera)} --compare ${esc(entry.previous_file)} ${esc(entry.file)}</code>`);
    $("comment").value = "";
    loadHistory();
  } catch (e) {
    const errors = e.body?.detail?.errors;
    if (errors) {
      result(`<div class="err"><p>${esc(t("invalid"))}</p><ul>${errors.map((x) =>
        `<li><code>${esc(x.loc)}</code>: ${esc(x.msg)}</li>`).join("")}</ul></div>`);
    } else {
      result(`<p class="err">${esc(e.status === 409 ? t("conflict") : e.message)}</p>`);
    }
  }
}

async function loadHistory() {
  const items = await api("/api/fences/history");
  $("history").innerHTML = items.slice(0, 8).map((h) =>
    `<li>v${h.version} · ${esc(new Date(h.at * 1000).toLocaleString())} · ${esc(h.actor)}${h.comment ? " · " + esc(h.comment) : ""}</li>`).join("");
}

async function start() {
  canvas ??= new FenceCanvas($("fence-canvas"), {
    onMove: (rule) => { rulesOf(state.camera)[state.selected] = rule; renderOptions(); },
    onDrawn: drawn,
  });
  const [schema, current, cameras] = await Promise.all([api("/api/fences/schema"), api("/api/fences"), api("/api/cameras")]);
  Object.assign(state, { schema, doc: current.rules, version: current.version });
  state.doc.cameras ??= {};
  $("version").textContent = current.version;
  const ids = [...new Set([...cameras.map((c) => c.id), ...Object.keys(state.doc.cameras)])];
  $("camera").innerHTML = ids.map((id) => `<option value="${esc(id)}">${esc(id)}</option>`).join("");
  $("camera").onchange = () => showCamera($("camera").value);
  $("draw-zone").onclick = () => canvas.startDraw("polygon");
  $("draw-line").onclick = () => canvas.startDraw("line");
  $("delete-rule").onclick = () => { rulesOf(state.camera).splice(state.selected, 1); select(-1); };
  $("save").onclick = save;
  replay ??= new ReplayPanel({ getCamera: () => state.camera, getRules: () => rulesOf(state.camera) });
  if (ids.length) showCamera(ids[0]);
  loadHistory();
}

onLanguage(() => { if (state.schema) refresh(); replay?.labels(); });
startSession(start);
