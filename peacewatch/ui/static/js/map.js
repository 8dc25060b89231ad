// The operations map: our layers as of a moment (the time slider) or live (server-sent events).
/* global L */
import { drawTool } from "./map-draw.js";
import { goToControl } from "./map-goto.js";
import { rangeRings } from "./map-rings.js";
import { ahead, alertText, api, baseMap, config, escapeHtml, legend, measureTool, missionTime, missionTimeToIso, nameOf, placeNames, postLayer, t,
         ZONE_PATHS, zoneCaption, zoneLayer } from "./common.js";

const { map, overlays } = baseMap("map", { basemap: config.basemap });
const zones = {
  area_of_responsibility: zoneLayer("area_of_responsibility").addTo(map),
  corridor: zoneLayer("corridor").addTo(map),
  line_of_contact: zoneLayer("line_of_contact").addTo(map),
  restricted_zone: zoneLayer("restricted_zone").addTo(map),
};
const posts = postLayer(config.icons).addTo(map);
const coverage = L.geoJSON(null, { style: { color: "#2e7d32", weight: 0.5, fillColor: "#66bb6a", fillOpacity: 0.35 },
                                   interactive: false });
if (config.coverage) coverage.addTo(map);
const tracks = L.layerGroup().addTo(map);
const routes = L.layerGroup().addTo(map);
const patrols = L.layerGroup().addTo(map);
const leaders = L.layerGroup().addTo(map); // thin lines from a fanned-out patrol symbol to where the patrol is
const vectors = L.layerGroup().addTo(map); // where each moving patrol will be in VECTOR_MINUTES at its speed and heading
const VECTOR_MINUTES = 5;
const vectorOf = new Map(); // tracker id -> its vector
const incidents = L.layerGroup();
if (config.incidents) incidents.addTo(map);
const fieldFiles = L.layerGroup(); // photos and documents that arrived on the day's incidents, where the incident was
if (config.incidents) fieldFiles.addTo(map);
const alertMarkers = L.layerGroup().addTo(map);
map.createPane("emergencies").style.zIndex = 690; // calls for help: above markers (600) and tooltips' own pane (650)
const postLabels = L.layerGroup().addTo(map); // each post's code beside its symbol, kept clear of towns and patrols
posts.on("add", () => postLabels.addTo(map)).on("remove", () => postLabels.remove());
const places = placeNames(map, { also: () => (map.hasLayer(postLabels) ? postLabels.getLayers() : []) }).addTo(map);
function labelPosts() {
  postLabels.clearLayers();
  for (const layer of posts.getLayers()) {
    const p = layer.feature.properties;
    L.marker(layer.getLatLng(), { interactive: false, keyboard: false,
      icon: L.divIcon({ className: "post-label", html: escapeHtml(p.code), iconSize: null, iconAnchor: [-16, 7] }) }).addTo(postLabels);
  }
}

// an operations officer changes a zone or a post from the map: its form opens filled in with its shape
const ZONE_OPERATIONS = { area_of_responsibility: "areas", corridor: "corridors", line_of_contact: "lines_of_contact",
                          restricted_zone: "restricted_zones" };
function editLink(operation, idName, id, geometry) {
  const query = new URLSearchParams({ [`path.${idName}`]: String(id), "body.geometry": JSON.stringify(geometry) });
  return `/tasks/${operation}?${query}`;
}
// drawing on this map: zones, posts and markers, each shared as its author says; the layers reload once stored
const draw = config.can_edit_geography ? drawTool(map, {
  day: () => dayInput.value,
  zonesForPosts: () => [...zones.area_of_responsibility.getLayers(), ...zones.corridor.getLayers()].map((layer) => layer.feature),
  saved: () => { load(); places.reload(); },
}) : null;
/** A popup's buttons: edit here, or open the record's full form. */
function editChoices(name, kind, feature, href) {
  const box = document.createElement("div");
  box.innerHTML = `<strong>${escapeHtml(name)}</strong><br><button type="button" class="link" data-edit>${escapeHtml(t("Edit here"))}</button>` +
    ` · <a href="${escapeHtml(href)}">${escapeHtml(t("Change its shape or details"))}</a>`;
  box.querySelector("[data-edit]").addEventListener("click", () => { map.closePopup(); draw.edit(kind, feature); });
  return box;
}
if (draw) {
  for (const [kind, layer] of Object.entries(zones)) {
    layer.on("click", (event) => {
      if (map.getContainer().classList.contains("measuring") || map.getContainer().classList.contains("drawing")) return;
      const f = event.layer.feature;
      const href = editLink(`update_zone_api_v1_${ZONE_OPERATIONS[kind]}__zone_id__patch`, "zone_id", f.id, f.geometry);
      L.popup().setLatLng(event.latlng).setContent(editChoices(nameOf(f.properties), kind, f, href)).openOn(map);
    });
  }
  posts.on("popupopen", (event) => {
    const f = event.layer.feature;
    const content = event.popup.getElement()?.querySelector(".leaflet-popup-content");
    if (!f || !content || content.querySelector("[data-edit]")) return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link";
    button.dataset.edit = "";
    button.textContent = t("Edit here");
    button.addEventListener("click", () => { map.closePopup(); draw.edit(f.properties.kind, f); });
    content.append(document.createElement("br"), button);
  });
}
const alertPins = new Map(); // alert id -> its marker, where the alert has a place
const STATUS_COLOURS = { confirmed: "#b2182b", under_investigation: "#ef8a62", reported: "#f4a582",
                         not_confirmed: "#999999", rejected: "#cccccc" };
const markers = new Map(); // tracker id -> marker
const lines = new Map(); // tracker id -> polyline

