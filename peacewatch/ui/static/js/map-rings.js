// @ts-check
// Range rings: a click on the map centres rings at set distances (a post's observation range, a weapon's, a
// patrol's reach in an hour), each labelled with its distance; the rings stay until cleared.
/* global L */
import { escapeHtml, t } from "./common.js";

export const RING_KM = [1, 2, 5, 10];

/**
 * The point ``km`` kilometres due north of ``at`` ([lat, lon]) on a sphere of the Earth's mean radius, where a ring's
 * label sits.
 * @param {[number, number]} at
 * @param {number} km
 * @returns {[number, number]}
 */
export function northOf([lat, lon], km) {
  return [lat + (km / 6371.0088) * (180 / Math.PI), lon];
}

/** @param {any} map a Leaflet map */
export function rangeRings(map) {
  const rings = L.layerGroup().addTo(map);
  let armed = false;
  const Rings = L.Control.extend({
    onAdd() {
      const box = L.DomUtil.create("div", "rings leaflet-bar");
      L.DomEvent.disableClickPropagation(box);
      box.innerHTML = `<button type="button" aria-pressed="false">${escapeHtml(t("Range rings"))}</button>` +
        `<button type="button" data-clear hidden>${escapeHtml(t("Clear the rings"))}</button>` +
        `<p class="rings-said" role="status" aria-live="polite"></p>`;
      const button = /** @type {HTMLButtonElement} */ (box.querySelector("button"));
      const clear = /** @type {HTMLButtonElement} */ (box.querySelector("[data-clear]"));
      const said = /** @type {HTMLElement} */ (box.querySelector(".rings-said"));
      function arm(on) {
        armed = on;
        button.setAttribute("aria-pressed", String(on));
        map.getContainer().classList.toggle("placing-rings", on);
        said.textContent = on ? t("Click the map where the rings are centred.") : "";
      }
      button.addEventListener("click", () => arm(!armed));
      clear.addEventListener("click", () => { rings.clearLayers(); clear.hidden = true; map.getContainer().dataset.rings = "0"; });
      map.on("click", (event) => {
        if (!armed) return;
        const at = /** @type {[number, number]} */ ([event.latlng.lat, event.latlng.lng]);
        for (const km of RING_KM) {
          L.circle(at, { radius: km * 1000, color: "#6a3d9a", weight: 1.5, fill: false, dashArray: "6 4", interactive: false,
                         className: "range-ring" }).addTo(rings);
          L.marker(northOf(at, km), { interactive: false, keyboard: false,
            icon: L.divIcon({ className: "ring-label", html: escapeHtml(t("%(km)s km", { km })), iconSize: null, iconAnchor: [-3, 8] }) })
            .addTo(rings);
        }
        L.circleMarker(at, { radius: 3, color: "#6a3d9a", fillOpacity: 1, interactive: false }).addTo(rings);
        clear.hidden = false;
        map.getContainer().dataset.rings = String(rings.getLayers().filter((l) => l instanceof L.Circle).length);
        arm(false);
      });
      return box;
    },
  });
  return new Rings({ position: "topleft" });
}
