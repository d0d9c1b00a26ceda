// Video patrol: cycles through the chosen cameras' latest frames on a timer, refreshing the frame
// every second while it is shown. Keys: ← / → previous / next, Space pause, A raise a manual alert.
import { t, onLanguage } from "./i18n.js";
import { $, api, esc, startSession, withToken } from "./session.js";

let cameras = [];
let chosen = new Set(JSON.parse(localStorage.getItem("lookout.tour") || "null") || []);
let index = 0, playing = true, shownAt = 0, timer = null;

const tour = () => cameras.filter((c) => chosen.has(c.id));

function show() {
  const list = tour();
  if (!list.length) { $("cam-title").textContent = ""; $("view").removeAttribute("src"); return; }
  index = (index + list.length) % list.length;
  const cam = list[index];
  $("cam-title").textContent = `${cam.name} (${cam.id})`;
  $("cam-pos").textContent = `${index + 1} / ${list.length}`;
  const img = $("view");
  img.alt = cam.name;
  img.onerror = () => { $("no-frame").hidden = false; };
  img.onload = () => { $("no-frame").hidden = true; };
  img.src = withToken(`/api/cameras/${encodeURIComponent(cam.id)}/frame.jpg`) + `&t=${Date.now()}`;
}

function step(d) { index += d; shownAt = Date.now(); show(); }

function tick() {
  const secs = Math.max(2, Number($("interval").value) || 8);
  if (playing && Date.now() - shownAt >= secs * 1000) step(1);
  else show(); // same camera: refresh its latest frame
}

function setPlaying(on) {
  playing = on;
  $("play").textContent = t(on ? "pause" : "play");
  $("play").setAttribute("aria-pressed", String(on));
}

async function raise() {
  const cam = tour()[index];
  if (!cam) return;
  setPlaying(false); // keep the camera on screen while the command room reacts
  try {
    const r = await api("/api/console/manual-alerts", { method: "POST", body: { camera_id: cam.id, severity: "high" } });
    $("raised").textContent = `${t("manualSent")}: ${cam.id} · ${t("incident")} #${r.incident_id}`;
  } catch (e) { $("raised").textContent = `${t("error")}: ${e.message}`; }
}

function renderList() {
  $("cam-list").innerHTML = cameras.map((c) => `<label><input type="checkbox" value="${esc(c.id)}" ${chosen.has(c.id) ? "checked" : ""}>
    ${esc(c.name)}</label>`).join("");
  $("cam-list").querySelectorAll("input").forEach((box) => {
    box.onchange = () => {
      box.checked ? chosen.add(box.value) : chosen.delete(box.value);
      localStorage.setItem("lookout.tour", JSON.stringify([...chosen]));
      show();
    };
  });
}

async function start() {
  cameras = await api("/api/cameras");
  if (!chosen.size) chosen = new Set(cameras.map((c) => c.id));
  renderList();
  $("prev").onclick = () => step(-1);
  $("next").onclick = () => step(1);
  $("play").onclick = () => setPlaying(!playing);
  $("raise").onclick = raise;
  document.addEventListener("keydown", (e) => {
    if (e.target.matches("input, textarea, select")) return;
    if (e.key === "ArrowRight") step(1);
    else if (e.key === "ArrowLeft") step(-1);
    else if (e.key === " ") { e.preventDefault(); setPlaying(!playing); }
    else if (e.key === "a" || e.key === "A") raise();
  });
  shownAt = Date.now();
  show();
  clearInterval(timer);
  timer = setInterval(tick, 1000);
}

onLanguage(() => setPlaying(playing));
startSession(start);
