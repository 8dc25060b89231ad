// Signing out on a shared device: the field application's kept pages and lists (today's patrols, the map's
// layers) go with the session, so the next person to pick up the device cannot read them offline. The outbox
// stays: its reports are the signed-out user's, sent after that user signs in again.
for (const form of document.querySelectorAll('form[action="/logout"]')) {
  form.addEventListener("submit", async (event) => {
    if (!("caches" in window) || form.dataset.cleared) return;
    event.preventDefault();
    try {
      const names = await caches.keys();
      await Promise.all(names.filter((name) => name.startsWith("field-")).map((name) => caches.delete(name)));
    } finally {
      form.dataset.cleared = "true";
      form.submit();
    }
  });
}
