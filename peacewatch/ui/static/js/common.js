// Shared by every page: configuration, translated strings, API calls with the CSRF token, map basics.
/* global L */

export const config = JSON.parse(document.getElementById("config").textContent || "{}");
const strings = JSON.parse(document.getElementById("strings").textContent || "{}");
const csrf = document.querySelector('meta[name="csrf-token"]').content;
/** The mission's time zone (IANA name): pages show and take times in it, the API speaks instants. */
export const missionZone = document.querySelector('meta[name="mission-zone"]')?.content || "UTC";
/** How the pages name it: "Baku, UTC+04:00". */
export const zoneCaption = document.querySelector('meta[name="mission-zone"]')?.dataset.caption || "UTC";

/** Minutes east of UTC of ``zone`` at the instant ``date``. */
function offsetAt(date, zone) {
  const parts = new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit",
    day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" }).formatToParts(date);
  const v = Object.fromEntries(parts.map((p) => [p.type, p.value]));
  return (Date.UTC(+v.year, +v.month - 1, +v.day, +v.hour, +v.minute, +v.second) - date.getTime()) / 60000;
}

/** "2020-11-14T09:30" read on the mission's clock, as an ISO instant (null for nothing typed). */
export function missionTimeToIso(local, zone = missionZone) {
  if (!local) return null;
  const asUtc = new Date(`${local.length === 16 ? `${local}:00` : local}Z`);
  if (Number.isNaN(asUtc.getTime())) return local; // the server names the field and says what it expects
  const first = new Date(asUtc.getTime() - offsetAt(asUtc, zone) * 60000);
  return new Date(asUtc.getTime() - offsetAt(first, zone) * 60000).toISOString();
}

/** An instant on the mission's clock, "2020-11-14 12:03" (with seconds if asked). */
export function missionTime(instant, { seconds = false } = {}) {
  const date = instant instanceof Date ? instant : new Date(instant);
  if (Number.isNaN(date.getTime())) return "";
  const shifted = new Date(date.getTime() + offsetAt(date, missionZone) * 60000).toISOString();
  return shifted.slice(0, seconds ? 19 : 16).replace("T", " ");
}

/** The translation of an English UI string (the server sends the catalog the page needs). */
export function t(text, values = {}) {
  let out = strings[text] || text;
  for (const [key, value] of Object.entries(values)) out = out.replace(`%(${key})s`, value);
  return out;
}

/** An API call as the signed-in user; unsafe methods carry the CSRF token. Throws the problem on error.
 * ``body`` is sent as JSON, ``formData`` as multipart, ``raw`` as is with ``contentType``. */
export async function api(path, { method = "GET", body, formData, raw, contentType, headers: extra = {} } = {}) {
  const headers = { Accept: "application/json, application/geo+json, application/problem+json", ...extra };
  if (method !== "GET") headers["X-CSRF-Token"] = csrf;
  let payload;
  if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  if (formData !== undefined) payload = formData;
  if (raw !== undefined) { headers["Content-Type"] = contentType; payload = raw; }
  const response = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { detail: text.slice(0, 300) }; }
  if (!response.ok) {
    const problem = data || { detail: response.statusText };
    problem.status = response.status;
    throw problem;
  }
  return data;
}

/**
 * Why the user takes a step that cannot be undone, asked in ``dialog`` (a <dialog> holding a textarea, an
 * element .error and a button value="go"); the reason, or null when they cancel. The audit log keeps it.
 */
export function askWhy(dialog, heading = null) {
  return new Promise((resolve) => {
    const reason = dialog.querySelector("textarea");
    const error = dialog.querySelector(".error");
    if (heading !== null) dialog.querySelector("h2").textContent = heading;
    reason.value = "";
    error.hidden = true;
    dialog.showModal();
    reason.focus();
    dialog.querySelector('button[value="go"]').onclick = (event) => {
      if (!reason.value.trim()) { event.preventDefault(); error.hidden = false; reason.focus(); }
    };
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "go" ? reason.value.trim() : null), { once: true });
  });
}

/** The form field an error of the API names: the first step under the body ("body.properties.code" → "properties"). */
const topField = (error) => (error.field || "").replace(/^body\./, "").split(".")[0];

/** Shows a problem's field errors next to their fields (data-error-for="name"), the rest at the top; ``fieldOf``
 * says which field of the form an error's path is (a form whose fields are deeper in the body says otherwise). */
