// The field application's service worker (served as /field/sw.js): the page opens with no connection.
// The page and its files are kept at install; the lists the page reads (the patrols of these days, zones, posts,
// places) are answered from the network when there is one and from the last answer kept when there is not (its
// X-PeaceWatch-Kept header says when it was kept), whatever day it is now; basemap tiles seen once are kept.
// Writes are never handled here: the page's outbox keeps them until the server has them.
// When the server says the session ended (Clear-Site-Data on any answer: sign-out on another device, the user
// disabled, a new password, expiry), everything kept here is dropped; the outbox (IndexedDB) stays for its user.
const CACHE = "__CACHE__";
const SHELL = ["/field/", "/static/app.css", "/static/leaflet/leaflet.css", "/static/leaflet/leaflet.js",
               "/static/js/field.js", "/static/js/outbox.js", "/static/js/rules.js", "/static/js/seal.js", "/static/js/common.js", "/static/js/sign-out.js"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
});

/** A copy of ``answer`` to keep, stamped with when it was kept. */
async function stamped(answer) {
  const headers = new Headers(answer.headers);
  headers.set("X-PeaceWatch-Kept", new Date().toISOString());
  return new Response(await answer.clone().blob(), { status: answer.status, statusText: answer.statusText, headers });
}

/** Whether ``answer`` says the session ended; if so, every page, list and tile kept here is dropped. */
async function forgetIfEnded(answer) {
  const ended = answer.headers.has("Clear-Site-Data") || (answer.redirected && new URL(answer.url).pathname === "/login");
  if (ended) {
    const names = await caches.keys();
    await Promise.all(names.filter((name) => name.startsWith("field-")).map((name) => caches.delete(name)));
  }
  return ended;
}

const DATED = ["on", "since", "until"];

/** Where a list is kept: its address without the day it was asked for. The patrols, zones and posts of the day
 * before serve the day after, offline: a patrol under way at midnight goes on, and so does its map. */
function keptKey(request) {
  const url = new URL(request.url);
  for (const name of DATED) url.searchParams.delete(name);
  return url.pathname.startsWith("/api/v1/") ? new Request(url.href) : request;
}

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const answer = await fetch(request);
    if (await forgetIfEnded(answer)) return answer;
    if (answer.ok && !answer.redirected) await cache.put(keptKey(request), await stamped(answer)); // never the sign-in page as /field/
    return answer;
  } catch (offline) {
    const kept = await cache.match(keptKey(request), { ignoreVary: true });
    if (kept) return kept;
    throw offline;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(request);
  if (kept) return kept;
  const answer = await fetch(request);
  if (answer.ok) await cache.put(request, answer.clone());
  return answer;
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET") return; // writes: the outbox's business
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === "/field/" || url.pathname === "/field") {
    // a page answered with a redirect (to the sign-in, once the session ended) is given as a redirect: a navigation
    // may not be answered with a response that followed one
    event.respondWith(networkFirst(new Request("/field/", { credentials: "same-origin" }))
      .then((answer) => (answer.redirected ? Response.redirect(answer.url, 303) : answer)));
  } else if (url.pathname.startsWith("/static/") || url.pathname.startsWith("/ui/") || url.pathname.startsWith("/tiles/")) {
    event.respondWith(cacheFirst(request));
  } else if (url.pathname.startsWith("/api/v1/") && !url.pathname.startsWith("/api/v1/auth/")) { // a sign-in is never kept
    event.respondWith(networkFirst(request));
  }
});