L.control.layers(null, {
  [t("Areas of responsibility")]: zones.area_of_responsibility,
  [t("Corridor")]: zones.corridor,
  [t("Line of contact")]: zones.line_of_contact,
  [t("Restricted zones")]: zones.restricted_zone,
  [t("Observation posts and checkpoints")]: posts,
  [t("Patrols (live positions)")]: patrols,
  [t("Planned patrol routes")]: routes,
  [t("Recent tracks")]: tracks,
  [t("Heading and speed (5 minutes ahead)")]: vectors,
  ...(config.coverage ? { [t("Coverage, last 24 hours")]: coverage } : {}),
  ...(config.incidents ? { [t("Incidents of the reporting day")]: incidents, [t("Files from the field")]: fieldFiles } : {}),
  [t("Alerts")]: alertMarkers,
  [t("Place names")]: places,
  ...overlays,
}, { collapsed: window.innerWidth < 1600 }).addTo(map);
goToControl(map, destinations).addTo(map); // first under the zoom: the box a caller's place is typed into
measureTool(map).addTo(map);
rangeRings(map).addTo(map);
if (draw) draw.control.addTo(map);
const legendSymbol = (kind) => `<img src="${escapeHtml(config.icons[kind].url)}" alt="" width="${Math.round(config.icons[kind].size[0] * 0.7)}">`;
legend(config.icons, [[legendSymbol("alert"), t("Alert, where it was raised")],
                      [legendSymbol("emergency"), t("Call for help")], [legendSymbol("casevac"), t("CASEVAC request")],
                      [legendSymbol("shooting"), t("Ceasefire violation (shooting)")],
                      [legendSymbol("incident"), t("Incident, its status the bar beneath")]]).addTo(map);

// --- time -----------------------------------------------------------------------------------------
const dayInput = document.getElementById("day");
const minuteInput = document.getElementById("minute");
const clock = document.getElementById("clock");
const liveButton = document.getElementById("live");
const status = document.getElementById("status");
let live = config.live;
// the time bar reads the mission's clock: its day and minute are Baku's (or the configured zone's), not UTC's
function showMoment(instant) {
  const local = missionTime(instant); // "2020-11-14 12:03"
  dayInput.value = local.slice(0, 10);
  minuteInput.value = String(Math.min(1435, Math.floor((Number(local.slice(11, 13)) * 60 + Number(local.slice(14, 16))) / 5) * 5));
}
if (config.at) showMoment(new Date(config.at));

function pad(n) { return String(n).padStart(2, "0"); }
function showClock() {
  const m = Number(minuteInput.value);
  clock.textContent = `${pad(Math.floor(m / 60))}:${pad(m % 60)}`;
}
function moment() {
  if (live) return new Date();
  const m = Number(minuteInput.value);
  return new Date(missionTimeToIso(`${dayInput.value}T${pad(Math.floor(m / 60))}:${pad(m % 60)}`));
}
function setLive(on) {
  live = on;
  liveButton.setAttribute("aria-pressed", String(on));
  document.body.classList.toggle("is-live", on);
  if (on) showMoment(new Date());
  showClock();
}

// --- playback: the time bar steps on by itself, five minutes at a time, to the day's end ------------------
const playButton = document.getElementById("play");
const PLAY_STEP_MS = window.peacewatchPlayStepMs || 800; // a test may quicken it
let playTimer = null;
function stopPlay() {
  clearInterval(playTimer);
  playTimer = null;
  playButton.setAttribute("aria-pressed", "false");
  playButton.textContent = t("Play");
}
playButton.addEventListener("click", () => {
  if (playTimer) { stopPlay(); return; }
  if (live) { setLive(false); followLive(); }
  playButton.setAttribute("aria-pressed", "true");
  playButton.textContent = t("Pause");
  playTimer = setInterval(() => {
    const next = Number(minuteInput.value) + Number(document.getElementById("play-step").value || 5);
    if (next > 1435) { stopPlay(); return; }
    minuteInput.value = String(next);
    showClock();
    load();
  }, PLAY_STEP_MS);
});

/** The patrols planned on the mission's day ``day`` (its midnight to the next, on the mission's clock, not UTC's). */
function dayPlanUrl(day) {
  const since = missionTimeToIso(`${day}T00:00`);
  const until = new Date(Date.parse(since) + 86400000).toISOString();
  return `/api/v1/patrols?since=${encodeURIComponent(since)}&until=${encodeURIComponent(until)}&limit=1000`;
}

// --- loading a moment -------------------------------------------------------------------------------
let generation = 0;
async function load() {
  const mine = ++generation;
  const at = moment().toISOString();
  const day = dayInput.value;
  status.textContent = t("Loading…");
  try {
    const [zoneData, postData, fixes, recent, planned] = await Promise.all([
      Promise.all(Object.values(ZONE_PATHS).map((path) => api(`/api/v1/${path}?on=${day}&limit=1000`))),
      api(`/api/v1/posts?on=${day}&limit=10000`),
      api(`/api/v1/positions/latest?at=${encodeURIComponent(at)}&max_age_minutes=60`),
      api(`/api/v1/positions/tracks?until=${encodeURIComponent(at)}&hours=2`),
      api(dayPlanUrl(day)),
    ]);
    if (mine !== generation) return; // a newer moment was asked for meanwhile
    Object.keys(ZONE_PATHS).forEach((kind, i) => { zones[kind].clearLayers(); zones[kind].addData(zoneData[i]); });
    posts.clearLayers();
    posts.addData(postData);
    labelPosts();
    document.getElementById("posts-open").textContent = String(postData.features.length);
    drawRoutes(planned);
    patrols.clearLayers(); markers.clear();
    vectors.clearLayers(); vectorOf.clear();
    tracks.clearLayers(); lines.clear();
    recent.features.forEach(drawTrack);
    placeFixes(fixes.features);
    fanOut();
    untangleLabels();
    document.getElementById("trackers-heard").textContent = String(markers.size);
    await Promise.all([config.coverage && loadCoverage(zoneData[0], at, mine), config.incidents && loadIncidents(day, mine),
                       config.incidents && loadFieldFiles(at, mine)]);
    showAlertsAt();
    status.textContent = live ? t("Live") : t("Situation at %(at)s (%(zone)s)", { at: missionTime(at), zone: zoneCaption });
    places.tidy();
    document.body.dataset.loaded = String(mine);
  } catch (problem) {
    status.textContent = problem.detail || t("Could not load the map data.");
  }
}

