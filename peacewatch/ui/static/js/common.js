// Shared by every page: configuration, translated strings, API calls with the CSRF token, map basics.
/* global L */

export const config = JSON.parse(document.getElementById("config").textContent || "{}");
const strings = JSON.parse(document.getElementById("strings").textContent || "{}");
const csrf = document.querySelector('meta[name="csrf-token"]').content;

/** The translation of an English UI string (the server sends the catalog the page needs). */
export function t(text, values = {}) {
  let out = strings[text] || text;
  for (const [key, value] of Object.entries(values)) out = out.replace(`%(${key})s`, value);
  return out;
}

/** An API call as the signed-in user; unsafe methods carry the CSRF token. Throws the problem on error. */
export async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json, application/geo+json, application/problem+json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body),
                                       credentials: "same-origin" });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const problem = data || { detail: response.statusText };
    problem.status = response.status;
    throw problem;
  }
  return data;
}

/** Shows a problem's field errors next to their fields (data-error-for="name"), the rest at the top. */
export function showProblem(form, problem) {
  form.querySelectorAll("[data-error-for]").forEach((el) => { el.hidden = true; el.textContent = ""; });
  form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
  const general = form.querySelector('[data-error-for=""]');
  const unplaced = [];
  for (const error of problem.errors || []) {
    const name = (error.field || "").replace(/^body\./, "").split(".")[0];
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
  const borders = L.geoJSON(null, { style: { color: "#6b6358", weight: 1.2, fill: false }, interactive: false,
                                     attribution: "Natural Earth" }).addTo(map);
  fetch("/static/geo/borders-caucasus-ne50m.geojson").then((r) => r.json()).then((data) => borders.addData(data));
  const grid = graticule(map).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);
  return { map, overlays: { [t("Country borders")]: borders, [t("Graticule")]: grid, ...background } };
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

export function zoneLayer(kind) {
  return L.geoJSON(null, {
    style: zoneStyles[kind],
    onEachFeature: (f, layer) => layer.bindTooltip(escapeHtml(f.properties.name), { sticky: true }),
  });
}

export function postLayer(icons) {
  return L.geoJSON(null, {
    pointToLayer: (f, latlng) => L.marker(latlng, {
      icon: symbolIcon(icons[f.properties.kind] || icons.observation_post),
      title: `${f.properties.code} ${f.properties.name}`,
      alt: `${f.properties.code} ${f.properties.name}`,
    }),
    onEachFeature: (f, layer) => layer.bindPopup(
      `<strong>${escapeHtml(f.properties.code)}</strong> ${escapeHtml(f.properties.name)}<br>` +
      `${escapeHtml(t(f.properties.kind))} · ${escapeHtml(t(f.properties.status))}<br>${escapeHtml(f.properties.mgrs)}`),
  });
}
