// The humanitarian workspace: propose, confirm and revoke identifications; chain custody events.
import { api, config, missionTimeToIso, showProblem, t } from "./common.js";

function fields(form) {
  return Object.fromEntries(new FormData(form).entries());
}

document.querySelectorAll("[data-propose]").forEach((button) => {
  button.addEventListener("click", async () => {
    const error = document.getElementById("propose-error");
    button.disabled = true;
    try {
      await api("/api/v1/identifications", { method: "POST", body: { body: config.body, missing_person: button.dataset.propose } });
      window.location.reload();
    } catch (problem) {
      error.textContent = problem.detail || problem.title;
      error.hidden = false;
      button.disabled = false;
    }
  });
});

document.querySelectorAll("form.confirm-form").forEach((form) => {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = fields(form);
    const members = (data.board_members || "").split("\n").map((m) => m.trim()).filter(Boolean);
    try {
      // the evidence an identification rests on is the clerk's to name: no basis is assumed
      if (!data.basis) throw { errors: [{ field: "body.basis", message: t("Choose what the identification rests on.") }] };
      await api(`/api/v1/identifications/${form.dataset.id}/confirmation`,
                { method: "POST", body: { basis: data.basis, detail: data.detail, board_members: members } });
      window.location.reload();
    } catch (problem) {
      showProblem(form, problem);
    }
  });
});

document.querySelectorAll("form.revoke-form").forEach((form) => {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api(`/api/v1/identifications/${form.dataset.id}/revocation`, { method: "POST", body: { reason: fields(form).reason } });
      window.location.reload();
    } catch (problem) {
      showProblem(form, problem);
    }
  });
});

const custody = document.getElementById("custody-form");
if (custody) {
  custody.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = fields(custody);
    const body = { kind: data.kind, at: missionTimeToIso(data.at) || "", place: data.place };
    if (data.received_by) body.received_by = data.received_by;
    try {
      await api(`/api/v1/bodies/${config.body}/custody`, { method: "POST", body });
      window.location.reload();
    } catch (problem) {
      showProblem(custody, problem);
    }
  });
}
