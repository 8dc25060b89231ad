// Plan a patrol: the form posts to the API; the server's errors appear next to their fields.
/* global L */
import { api, baseMap, missionTimeToIso, showProblem, t, zoneLayer } from "./common.js";

const form = document.getElementById("plan-form");
const routeInput = document.getElementById("f-route");
const { map } = baseMap("route-map", { zoom: 8.5 });
const areas = zoneLayer("area_of_responsibility").addTo(map);
api("/api/v1/areas").then((data) => areas.addData(data));
const route = L.polyline([], { color: "#0b5394", weight: 3 }).addTo(map);

function routePoints() {
  const points = [];
  const lines = routeInput.value.split("\n").map((l) => l.trim()).filter(Boolean);
  for (const [i, line] of lines.entries()) {
    const parts = line.split(/[,;\s]+/).filter(Boolean).map(Number);
    if (parts.length !== 2 || parts.some(Number.isNaN)) {
      throw { detail: t("Check the route."), errors: [{ field: "body.route", message: t("Line %(n)s is not 'latitude, longitude'.", { n: i + 1 }) }] };
    }
    points.push(parts);
  }
  return points;
}
function redraw() { try { route.setLatLngs(routePoints()); } catch { /* shown on submit */ } }
routeInput.addEventListener("input", redraw);
map.on("click", (event) => {
  const { lat, lng } = event.latlng;
  routeInput.value = `${routeInput.value.trim()}\n${lat.toFixed(5)}, ${lng.toFixed(5)}`.trim();
  redraw();
});

const utc = missionTimeToIso; // typed on the mission's clock, sent as an instant

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  try {
    const points = routePoints();
    const body = {
      name: data.get("name"),
      unit_id: Number(data.get("unit_id")),
      zone_id: Number(data.get("zone_id")),
      planned_start: utc(data.get("planned_start")),
      planned_end: utc(data.get("planned_end")),
      trackers: String(data.get("trackers") || "").split(",").map((s) => s.trim()).filter(Boolean),
      visibility: data.get("visibility"),
    };
    if (points.length) body.route = { type: "LineString", coordinates: points.map(([lat, lon]) => [lon, lat]) };
    const patrol = await api("/api/v1/patrols", { method: "POST", body });
    window.location.assign(`/patrols/${patrol.id}`);
  } catch (problem) {
    showProblem(form, problem);
  }
});
