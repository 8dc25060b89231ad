// The outbox: every report made in the field is stored on the device (IndexedDB) before anything is sent, and
// stays there until the server has answered. Sent in causal order (a patrol's start, its check-ins, its reports,
// its end; a photo after its report), records before files; a failure of the network or of the server stops the
// round and is tried again later (with back-off), so nothing overtakes what waits for its retry. A refusal is kept
// with its reason to be corrected and sent again, and holds what depends on it; it is never dropped unless the
// user discards it. A stale sign-in is never a refusal: the item waits for its user's next sign-in. Each item
// belongs to the user who made it and is sent only while that user is signed in.
// What an item says (its narrative, places, file and file name) is sealed to its user's key (seal.js) when the page
// has one; its state, kind and order stay readable, so that the list and the order of sending need no key.

import { seal } from "./seal.js";

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

// --- sealing -------------------------------------------------------------------------------------------------

const SECRET = ["body", "fixes", "filename", "caption", "patrol_name", "record_key"]; // what an item says, sealed
const KEPT_APART = new Set([...SECRET, "file", "sealed", "sealed_file", "locked"]);
let sealing = null; // {own: this page's sealer, open: opener}; null: keep as is (no key known yet)

/** The keys this page seals and opens with (seal.js): its own sealer, and an opener (the user's private key once
 * the server gave it). */
export function useKeys(own, open) { sealing = { own, open }; }

/** Whether an item kept before the page had a key is still in clear. */
export function inClear(item) { return !item.sealed && SECRET.some((name) => item[name] !== undefined); }

async function sealed(item) {
  if (!sealing?.own) return item;
  const out = Object.fromEntries(Object.entries(item).filter(([name]) => !KEPT_APART.has(name)));
  const said = Object.fromEntries(SECRET.filter((name) => item[name] !== undefined).map((name) => [name, item[name]]));
  out.sealed = { epk: sealing.own.epk, ...(await seal(sealing.own, new TextEncoder().encode(JSON.stringify(said)))) };
  if (item.file) { // kept as a Blob: the browser keeps it on disk, and a list of the outbox never reads its bytes
    const { iv, data } = await seal(sealing.own, await item.file.arrayBuffer());
    out.sealed_file = { type: item.file.type, iv, data: new Blob([data]), epk: sealing.own.epk };
  } else if (item.sealed_file && !("file" in item)) {
    out.sealed_file = item.sealed_file;
  }
  return out;
}

/** An item as kept, opened: what it says, or ``locked: true`` while the key that opens it is not known here. Its
 * file stays sealed until it is sent (fileOf). */
async function openItem(raw) {
  if (!raw?.sealed) return raw;
  const bytes = sealing ? await sealing.open(raw.sealed.epk, raw.sealed.iv, raw.sealed.data) : null;
  if (!bytes) return { ...raw, locked: true };
  return { ...raw, ...JSON.parse(new TextDecoder().decode(bytes)) };
}

/** An item's file, opened (a Blob); null when it cannot be opened here. */
export async function fileOf(item) {
  if (item.file) return item.file;
  const box = item.sealed_file;
  if (!box || !sealing) return null;
  const bytes = await sealing.open(box.epk, box.iv, box.data instanceof Blob ? await box.data.arrayBuffer() : box.data);
  return bytes ? new Blob([bytes], { type: box.type }) : null;
}

/** Keep an item (a new one gets its id and "waiting"); its id. */
export async function keep(item) {
  const fresh = { state: "waiting", attempts: 0, next_try: 0, created: new Date().toISOString(), ...item };
  const kept = await sealed(fresh); // before the transaction: one left waiting for a promise ends by itself
  return request((await store("readwrite")).put(kept));
}

export async function all() { return Promise.all((await request((await store("readonly")).getAll())).map(openItem)); }

export async function get(id) { return openItem(await request((await store("readonly")).get(id))); }

/** Every item as stored, sealed: what an export carries. */
export async function raw() { return request((await store("readonly")).getAll()); }

/** Change an item: its state alone needs no key; what it says is sealed again. A locked item's words cannot change. */
export async function update(id, changes) {
  const kept = await request((await store("readonly")).get(id));
  if (!kept) return;
  const names = Object.keys(changes);
  if (kept.sealed && !names.some((name) => KEPT_APART.has(name))) {
    await request((await store("readwrite")).put({ ...kept, ...changes }));
    return;
  }
  const item = await openItem(kept);
  if (item.locked) throw new Error("sealed to a key this page does not have");
  const merged = { ...item, ...changes };
  if ("file" in changes && changes.file === undefined) { delete merged.file; delete merged.sealed_file; } // sent: freed
  delete merged.locked;
  const resealed = await sealed(merged);
  await request((await store("readwrite")).put(resealed));
}