// --- filter by unit and by kind -----------------------------------------------------------------------------
const unitFilter = document.getElementById("filter-unit");
const kindFilter = document.getElementById("filter-kind");
let dayPatrols = [];
function unitAdmits(patrol) { return !unitFilter.value || (patrol && String(patrol.unit_id) === unitFilter.value); }
function kindAdmits(kind) { return !kindFilter.value || kind === kindFilter.value; }
function patrolOfTracker(code) { return dayPatrols.find((p) => (p.trackers || []).includes(code)); }
function patrolById(id) { return dayPatrols.find((p) => p.id === id); }
function applyFilter() {
  for (const marker of markers.values()) {
    const wanted = !unitFilter.value || unitAdmits(patrolOfTracker(marker.feature?.properties.code));
    if (wanted) patrols.addLayer(marker); else patrols.removeLayer(marker);
  }
  fanOut();
  untangleLabels();
  drawRoutes(dayPatrols);
  drawIncidents();
  showAlertsAt();
  window.peacewatch.visiblePatrols = [...markers.values()].filter((m) => patrols.hasLayer(m)).length;
}
unitFilter.addEventListener("change", applyFilter);
kindFilter.addEventListener("change", applyFilter);
let units = [];
api("/api/v1/units?limit=1000").then((found) => {
  units = found;
  for (const unit of units) unitFilter.add(new Option(nameOf(unit), String(unit.id)));
}).catch(() => { unitFilter.disabled = true; });

// --- go to: a place, a post, a unit, a patrol, a tracker (or a grid reference, which the box reads itself) --------
/** Where each patrol is at the map's moment: its trackers heard, else its planned route, else nowhere. */
function patrolWhere(patrol) {
  const heard = [...markers.values()].filter((m) => (patrol.trackers || []).includes(m.feature?.properties.code));
  if (heard.length) return L.latLngBounds(heard.map((m) => m.getLatLng()));
  return patrol.route ? L.geoJSON(patrol.route).getBounds() : null;
}
function destinations() {
  const other = (p) => [p.name, p.name_ru].filter((n) => n && n !== nameOf(p));
  const found = [];
  for (const f of places.features || []) {
    found.push({ name: nameOf(f.properties), aliases: other(f.properties), kind: t("Place"),
                 at: [f.geometry.coordinates[1], f.geometry.coordinates[0]] });
  }
  for (const layer of posts.getLayers()) {
    const p = layer.feature.properties;
    found.push({ name: `${p.code} ${nameOf(p)}`, aliases: [p.code, ...other(p)], kind: t(p.kind),
                 at: [layer.getLatLng().lat, layer.getLatLng().lng] });
  }
  const away = t("not on the map at this moment");
  for (const patrol of dayPatrols) {
    const where = patrolWhere(patrol);
    found.push({ name: patrol.name, aliases: patrol.trackers || [], kind: t("Patrol"), ...(where ? { bounds: where } : { note: away }) });
  }
  for (const unit of units) {
    const theirs = dayPatrols.filter((p) => p.unit_id === unit.id).map(patrolWhere).filter(Boolean);
    const where = theirs.reduce((all, b) => (all ? all.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast())), null);
    found.push({ name: nameOf(unit), aliases: [unit.designation, ...other(unit)].filter(Boolean), kind: t("Unit"),
                 ...(where ? { bounds: where } : { note: away }) });
  }
  for (const marker of markers.values()) {
    const p = marker.feature?.properties;
    if (p) found.push({ name: p.code, aliases: [p.name].filter(Boolean), kind: t("Tracker"), at: [marker.getLatLng().lat, marker.getLatLng().lng] });
  }
  return found;
}


function drawRoutes(planned) {
  dayPatrols = planned;
  routes.clearLayers();
  for (const patrol of planned.filter((p) => p.route && unitAdmits(p))) {
    L.geoJSON(patrol.route, { style: { color: "#0b5394", weight: 3, dashArray: "10 6", opacity: 0.9 } })
      .bindTooltip(escapeHtml(patrol.name), { sticky: true })
      .on("click", () => window.location.assign(`/patrols/${patrol.id}`))
      .addTo(routes);
  }
}

// live, the day's plan is read again every half minute: a patrol planned by a colleague appears without a reload
const PLAN_REFRESH_MS = window.peacewatchPlanRefreshMs || 30000; // a test may shorten it
setInterval(async () => {
  if (!live || document.hidden) return;
  const day = dayInput.value;
  try {
    drawRoutes(await api(dayPlanUrl(day)));
    if (config.incidents) await loadFieldFiles(moment().toISOString(), generation); // files arriving from the field
  } catch { /* the next round tries again; the status line reports lasting trouble */ }
}, PLAN_REFRESH_MS);