export function showProblem(form, problem, fieldOf = topField) {
  form.querySelectorAll("[data-error-for]").forEach((el) => { el.hidden = true; el.textContent = ""; });
  form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
  const general = form.querySelector('[data-error-for=""]');
  const unplaced = [];
  for (const error of problem.errors || []) {
    const name = fieldOf(error);
    const slot = name && form.querySelector(`[data-error-for="${name}"]`);
    if (slot) {
      slot.textContent = error.message;
      slot.hidden = false;
      const input = form.querySelector(`[name="${name}"]`);
      if (input) input.setAttribute("aria-invalid", "true");
    } else {
      unplaced.push(error.message);
    }
  }
  if (general && (unplaced.length || !(problem.errors || []).length)) {
    // the detail often is the one error's own message: say each thing once
    general.textContent = [...new Set([problem.detail || problem.title, ...unplaced].filter(Boolean))].join(" · ");
    general.hidden = false;
  }
  const first = form.querySelector('[aria-invalid="true"]');
  if (first) first.focus();
}

/** A Leaflet icon for an APP-6 symbol drawn by the server (spec: url, size and anchor from the page's config). */
export function symbolIcon(spec) {
  return L.icon({ iconUrl: spec.url, iconSize: spec.size, iconAnchor: spec.anchor, className: "symbol" });
}

/** Lines of latitude and longitude at a spacing that suits the zoom: the map stays legible with no basemap. */
export function graticule(map) {
  const layer = L.layerGroup();
  function draw() {
    layer.clearLayers();
    const b = map.getBounds();
    const span = Math.max(b.getEast() - b.getWest(), b.getNorth() - b.getSouth());
    const step = [10, 5, 2, 1, 0.5, 0.25, 0.1, 0.05, 0.02, 0.01].find((s) => span / s >= 4) || 0.01;
    const style = { color: "#8c8c8c", weight: 0.6, opacity: 0.7, interactive: false, dashArray: "2 4" };
    for (let x = Math.floor(b.getWest() / step) * step; x <= b.getEast(); x += step) {
      layer.addLayer(L.polyline([[b.getSouth(), x], [b.getNorth(), x]], style));
      layer.addLayer(L.marker([b.getSouth(), x], { interactive: false, keyboard: false,
        icon: L.divIcon({ className: "grid-label", html: `${x.toFixed(step < 1 ? 2 : 0)}°E`, iconSize: null }) }));
    }
    for (let y = Math.floor(b.getSouth() / step) * step; y <= b.getNorth(); y += step) {
      layer.addLayer(L.polyline([[y, b.getWest()], [y, b.getEast()]], style));
      layer.addLayer(L.marker([y, b.getWest()], { interactive: false, keyboard: false,
        icon: L.divIcon({ className: "grid-label", html: `${y.toFixed(step < 1 ? 2 : 0)}°N`, iconSize: null }) }));
    }
  }
  map.on("moveend", () => { if (map.hasLayer(layer)) draw(); });
  layer.on("add", draw);
  return layer;
}

/** A map with the offline background: the configured basemap if any, country borders, graticule. */
export function baseMap(element, { basemap = null, center = [39.85, 46.75], zoom = 9 } = {}) {
  const map = L.map(element, { zoomSnap: 0.5, keyboard: true }).setView(center, zoom);
  map.attributionControl.setPrefix(false);
  const background = {};
  if (basemap) {
    background[t("Basemap")] = L.tileLayer("/tiles/{z}/{x}/{y}", { maxZoom: 19, maxNativeZoom: basemap.max_zoom,
                                                                  minZoom: 0, attribution: t("Local basemap") }).addTo(map);
  }
  // relief and rivers of the region, shipped with the package (scripts/make-basemap-extract): the ground's shape
  // with no tile server; under a configured basemap they are offered, not shown
  map.createPane("relief").style.zIndex = 250; // above a basemap's tiles (200), under every layer of ours (400)
  const relief = L.imageOverlay("/static/geo/relief-caucasus.png", [[37.5, 43.0], [42.5, 50.0]], {
    pane: "relief", opacity: 0.55, interactive: false, className: "relief", attribution: t("Relief: shadedrelief.com") });
  const rivers = L.geoJSON(null, { style: { color: "#4a86c5", weight: 1.3, opacity: 0.9 }, interactive: false,
                                    attribution: t("Rivers: WDBII (GSHHG)") });
  if (!basemap) { relief.addTo(map); rivers.addTo(map); }
  fetch("/static/geo/rivers-caucasus.geojson").then((r) => r.json()).then((data) => rivers.addData(data)).catch(() => {});
  const borders = L.geoJSON(null, { style: { color: "#6b6358", weight: 1.2, fill: false }, interactive: false,
                                     attribution: "Natural Earth" }).addTo(map);
  fetch("/static/geo/borders-caucasus-ne50m.geojson").then((r) => r.json()).then((data) => borders.addData(data));
  const grid = graticule(map).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);
  return { map, overlays: { [t("Relief")]: relief, [t("Rivers")]: rivers, [t("Country borders")]: borders, [t("Graticule")]: grid,
                            ...background } };
}

