// @ts-check
// A shape drawn and corrected point by point on a Leaflet map: each click adds a point; each point is a handle that
// is dragged (or moved with the arrow keys once focused) and removed with a right click or Delete. Used by the task
// forms' small maps and by the operations map's drawing tool.
/* global L */
import { t } from "./common.js";

const MAX_HANDLES = 400; // more points than that are not moved one by one: the shape is redrawn or edited as GeoJSON

/**
 * The vertices of a one-part shape as [lat, lon], to be moved one by one; null for a shape of several parts.
 * @param {any} shape a GeoJSON geometry
 * @returns {[number, number][] | null}
 */
export function verticesOf(shape) {
  const latLon = (ring) => ring.map(([lon, lat]) => [lat, lon]);
  switch (shape?.type) {
    case "Point": return [[shape.coordinates[1], shape.coordinates[0]]];
    case "LineString": return latLon(shape.coordinates);
    case "MultiLineString": return shape.coordinates.length === 1 ? latLon(shape.coordinates[0]) : null;
    case "Polygon": return shape.coordinates.length === 1 ? latLon(shape.coordinates[0].slice(0, -1)) : null;
    case "MultiPolygon":
      return shape.coordinates.length === 1 && shape.coordinates[0].length === 1
        ? latLon(shape.coordinates[0][0].slice(0, -1)) : null;
    default: return null;
  }
}

/**
 * The GeoJSON geometry of ``type`` through ``points`` ([lat, lon]), to six decimals (about 10 cm).
 * @param {string} type
 * @param {[number, number][]} points
 */
export function geometryOf(type, points) {
  const ring = points.map(([lat, lon]) => [Number(lon.toFixed(6)), Number(lat.toFixed(6))]);
  if (!ring.length) return null;
  switch (type) {
    case "Point": return { type: "Point", coordinates: ring[ring.length - 1] };
    case "LineString": return { type: "LineString", coordinates: ring };
    case "MultiLineString": return { type: "MultiLineString", coordinates: [ring] };
    case "Polygon": return { type: "Polygon", coordinates: [[...ring, ring[0]]] };
    case "MultiPolygon": return { type: "MultiPolygon", coordinates: [[[...ring, ring[0]]]] };
    default: return null;
  }
}

/**
 * @param {any} map a Leaflet map
 * @param {{ kind: () => string, changed: (shape: any) => void, colour?: string }} options
 *   kind: the GeoJSON type being drawn, asked at each click; changed: told the new shape (null when cleared)
 */
export function shapeEditor(map, { kind, changed, colour = "#1d4f8c" }) {
  const drawn = L.layerGroup().addTo(map);
  /** @type {[number, number][]} */
  let points = [];
  let backdrop = null; // a shape with too many parts or points to move by hand: shown, not handled
  let active = true;

  function draw() {
    drawn.clearLayers();
    const shape = points.length ? geometryOf(kind(), points) : backdrop;
    if (shape) {
      L.geoJSON(shape, { style: { color: colour, weight: 3 }, interactive: false,
                         pointToLayer: (_f, at) => L.circleMarker(at, { radius: 5, interactive: false }) }).addTo(drawn);
    }
    points.forEach((at, index) => handle(at, index));
  }
  function change() {
    backdrop = null;
    changed(points.length ? geometryOf(kind(), points) : null);
    draw();
  }
  function handle(latlng, index) {
    const marker = L.marker(latlng, {
      draggable: true, keyboard: true, title: t("Point %(n)s: drag to move, right-click or Delete to remove", { n: index + 1 }),
      icon: L.divIcon({ className: "vertex-handle", iconSize: [14, 14] }),
    });
    marker.on("dragend", () => { const at = marker.getLatLng(); points[index] = [at.lat, at.lng]; change(); });
    const remove = () => { points.splice(index, 1); change(); };
    marker.on("contextmenu", remove);
    marker.on("add", () => {
      marker.getElement()?.addEventListener("keydown", (event) => {
        const step = { ArrowUp: [1, 0], ArrowDown: [-1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] }[event.key];
        if (event.key === "Delete" || event.key === "Backspace") { event.preventDefault(); remove(); return; }
        if (!step) return;
        event.preventDefault();
        event.stopPropagation(); // the handle moves, not the map
        const pixel = map.latLngToContainerPoint(marker.getLatLng()).add(L.point(step[1] * 5, -step[0] * 5));
        const at = map.containerPointToLatLng(pixel);
        points[index] = [at.lat, at.lng];
        change();
        drawn.getLayers().find((layer) => layer.vertexIndex === index)?.getElement()?.focus();
      });
    });
    marker.vertexIndex = index;
    marker.addTo(drawn); // last: its "add" listener above is what makes the keys work
  }
  function onClick(event) {
    if (!active || map.getContainer().classList.contains("measuring")) return;
    const at = /** @type {[number, number]} */ ([event.latlng.lat, event.latlng.lng]);
    points = kind() === "Point" ? [at] : [...points, at];
    change();
  }
  map.on("click", onClick);

  return {
    /** The shape as drawn now, or null. */
    geometry: () => (points.length ? geometryOf(kind(), points) : backdrop),
    /** Takes a shape to correct (its points become handles); the bounds to show it in, or null. */
    load(shape) {
      backdrop = shape;
      points = verticesOf(shape) || [];
      if (points.length > MAX_HANDLES) points = [];
      draw();
      const bounds = shape ? L.geoJSON(shape).getBounds() : null;
      return bounds && bounds.isValid() ? bounds : null;
    },
    clear() { points = []; backdrop = null; draw(); },
    /** Whether a click on the map adds a point (off: the map's clicks are its own again). */
    setActive(on) { active = on; },
    remove() { map.off("click", onClick); drawn.remove(); },
  };
}
