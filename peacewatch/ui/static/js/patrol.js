// One patrol: its planned route and its tracks on a map; start, complete or abort it.
/* global L */
import { api, baseMap, config, showProblem, t, zoneLayer } from "./common.js";

const { map } = baseMap("patrol-map", { zoom: 9 });
const areas = zoneLayer("area_of_responsibility").addTo(map);
const patrol = await api(`/api/v1/patrols/${config.patrol_id}`);
api("/api/v1/areas").then((data) => areas.addData(data));
const layers = [];
if (patrol.route) {
  const route = L.geoJSON(patrol.route, { style: { color: "#0b5394", weight: 4, dashArray: "10 6" } })
    .bindTooltip(t("Planned route")).addTo(map);
  route.getLayers().forEach((l) => l.getElement && l.getElement()?.classList.add("planned-route"));
  layers.push(route);
}
const tracks = await api(`/api/v1/patrols/${config.patrol_id}/track`);
if (tracks.features.length) {
  layers.push(L.geoJSON(tracks, { style: { color: "#c05800", weight: 3 } }).bindTooltip(t("Track")).addTo(map));
}
const bounds = layers.reduce((b, l) => b.extend(l.getBounds()), L.latLngBounds([]));
if (bounds.isValid()) map.fitBounds(bounds, { padding: [30, 30], maxZoom: 13 });
window.peacewatch = { map, routeDrawn: Boolean(patrol.route) };

const form = document.getElementById("act-form");
if (form) {
  form.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const reason = form.querySelector('[name="reason"]').value.trim();
    try {
      await api(`/api/v1/patrols/${config.patrol_id}/${button.dataset.action}`,
                { method: "POST", body: reason ? { reason } : {} });
      window.location.reload();
    } catch (problem) {
      showProblem(form, problem);
    }
  });
}
