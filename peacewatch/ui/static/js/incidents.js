// Incidents: report one through the form (errors beside their fields), decide merge proposals.
/* global L */
import { api, baseMap, missionTimeToIso, showProblem, t, zoneLayer } from "./common.js";

const form = document.getElementById("report-form");
if (form) {
  const placeInput = document.getElementById("f-place");
  const { map } = baseMap("place-map", { zoom: 8.5 });
  const areas = zoneLayer("area_of_responsibility").addTo(map);
  api("/api/v1/areas").then((data) => areas.addData(data));
  const marker = L.circleMarker([0, 0], { radius: 7, color: "#b2182b" });
  const parsePlace = () => {
    const parts = placeInput.value.split(/[,;\s]+/).filter(Boolean).map(Number);
    return parts.length === 2 && !parts.some(Number.isNaN) ? parts : null;
  };
  placeInput.addEventListener("input", () => { const p = parsePlace(); if (p) marker.setLatLng(p).addTo(map); });
  map.on("click", (event) => {
    placeInput.value = `${event.latlng.lat.toFixed(5)}, ${event.latlng.lng.toFixed(5)}`;
    marker.setLatLng(event.latlng).addTo(map);
  });
  const patrolPicker = document.getElementById("f-patrol");
  if (patrolPicker) {
    const warning = document.getElementById("patrol-warning");
    patrolPicker.addEventListener("change", () => {
      const text = patrolPicker.selectedOptions[0]?.dataset.warning || "";
      warning.textContent = text;
      warning.hidden = !text;
    });
  }
  const utc = missionTimeToIso; // typed on the mission's clock, sent as an instant

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      const place = parsePlace();
      const missing = [];
      if (!place) missing.push({ field: "body.lat", message: t("Give the place as 'latitude, longitude'.") });
      if (!data.get("source")) missing.push({ field: "body.source", message: t("Say who told us.") });
      if (data.has("channel") && !data.get("channel")) missing.push({ field: "body.channel", message: t("Say how it came in.") });
      if (missing.length) throw { detail: t("Fill in the fields marked."), errors: missing };
      const body = {
        type: data.get("type"), started_at: utc(data.get("started_at")), lat: place[0], lon: place[1],
        place_precision: data.get("place_precision"), place_name: data.get("place_name"), source: data.get("source"),
        event_count: Number(data.get("event_count") || 1), alleged_actors: data.getAll("alleged_actors"),
        narrative: data.get("narrative"), denied: data.get("denied"),
        client_id: `web-${crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`}`,
      };
      for (const key of ["subtype", "restriction", "channel"]) if (data.get(key)) body[key] = data.get(key);
      if (data.get("received_at")) body.received_at = utc(data.get("received_at"));
      for (const key of ["post_id", "patrol_id"]) if (data.get(key)) body[key] = Number(data.get(key));
      if (data.get("ended_at")) body.ended_at = utc(data.get("ended_at"));
      const incident = await api("/api/v1/incidents", { method: "POST", body });
      window.location.assign(`/incidents/${incident.id}`);
    } catch (problem) {
      showProblem(form, problem);
    }
  });
}

const proposals = document.getElementById("proposals");
if (proposals) {
  proposals.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-decide]");
    if (!button) return;
    try {
      await api(`/api/v1/merge-proposals/${button.dataset.id}/${button.dataset.decide}`, { method: "POST", body: {} });
      window.location.reload();
    } catch (problem) {
      const error = document.getElementById("proposal-error");
      error.textContent = problem.detail || t("The proposal could not be decided.");
      error.hidden = false;
    }
  });
}
