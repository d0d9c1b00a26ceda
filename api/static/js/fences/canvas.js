// Drawing layer over the camera frame. Points are normalised [x, y] in 0..1 (as rules.yaml
// stores them); the canvas has the frame's pixel size, CSS scales both together.
const ZONE = "#ffd400", LINE = "#00e0ff", SEL = "#ff3b8d", DRAFT = "#ffffff";
const HIT_PX = 12;
const round = (v) => Math.round(Math.min(1, Math.max(0, v)) * 1000) / 1000;

export class FenceCanvas {
  constructor(canvas, { onMove, onDrawn }) {
    this.c = canvas;
    this.g = canvas.getContext("2d");
    this.rules = [];
    this.selected = -1;
    this.draft = null; // {shape: "polygon"|"line", points}
    this.drag = null;
    this.onMove = onMove;
    this.onDrawn = onDrawn;
    canvas.addEventListener("pointerdown", (e) => this.down(e));
    canvas.addEventListener("pointermove", (e) => this.move(e));
    canvas.addEventListener("pointerup", () => this.up());
    canvas.addEventListener("dblclick", (e) => { e.preventDefault(); this.finish(); });
    canvas.addEventListener("keydown", (e) => {
      if (e.key === "Enter") this.finish();
      else if (e.key === "Escape") this.cancel();
      else if (e.key === "Backspace" && this.draft) { this.draft.points.pop(); this.render(); }
    });
  }

  setSize(w, h) { this.c.width = w; this.c.height = h; this.render(); }

  show(rules, selected) { this.rules = rules; this.selected = selected; this.render(); }

  startDraw(shape) { this.draft = { shape, points: [] }; this.c.focus(); this.render(); }

  cancel() { this.draft = null; this.render(); }

  finish() {
    if (!this.draft) return;
    const { shape, points } = this.draft;
    // A double-click also delivers two clicks: drop the repeated last point.
    while (points.length > 1 && points.at(-1)[0] === points.at(-2)[0] && points.at(-1)[1] === points.at(-2)[1]) points.pop();
    if (points.length < (shape === "polygon" ? 3 : 2)) return;
    this.draft = null;
    this.onDrawn(shape, points);
  }

  norm(e) {
    const r = this.c.getBoundingClientRect();
    return [round((e.clientX - r.left) / r.width), round((e.clientY - r.top) / r.height)];
  }

  px([x, y]) { return [x * this.c.width, y * this.c.height]; }

  down(e) {
    const p = this.norm(e);
    if (this.draft) { this.draft.points.push(p); this.render(); return; }
    const rule = this.rules[this.selected];
    const pts = rule?.polygon || rule?.line;
    if (!pts) return;
    const scale = this.c.width / this.c.getBoundingClientRect().width;
    const [qx, qy] = this.px(p);
    const i = pts.findIndex((v) => { const [x, y] = this.px(v); return Math.hypot(x - qx, y - qy) < HIT_PX * scale; });
    if (i >= 0) { this.drag = i; this.c.setPointerCapture(e.pointerId); }
  }

  move(e) {
    if (this.drag === null) return;
    const rule = this.rules[this.selected];
    const key = rule.polygon ? "polygon" : "line";
    const pts = rule[key].map((v, j) => (j === this.drag ? this.norm(e) : v));
    this.rules[this.selected] = { ...rule, [key]: pts };
    this.render();
  }

  up() {
    if (this.drag === null) return;
    this.drag = null;
    this.onMove(this.rules[this.selected]);
  }

  path(pts, close) {
    const g = this.g;
    g.beginPath();
    pts.forEach((p, i) => { const [x, y] = this.px(p); i ? g.lineTo(x, y) : g.moveTo(x, y); });
    if (close) g.closePath();
  }

  // Tripwire direction: side A is left of someone walking the line first → last point (x right,
  // y down); an arrow per segment shows which crossings fire (rules.config.TripwireSpec).
  arrows(line, direction, colour) {
    const g = this.g;
    for (let i = 1; i < line.length; i++) {
      const [x1, y1] = this.px(line[i - 1]), [x2, y2] = this.px(line[i]);
      const len = Math.hypot(x2 - x1, y2 - y1) || 1;
      const [nx, ny] = [(y2 - y1) / len, -(x2 - x1) / len]; // towards side A
      const [mx, my] = [(x1 + x2) / 2, (y1 + y2) / 2];
      const L = 28;
      const head = (tx, ty, dx, dy) => {
        g.beginPath(); g.moveTo(tx, ty);
        g.lineTo(tx - 9 * dx + 6 * dy, ty - 9 * dy - 6 * dx); g.lineTo(tx - 9 * dx - 6 * dy, ty - 9 * dy + 6 * dx);
        g.closePath(); g.fill();
      };
      g.strokeStyle = g.fillStyle = colour; g.lineWidth = 3;
      g.beginPath(); g.moveTo(mx + nx * L, my + ny * L); g.lineTo(mx - nx * L, my - ny * L); g.stroke();
      if (direction !== "b_to_a") head(mx - nx * L, my - ny * L, -nx, -ny);
      if (direction !== "a_to_b") head(mx + nx * L, my + ny * L, nx, ny);
      g.font = "bold 16px system-ui, sans-serif";
      g.fillText("A", mx + nx * (L + 12) - 5, my + ny * (L + 12) + 5);
      g.fillText("B", mx - nx * (L + 12) - 5, my - ny * (L + 12) + 5);
    }
  }

  render() {
    const g = this.g;
    g.clearRect(0, 0, this.c.width, this.c.height);
    g.lineJoin = "round";
    this.rules.forEach((r, i) => {
      const colour = i === this.selected ? SEL : r.polygon ? ZONE : LINE;
      const pts = r.polygon || r.line;
      if (!pts?.length) return;
      g.setLineDash(r.enabled === false ? [8, 6] : []);
      g.strokeStyle = colour; g.lineWidth = i === this.selected ? 4 : 3;
      this.path(pts, Boolean(r.polygon));
      if (r.polygon) { g.fillStyle = colour + "33"; g.fill(); }
      g.stroke();
      g.setLineDash([]);
      if (r.line) this.arrows(r.line, r.direction || "both", colour);
      if (i === this.selected) {
        g.fillStyle = "#fff";
        for (const p of pts) { const [x, y] = this.px(p); g.fillRect(x - 5, y - 5, 10, 10); g.strokeRect(x - 5, y - 5, 10, 10); }
      }
      const [lx, ly] = this.px(pts[0]);
      g.font = "bold 15px system-ui, sans-serif"; g.fillStyle = colour;
      g.fillText(r.id || "?", lx + 6, ly - 8);
    });
    if (this.draft?.points.length) {
      g.strokeStyle = DRAFT; g.lineWidth = 3; g.setLineDash([6, 4]);
      this.path(this.draft.points, false); g.stroke(); g.setLineDash([]);
      g.fillStyle = DRAFT;
      for (const p of this.draft.points) { const [x, y] = this.px(p); g.fillRect(x - 4, y - 4, 8, 8); }
    }
  }
}
