// The airlift workspace: plan or log a flight; the server checks it and says what is wrong, where.
import { api, showProblem } from "./common.js";

const form = document.getElementById("flight-form");
if (form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(form).entries());
    const body = {};
    for (const [name, value] of Object.entries(data)) {
      if (value === "") continue;
      if (name.endsWith("_departure") || name.endsWith("_arrival")) body[name] = `${value}:00Z`;
      else if (["personnel", "armoured", "vehicles"].includes(name)) body[name] = Number.parseInt(value, 10);
      else if (name === "tonnes") body[name] = Number.parseFloat(value);
      else body[name] = value;
    }
    try {
      await api("/api/v1/flights", { method: "POST", body });
      window.location.reload();
    } catch (problem) {
      showProblem(form, problem);
    }
  });
}
