// Signing out on a shared device: the field application's kept pages and lists (the patrols, the map's layers) go
// with the session, so the next person to pick up the device cannot read them offline. They go only once the
// server has ended the session: signing out with no connection changes nothing on the device (the application
// still opens, the sign-in stands) and says so, rather than leaving a device that opens nothing until a connection
// returns. The outbox stays either way: its reports are the user's, sent after that user signs in again.
{ // a classic script: its names stay in this block
const strings = JSON.parse(document.getElementById("strings")?.textContent || "{}");

for (const form of document.querySelectorAll('form[action="/logout"]')) {
  form.addEventListener("submit", async (event) => {
    if (!("caches" in window) || form.dataset.cleared) return;
    event.preventDefault();
    let answer;
    try {
      answer = await fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" });
    } catch {
      window.alert(strings["No connection: you are still signed in on this device. Sign out again once it is back."]
                   || "No connection: you are still signed in on this device. Sign out again once it is back.");
      document.body.dataset.signOut = "offline";
      return;
    }
    const names = await caches.keys();
    await Promise.all(names.filter((name) => name.startsWith("field-")).map((name) => caches.delete(name)));
    form.dataset.cleared = "true";
    window.location.assign(answer.redirected ? new URL(answer.url).pathname : "/login");
  });
}
}
