// One incident report: its place on a map; a verification step for the operations centre; its photos published
// in the bulletin (or withdrawn) by the press office or the operations centre.
/* global L */
import { api, baseMap, config, showProblem, t, zoneLayer } from "./common.js";

const { map } = baseMap("incident-map", { zoom: 9 });
const areas = zoneLayer("area_of_responsibility").addTo(map);
api("/api/v1/areas").then((data) => areas.addData(data));
L.circleMarker([config.lat, config.lon], { radius: 8, color: "#b2182b", weight: 3 }).addTo(map);
map.setView([config.lat, config.lon], 11);

const form = document.getElementById("verify-form");
if (form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      // no step is chosen for the user: rejecting a report by an unread default would be irreversible in effect
      if (!data.get("status")) throw { errors: [{ field: "body.status", message: t("Choose the next step.") }] };
      await api(`/api/v1/incidents/${config.incident_id}/verification`,
                { method: "POST", body: { status: data.get("status"), reason: data.get("reason") } });
      window.location.reload();
    } catch (problem) {
      showProblem(form, problem);
    }
  });
}

for (const button of document.querySelectorAll("button.publish")) {
  button.addEventListener("click", async () => {
    try {
      await api(`/api/v1/attachments/${button.dataset.attachment}`, { method: "PATCH", body: { public: button.dataset.public === "true" } });
      window.location.reload();
    } catch (problem) {
      const slot = button.nextElementSibling;
      slot.textContent = problem.detail || String(problem);
      slot.hidden = false;
    }
  });
}
