// The outbox: every report made in the field is stored on the device (IndexedDB) before anything is sent, and
// stays there until the server has answered. Sent oldest first; a failure of the network or of the server is
// tried again later (with back-off), a refusal is kept with its reason to be corrected and sent again, and is
// never dropped unless the user discards it. Each item belongs to the user who made it and is sent only while
// that user is signed in.

const DB = "peacewatch-field";
const STORE = "outbox";

function request(req) {
  return new Promise((resolve, reject) => { req.onsuccess = () => resolve(req.result); req.onerror = () => reject(req.error); });
}

let opened = null;
function db() {
  if (!opened) {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "id", autoIncrement: true });
    opened = request(req);
  }
  return opened;
}

async function store(mode) { return (await db()).transaction(STORE, mode).objectStore(STORE); }

/** Keep an item (a new one gets its id and "waiting"); its id. */
export async function keep(item) {
  const fresh = { state: "waiting", attempts: 0, next_try: 0, created: new Date().toISOString(), ...item };
  return request((await store("readwrite")).put(fresh));
}

export async function all() { return request((await store("readonly")).getAll()); }

export async function get(id) { return request((await store("readonly")).get(id)); }

export async function update(id, changes) {
  const item = await get(id);
  if (item) await request((await store("readwrite")).put({ ...item, ...changes }));
}

export async function discard(id) { return request((await store("readwrite")).delete(id)); }

/** The delay before the next try after ``attempts`` failures: 2 s doubling, at most five minutes. */
export function backOff(attempts) { return Math.min(2000 * 2 ** Math.max(attempts - 1, 0), 300000); }

/** Why the server refused it, in one line: the detail and each field's message. */
export function refusal(problem) {
  const fields = (problem.errors || []).map((e) => `${(e.field || "").replace(/^body\./, "")}: ${e.message}`);
  return [...new Set([problem.detail || problem.title || String(problem.status), ...fields])].join(" · ");
}

/** Whether an answer means "try again later" rather than "refused": no connection, a busy or failing server. */
export function retryable(status) { return status === 0 || status === 408 || status === 429 || status >= 500; }
