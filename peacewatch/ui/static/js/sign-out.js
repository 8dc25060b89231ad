// Signing out on a shared device: the field application's kept pages and lists (the patrols, the map's layers) go
// with the session, so the next person to pick up the device cannot read them offline. They go only once the
// server has ended the session (its answer leads to the sign-in page): signing out with no connection, or a server
// that could not end it, changes nothing on the device (the application still opens, the sign-in stands) and says
// so, rather than leaving a device that opens nothing until a connection returns. The outbox stays either way: its
// reports are the user's, sent after that user signs in again.
{ // a classic script: its names stay in this block
const strings = JSON.parse(document.getElementById("strings")?.textContent || "{}");
const NOT_SIGNED_OUT = "No connection: you are still signed in on this device. Sign out again once it is back.";

for (const form of document.querySelectorAll('form[action="/logout"]')) {
  form.addEventListener("submit", async (event) => {
    if (!("caches" in window)) return; // nothing kept on this browser: the form goes as it is
    event.preventDefault();
    let answer = null;
    try {
      answer = await fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" });
    } catch { /* no connection */ }
    if (!answer?.redirected || new URL(answer.url).pathname !== "/login") {
      window.alert(strings[NOT_SIGNED_OUT] || NOT_SIGNED_OUT);
      document.body.dataset.signOut = "offline";
      return;
    }
    const names = await caches.keys();
    await Promise.all(names.filter((name) => name.startsWith("field-")).map((name) => caches.delete(name)));
    window.location.assign("/login");
  });
}
}
