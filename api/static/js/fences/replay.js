// "Try on recording": run the camera's unsaved rules on a recorded clip (POST /api/console/replay,
// the server runs `lookout replay`), poll the job, then show what would fire per rule, the change
// against the saved version (+N / −M events) and the first firing's annotated snapshot.
import { $, api, esc, withToken } from "../session.js";

// This panel's own labels (the shared dictionary in i18n.js belongs to the whole console).
const L = {
  en: {
    recording: "Recording", tryRun: "Try on recording", noRecording: "No recording for this camera "
      + "(a file camera's own clip, or recordings/<camera>.mp4 on the server).",
    running: "Replaying…", queued: "Waiting for a free replay slot…", rule: "Rule", kind: "Kind",
    events: "Events", first: "First", last: "Last", wouldFire: "Would fire on", frames: "frames",
    vsSaved: "vs saved version", unchanged: "unchanged", failed: "Replay failed", timeout: "Replay timed out",
    firstSnap: "First firing", none: "Nothing would fire on this recording.", fixRules: "Fix these first:",
  },
  zh: {
    recording: "录像", tryRun: "在录像上试运行", noRecording: "此摄像机没有录像（文件摄像机自身的视频，或服务器上的 recordings/<摄像机>.mp4）。",
    running: "回放中…", queued: "等待空闲回放槽位…", rule: "规则", kind: "类型", events: "事件数", first: "首次",
    last: "末次", wouldFire: "在此录像上会触发", frames: "帧", vsSaved: "对比已保存版本", unchanged: "未变",
    failed: "回放失败", timeout: "回放超时", firstSnap: "首次触发", none: "此录像上不会触发任何规则。",
    fixRules: "请先修正：",
  },
};
const l = (key) => (document.documentElement.lang.startsWith("zh") ? L.zh : L.en)[key];
const secs = (v) => (v === null || v === undefined ? "" : `${Number(v).toFixed(1)} s`);

export class ReplayPanel {
  // getCamera() → camera id; getRules() → that camera's rules as drawn (unsaved).
  constructor({ getCamera, getRules }) {
    this.getCamera = getCamera;
    this.getRules = getRules;
    this.job = null; // the last job's view, re-rendered on language change
    this.poll = null;
    $("try").onclick = () => this.run();
    this.labels();
  }

  labels() {
    $("l-recording").textContent = l("recording");
    $("try").textContent = l("tryRun");
    if (this.job) this.render(this.job);
  }

  async load(camera) {
    clearTimeout(this.poll);
    this.job = null;
    $("try-result").innerHTML = "";
    let recs = [];
    try { recs = await api(`/api/console/replay/recordings?camera=${encodeURIComponent(camera)}`); } catch { recs = []; }
    if (camera !== this.getCamera()) return; // the user switched camera meanwhile
    $("recording").innerHTML = recs.map((r) => `<option value="${esc(r.id)}">${esc(r.name)}</option>`).join("");
    $("recording").disabled = $("try").disabled = !recs.length;
    $("no-recording").hidden = recs.length > 0;
    $("no-recording").textContent = l("noRecording");
  }

  async run() {
    clearTimeout(this.poll);
    const camera = this.getCamera();
    $("try").disabled = true;
    this.job = null;
    this.busy("queued", 0);
    try {
      const { job_id } = await api("/api/console/replay", { method: "POST",
        body: { camera, rules: this.getRules(), recording: $("recording").value || null } });
      await this.follow(job_id, camera);
    } catch (e) {
      $("try").disabled = !$("recording").options.length;
      const errors = e.body?.detail?.errors;
      $("try-result").innerHTML = errors
        ? `<div class="err"><p>${esc(l("fixRules"))}</p><ul>${errors.map((x) =>
          `<li><code>${esc(x.loc)}</code>: ${esc(x.msg)}</li>`).join("")}</ul></div>`
        : `<p class="err">${esc(e.body?.detail || e.message)}</p>`;
    }
  }

  follow(jobId, camera) {
    return new Promise((resolve, reject) => {
      const tick = async () => {
        try {
          const job = await api(`/api/console/replay/${jobId}`);
          if (camera !== this.getCamera()) { resolve(); return; }
          if (job.state === "queued" || job.state === "running") {
            this.busy(job.state, job.elapsed_s);
            this.poll = setTimeout(tick, 700);
            return;
          }
          $("try").disabled = !$("recording").options.length;
          this.job = job;
          this.render(job);
          resolve();
        } catch (e) { reject(e); }
      };
      tick();
    });
  }

  busy(state, elapsed) {
    $("try-result").innerHTML = `<p class="busy" data-state="${esc(state)}"><span class="spinner" aria-hidden="true"></span>
      ${esc(l(state === "queued" ? "queued" : "running"))} ${elapsed ? esc(secs(elapsed)) : ""}</p>`;
  }

  render(job) {
    const out = $("try-result");
    out.dataset.state = job.state;
    if (job.state !== "done") {
      out.innerHTML = `<div class="err"><p>${esc(l(job.state === "timeout" ? "timeout" : "failed"))}: ${esc(job.error)}</p>
        ${job.stderr_tail ? `<pre class="small">${esc(job.stderr_tail)}</pre>` : ""}</div>`;
      return;
    }
    const r = job.result;
    const rows = r.rules.map((x) => `<tr data-rule="${esc(x.rule)}" data-count="${x.count}"${x.count ? "" : ' class="muted"'}>
      <td>${esc(x.rule)}</td><td>${esc(x.kind)}</td><td class="num">${x.count}</td>
      <td class="num">${esc(secs(x.first_s))}</td><td class="num">${esc(secs(x.last_s))}</td></tr>`).join("");
    const c = r.compare;
    const cmp = c ? `<p class="compare" data-appeared="${c.appeared}" data-disappeared="${c.disappeared}">${esc(l("vsSaved"))}
      v${esc(c.saved_version)}: <b class="plus">+${c.appeared}</b> / <b class="minus">−${c.disappeared}</b>
      (${c.saved_events} → ${c.candidate_events}, ${c.unchanged} ${esc(l("unchanged"))})</p>` : "";
    const first = r.events[0];
    const snap = first ? `<figure><img id="try-snapshot" alt="${esc(l("firstSnap"))}: ${esc(first.rule)} ${esc(secs(first.t))}"
      src="${esc(withToken(`/api/console/replay/${job.job_id}/snapshot/${first.n}`))}">
      <figcaption class="small">${esc(l("firstSnap"))}: ${esc(first.rule)} @ ${esc(secs(first.t))}</figcaption></figure>` : "";
    out.innerHTML = `<div class="out"><div><p class="small">${esc(l("wouldFire"))} ${esc(job.recording.name)}
      (${r.frames} ${esc(l("frames"))}, ${esc(secs(job.elapsed_s))})</p>
      <table class="fired"><thead><tr><th>${esc(l("rule"))}</th><th>${esc(l("kind"))}</th><th>${esc(l("events"))}</th>
      <th>${esc(l("first"))}</th><th>${esc(l("last"))}</th></tr></thead><tbody>${rows}</tbody></table>
      ${r.total_events ? "" : `<p class="muted small">${esc(l("none"))}</p>`}${cmp}</div>${snap}</div>`;
  }
}