// an alert in the reader's language: the server keeps its English sentence, and the parts to say it again
const ALERT_SENTENCES = {
  left_area: "%(tracker)s left its area of responsibility", near_line_of_contact: "%(tracker)s is within the buffer of the line of contact",
  in_restricted_zone: "%(tracker)s entered a restricted zone", long_stop: "%(tracker)s has stopped longer than allowed away from a post",
  off_route: "%(tracker)s strayed from the planned route", silent: "Patrol %(patrol)s silent since %(heard)s",
  not_back: "Patrol %(patrol)s not back at the end of its window",
};

/** An alert said in the reader's language and on the mission's clock (the map's panel, the forms' pickers). */
export function alertText(alert) {
  const d = alert.details || {};
  if (alert.kind === "emergency" || alert.kind === "casevac") { // a call for help: who called, and what ATAK or the page said
    const who = d.callsign || alert.raised_by || d.device_uid || "?";
    return t(alert.kind === "casevac" ? "CASEVAC request from %(who)s" : "Emergency from %(who)s: %(what)s",
             { who, what: d.label ? t(d.label) : t(d.emergency_type || "emergency") });
  }
  const sentence = ALERT_SENTENCES[alert.kind];
  if (!sentence || (!d.tracker && !d.patrol)) return alert.message; // recorded before alerts kept their parts
  const text = t(sentence, { tracker: d.tracker || "", patrol: d.patrol || "", heard: d.heard ? missionTime(d.heard).slice(11) : "" });
  return d.tracker && d.patrol ? `${text} (${t("patrol %(name)s", { name: d.patrol })})` : text;
}

/** A record's name in the page's language: its Russian name on a Russian page, where it has one. */
export function nameOf(props) {
  return document.documentElement.lang === "ru" && props.name_ru ? props.name_ru : props.name;
}