async function loadCoverage(areas, at, mine) {
  const cells = await Promise.all(areas.features.map((f) =>
    api(`/api/v1/coverage/${f.id}/cells?state=visited&window=24h&at=${encodeURIComponent(at)}`).catch(() => null)));
  if (mine !== generation) return;
  coverage.clearLayers();
  cells.filter(Boolean).forEach((c) => coverage.addData(c));
}

// events (reports merged) of the reporting day, sized by what was counted, coloured by verification
let dayEvents = [];
async function loadIncidents(day, mine) {
  const events = await api(`/api/v1/incident-events/export?format=geojson&since=${day}&until=${day}`).catch(() => null);
  if (mine !== generation || !events) return;
  dayEvents = events.features;
  drawIncidents();
}

// the files that arrived from the field on incidents in the 24 hours up to the moment shown (not since the
// day's midnight: at ten past midnight the photos of ten to are still news): when each was taken on the
// device, when it arrived, and how long it waited offline
async function loadFieldFiles(at, mine) {
  const end = live ? Date.now() + 3600000 : Date.parse(at); // live: an hour ahead, for a device's clock running fast
  const since = new Date(end - 86400000 - (live ? 3600000 : 0)).toISOString();
  const until = new Date(end).toISOString();
  const files = await api(`/api/v1/attachments/arrivals?since=${encodeURIComponent(since)}&until=${encodeURIComponent(until)}`)
    .catch(() => null);
  if (mine !== generation || !files) return;
  fieldFiles.clearLayers();
  const byIncident = new Map(); // one camera per incident, beside its symbol, with every file that came for it
  for (const f of files.features) {
    if (!byIncident.has(f.properties.incident_id)) byIncident.set(f.properties.incident_id, []);
    byIncident.get(f.properties.incident_id).push(f);
  }
  for (const [incident, group] of byIncident) {
    const [lon, lat] = group[0].geometry.coordinates;
    const what = t("%(n)s files from the field for incident report %(id)s", { n: group.length, id: incident });
    L.marker([lat, lon], {
      icon: L.divIcon({ className: "field-file", html: `${CAMERA}${group.length > 1 ? group.length : ""}`, iconSize: null, iconAnchor: [-8, 30] }),
      title: what, alt: what, keyboard: true, zIndexOffset: 500,
    }).bindPopup(`<strong><a href="/incidents/${incident}#evidence">#${incident}</a></strong>` +
                 group.map((f) => fileSummary(f.properties)).join(""), { maxHeight: 360 }).addTo(fieldFiles);
  }
  document.getElementById("map").dataset.fieldFiles = String(files.features.length);
}

// drawn, not a character: an air-gapped machine may have no emoji font
const CAMERA = '<svg width="16" height="14" viewBox="0 0 16 14" aria-hidden="true"><rect x="1" y="3" width="14" height="10" rx="2" ' +
               'fill="#5e0b0b"/><rect x="5" y="1" width="6" height="3" fill="#5e0b0b"/><circle cx="8" cy="8" r="3" fill="#fff"/></svg>';

function fileSummary(p) {
  const name = p.caption || p.filename;
  const waited = p.sync_delay_s === null ? "" : `<br>${escapeHtml(t("Waited on the device: %(minutes)s min", { minutes: Math.round(p.sync_delay_s / 60) }))}`;
  const picture = p.thumbnail_url ? `<img src="${escapeHtml(p.thumbnail_url)}" alt="${escapeHtml(name)}" width="160"><br>` : "";
  return `<p class="field-file-entry">${picture}<a href="${escapeHtml(p.content_url)}">${escapeHtml(name)}</a><br>` +
         `${escapeHtml(t("Taken (device time)"))}: ${escapeHtml(p.captured_at ? missionTime(p.captured_at) : "—")}<br>` +
         `${escapeHtml(t("Arrived"))}: ${escapeHtml(missionTime(p.added_at))} · ${escapeHtml(p.added_by)}${waited}</p>`;
}

/** An APP-6 symbol as a marker's icon, scaled; its image is a "symbol", which place names and labels keep clear of. */
function symbolMarkerIcon(kind, { scale = 1, className = "", below = "" } = {}) {
  const spec = config.icons[kind];
  const [w, h] = spec.size.map((n) => Math.round(n * scale));
  return L.divIcon({ className: `app6 ${className}`, iconSize: [w, h], iconAnchor: spec.anchor.map((n) => Math.round(n * scale)),
                     html: `<img class="symbol" src="${escapeHtml(spec.url)}" alt="" width="${w}" height="${h}">${below}` });
}

function incidentMarker(f) {
  const p = f.properties;
  const kind = t(p.subtype || p.type);
  const symbol = p.type === "ceasefire_violation" ? "shooting" : "incident";
  const colour = STATUS_COLOURS[p.status] || "#f4a582"; // verification: a bar under the symbol, in the status's colour
  const title = `${kind} × ${p.event_count} · ${t(p.status)}`;
  return L.marker([f.geometry.coordinates[1], f.geometry.coordinates[0]], {
    icon: symbolMarkerIcon(symbol, { scale: 0.8 + Math.min(0.7, Math.sqrt(p.event_count) * 0.15), className: `incident ${p.status}`,
                                     below: `<span class="status-bar" style="background:${colour}"></span>` }),
    title, alt: title, keyboard: true,
  }).bindPopup(`<strong>${escapeHtml(kind)}</strong> × ${p.event_count}<br>${escapeHtml(t(p.status))} · ` +
               `${escapeHtml(missionTime(p.started_at))}<br>` +
               `${escapeHtml(t("%(n)s reports", { n: p.incident_ids.length }))}: ` +
               p.incident_ids.map((id) => `<a href="/incidents/${id}">#${id}</a>`).join(", "));
}

