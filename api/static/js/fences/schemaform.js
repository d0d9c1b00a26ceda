// Rule options form generated from the JSON Schema of rules.config.RulesFile (GET /api/fences/schema),
// so a new rule option in the Python model shows up here without touching the page.
// Geometry fields are drawn on the canvas but also editable as JSON text (keyboard access).
import { esc } from "../session.js";

// Edited as JSON (lat/lon geofence polygons too: they are not drawn on the camera image).
const GEOMETRY = new Set(["polygon", "line", "polygons"]);

// kind → its $defs entry, through the discriminator of CameraRules.rules.
export function kindsOf(schema) {
  const items = schema.$defs.CameraRules.properties.rules.items;
  const out = {};
  for (const [kind, ref] of Object.entries(items.discriminator.mapping)) out[kind] = schema.$defs[ref.split("/").pop()];
  return out;
}

function resolve(schema, prop) {
  if (prop.$ref) return schema.$defs[prop.$ref.split("/").pop()];
  const alt = (prop.anyOf || []).find((p) => p.type !== "null");
  return alt ? { ...alt, ...prop, anyOf: undefined } : prop;
}

function input(name, prop, value, required) {
  const id = `f-${name}`;
  const title = prop.title || name;
  const help = prop.description ? `<p class="help" id="${id}-help">${esc(prop.description)}</p>` : "";
  const described = prop.description ? `aria-describedby="${id}-help"` : "";
  const shown = value ?? prop.default;
  if (prop.type === "boolean") {
    return `<div class="field"><label class="check"><input type="checkbox" id="${id}" name="${name}" ${shown ? "checked" : ""} ${described}>
      ${esc(title)}</label>${help}</div>`;
  }
  let control;
  if (prop.enum) {
    control = `<select id="${id}" name="${name}" ${described}>${prop.enum.map((v) =>
      `<option ${v === shown ? "selected" : ""}>${esc(v)}</option>`).join("")}</select>`;
  } else if (prop.type === "number" || prop.type === "integer") {
    const lim = ["minimum", "maximum"].filter((k) => prop[k] !== undefined).map((k) => `${k.slice(0, 3)}="${prop[k]}"`).join(" ");
    control = `<input type="number" id="${id}" name="${name}" step="${prop.type === "integer" ? 1 : "any"}" ${lim}
      value="${esc(shown ?? "")}" ${described} data-type="${prop.type}">`;
  } else if ((prop.type === "array" && GEOMETRY.has(name)) || prop.type === "object" || !prop.type) {
    // Geometry and nested objects (e.g. a schedule) are edited as JSON; the server validates them.
    control = `<textarea id="${id}" name="${name}" rows="3" ${described} data-type="json">${esc(shown === undefined || shown === null ? "" : JSON.stringify(shown))}</textarea>`;
  } else if (prop.type === "array") {
    control = `<input type="text" id="${id}" name="${name}" value="${esc((shown || []).join(", "))}" ${described} data-type="list">`;
  } else {
    control = `<input type="text" id="${id}" name="${name}" value="${esc(shown ?? "")}" ${described} ${required ? "required" : ""}>`;
  }
  return `<div class="field"><label for="${id}">${esc(title)}${required ? " *" : ""}</label>${control}${help}</div>`;
}

// Renders the form for `rule` into `root`; calls onChange(updatedRule) on every edit.
export function renderForm(root, schema, rule, onChange, kindLabel) {
  const kinds = kindsOf(schema);
  const def = kinds[rule.kind];
  // Only kinds with the same geometry can be switched to (a zone cannot become a tripwire).
  const sameShape = Object.keys(kinds).filter((k) => ("line" in kinds[k].properties) === ("line" in def.properties));
  const kindSelect = `<div class="field"><label for="f-kind">${esc(kindLabel)}</label><select id="f-kind" name="kind">${sameShape.map((k) =>
    `<option ${k === rule.kind ? "selected" : ""}>${esc(k)}</option>`).join("")}</select>
    <p class="help">${esc(def.description || "")}</p></div>`;
  const fields = Object.entries(def.properties).filter(([n]) => n !== "kind")
    .map(([n, p]) => input(n, resolve(schema, p), rule[n], (def.required || []).includes(n))).join("");
  root.innerHTML = kindSelect + fields;
  root.querySelectorAll("input, select, textarea").forEach((el) => {
    el.addEventListener("change", () => {
      const next = { ...rule };
      const name = el.name;
      if (name === "kind") {
        // Keep only what the new kind knows; its defaults fill the rest.
        const props = kinds[el.value].properties;
        for (const k of Object.keys(next)) if (!(k in props)) delete next[k];
        next.kind = el.value;
      } else if (el.type === "checkbox") next[name] = el.checked;
      else if (el.value === "") delete next[name];
      else if (el.dataset.type === "number") next[name] = Number(el.value);
      else if (el.dataset.type === "integer") next[name] = Number.parseInt(el.value, 10);
      else if (el.dataset.type === "list") next[name] = el.value.split(",").map((s) => s.trim()).filter(Boolean);
      else if (el.dataset.type === "json") {
        try { next[name] = JSON.parse(el.value); } catch { el.setCustomValidity("JSON"); el.reportValidity(); return; }
        el.setCustomValidity("");
      } else next[name] = el.value;
      onChange(next);
    });
  });
}
