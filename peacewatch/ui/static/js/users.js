// The users page (users.html): disable or enable a user, asking why; lift a lockout. Each through the API, then the
// page is read again, so it shows what the server now holds.
import { api, escapeHtml, t } from "./common.js";

const result = document.getElementById("users-result");
const dialog = document.getElementById("disable");

function say(text, kind = "ok") {
  result.innerHTML = `<span class="${kind}">${escapeHtml(text)}</span>`;
  result.hidden = false;
}

/** The reason the administrator gives, or null when they cancel. */
function askWhy(heading) {
  return new Promise((resolve) => {
    const reason = document.getElementById("disable-reason");
    const error = document.getElementById("disable-error");
    document.getElementById("disable-heading").textContent = heading;
    reason.value = "";
    error.hidden = true;
    dialog.showModal();
    reason.focus();
    document.getElementById("disable-go").onclick = (event) => {
      if (!reason.value.trim()) { event.preventDefault(); error.hidden = false; reason.focus(); }
    };
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "go" ? reason.value.trim() : null), { once: true });
  });
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
    const reason = disabling ? await askWhy(t("Disable %(user)s? Their sessions, streams and device tokens stop at once.",
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