export function escapeHtml(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

export const zoneStyles = {
  area_of_responsibility: { color: "#1d4f8c", weight: 2, fillColor: "#4a90d9", fillOpacity: 0.12 },
  corridor: { color: "#a86400", weight: 1.5, fillColor: "#f0a030", fillOpacity: 0.35 },
  line_of_contact: { color: "#c0182a", weight: 3, dashArray: "8 5" },
  restricted_zone: { color: "#7a1f9c", weight: 1.5, fillColor: "#b06ad0", fillOpacity: 0.2, dashArray: "3 3" },
};

/** Each kind of zone and the API path of its layer. */
export const ZONE_PATHS = { area_of_responsibility: "areas", corridor: "corridors", line_of_contact: "lines-of-contact",
                            restricted_zone: "restricted-zones" };

export function zoneLayer(kind) {
  return L.geoJSON(null, {
    style: zoneStyles[kind],
    onEachFeature: (f, layer) => layer.bindTooltip(escapeHtml(nameOf(f.properties)), { sticky: true }),
  });
}

export function postLayer(icons) {
  return L.geoJSON(null, {
    pointToLayer: (f, latlng) => L.marker(latlng, {
      icon: symbolIcon(icons[f.properties.kind] || icons.observation_post),
      title: `${f.properties.code} ${nameOf(f.properties)}`,
      alt: `${f.properties.code} ${nameOf(f.properties)}`,
    }),
    onEachFeature: (f, layer) => layer.bindPopup(
      `<strong>${escapeHtml(f.properties.code)}</strong> ${escapeHtml(nameOf(f.properties))}<br>` +
      `${escapeHtml(t(f.properties.kind))} · ${escapeHtml(t(f.properties.status))}<br>${escapeHtml(f.properties.mgrs)}`),
  });
}

/** What a shape is drawn against: the areas, the corridor, the line of contact, the restricted zones, the posts and
 * the towns of the day (read-only, under what is being drawn); the map is fitted to the areas. */
export function contextLayers(map, icons, day = new Date().toISOString().slice(0, 10)) {
  const layers = Object.keys(ZONE_PATHS).map((kind) => zoneLayer(kind).addTo(map));
  const posts = icons ? postLayer(icons).addTo(map) : null;
  Promise.all(Object.values(ZONE_PATHS).map((path) => api(`/api/v1/${path}?on=${day}&limit=1000`))).then((found) => {
    found.forEach((data, i) => layers[i].addData(data));
    const areas = layers[0].getBounds();
    if (areas.isValid()) map.fitBounds(areas.pad(0.05));
  }).catch(() => { /* the shape can be drawn without them */ });
  if (posts) api(`/api/v1/posts?on=${day}&limit=10000`).then((data) => posts.addData(data)).catch(() => {});
  placeNames(map).addTo(map);
  return layers;
}

/** Labels of a layer that never overlap: after each zoom or pan, labels are kept in the layer's order (the first
 * wins) and one that would cover a kept label, or an element ``avoid`` selects, is hidden until there is room. */
export function declutter(map, labels, avoid = "img.symbol, .leaflet-tooltip.tracker-label") {
  function run() {
    const kept = [];
    // what matters more than a town's name stays readable: the force's symbols and the patrols' call signs
    for (const el of map.getContainer().querySelectorAll(avoid)) kept.push(el.getBoundingClientRect());
    for (const marker of labels()) {
      const el = marker.getElement?.();
      if (!el) continue;
      el.style.visibility = "visible";
      const box = el.getBoundingClientRect();
      const hits = kept.some((k) => box.left < k.right && box.right > k.left && box.top < k.bottom && box.bottom > k.top);
      el.style.visibility = hits ? "hidden" : "visible";
      if (!hits) kept.push(box);
    }
    document.body.dataset.labelsAt = `${map.getZoom()}@${map.getCenter().lat.toFixed(4)}`; // the tests wait for a pass
  }
  map.on("zoomend moveend overlayadd", () => requestAnimationFrame(run));
  return run;
}

/** Named places of the gazetteer (GET /api/v1/places) as a dot and a label each; labels never collide. */
export function placeNames(map, { also = () => [] } = {}) {
  const layer = L.layerGroup();
  let labels = [];
  // the towns first, then ``also`` (the posts' codes): where two would collide the town's name is kept
  const tidy = declutter(map, () => [...(map.hasLayer(layer) ? labels : []), ...also()]);
  function load() {
    return api("/api/v1/places?limit=10000").then((data) => {
      layer.clearLayers();
      labels = [];
      for (const f of data.features) {
        const [lon, lat] = f.geometry.coordinates;
        L.circleMarker([lat, lon], { radius: 2.5, color: "#333", weight: 1, fillColor: "#fff", fillOpacity: 1,
                                     interactive: false }).addTo(layer);
        const label = L.marker([lat, lon], { interactive: false, keyboard: false,
          icon: L.divIcon({ className: "place-label", html: escapeHtml(nameOf(f.properties)), iconSize: null, iconAnchor: [-5, 8] }) });
        labels.push(label);
        label.addTo(layer);
      }
      layer.features = data.features; // for the operations map's go-to box
      requestAnimationFrame(tidy);
      window.peacewatch = { ...(window.peacewatch || {}), placeCount: labels.length };
    }).catch(() => { window.peacewatch = { ...(window.peacewatch || {}), placeCount: 0 }; });
  }
  load();
  layer.tidy = () => requestAnimationFrame(tidy); // after the symbols move: the map calls it when it has drawn a moment
  layer.reload = load; // after a marker is put on the map
  return layer;
}

/** The map's legend: what each symbol, line and colour means, from the same styles and icons the layers use. */
export function legend(icons, extra = []) {
  const Legend = L.Control.extend({
    onAdd() {
      const box = L.DomUtil.create("details", "legend leaflet-bar");
      L.DomEvent.disableClickPropagation(box);
      const swatch = (style) => `<span class="swatch" style="border-color:${style.color};background:${style.fillColor || "transparent"};` +
        `${style.dashArray ? "border-style:dashed;" : ""}"></span>`;
      const symbol = (icon) => `<img src="${icon.url}" alt="" width="${Math.round(icon.size[0] * 0.7)}">`;
      const rows = [
        [symbol(icons.observation_post), t("Observation post")], [symbol(icons.checkpoint), t("Checkpoint")],
        [symbol(icons.patrol), t("Patrol (live position)")],
        [swatch(zoneStyles.area_of_responsibility), t("Areas of responsibility")], [swatch(zoneStyles.corridor), t("Corridor")],
        [swatch(zoneStyles.line_of_contact), t("Line of contact")], [swatch(zoneStyles.restricted_zone), t("Restricted zones")],
        ['<span class="dot place"></span>', t("Place names")], ...extra,
      ];
      box.innerHTML = `<summary>${escapeHtml(t("Legend"))}</summary><ul>` +
        rows.map(([key, text]) => `<li>${key} ${escapeHtml(text)}</li>`).join("") + "</ul>";
      return box;
    },
  });
  return new Legend({ position: "bottomright" });
}

/** Initial great-circle bearing from ``a`` to ``b`` (L.LatLng), degrees from true north, 0-360. */
export function bearing(a, b) {
  const rad = Math.PI / 180;
  const y = Math.sin((b.lng - a.lng) * rad) * Math.cos(b.lat * rad);
  const x = Math.cos(a.lat * rad) * Math.sin(b.lat * rad) - Math.sin(a.lat * rad) * Math.cos(b.lat * rad) * Math.cos((b.lng - a.lng) * rad);
  return (Math.atan2(y, x) / rad + 360) % 360;
}

/** The point ``metres`` from ``at`` (L.LatLng-like) on the true bearing ``degrees``, on a sphere of the Earth's mean radius. */
export function ahead(at, degrees, metres) {
  const rad = Math.PI / 180;
  const d = metres / 6371008.8;
  const lat = Math.asin(Math.sin(at.lat * rad) * Math.cos(d) + Math.cos(at.lat * rad) * Math.sin(d) * Math.cos(degrees * rad));
  const lon = at.lng * rad + Math.atan2(Math.sin(degrees * rad) * Math.sin(d) * Math.cos(at.lat * rad),
                                        Math.cos(d) - Math.sin(at.lat * rad) * Math.sin(lat));
  return [lat / rad, lon / rad];
}

/** Measure and range-and-bearing: a button turns it on; each click adds a point; the readout gives each leg's
 * range and true bearing and the total. Escape or the button again ends it. */
export function measureTool(map) {
  const Measure = L.Control.extend({
    onAdd() {
      const box = L.DomUtil.create("div", "measure leaflet-bar");
      L.DomEvent.disableClickPropagation(box);
      const button = L.DomUtil.create("button", "", box);
      button.type = "button";
      button.textContent = t("Measure distance");
      button.setAttribute("aria-pressed", "false");
      const readout = L.DomUtil.create("output", "measure-readout", box);
      readout.setAttribute("aria-live", "polite");
      readout.hidden = true;
      const drawn = L.layerGroup().addTo(map);
      let points = [];
      let on = false;
      const km = (m) => (m >= 10000 ? `${(m / 1000).toFixed(1)} km` : m >= 1000 ? `${(m / 1000).toFixed(2)} km` : `${Math.round(m)} m`);
      function show() {
        drawn.clearLayers();
        if (points.length) L.polyline(points, { color: "#000", weight: 2, dashArray: "6 4", interactive: false }).addTo(drawn);
        points.forEach((p) => L.circleMarker(p, { radius: 3, color: "#000", interactive: false }).addTo(drawn));
        let total = 0;
        const legs = [];
        for (let i = 1; i < points.length; i += 1) {
          const range = map.distance(points[i - 1], points[i]);
          total += range;
          legs.push(t("Leg %(n)s: %(range)s at %(bearing)s°", { n: i, range: km(range),
                                                                   bearing: String(Math.round(bearing(points[i - 1], points[i]))).padStart(3, "0") }));
        }
        readout.textContent = points.length < 2 ? t("Click the map: each click adds a point.")
          : `${legs.slice(-3).join(" · ")} · ${t("Total %(total)s", { total: km(total) })}`;
        readout.dataset.total = String(Math.round(total));
        readout.dataset.bearing = points.length >= 2 ? String(Math.round(bearing(points[points.length - 2], points[points.length - 1]))) : "";
      }
      function toggle(state) {
        on = state;
        button.setAttribute("aria-pressed", String(on));
        readout.hidden = !on;
        map.getContainer().classList.toggle("measuring", on);
        if (!on) { points = []; drawn.clearLayers(); } else show();
      }
      button.addEventListener("click", () => toggle(!on));
      map.on("click", (event) => { if (on) { points.push(event.latlng); show(); } });
      map.getContainer().addEventListener("keydown", (event) => { if (on && event.key === "Escape") toggle(false); });
      return box;
    },
  });
  return new Measure({ position: "topleft" });
}