// incidents close together on the screen are drawn as one cluster with their number; a click zooms in on them
const CLUSTER_PX = 44;
const CLUSTER_UNTIL_ZOOM = 12;
function drawIncidents() {
  incidents.clearLayers();
  const shown = dayEvents.filter((f) => kindAdmits(f.properties.subtype) || kindAdmits(f.properties.type));
  if (map.getZoom() >= CLUSTER_UNTIL_ZOOM) {
    shown.forEach((f) => incidentMarker(f).addTo(incidents));
    return;
  }
  const cells = new Map();
  for (const f of shown) {
    const point = map.project([f.geometry.coordinates[1], f.geometry.coordinates[0]], map.getZoom());
    const key = `${Math.floor(point.x / CLUSTER_PX)}:${Math.floor(point.y / CLUSTER_PX)}`;
    if (!cells.has(key)) cells.set(key, []);
    cells.get(key).push(f);
  }
  for (const members of cells.values()) {
    if (members.length === 1) { incidentMarker(members[0]).addTo(incidents); continue; }
    const bounds = L.latLngBounds(members.map((f) => [f.geometry.coordinates[1], f.geometry.coordinates[0]]));
    const events = members.length;
    L.marker(bounds.getCenter(), {
      icon: L.divIcon({ className: "incident-cluster", html: String(events), iconSize: [30, 30] }),
      title: t("%(n)s incidents here: zoom in", { n: events }), alt: t("%(n)s incidents here: zoom in", { n: events }),
      keyboard: true, zIndexOffset: 600, // a small count badge: above the alerts' symbols, so it can always be clicked
    }).on("click", () => map.fitBounds(bounds.pad(0.5), { maxZoom: CLUSTER_UNTIL_ZOOM })).addTo(incidents);
  }
}
map.on("zoomend", () => { if (dayEvents.length) drawIncidents(); });

function drawTrack(feature) {
  if (!feature.geometry || feature.geometry.type !== "LineString") return;
  const latlngs = feature.geometry.coordinates.map(([x, y]) => [y, x]);
  const line = L.polyline(latlngs, { color: "#0b5394", weight: 2.5, opacity: 0.8 }).addTo(tracks);
  lines.set(feature.properties.tracker_id, line);
}

function placeFixes(features) {
  for (const f of features) {
    const p = f.properties;
    const latlng = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
    let marker = markers.get(p.tracker_id);
    const label = `${p.code}${p.name ? ` · ${p.name}` : ""}`;
    if (!marker) {
      marker = L.marker(latlng, { icon: patrolIcon(L.point(0, 0)), title: label, alt: label, riseOnHover: true, zIndexOffset: 500 })
        .bindTooltip(escapeHtml(p.code), { permanent: true, direction: "right", offset: [12, 0], className: "tracker-label" })
        .addTo(patrols);
      marker.fanShift = L.point(0, 0);
      markers.set(p.tracker_id, marker);
    } else {
      marker.setLatLng(latlng);
    }
    marker.feature = f;
    showAge(marker);
    showVector(p.tracker_id, latlng, p.heading, p.speed);
    if (unitFilter.value && !unitAdmits(patrolOfTracker(p.code))) patrols.removeLayer(marker);
    marker.bindPopup(`<strong>${escapeHtml(label)}</strong><br>${escapeHtml(missionTime(p.time, { seconds: true }))}` +
                     (p.speed != null ? `<br>${(p.speed * 3.6).toFixed(0)} km/h` : ""));
    if (live) {
      let line = lines.get(p.tracker_id);
      if (!line) {
        line = L.polyline([], { color: "#0b5394", weight: 2.5, opacity: 0.8 }).addTo(tracks);
        lines.set(p.tracker_id, line);
      }
      line.addLatLng(latlng);
    }
  }
}

// --- heading and speed: a line to where the patrol will be in five minutes, drawn where its device says both --------
function showVector(trackerId, latlng, heading, speed) {
  const moving = heading != null && speed != null && speed >= 0.5; // walking pace and above; a halt has no vector
  let line = vectorOf.get(trackerId);
  if (!moving) { if (line) { line.remove(); vectorOf.delete(trackerId); } return; }
  const tip = ahead(L.latLng(latlng), heading, speed * VECTOR_MINUTES * 60);
  if (!line) {
    line = L.polyline([latlng, tip], { color: "#0b5394", weight: 2.5, interactive: false, className: "heading-vector" }).addTo(vectors);
    vectorOf.set(trackerId, line);
  } else line.setLatLngs([latlng, tip]);
}

// --- units gone quiet: a patrol not heard for QUIET_MINUTES is drawn faded, its call sign saying for how long -----
const QUIET_MINUTES = 10;
function showAge(marker) {
  const p = marker.feature.properties;
  const minutes = Math.floor((moment().getTime() - Date.parse(p.time)) / 60000);
  const quiet = minutes >= QUIET_MINUTES;
  marker.setOpacity(quiet ? 0.5 : 1);
  marker.getTooltip()?.setContent(escapeHtml(quiet ? `${p.code} · ${t("%(n)s min", { n: minutes })}` : p.code));
  marker.getTooltip()?.getElement()?.classList.toggle("quiet", quiet);
  marker.quietMinutes = quiet ? minutes : 0;
}
// live, ages grow by themselves: every half minute each patrol's mark is brought up to date
setInterval(() => {
  if (!live) return;
  for (const marker of markers.values()) if (marker.feature) showAge(marker);
  untangleSoon(); // a call sign that grew ("· 12 min") may now cover another
}, 30000);

// --- patrol symbols that would hide one another ------------------------------------------------------------
// Patrols heard at one spot (two trackers of a convoy, a patrol at its post) are fanned out round it on the screen,
// each on a thin line to where it is, so that no symbol or call sign hides another patrol's or a post's.
const FAN_PX = 24;

