// @ts-check
// Go to a place on the operations map: a town or a marked place (by its Latin or Cyrillic name), an observation
// post, a unit, a patrol or a tracker, an MGRS grid reference or a pair of degrees. What is on the map is searched
// in the browser; a grid reference is read by the server, which converts it as the cursor readout does.
/* global L */
import { api, escapeHtml, t } from "./common.js";

/**
 * @typedef {object} Destination
 * @property {string} name           the name in the page's language
 * @property {string[]} [aliases]    other names it answers to (its other language, a code, a call sign)
 * @property {string} kind           what it is, said in the page's language ("Place", "Post", "Patrol")
 * @property {[number, number]} [at] where it is, [lat, lon]
 * @property {any} [bounds]          or the area it covers (an L.LatLngBounds)
 * @property {string} [note]         why it cannot be gone to now (a unit with no one heard at this moment)
 */

const GRID_REFERENCE = /^\s*\d{1,2}\s*[c-hj-np-x]\s*[a-hj-np-z]{2}[\s\d]*$/i;
const DEGREES = /^\s*(-?\d{1,2}(?:\.\d+)?)\s*[,;\s]\s*(-?\d{1,3}(?:\.\d+)?)\s*$/;
const SHOWN = 8;

/** A name folded for matching: case, accents (Ağdam, Ağdərə) and ё are not what a watch officer types. */
export function fold(text) {
  return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/ё/g, "е")
    .replace(/ı/g, "i").replace(/ə/g, "e").replace(/[\s\-'’.]+/g, " ").trim();
}

/**
 * The destinations whose name or alias holds what was typed: those that begin with it first, then the rest,
 * each in its own order (places before posts before patrols, as ``everything`` lists them).
 * @param {string} typed
 * @param {Destination[]} everything
 * @returns {Destination[]}
 */
export function matching(typed, everything) {
  const wanted = fold(typed);
  if (!wanted) return [];
  const scored = [];
  everything.forEach((d, order) => {
    const names = [d.name, ...(d.aliases || [])].map(fold);
    const rank = names.some((n) => n === wanted) ? 0 : names.some((n) => n.startsWith(wanted) || n.includes(` ${wanted}`)) ? 1
      : names.some((n) => n.includes(wanted)) ? 2 : 3;
    if (rank < 3) scored.push({ d, rank, order });
  });
  return scored.sort((a, b) => a.rank - b.rank || a.order - b.order).map((s) => s.d);
}

/**
 * The go-to box, top left under the zoom buttons. ``destinations`` is asked afresh at each keystroke: patrols move.
 * @param {any} map a Leaflet map
 * @param {() => Destination[]} destinations
 */
export function goToControl(map, destinations) {
  const mark = L.layerGroup().addTo(map); // where the map went: a ring, until the next search
  const GoTo = L.Control.extend({
    onAdd() {
      const form = L.DomUtil.create("form", "goto leaflet-bar");
      form.setAttribute("role", "search");
      form.innerHTML = `<label for="goto" class="visually-hidden">${escapeHtml(t("Go to"))}</label>` +
        `<input id="goto" type="search" role="combobox" autocomplete="off" spellcheck="false" aria-autocomplete="list" aria-controls="goto-results" ` +
        `aria-expanded="false" placeholder="${escapeHtml(t("Go to: place, MGRS, post, unit, patrol"))}">` +
        `<ul id="goto-results" role="listbox" aria-label="${escapeHtml(t("Places found"))}" hidden></ul>` +
        `<p class="goto-said" role="status" aria-live="polite"></p>`;
      L.DomEvent.disableClickPropagation(form);
      L.DomEvent.disableScrollPropagation(form);
      const input = /** @type {HTMLInputElement} */ (form.querySelector("input"));
      const list = /** @type {HTMLUListElement} */ (form.querySelector("ul"));
      const said = /** @type {HTMLElement} */ (form.querySelector(".goto-said"));
      /** @type {Destination[]} */
      let found = [];

      function show(items) {
        found = items;
        list.replaceChildren(...items.map((d, i) => {
          const item = document.createElement("li");
          item.setAttribute("role", "option");
          item.id = `goto-option-${i}`;
          item.dataset.index = String(i);
          item.innerHTML = `<strong>${escapeHtml(d.name)}</strong> <span class="hint">${escapeHtml(d.kind)}` +
            `${d.note ? ` · ${escapeHtml(d.note)}` : ""}</span>`;
          if (d.note) item.setAttribute("aria-disabled", "true");
          return item;
        }));
        list.hidden = !items.length;
        input.setAttribute("aria-expanded", String(items.length > 0));
      }
      function go(d) {
        if (d.note) { said.textContent = `${d.name}: ${d.note}`; return; }
        mark.clearLayers();
        // a jump, not a flight: a second go-to typed while the first was still flying would be lost to it
        if (d.bounds) {
          map.fitBounds(d.bounds.pad(0.3), { maxZoom: 13, animate: false });
          L.rectangle(d.bounds.pad(0.1), { color: "#f2a900", weight: 3, fill: false, interactive: false, className: "goto-mark" }).addTo(mark);
        } else if (d.at) {
          map.setView(d.at, Math.max(map.getZoom(), 13), { animate: false });
          L.circleMarker(d.at, { radius: 22, color: "#f2a900", weight: 4, fill: false, interactive: false, className: "goto-mark" }).addTo(mark);
        }
        said.textContent = t("Went to %(name)s", { name: d.name });
        show([]);
        map.getContainer().dataset.wentTo = d.name; // for an operator's console and the browser tests
      }
      async function goToTyped() {
        const typed = input.value.trim();
        const degrees = DEGREES.exec(typed);
        if (degrees && Math.abs(Number(degrees[1])) <= 90 && Math.abs(Number(degrees[2])) <= 180) {
          go({ name: typed, kind: t("Coordinates"), at: [Number(degrees[1]), Number(degrees[2])] });
          return;
        }
        if (GRID_REFERENCE.test(typed)) {
          try {
            const point = await api(`/api/v1/coordinates?mgrs=${encodeURIComponent(typed)}`);
            go({ name: `MGRS ${point.mgrs}`, kind: "MGRS", at: [point.lat, point.lon] });
          } catch (problem) {
            said.textContent = problem.errors?.[0]?.message || problem.detail || t("Not a grid reference.");
          }
          return;
        }
        const best = matching(typed, destinations());
        if (best.length) go(best[0]);
        else said.textContent = t("Nothing on the map is called “%(typed)s”.", { typed });
      }

      input.addEventListener("input", () => {
        said.textContent = "";
        show(GRID_REFERENCE.test(input.value) || DEGREES.test(input.value) ? [] : matching(input.value, destinations()).slice(0, SHOWN));
      });
      input.addEventListener("keydown", (event) => {
        const items = [...list.children];
        const current = items.findIndex((item) => item.getAttribute("aria-selected") === "true");
        if (event.key === "ArrowDown" || event.key === "ArrowUp") {
          event.preventDefault();
          if (!items.length) return;
          const next = event.key === "ArrowDown" ? (current + 1) % items.length : (current - 1 + items.length) % items.length;
          items.forEach((item, i) => item.setAttribute("aria-selected", String(i === next)));
          input.setAttribute("aria-activedescendant", items[next].id);
        } else if (event.key === "Escape") {
          show([]);
        }
      });
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const chosen = list.querySelector('[aria-selected="true"]');
        if (chosen instanceof HTMLElement && !list.hidden) go(found[Number(chosen.dataset.index)]);
        else goToTyped();
      });
      list.addEventListener("click", (event) => {
        const item = event.target instanceof Element ? event.target.closest("li") : null;
        if (item instanceof HTMLElement) go(found[Number(item.dataset.index)]);
      });
      return form;
    },
  });
  return new GoTo({ position: "topleft" });
}
