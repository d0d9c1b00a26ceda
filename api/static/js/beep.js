// A short two-tone WebAudio beep for high-severity alerts: no audio file to ship or cache.
// Browsers only allow audio after a user gesture, so the context is created on the first click.
let ctx = null;
let enabled = localStorage.getItem("lookout.sound") !== "off";

document.addEventListener("click", () => { ctx ??= new AudioContext(); }, { once: true });

export const soundEnabled = () => enabled;
export function setSound(on) { enabled = on; localStorage.setItem("lookout.sound", on ? "on" : "off"); }

export function beep() {
  if (!enabled || !ctx) return;
  const t0 = ctx.currentTime;
  for (const [i, freq] of [880, 660].entries()) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.2, t0 + i * 0.18);
    gain.gain.exponentialRampToValueAtTime(0.001, t0 + i * 0.18 + 0.16);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t0 + i * 0.18);
    osc.stop(t0 + i * 0.18 + 0.17);
  }
}
