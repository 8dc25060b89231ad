// The official map: public records only, as of the chosen day; the same data the downloads carry.
import { baseMap, config, postLayer, zoneLayer } from "./common.js";

const { map } = baseMap("map", { zoom: 8.5 });
const zones = {};
for (const kind of ["area_of_responsibility", "corridor", "line_of_contact"]) zones[kind] = zoneLayer(kind).addTo(map);
const posts = postLayer(config.icons).addTo(map);
const response = await fetch(`/api/v1/official-map?on=${config.day}&format=geojson`);
const data = await response.json();
const counts = { observation_post: 0, checkpoint: 0 };
for (const feature of data.features) {
  const kind = feature.properties.kind;
  if (kind in zones) zones[kind].addData(feature);
  else { posts.addData(feature); counts[kind] = (counts[kind] || 0) + 1; }
}
for (const [kind, n] of Object.entries(counts)) {
  const slot = document.getElementById(`count-${kind}`);
  if (slot) slot.textContent = String(n);
}
const bounds = zones.area_of_responsibility.getBounds();
if (bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20] });
document.body.dataset.loaded = "1";
window.peacewatch = { map, postCount: () => posts.getLayers().length };