function patrolIcon(shift) {
  const spec = config.icons.patrol;
  return L.icon({ iconUrl: spec.url, iconSize: spec.size, iconAnchor: [spec.anchor[0] - shift.x, spec.anchor[1] - shift.y],
                  className: "symbol patrol-symbol" });
}

function fanOut() {
  leaders.clearLayers();
  const postPoints = posts.getLayers().map((layer) => map.latLngToLayerPoint(layer.getLatLng()));
  const groups = [];
  for (const marker of markers.values()) {
    if (!patrols.hasLayer(marker)) continue;
    const at = map.latLngToLayerPoint(marker.getLatLng());
    const group = groups.find((g) => g.at.distanceTo(at) < FAN_PX);
    if (group) group.members.push(marker); else groups.push({ at, members: [marker] });
  }
  // two symbols whose centres are their larger side times the square root of two apart cannot overlap,
  // whatever the angle between them; on a circle of n that is the chord between neighbours
  const apart = Math.max(...config.icons.patrol.size) * Math.SQRT2 + 2;
  for (const { at, members } of groups) {
    const crowded = members.length > 1 || postPoints.some((point) => point.distanceTo(at) < FAN_PX);
    const radius = Math.max(FAN_PX, apart / (2 * Math.sin(Math.PI / Math.max(members.length, 2))));
    members.forEach((marker, i) => {
      const angle = -Math.PI / 4 + (2 * Math.PI * i) / members.length; // the first up and to the right
      const shift = crowded ? L.point(Math.cos(angle), Math.sin(angle)).multiplyBy(radius).round() : L.point(0, 0);
      if (!shift.equals(marker.fanShift)) {
        marker.fanShift = shift;
        marker.setIcon(patrolIcon(shift));
        const tooltip = marker.getTooltip();
        tooltip.options.offset = [12 + shift.x, shift.y];
        marker.closeTooltip(); // returns the tooltip, not the marker: the two calls apart
        marker.openTooltip();
      }
      if (crowded) {
        L.polyline([marker.getLatLng(), map.layerPointToLatLng(map.latLngToLayerPoint(marker.getLatLng()).add(shift))],
                   { color: "#0b5394", weight: 1.2, opacity: 0.9, interactive: false, className: "leader-line" }).addTo(leaders);
      }
    });
  }
}
map.on("zoomend", () => fanOut());

// --- call signs that would cover one another: the later one moves to the symbol's left, else below it -------------
function untangleLabels() {
  const kept = [];
  const overlaps = (box) => kept.some((k) => box.left < k.right && box.right > k.left && box.top < k.bottom && box.bottom > k.top);
  for (const marker of markers.values()) {
    const tooltip = marker.getTooltip();
    if (!patrols.hasLayer(marker) || !tooltip?.getElement()) continue;
    const shift = marker.fanShift || L.point(0, 0);
    const places = [0, 18, -18, 36, -36, 54, -54].flatMap((dy) => [["right", [12 + shift.x, shift.y + dy]],
                                                                   ["left", [-12 + shift.x, shift.y + dy]]]);
    let box = null;
    for (const [direction, offset] of places) {
      tooltip.options.direction = direction;
      tooltip.options.offset = offset;
      tooltip.update(); // moved where it stands, not closed and opened again
      box = tooltip.getElement().getBoundingClientRect();
      if (!overlaps(box)) break;
    }
    kept.push(box);
  }
}
map.on("zoomend", () => untangleLabels());
// live, fixes stream in: the call signs are untangled once per frame, not once per fix (each pass measures the labels)
let untangleQueued = false;
function untangleSoon() {
  if (untangleQueued) return;
  untangleQueued = true;
  requestAnimationFrame(() => { untangleQueued = false; untangleLabels(); });
}

// --- live --------------------------------------------------------------------------------------------
let positionStream = null;
function followLive() {
  if (positionStream) positionStream.close();
  positionStream = null;
  if (!live) return;
  positionStream = new EventSource("/api/v1/positions/stream?max_age_minutes=60");
  positionStream.addEventListener("positions", (event) => {
    placeFixes(JSON.parse(event.data).features);
    fanOut();
    untangleSoon();
    document.getElementById("trackers-heard").textContent = String(markers.size);
  });
}

// --- alerts ------------------------------------------------------------------------------------------
const alertList = document.getElementById("alerts");
const alertItems = new Map();
const closedList = document.getElementById("closed-alerts-list");
const closedItems = new Map();
const CLOSED_SHOWN = 100;

/** A closed alert stays findable: the panel's "Closed alerts" keeps the latest, with who closed it and why. */
function renderClosed(alert) {
  let item = closedItems.get(alert.id);
  if (!item) {
    item = document.createElement("li");
    closedItems.set(alert.id, item);
  }
  item.className = `alert ${alert.kind} closed`;
  item.innerHTML = `<strong>${escapeHtml(t(alert.kind))}</strong> <div class="message">${escapeHtml(alertText(alert))}</div>` +
    `<div class="when">${escapeHtml(missionTime(alert.started_at))}</div>` +
    `<div class="closed-by">${escapeHtml(t("Closed by %(who)s at %(at)s", { who: alert.closed_by || "—", at: missionTime(alert.closed_at) }))}` +
    `${alert.note ? `: ${escapeHtml(alert.note)}` : ""}</div>`;
  const sorted = [...closedItems.entries()].sort((a, b) => b[0] - a[0]).slice(0, CLOSED_SHOWN);
  closedList.replaceChildren(...sorted.map(([, el]) => el));
  document.getElementById("closed-count").textContent = String(closedItems.size);
}

