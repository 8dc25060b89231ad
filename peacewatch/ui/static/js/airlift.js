// The airlift workspace: plan or log a flight; the server checks it and says what is wrong, where.
import { api, missionTimeToIso, showProblem, t } from "./common.js";

const form = document.getElementById("flight-form");
if (form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(form).entries());
    const body = {};
    for (const [name, value] of Object.entries(data)) {
      if (value === "") continue;
      if (name.endsWith("_departure") || name.endsWith("_arrival")) body[name] = missionTimeToIso(value);
      else if (["personnel", "armoured", "vehicles"].includes(name)) body[name] = Number.parseInt(value, 10);
      else if (name === "tonnes") body[name] = Number.parseFloat(value);
      else body[name] = value;
    }
    try {
      // where a flight goes is the cell's to say: no direction or airfield is assumed, and each missing one is said
      const unchosen = [...form.querySelectorAll("select[required]")].filter((select) => !select.value);
      if (unchosen.length) throw { errors: unchosen.map((select) => ({ field: `body.${select.name}`, message: t("Choose one.") })) };
      await api("/api/v1/flights", { method: "POST", body });
      window.location.reload();
    } catch (problem) {
      showProblem(form, problem);
    }
  });
}
