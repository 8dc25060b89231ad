// @ts-check
// Drawing on the operations map itself, with every layer in view: a zone (an area, the corridor, the line of
// contact, a restricted zone), a post, or a marker is drawn point by point, named, shared with whom it concerns
// (the mission only, one side's liaison officers, everyone) and stored through the same API as every other client;
// a zone or a post already on the map is corrected in place the same way.
/* global L */
import { api, escapeHtml, showProblem, t, ZONE_PATHS } from "./common.js";
import { shapeEditor } from "./shape-editor.js";

/** What can be drawn, the shape each is, and where it is stored. */
export const DRAWABLE = {
  area_of_responsibility: { shape: "Polygon", path: ZONE_PATHS.area_of_responsibility, label: "Area of responsibility" },
  corridor: { shape: "Polygon", path: ZONE_PATHS.corridor, label: "Corridor" },
  line_of_contact: { shape: "LineString", path: ZONE_PATHS.line_of_contact, label: "Line of contact" },
  restricted_zone: { shape: "Polygon", path: ZONE_PATHS.restricted_zone, label: "Restricted zone" },
  observation_post: { shape: "Point", path: "posts", label: "Observation post" },
  checkpoint: { shape: "Point", path: "posts", label: "Checkpoint" },
  marker: { shape: "Point", path: "places", label: "Marker" },
};
const SHARING = [["internal", "The mission only"], ["side_a", "Side A's liaison officers too"],
                 ["side_b", "Side B's liaison officers too"], ["public", "Everyone: the official map and both sides"]];

/** A code from a name ("Shusha road block" → "SHUSHA-ROAD-BLOCK"); a name in Cyrillic alone gives ``fallback``. */
export function codeFrom(name, fallback) {
  const code = String(name).normalize("NFD").replace(/[\u0300-\u036f]/g, "").toUpperCase()
    .replace(/[^A-Z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40);
  return code || fallback;
}

/** Whether [lon, lat] lies inside a GeoJSON Polygon or MultiPolygon (even-odd rule: holes excluded). */
export function covers(geometry, [x, y]) {
  const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.type === "MultiPolygon" ? geometry.coordinates : [];
  return polygons.some((rings) => rings.reduce((inside, ring) => {
    let crossing = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i];
      const [xj, yj] = ring[j];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) crossing = !crossing;
    }
    return inside !== crossing;
  }, false));
}

/**
 * @param {any} map the operations map
 * @param {{ day: () => string, zonesForPosts: () => any[], saved: (what: string) => void }} options
 *   day: the map's mission day (a post drawn opens on it); zonesForPosts: the areas and corridor features on the map;
 *   saved: told after a store, so the map reloads its layers
 */