// --- an audible cue for a new alert, which the operator can mute (remembered on this computer) -------------
const muteButton = document.getElementById("mute");
let muted = localStorage.getItem("peacewatch.muted") === "1";
let audio = null;
function showMute() {
  muteButton.setAttribute("aria-pressed", String(muted));
  muteButton.textContent = muted ? t("Sound off") : t("Sound on");
}
muteButton.addEventListener("click", () => { muted = !muted; localStorage.setItem("peacewatch.muted", muted ? "1" : "0"); showMute(); });
showMute();
function chime() {
  window.peacewatch.chimes = (window.peacewatch.chimes || 0) + (muted ? 0 : 1);
  if (muted) return;
  try {
    audio = audio || new AudioContext();
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = 880;
    gain.gain.setValueAtTime(0.2, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.6);
  } catch { /* no audio device: the panel still shows it */ }
}
function renderAlert(alert) {
  let item = alertItems.get(alert.id);
  if (alertPins.has(alert.id)) { alertPins.get(alert.id).remove(); alertPins.delete(alert.id); }
  if (alert.status === "closed") {
    if (item) { item.remove(); alertItems.delete(alert.id); }
    renderClosed(alert);
  } else {
    if (alert.lat != null && alert.lon != null) {
      const top = alert.priority === 1; // a call for help: larger, in a pane above everything else on the map
      const symbol = alert.kind === "casevac" ? "casevac" : top ? "emergency" : "alert";
      const text = `${t(alert.kind)}: ${alertText(alert)}`;
      const pin = L.marker([alert.lat, alert.lon], {
        icon: symbolMarkerIcon(symbol, { scale: top ? 1.5 : 1, className: `alert-marker ${alert.status}${top ? " emergency" : ""}` }),
        pane: top ? "emergencies" : "markerPane", title: text, alt: text, keyboard: true, zIndexOffset: top ? 1000 : -400, // under the patrols
      }).bindTooltip(escapeHtml(text), { pane: top ? "emergencies" : "tooltipPane" });
      pin.alertStarted = alert.started_at;
      alertPins.set(alert.id, pin);
    }
    if (!item) {
      item = document.createElement("li");
      const calls = alertList.querySelectorAll(":scope > .alert.emergency");
      if (calls.length) calls[calls.length - 1].after(item); else alertList.prepend(item); // below the calls for help
      alertItems.set(alert.id, item);
    }
    item.className = `alert ${alert.kind} ${alert.status}${alert.priority === 1 ? " emergency" : ""}`;
    if (alert.priority === 1) alertList.prepend(item); // calls for help stay at the top of the list, newest first
    item.innerHTML = `<button type="button" class="link" data-goto="${alert.id}">${escapeHtml(t(alert.kind))}</button>` +
      ` <span class="pill ${alert.status}">${escapeHtml(t(alert.stage || alert.status))}</span>` +
      ` <a href="/alerts/${alert.id}" class="hint">${escapeHtml(t("who was told"))}</a>` +
      `<div class="message">${escapeHtml(alertText(alert))}</div>` +
      `<div class="when">${escapeHtml(missionTime(alert.started_at))}</div>` +
      (config.can_handle_alerts ? `<div class="buttons">` +
        (alert.status === "open" ? `<button type="button" data-act="acknowledge" data-id="${alert.id}">${escapeHtml(t("Acknowledge"))}</button>` : "") +
        `<button type="button" data-act="close" data-id="${alert.id}">${escapeHtml(t("Close"))}</button></div>` : "");
    item.dataset.lat = alert.lat ?? "";
    item.dataset.lon = alert.lon ?? "";
    item.dataset.started = alert.started_at;
    item.dataset.kind = alert.kind;
    item.dataset.patrol = alert.patrol_id ?? "";
  }
  showAlertsAt();
}
// the panel shows the alerts raised by the map's moment: at 10:00 an alert of 12:00 is not there yet
function showAlertsAt() {
  const until = live ? Infinity : moment().getTime();
  let shown = 0;
  for (const [id, item] of alertItems) {
    const patrol = item.dataset.patrol ? patrolById(Number(item.dataset.patrol)) : null;
    const filtered = !kindAdmits(item.dataset.kind) || (unitFilter.value && !unitAdmits(patrol));
    // a call for help not yet resolved is shown whatever moment or filter the map is on: nobody must miss it
    const calling = item.classList.contains("emergency");
    item.hidden = !calling && (Date.parse(item.dataset.started) > until || filtered);
    if (!item.hidden) shown += 1;
    const pin = alertPins.get(id);
    if (pin && item.hidden) pin.remove();
    else if (pin) pin.addTo(alertMarkers);
  }
  document.getElementById("alert-count").textContent = String(shown);
}
alertList.addEventListener("click", async (event) => {
  const button = event.target.closest("button");
  if (!button) return;
  if (button.dataset.goto) {  // to the alert's place and moment: the map shows what was there when it was raised
    const item = alertItems.get(Number(button.dataset.goto));
    if (!item) return;
    const at = new Date(item.dataset.started);
    setLive(false);
    followLive();
    showMoment(new Date(at.getTime() + 299999)); // the next 5 minutes' mark: the alert is on the map by then
    showClock();
    if (item.dataset.lat) map.setView([Number(item.dataset.lat), Number(item.dataset.lon)], 13);
    reloadSoon();
    return;
  }
  if (button.dataset.act === "close") {  // closing ends the alert for everyone: it asks why, and to be sure
    askWhyClose(button);
    return;
  }
  await actOnAlert(button.dataset.id, button.dataset.act, "");
});
async function actOnAlert(id, act, note) {
  try {
    renderAlert(await api(`/api/v1/alerts/${id}/${act}`, { method: "POST", body: { note } }));
  } catch (problem) {
    status.textContent = problem.detail || t("The alert could not be changed.");
  }
}
function askWhyClose(button) {
  const buttons = button.closest(".buttons");
  const form = document.createElement("form");
  form.className = "close-alert";
  form.noValidate = true;
  form.innerHTML = `<label>${escapeHtml(t("Why close this alert?"))} <input name="note" maxlength="5000" required></label>` +
    `<p class="error" role="alert" hidden></p>` +
    `<button type="submit">${escapeHtml(t("Close the alert"))}</button> <button type="button" data-cancel>${escapeHtml(t("Keep it open"))}</button>`;
  buttons.hidden = true;
  buttons.after(form);
  const input = form.querySelector("input");
  input.focus();
  form.querySelector("[data-cancel]").addEventListener("click", () => { form.remove(); buttons.hidden = false; button.focus(); });
  form.addEventListener("submit", async (submitted) => {
    submitted.preventDefault();
    const note = input.value.trim();
    if (!note) {
      const error = form.querySelector(".error");
      error.textContent = t("Say why: the reason stays with the alert.");
      error.hidden = false;
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    await actOnAlert(button.dataset.id, "close", note);
  });
}
const CALLS_EVERY_MS = 10000;
/** Calls for help move with their callers (each repeat of ATAK's emergency moves the alert): the open ones are read
 * again every few seconds, so the map follows the caller and shows who has acknowledged. */
async function followCalls() {
  const open = [...alertItems.values()].filter((item) => item.classList.contains("emergency"));
  if (!open.length) return;
  for (const kind of ["emergency", "casevac"]) {
    try {
      for (const alert of await api(`/api/v1/alerts?kind=${kind}&limit=50`)) {
        if (alertItems.has(alert.id)) renderAlert(alert);
      }
    } catch { /* the next round tries again */ }
  }
}
async function loadAlerts() {
  const found = await api("/api/v1/alerts?limit=200");
  found.reverse().forEach(renderAlert);
  setInterval(followCalls, CALLS_EVERY_MS);
  const newest = found.length ? Math.max(...found.map((a) => a.id)) : 0;
  const stream = new EventSource(`/api/v1/alerts/stream?after=${newest}`);
  stream.addEventListener("alert", (event) => {
    const alert = JSON.parse(event.data);
    if (!alertItems.has(alert.id) && !closedItems.has(alert.id) && alert.status === "open") chime();
    renderAlert(alert);
  });
}

// --- cursor ------------------------------------------------------------------------------------------
const cursor = document.getElementById("cursor");
const CursorReadout = L.Control.extend({ onAdd: () => cursor });
new CursorReadout({ position: "bottomleft" }).addTo(map);  // above the scale bar, never over it
let cursorTimer = null;
map.on("mousemove", (event) => {
  const { lat, lng } = event.latlng;
  const degrees = `${Math.abs(lat).toFixed(5)}° ${lat >= 0 ? "N" : "S"}, ${Math.abs(lng).toFixed(5)}° ${lng >= 0 ? "E" : "W"}`;
  cursor.textContent = degrees;
  clearTimeout(cursorTimer);
  cursorTimer = setTimeout(async () => {
    try {
      const c = await api(`/api/v1/coordinates?lat=${lat.toFixed(6)}&lon=${lng.toFixed(6)}`);
      if (c.mgrs) cursor.textContent = `${degrees} · MGRS ${c.mgrs}`;
    } catch { /* off the MGRS grid: degrees only */ }
  }, 120);
});

// --- wiring ------------------------------------------------------------------------------------------
let reloadTimer = null;
function reloadSoon() { clearTimeout(reloadTimer); reloadTimer = setTimeout(load, 200); }
dayInput.addEventListener("change", () => { setLive(false); followLive(); reloadSoon(); });
minuteInput.addEventListener("input", () => { if (live) { setLive(false); followLive(); } showClock(); });
minuteInput.addEventListener("change", () => { setLive(false); reloadSoon(); });
liveButton.addEventListener("click", () => { setLive(true); followLive(); load(); });

setLive(live);
showClock();
load().then(followLive);
loadAlerts().catch(() => {});

// for the browser tests and for an operator's console: where each tracker is now
window.peacewatch = {
  ...(window.peacewatch || {}),
  map,
  trackerPosition(code) {
    for (const marker of markers.values()) {
      if (marker.feature && marker.feature.properties.code === code) {
        const { lat, lng } = marker.getLatLng();
        return [lat, lng];
      }
    }
    return null;
  },
  postCount: () => posts.getLayers().length,
  vectorTips: () => [...vectorOf.entries()].map(([id, line]) => [id, line.getLatLngs()[1].lat, line.getLatLngs()[1].lng]),
  quietTrackers: () => [...markers.values()].filter((m) => m.quietMinutes).map((m) => [m.feature.properties.code, m.quietMinutes]),
  zoneNames: () => Object.values(zones).flatMap((layer) => layer.getLayers().map((l) => l.feature.properties.name)),
  zoneLatLng(name) { // a point on a zone's outline, to click it
    const layer = Object.values(zones).flatMap((z) => z.getLayers()).find((l) => l.feature.properties.name === name);
    return layer ? layer.getBounds().getCenter() : null;
  },
  alertMarkerCount: () => alertMarkers.getLayers().length,
  alertPlace(id) { const pin = alertPins.get(id); return pin ? [pin.getLatLng().lat, pin.getLatLng().lng] : null; },
  incidentCount: () => incidents.getLayers().length,
  routeNames: () => routes.getLayers().map((group) => group.getTooltip()?.getContent()),
};
