// The users page (users.html): disable or enable a user, asking why; lift a lockout. Each through the API, then the
// page is read again, so it shows what the server now holds.
import { api, askWhy, escapeHtml, t } from "./common.js";

const result = document.getElementById("users-result");
const dialog = document.getElementById("disable");

function say(text, kind = "ok") {
  result.innerHTML = `<span class="${kind}">${escapeHtml(text)}</span>`;
  result.hidden = false;
}

async function act(button, work) {
  button.disabled = true;
  try {
    await work();
    window.location.reload();
  } catch (problem) {
    say(problem.detail || problem.title || String(problem), "error");
    button.disabled = false;
  }
}

document.querySelectorAll("button.toggle").forEach((button) => {
  button.addEventListener("click", async () => {
    const row = button.closest("tr");
    const disabling = button.dataset.active === "true";
    const reason = disabling ? await askWhy(dialog, t("Disable %(user)s? Their sessions, streams and device tokens stop at once.",
      { user: row.dataset.username })) : "";
    if (reason === null) return;
    await act(button, () => api(`/api/v1/users/${row.dataset.userId}`, {
      method: "PATCH", body: { active: !disabling },
      headers: reason ? { "PeaceWatch-Reason": encodeURIComponent(reason) } : {},
    }));
  });
});

document.querySelectorAll("button.lift").forEach((button) => {
  button.addEventListener("click", () => act(button, () => api("/api/v1/sign-in-lockouts/lift", {
    method: "POST", body: { username: button.dataset.username || null, address: button.dataset.address || null },
  })));
});
window.peacewatch = { ...(window.peacewatch || {}), usersReady: true };