export function drawTool(map, { day, zonesForPosts, saved }) {
  /** @type {{ kind: string, id: number | null } } */
  let drawing = { kind: "restricted_zone", id: null };
  let editor = null;
  let codeTouched = false;
  const Draw = L.Control.extend({
    onAdd() {
      const form = L.DomUtil.create("form", "draw-panel leaflet-bar");
      form.noValidate = true;
      const options = Object.entries(DRAWABLE).map(([k, d]) => `<option value="${k}">${escapeHtml(t(d.label))}</option>`).join("");
      const sharing = SHARING.map(([v, text]) => `<option value="${v}">${escapeHtml(t(text))}</option>`).join("");
      const field = (name, label, input) => `<div class="for-${name}"><label for="draw-${name}">${escapeHtml(label)}</label>` +
        `${input.replace(/^<(\w+) /, `<$1 id="draw-${name}" `)}<span class="error" data-error-for="${name}" hidden></span></div>`;
      form.innerHTML = `<button type="button" class="draw-toggle" aria-expanded="false">${escapeHtml(t("Draw on the map"))}</button>` +
        `<div class="draw-body" hidden>` +
        field("what", t("What"), `<select name="what">${options}</select>`) +
        `<p class="hint draw-hint"></p><span class="error" data-error-for="geometry" hidden></span>` +
        field("name", t("Name"), `<input name="name" maxlength="200" required>`) +
        field("name_ru", t("Name in Russian"), `<input name="name_ru" maxlength="200" lang="ru">`) +
        field("code", t("Code"), `<input name="code" maxlength="64" pattern="[A-Za-z0-9][A-Za-z0-9_.\\-]*">`) +
        field("zone_id", t("Zone"), `<select name="zone_id"></select>`) +
        field("opened_on", t("Opens on"), `<input name="opened_on" type="date">`) +
        field("visibility", t("Shared with"), `<select name="visibility">${sharing}</select>`) +
        `<p class="error" data-error-for="" role="alert" hidden></p>` +
        `<div class="buttons"><button type="submit">${escapeHtml(t("Save"))}</button> ` +
        `<button type="button" data-clear>${escapeHtml(t("Clear the shape"))}</button> ` +
        `<button type="button" data-cancel>${escapeHtml(t("Cancel"))}</button></div></div>` +
        `<p class="draw-said" role="status" aria-live="polite"></p>`;
      L.DomEvent.disableClickPropagation(form);
      L.DomEvent.disableScrollPropagation(form);
      const toggle = /** @type {HTMLButtonElement} */ (form.querySelector(".draw-toggle"));
      const body = /** @type {HTMLElement} */ (form.querySelector(".draw-body"));
      const said = /** @type {HTMLElement} */ (form.querySelector(".draw-said"));
      const input = (name) => /** @type {HTMLInputElement} */ (form.querySelector(`[name="${name}"]`));

      function kindShown() {
        const kind = input("what").value;
        const isZone = DRAWABLE[kind].path !== "posts" && DRAWABLE[kind].path !== "places";
        const isPost = DRAWABLE[kind].path === "posts";
        form.querySelector(".for-code").hidden = !(isZone || isPost);
        form.querySelector(".for-zone_id").hidden = !isPost;
        form.querySelector(".for-opened_on").hidden = !isPost || drawing.id !== null;
        input("what").disabled = drawing.id !== null; // a record keeps its kind: change its shape, not what it is
        form.querySelector(".draw-hint").textContent = DRAWABLE[kind].shape === "Point"
          ? t("Click the map where it is; drag the point to move it.")
          : t("Click the map: each click adds a point. Drag a point to move it; right-click it to remove it.");
      }
      function fillZones(at) {
        const select = /** @type {HTMLSelectElement} */ (input("zone_id"));
        const zones = zonesForPosts();
        const around = at ? zones.find((f) => covers(f.geometry, at)) : null;
        const chosen = select.value;
        select.replaceChildren(...zones.map((f) => new Option(f.properties.name, String(f.id))));
        if (around) select.value = String(around.id);
        else if (chosen) select.value = chosen;
      }
      function open(kind, record = null) {
        drawing = { kind, id: record ? record.id : null };
        body.hidden = false;
        toggle.setAttribute("aria-expanded", "true");
        map.getContainer().classList.add("drawing");
        input("what").value = kind;
        for (const name of ["name", "name_ru", "code"]) input(name).value = record?.properties?.[name] || "";
        input("visibility").value = record?.properties?.visibility || "internal";
        input("opened_on").value = day();
        codeTouched = Boolean(record);
        kindShown();
        editor?.remove();
        editor = shapeEditor(map, {
          kind: () => DRAWABLE[input("what").value].shape, colour: "#b35900",
          changed: (shape) => { if (shape?.type === "Point") fillZones(shape.coordinates); },
        });
        fillZones(record?.geometry?.type === "Point" ? record.geometry.coordinates : null);
        if (record) {
          if (record.properties.zone_id) input("zone_id").value = String(record.properties.zone_id);
          const bounds = editor.load(record.geometry);
          if (bounds && !map.getBounds().contains(bounds)) map.fitBounds(bounds.pad(0.3));
        }
        said.textContent = "";
        input("name").focus();
      }
      function close() {
        editor?.remove();
        editor = null;
        body.hidden = true;
        toggle.setAttribute("aria-expanded", "false");
        map.getContainer().classList.remove("drawing");
        drawing = { kind: input("what").value, id: null };
      }
      /** The panel's field an error names: its last step ("body.properties.name" → "name"), the shape's anywhere. */
      function fieldOf(error) {
        const parts = String(error.field || "").split(".");
        const last = parts[parts.length - 1];
        return parts.includes("geometry") ? "geometry" : last === "zone_code" ? "zone_id" : last;
      }
      function showErrors(problem) {
        showProblem(form, problem, fieldOf);
        if (!form.querySelector('[aria-invalid="true"]')) input("name").focus();
      }
      async function save() {
        const kind = input("what").value;
        const { path } = DRAWABLE[kind];
        const geometry = editor?.geometry();
        const name = input("name").value.trim();
        const missing = [];
        if (!geometry) missing.push({ field: "body.geometry", message: t("Draw it on the map first.") });
        if (!name) missing.push({ field: "body.properties.name", message: t("Fill this in.") });
        if (missing.length) { showErrors({ errors: missing }); return; }
        const properties = { name, name_ru: input("name_ru").value.trim(), visibility: input("visibility").value };
        if (path !== "places") properties.code = input("code").value.trim();
        if (path === "posts") {
          properties.zone_id = Number(input("zone_id").value) || null;
          if (drawing.id === null) Object.assign(properties, { kind, opened_on: input("opened_on").value });
        }
        const url = drawing.id === null ? `/api/v1/${path}` : `/api/v1/${path}/${drawing.id}`;
        try {
          const stored = await api(url, { method: drawing.id === null ? "POST" : "PATCH", body: { type: "Feature", geometry, properties } });
          close();
          said.textContent = t("Saved: %(name)s", { name: stored.properties?.name || name });
          map.getContainer().dataset.drawn = `${path}/${stored.id}`; // for the browser tests
          saved(path);
        } catch (problem) {
          showErrors(problem);
        }
      }

      toggle.addEventListener("click", () => (body.hidden ? open(input("what").value) : close()));
      input("what").addEventListener("change", () => { editor?.clear(); kindShown(); });
      input("name").addEventListener("input", () => {
        if (!codeTouched) input("code").value = codeFrom(input("name").value, `${input("what").value.slice(0, 2).toUpperCase()}-${Date.now().toString(36)}`);
      });
      input("code").addEventListener("input", () => { codeTouched = true; });
      form.querySelector("[data-clear]").addEventListener("click", () => editor?.clear());
      form.querySelector("[data-cancel]").addEventListener("click", close);
      form.addEventListener("submit", (event) => { event.preventDefault(); save(); });
      form.addEventListener("keydown", (event) => { if (event.key === "Escape" && !body.hidden) close(); });
      this.open = open;
      return form;
    },
  });
  const control = new Draw({ position: "topleft" });
  return {
    control,
    /** Correct a zone or a post already on the map, in place: its points become handles. */
    edit(kind, feature) { control.open(kind, feature); },
  };
}