/** Forget what was sent beyond the last ``kept`` (what the list shows), unless something waiting still needs it (a
 * photo, its report's number): the outbox is read whole at each change, and weeks of sent reports would slow it. */
export async function forgetSent(kept) {
  const items = await request((await store("readonly")).getAll());
  const needed = new Set(items.filter((i) => i.state !== "sent" && i.after).map((i) => i.after));
  const sent = items.filter((i) => i.state === "sent").sort((a, b) => a.id - b.id);
  for (const old of sent.slice(0, Math.max(0, sent.length - kept))) if (!needed.has(old.id)) await discard(old.id);
}

export async function discard(id) { return request((await store("readwrite")).delete(id)); }

/** The delay before the next try after ``attempts`` failures: 2 s doubling, at most five minutes; 1 s more each time,
 * at most 5 s, for a call for help. */
export function backOff(attempts, kind = "") {
  if (CALLS.has(kind)) return Math.min(1000 * Math.max(attempts, 1), 5000); // a call for help is tried again at once
  return Math.min(2000 * 2 ** Math.max(attempts - 1, 0), 300000);
}

/** A call for help and its calling off: sent before anything else, retried within seconds. */
export const CALLS = new Set(["emergency", "emergency_off"]);

/** Why the server refused it, in one line, each reason once: each field's message after the field's label as the
 * form names it (``labelOf``), and the detail unless a field already says it. The server says them in the page's
 * language. */
export function refusal(problem, labelOf = () => null) {
  const detail = problem.detail || problem.title || String(problem.status);
  const fields = (problem.errors || []).map((e) => {
    const name = (e.field || "").replace(/^body\./, "");
    return { message: e.message, said: name ? `${labelOf(name) || name}: ${e.message}` : e.message };
  });
  const lines = fields.some((f) => f.message === detail) ? [] : [detail];
  return [...new Set([...lines, ...fields.map((f) => f.said)])].join(" · ");
}

/** The patrol an item belongs to, if any (a step, a check-in, a report made by a patrol). */
function patrolOf(item) {
  if (item.kind === "step" || item.kind === "checkin") return item.patrol_id;
  if (item.kind === "incident") return item.body?.patrol_id ?? null;
  return null;
}

/** The earlier item that ``item`` must follow onto the server, among ``unsent`` (earlier items not on the server
 * yet: waiting, held or refused, oldest first), or null if it may go now. A check-in follows its patrol's steps and
 * earlier check-ins, a report its patrol's steps, a step everything of its patrol before it, a photo its report. */
export function blockerOf(item, unsent) {
  const patrol = patrolOf(item);
  return unsent.find((earlier) => {
    if (earlier.id >= item.id) return false;
    if (item.kind === "file") return earlier.id === item.after;
    if (item.kind === "positions" || item.kind === "emergency") return false; // waits for nothing
    if (item.kind === "emergency_off") return earlier.kind === "emergency" && earlier.call === item.call; // its call first
    if (patrol === null || patrolOf(earlier) !== patrol) return false;
    if (item.kind === "checkin") return earlier.kind === "step" || earlier.kind === "checkin";
    if (item.kind === "incident") return earlier.kind === "step";
    return item.kind === "step";
  }) || null;
}

/** The order the outbox is sent in: calls for help first, then records (small, what the headquarters waits for)
 * oldest first, then files. */
export function sendingOrder(items) {
  const lane = (item) => (CALLS.has(item.kind) ? -1 : item.kind === "file" ? 1 : 0);
  return [...items].sort((a, b) => lane(a) - lane(b) || a.id - b.id);
}

/** A walk through one user's unsent items in sending order, remembering what is not on the server yet: the round
 * of sending and the list on screen ask it the same question of each item, so they never disagree. */
export class Walk {
  constructor() { this.unsent = []; }

  /** The earlier item a waiting ``item`` must follow (it is then remembered as not sent), or null. A refused item
   * is remembered too: it waits for its user and holds what depends on it. */
  heldBy(item) {
    const blocker = item.state === "waiting" ? blockerOf(item, this.unsent) : null;
    if (item.state !== "waiting" || blocker) this.unsent.push(item);
    return blocker;
  }

  /** ``item`` was tried and is still not on the server (refused, or waiting for its report's number). */
  notSent(item) { this.unsent.push(item); }
}

/** Whether an answer means "try again later" rather than "refused": no connection, a busy or failing server. */
export function retryable(status) { return status === 0 || status === 408 || status === 429 || status >= 500; }
