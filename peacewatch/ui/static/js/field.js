// The field application (/field/): today's patrols of the device's unit on a map of the area, their steps and
// check-ins, incident reports and recoveries with photos, the device's positions; every report through the outbox
// (outbox.js), so that nothing is lost offline. The service worker keeps the last answer of each list and layer.
/* global L */
import { baseMap, config, escapeHtml, missionTime, missionTimeToIso, nameOf, placeNames, postLayer, t, ZONE_PATHS, zoneLayer } from "./common.js";
import * as outbox from "./outbox.js";
import * as rules from "./rules.js";
import * as seal from "./seal.js";

// problem types (RFC 9457) the outbox acts on; the server's core.problems names them
const ANTI_FORGERY = "urn:peacewatch:problem:anti-forgery";
const STORED_NOT_SHARED = "urn:peacewatch:problem:stored-not-shared";
const CLIENT_ID_TAKEN = "urn:peacewatch:problem:client-id-taken";

let csrf = document.querySelector('meta[name="csrf-token"]').content; // renewed when it goes stale (freshSession)
const me = config.user;
let patrols = [];
let sending = false;
let inFlight = null; // the item being sent: positions are not added to it meanwhile
let signedOut = false;
let patrolsKept = null; // when the service worker kept the list shown, when it is shown offline

if ("serviceWorker" in navigator) navigator.serviceWorker.register("/field/sw.js", { scope: "/field/" });

// --- the device's clock -----------------------------------------------------------------------------------
// A phone's clock may be hours off. Every answer's Date says the server's time: the page learns the offset, warns
// past a minute, and dates what it keeps by the server's clock, keeping the offset with each record (the record's
// device time is its time minus the offset). A record kept before any offset was known is corrected before it is
// first sent. Answers the service worker kept are old: their Date says nothing of the clock now.

const CLOCK_KEY = "peacewatch-clock-offset";
const CLOCK_WARN_MS = 60000;
const TIMES = ["at", "started_at", "ended_at", "recovered_at"]; // the instants of a body dated by the device
let clock = JSON.parse(localStorage.getItem(CLOCK_KEY) || "null"); // {offset_ms}; null: never learned
let clockHeard = false; // learned from an answer during this page's life

/** Learn the clock's offset from ``response``'s Date (whole seconds: read as the middle of its second). */
function learnClock(response, sentAt) {
  const date = response.headers.get("Date");
  if (!date || response.headers.get("X-PeaceWatch-Kept")) return;
  const server = Date.parse(date) + 500;
  if (Number.isNaN(server)) return;
  const offset = Math.round(server - (sentAt + Date.now()) / 2);
  clock = { offset_ms: offset };
  clockHeard = true;
  localStorage.setItem(CLOCK_KEY, JSON.stringify(clock));
  showClock();
}

/** Now, by the server's clock as last learned (the device's own when never learned). */
function serverNow() { return new Date(Date.now() + (clock?.offset_ms || 0)); }

/** The offset to keep with a record, in seconds; null while never learned. */
function clockOffsetS() { return clock ? Math.round(clock.offset_ms / 1000) : null; }

/** ``body``'s device times corrected by ``offsetS`` (a record kept before the offset was known). */
function byServerClock(body, offsetS) {
  const out = { ...body, clock_offset_s: offsetS };
  for (const name of TIMES) if (body[name]) out[name] = new Date(Date.parse(body[name]) + offsetS * 1000).toISOString();
  return out;
}

function showClock() {
  const warning = document.getElementById("clock-warning");
  const off = clock?.offset_ms || 0;
  warning.hidden = Math.abs(off) < CLOCK_WARN_MS;
  if (warning.hidden) return;
  const minutes = Math.round(Math.abs(off) / 60000);
  const span = minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes} min`;
  warning.textContent = t(off < 0 ? "This device's clock is %(span)s ahead of the headquarters'. What you report is dated by the headquarters' clock; set the device's clock when you can."
                                  : "This device's clock is %(span)s behind the headquarters'. What you report is dated by the headquarters' clock; set the device's clock when you can.",
                          { span });
}

/** A record of the device's clock as kept: its instants by the server's clock and the offset used, or its device
 * times and ``clock: "device"`` while no offset was ever learned (corrected before it is first sent). */
function dated(body) {
  const offset = clockOffsetS();
  return offset === null ? { body, clock: "device" } : { body: { ...body, clock_offset_s: offset } };
}

/** An item kept before the offset was known, corrected now that it is (learned from the server first if need be). */
async function dateByServer(item) {
  if (item.clock !== "device") return item;
  if (!clockHeard) await freshSession(); // its answer's Date
  const offset = clockHeard ? clockOffsetS() : null;
  if (offset === null) return item;
  const changes = { clock: undefined };
  if (item.body) changes.body = byServerClock(item.body, offset);
  if (item.fixes) changes.fixes = item.fixes.map((f) => ({ ...f, t: new Date(Date.parse(f.t) + offset * 1000).toISOString() }));
  if (item.kept_at) changes.kept_at = new Date(Date.parse(item.kept_at) + offset * 1000).toISOString();
  await outbox.update(item.id, changes);
  return { ...item, ...changes };
}

// --- the outbox's key ---------------------------------------------------------------------------------------
// What the outbox keeps is sealed to the user's key (seal.js): the public half is kept on the device (it seals, it
// cannot open), the private half is given by the server to the signed-in user and lives in this page's memory only.

const PUBLIC_KEY = `peacewatch-outbox-key:${me}`;
let ownSealer = null;
let userKeyHeld = false; // the server gave the private key in this page's life

async function useOutboxKey(privateJwk) {
  if (privateJwk) {
    const { kty, crv, x, y } = privateJwk;
    const known = JSON.parse(localStorage.getItem(PUBLIC_KEY) || "null");
    if (known?.x !== x || !ownSealer) {
      localStorage.setItem(PUBLIC_KEY, JSON.stringify({ kty, crv, x, y }));
      ownSealer = await seal.sealer({ kty, crv, x, y });
    }
    userKeyHeld = true;
  } else {
    const known = JSON.parse(localStorage.getItem(PUBLIC_KEY) || "null");
    if (known) ownSealer = await seal.sealer(known);
  }
  outbox.useKeys(ownSealer, seal.opener(privateJwk, ownSealer));
  if (ownSealer) { // kept before the page had a key: sealed now
    for (const item of await outbox.all()) if (item.user === me && outbox.inClear(item)) await outbox.update(item.id, {});
  }
}

// --- sending -----------------------------------------------------------------------------------------------

/** One request of an item; {status, data}; status 0 when the network did not answer. */
async function post(path, { json, form }) {
  const headers = { Accept: "application/json, application/problem+json", "X-CSRF-Token": csrf };
  if (json !== undefined) headers["Content-Type"] = "application/json";
  try {
    const sentAt = Date.now();
    const response = await fetch(path, { method: "POST", headers, credentials: "same-origin",
                                         body: json !== undefined ? JSON.stringify(json) : form });
    learnClock(response, sentAt);
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = { detail: text.slice(0, 300) }; }
    return { status: response.status, data };
  } catch {
    return { status: 0, data: null };
  }
}

/** The sign-in as the server has it now: true (this page's user, its CSRF token renewed), false (signed out, or
 * someone else signed in on this device) or null (no answer: try later). A page kept by the service worker for
 * days holds the token of the day it was kept; a sign-out and a new sign-in in another tab made a new one. */
async function freshSession() {
  try {
    const sentAt = Date.now();
    const answer = await fetch("/api/v1/auth/session", { credentials: "same-origin", cache: "no-store",
                                                         headers: { Accept: "application/json" } });
    learnClock(answer, sentAt);
    if (answer.status === 401) return false;
    if (!answer.ok) return null;
    const session = await answer.json();
    if (session.username !== me || !session.csrf_token) return false;
    csrf = session.csrf_token;
    if (!userKeyHeld) await useOutboxKey(session.outbox_key);
    return true;
  } catch {
    return null;
  }
}

/** The request an item stands for, or null while it waits for another (a photo for its report's number). */
async function requestOf(item) {
  switch (item.kind) {
    case "incident": return post("/api/v1/incidents", { json: item.body });
    case "recovery": return post("/api/v1/recoveries", { json: item.body });
    case "checkin": return post(`/api/v1/patrols/${item.patrol_id}/check-ins`, { json: item.body });
    case "step": return post(`/api/v1/patrols/${item.patrol_id}/${item.action}`, { json: item.body });
    case "positions": return post("/api/v1/positions", { json: { positions: item.fixes } });
    case "emergency": return post("/api/v1/emergencies", { json: item.body });
    case "emergency_off": return post(`/api/v1/emergencies/${encodeURIComponent(item.call)}/cancel`, { json: {} });
    case "file": {
      let key = item.record_key;
      if (!key && item.after) {
        const report = await outbox.get(item.after);
        key = report?.answer_id ? String(report.answer_id) : null;
      }
      if (!key) return null;
      const form = new FormData();
      form.append("record_kind", item.record_kind);
      form.append("record_key", key);
      form.append("sha256", item.sha256);
      form.append("client_id", item.client_id);
      if (item.captured_at) form.append("captured_at", item.captured_at);
      if (item.kept_at) form.append("kept_at", item.kept_at); // "waited on the device" runs from here
      if (item.copy_of) form.append("copy_of", item.copy_of); // a smaller copy: its original follows
      if (item.caption) form.append("caption", item.caption);
      const file = await outbox.fileOf(item);
      if (!file) return null; // sealed to a key this page does not hold yet
      form.append("file", file, item.filename);
      return post("/api/v1/attachments", { form });
    }
    default: return { status: 422, data: { detail: `unknown item ${item.kind}` } };
  }
}

/** Send what waits, in causal order (outbox.blockerOf), records before files; stop at the first sign of no network
 * or no session, keep every refusal. An item whose predecessor is not on the server yet is held, never sent ahead. */
export async function flush() {
  if (sending) return;
  if (navigator.locks) { // two tabs of the field application: one sends, the other finds it busy
    await navigator.locks.request("peacewatch-outbox", { ifAvailable: true }, (lock) => (lock ? sendWaiting() : render()));
  } else {
    await sendWaiting();
  }
}

async function sendWaiting() {
  if (sending) return;
  sending = true;
  let steps = 0;
  try {
    const mine = outbox.sendingOrder((await outbox.all()).filter((i) => i.user === me && i.state !== "sent"));
    const walk = new outbox.Walk();
    let renewed = false; // the CSRF token was renewed in this round: a second anti-forgery refusal is the server's
    for (const listed of mine) {
      let item = await outbox.get(listed.id); // as it is now: positions may have been added since the list was read
      if (!item || item.state === "sent") continue;
      if (item.locked && !userKeyHeld) { // kept before a restart: opened with the key the server gives its user
        const session = await freshSession();
        item = await outbox.get(listed.id);
        if (item.locked) { signedOut = session === false; break; }
      }
      if (walk.heldBy(item) || item.state !== "waiting") continue; // held, or refused: asked in that order, both remembered
      if (item.full_size && slowLink()) { walk.notSent(item); continue; } // its smaller copy went: the original waits
      if (item.next_try > Date.now()) break; // what waits for its retry is not overtaken
      inFlight = item.id;
      const ready = await dateByServer(item);
      if (ready.clock === "device") break; // the server's time is unknown yet: nothing goes misdated
      let answer = await requestOf(ready);
      if (answer === null) { walk.notSent(item); continue; } // a photo whose report has no number yet
      if (answer.status === 403 && answer.data?.type === ANTI_FORGERY && !renewed) {
        const session = await freshSession(); // a stale page, not a refusal: the current token, and again
        renewed = true;
        if (session === true) answer = await requestOf(ready);
        else { signedOut = session === false; break; }
      }
      if (answer.status === 409 && answer.data?.type === STORED_NOT_SHARED) answer = { status: 200, data: {} };
      if (answer.status >= 200 && answer.status < 300) {
        if (item.kind === "positions") { // fixes added while it was on its way go on waiting, as a new item
          const extra = ((await outbox.get(item.id))?.fixes || []).slice(item.fixes.length);
          if (extra.length) await outbox.keep({ kind: "positions", user: me, fixes: extra });
          await outbox.update(item.id, { fixes: item.fixes });
        }
        await outbox.update(item.id, { state: "sent", sent_at: new Date().toISOString(), answer_id: answer.data?.id ?? null,
                                       file: undefined }); // the file is on the server: the device frees its space
        signedOut = false;
        if (item.kind === "step") steps += 1;
        if (item.kind === "emergency") answered(item.call, answer.data);
      } else if (answer.status === 401 || (answer.status === 403 && answer.data?.type === ANTI_FORGERY)) {
        signedOut = true; // kept for this same user, sent after the next sign-in
        break;
      } else if (outbox.retryable(answer.status)) {
        const attempts = item.attempts + 1;
        const delay = outbox.backOff(attempts, item.kind);
        await outbox.update(item.id, { attempts, next_try: Date.now() + delay,
                                       last_error: answer.status ? `HTTP ${answer.status}` : t("No connection") });
        if (outbox.CALLS.has(item.kind)) setTimeout(flush, delay + 50); // a call for help does not wait for the next round
        break; // the network or the server is down: the next ones would fail too, and may not overtake this one
      } else {
        const taken = answer.status === 409 && answer.data?.type === CLIENT_ID_TAKEN;
        await outbox.update(item.id, { state: "refused", taken,
                                       reason: taken ? t("A different report was stored under this report's number: this one was not. "
                                                         + "Send it again as a new report, or discard it.")
                                         : outbox.refusal(answer.data || { status: answer.status }, labelIn(item.kind)) });
        walk.notSent(item);
      }
    }
  } finally {
    sending = false;
    inFlight = null;
    if (steps) await loadPatrols(); // a patrol started or ended: its state as the server now has it
    await outbox.forgetSent(SENT_SHOWN);
    await render();
  }
}

/** A field's name as the form of ``kind`` labels it ("subtype" → "Subtype" in the page's language), or null. */
function labelIn(kind) {
  const form = document.getElementById(FORMS[kind]?.form);
  return (name) => {
    const field = form?.elements.namedItem(name.split(".")[0]);
    const label = field?.labels?.[0] || (field?.id && form.querySelector(`label[for="${field.id}"]`));
    return label ? label.textContent.replace(/\s*\*$/, "").trim() : null;
  };
}

// --- the outbox on screen ----------------------------------------------------------------------------------

const STEP = { start: "Start", complete: "Complete", abort: "Abort" };
const KIND = { incident: "Incident report", recovery: "Recovery", checkin: "Check-in", step: "Patrol step", positions: "Positions",
               file: "File", emergency: "Emergency", emergency_off: "Emergency called off" };

function describe(item) {
  const what = t(KIND[item.kind] || item.kind);
  if (item.user !== me) return what; // another user's report on a shared device: what kind, and nothing of it
  if (item.locked) return `${what} · ${t("sealed on this device: opens when you are signed in with a connection")}`;
  if (item.kind === "file") return `${what}: ${item.filename}${item.copy_of ? ` (${t("smaller copy, sent first")})` : ""}`;
  if (item.kind === "positions") return `${what}: ${item.fixes.length}`;
  if (outbox.CALLS.has(item.kind)) return what;
  if (item.kind === "step") return `${what}: ${t(STEP[item.action])} ${item.patrol_name || ""}`;
  if (item.kind === "checkin") return `${what}: ${item.patrol_name || ""}`;
  if (item.kind === "recovery") return `${what}: ${item.body.place_name || item.body.team} (${item.body.bodies.length})`;
  return `${what}: ${item.body.narrative?.slice(0, 60) || t(item.body.type)}`;
}

/** For each waiting item of this user held behind another, the one it waits for (as a round of sending finds it). */
function heldBehind(items) {
  const walk = new outbox.Walk();
  const held = new Map();
  for (const item of outbox.sendingOrder(items.filter((i) => i.user === me && i.state !== "sent"))) {
    const blocker = walk.heldBy(item);
    if (blocker) held.set(item.id, blocker);
  }
  return held;
}

const SENT_SHOWN = 100; // the last ones sent; everything waiting or refused is always listed

async function render() {
  const all = (await outbox.all()).sort((a, b) => a.id - b.id); // oldest first: the order they are sent in
  const held = heldBehind(all);
  const waiting = all.filter((i) => i.state === "waiting");
  const refused = all.filter((i) => i.state === "refused");
  const sent = all.filter((i) => i.state === "sent");
  const items = all.filter((i) => i.state !== "sent" || sent.indexOf(i) >= sent.length - SENT_SHOWN);
  Object.assign(document.body.dataset, { outboxWaiting: String(waiting.length), outboxRefused: String(refused.length) });
  document.getElementById("outbox-summary").textContent =
    t("%(waiting)s waiting, %(refused)s refused, %(sent)s sent", { waiting: waiting.length, refused: refused.length,
                                                                    sent: sent.length }) +
    (signedOut ? ` · ${t("Sign in again to send them.")}` : "");
  const list = document.getElementById("outbox");
  list.replaceChildren(...items.map((item) => {
    const li = document.createElement("li");
    li.className = `outbox-item ${item.state}`;
    li.dataset.state = item.state;
    li.dataset.kind = item.kind;
    const state = { waiting: t("Waiting"), sent: t("Sent"), refused: t("Refused") }[item.state];
    const owner = item.user !== me ? ` · ${t("made by %(user)s: sent when they sign in", { user: item.user })}` : "";
    li.innerHTML = `<span class="pill"></span> <span class="what"></span> <span class="when hint"></span>`;
    li.querySelector(".pill").textContent = state;
    li.querySelector(".what").textContent = describe(item) + owner;
    const behind = held.get(item.id);
    if (behind) li.dataset.heldBehind = String(behind.id);
    li.querySelector(".when").textContent = missionTime(item.created, { seconds: true }) +
      (behind ? ` · ${t("after: %(what)s", { what: describe(behind) })}` : "") +
      (item.last_error && item.state === "waiting" ? ` · ${item.last_error}` : "") +
      (item.full_size && item.state === "waiting" && slowLink() ? ` · ${t("full size: waits for a faster connection")}` : "");
    if (item.state === "refused" && !item.locked) {
      const reason = document.createElement("p");
      reason.className = "error";
      reason.textContent = item.reason;
      const again = item.kind === "file" ? replacing(item) : document.createElement("button");
      if (item.kind !== "file") {
        again.type = "button";
        again.textContent = t("Correct and send again");
        again.addEventListener("click", () => correct(item));
      }
      const drop = document.createElement("button");
      drop.type = "button";
      drop.textContent = t("Discard");
      drop.addEventListener("click", async () => {
        if (!window.confirm(t("Discard this report? It was never stored on the server."))) return;
        for (const file of (await outbox.all()).filter((i) => i.after === item.id)) await outbox.discard(file.id); // its photos too
        await outbox.discard(item.id);
        render();
        flush(); // what was held behind it goes now
      });
      li.append(reason, again, drop);
    }
    return li;
  }));
  document.getElementById("connection").textContent = navigator.onLine ? t("Online") : t("Offline");
  document.getElementById("connection").className = `pill ${navigator.onLine ? "completed" : "aborted"}`;
}

/** A refused file's button to choose another in its place (the same report, the same place in the outbox). */
function replacing(item) {
  const label = document.createElement("label");
  label.className = "button";
  label.textContent = t("Replace the file");
  const choice = document.createElement("input");
  choice.type = "file";
  choice.accept = "image/*,video/*,application/pdf";
  choice.hidden = true;
  choice.addEventListener("change", async () => {
    const file = choice.files[0];
    if (!file) return;
    await outbox.update(item.id, { file, filename: file.name, sha256: await sha256(file), state: "waiting", reason: undefined,
                                   attempts: 0, next_try: 0, captured_at: new Date(file.lastModified || Date.now()).toISOString() });
    await render();
    flush();
  });
  label.append(choice);
  return label;
}

// --- the outbox carried as a file ----------------------------------------------------------------------------
// One JSON object per line (courier/outbox_file.py reads it): a header, every item not on the server yet as the
// device keeps it (sealed: the file says no more than the storage does), an end line that counts them.

/** Bytes as base64, through the browser's own encoder (a photo is too long for String.fromCharCode). */
function base64Of(bytes) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).slice(String(reader.result).indexOf(",") + 1));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(new Blob([bytes]));
  });
}

async function exportOutbox() {
  const kept = await outbox.raw();
  const byId = new Map(kept.map((item) => [item.id, item]));
  const unsent = kept.filter((item) => item.state !== "sent").sort((a, b) => a.id - b.id);
  const lines = [JSON.stringify({ format: "peacewatch-outbox", version: 1, exported_at: serverNow().toISOString(), exported_by: me,
                                  items: unsent.length }), "\n"];
  for (const item of unsent) {
    const line = { ...item };
    for (const box of ["sealed", "sealed_file"]) {
      if (item[box]) line[box] = { ...item[box], iv: await base64Of(item[box].iv), data: await base64Of(item[box].data) };
    }
    if (item.file) { line.file_b64 = await base64Of(await item.file.arrayBuffer()); delete line.file; } // kept before any key
    const report = item.after ? byId.get(item.after) : null;
    if (report?.state === "sent" && report.answer_id) line.after_record_key = String(report.answer_id); // its report is there
    lines.push(JSON.stringify(line), "\n");
  }
  lines.push(JSON.stringify({ end: true, items: unsent.length }), "\n");
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob(lines, { type: "application/jsonl" }));
  link.download = `peacewatch-outbox-${me}-${missionTime(serverNow()).replace(/[^0-9]/g, "").slice(0, 12)}.jsonl`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
  document.body.dataset.exported = String(unsent.length);
}

// --- today's patrols and their steps -----------------------------------------------------------------------

const UNIT_KEY = "peacewatch-field-unit"; // the unit this device serves: a device goes out with one unit
const unitChoice = document.getElementById("unit");
const DAY_MS = 86400000;
/** The mission's day now, not UTC's (they differ after 20:00 in Baku): read at each use, a page stays open past midnight. */
function today() { return missionTime(serverNow()).slice(0, 10); }

/** When the mission's day began, in milliseconds. */
function dayStart() { return Date.parse(missionTimeToIso(`${today()}T00:00`)); }

/** The patrols of yesterday, today and tomorrow: the service worker keeps the answer under an address without
 * dates, so the list kept on one day is the list shown offline the next; the page shows the day's (todays). */
function patrolsUrl() {
  const start = dayStart();
  const since = new Date(start - DAY_MS).toISOString();
  const until = new Date(start + 2 * DAY_MS).toISOString();
  const unit = unitChoice.value ? `&unit_id=${unitChoice.value}` : "";
  return `/api/v1/patrols?since=${encodeURIComponent(since)}&until=${encodeURIComponent(until)}&limit=500${unit}`;
}

/** The patrols a device shows now: those under way, whatever day they started, and those of the mission's day. */
function todays(list) {
  const start = dayStart();
  return list.filter((p) => p.status === "under_way"
    || (Date.parse(p.planned_end) > start && Date.parse(p.planned_start) < start + DAY_MS));
}

/** A list the page reads, from the network or, offline, as the service worker kept it; null if neither has it.
 * ``kept`` is when the service worker kept the answer, when it comes from its cache. */
async function read(path) {
  try {
    const sentAt = Date.now();
    const answer = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
    learnClock(answer, sentAt);
    if (!answer.ok) return null;
    return { data: await answer.json(), kept: answer.headers.get("X-PeaceWatch-Kept") };
  } catch {
    return null; // offline and never kept
  }
}

async function loadUnits() {
  const units = await read("/api/v1/units?limit=1000");
  const chosen = localStorage.getItem(UNIT_KEY) || "";
  for (const unit of units?.data || []) unitChoice.add(new Option(unit.name, String(unit.id)));
  unitChoice.value = [...unitChoice.options].some((o) => o.value === chosen) ? chosen : "";
}

async function loadPatrols() {
  const answer = await read(patrolsUrl());
  const listed = answer ? answer.data : patrols;
  patrolsKept = answer?.kept || null;
  for (const step of (await outbox.all()).filter((i) => i.kind === "step" && i.state === "waiting").sort((a, b) => a.id - b.id)) {
    const patrol = listed.find((p) => p.id === step.patrol_id); // a step kept on the device: the patrol as it will be
    if (patrol) patrol.status = RESULT[step.action];
  }
  patrols = todays(listed);
  renderPatrols();
  drawRoutes();
}

function renderPatrols() {
  const list = document.getElementById("patrols");
  list.replaceChildren(...patrols.map((patrol) => {
    const li = document.createElement("li");
    li.dataset.patrol = patrol.id;
    li.innerHTML = `<strong></strong> <span class="pill"></span> <span class="hint"></span> <span class="actions"></span>`;
    li.querySelector("strong").textContent = patrol.name;
    li.querySelector(".pill").textContent = t(patrol.status);
    li.querySelector(".hint").textContent = `${missionTime(patrol.planned_start)} – ${missionTime(patrol.planned_end).slice(11)}`;
    const offered = { planned: ["start", "abort"], under_way: ["check-in", "complete", "abort"] }[patrol.status] || [];
    for (const [action, label] of [["start", "Start"], ["check-in", "Check in"], ["complete", "Complete"], ["abort", "Abort"]]) {
      if (!offered.includes(action)) continue; // the steps its state allows (the server refuses the others anyway)
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = t(label);
      button.dataset.action = action;
      button.addEventListener("click", () => act(patrol, action));
      li.querySelector(".actions").append(button);
    }
    if (patrol.route) {
      const show = document.createElement("button");
      show.type = "button";
      show.textContent = t("On the map");
      show.dataset.action = "map";
      show.addEventListener("click", () => showRoute(patrol));
      li.querySelector(".actions").append(show);
    }
    return li;
  }));
  const choice = document.getElementById("r-patrol");
  if (choice) {
    const chosen = choice.value;
    choice.replaceChildren(new Option("—", ""), ...patrols.map((p) => new Option(p.name, String(p.id))));
    const alone = patrols.filter((p) => p.status === "under_way");
    const going = underWay || (config.role === "patrol" && alone.length === 1 ? alone[0] : null);
    const post = document.getElementById("r-post");
    // the patrol under way (started here, or a patrol commander's only one) reports, unless the user chose a post
    choice.value = chosen || (going && !post?.value ? String(going.id) : "");
  }
  document.getElementById("patrols-as-of").textContent = patrols.length
    ? (patrolsKept ? t("Offline: the list as kept on this device at %(at)s", { at: missionTime(patrolsKept) }) : "")
    : unitChoice.value ? t("No patrol planned today for this unit.") : t("No patrol planned today for you.");
}

const RESULT = { start: "under_way", complete: "completed", abort: "aborted" };
let underWay = null; // the patrol this device started: its positions are that patrol's tracker's

async function act(patrol, action) {
  const at = serverNow().toISOString();
  const here = await position();
  if (action === "check-in") {
    const note = window.prompt(t("Anything to report? (optional)")) ?? "";
    await outbox.keep({ kind: "checkin", user: me, patrol_id: patrol.id, patrol_name: patrol.name,
                        ...dated({ at, note, client_id: `field-${crypto.randomUUID()}`, ...(here ? { lat: here.lat, lon: here.lon } : {}) }) });
  } else {
    const body = { at };
    if (action === "abort") {
      const reason = window.prompt(t("Why is the patrol aborted?"));
      if (!reason) return;
      body.reason = reason;
    }
    await outbox.keep({ kind: "step", user: me, patrol_id: patrol.id, patrol_name: patrol.name, action, ...dated(body) });
    underWay = action === "start" ? patrol : (underWay?.id === patrol.id ? null : underWay);
    patrol.status = RESULT[action]; // as it will be once sent
    renderPatrols();
  }
  await render();
  flush();
}

// --- the map of the area, kept for offline use ------------------------------------------------------------

const { map } = baseMap("field-map", { basemap: config.basemap });
const zones = Object.fromEntries(Object.keys(ZONE_PATHS).map((kind) => [kind, zoneLayer(kind).addTo(map)]));
const posts = postLayer(config.icons).addTo(map);
const routes = L.layerGroup().addTo(map);
const youAreHere = L.layerGroup().addTo(map);
const places = placeNames(map).addTo(map);
const drawn = { zones: 0, posts: 0, routes: 0 };

function layerUrls() {
  return [...Object.values(ZONE_PATHS).map((path) => `/api/v1/${path}?on=${today()}&limit=1000`),
          `/api/v1/posts?on=${today()}&limit=10000`];
}

async function loadLayers() {
  const answers = await Promise.all(layerUrls().map(read));
  Object.keys(ZONE_PATHS).forEach((kind, i) => {
    zones[kind].clearLayers();
    if (answers[i]) zones[kind].addData(answers[i].data);
  });
  posts.clearLayers();
  const postAnswer = answers[answers.length - 1];
  if (postAnswer) posts.addData(postAnswer.data);
  const postChoice = document.getElementById("r-post");
  if (postChoice && postAnswer) {
    const chosen = postChoice.value;
    const sorted = [...postAnswer.data.features].sort((a, b) => a.properties.code.localeCompare(b.properties.code));
    postChoice.replaceChildren(new Option("—", ""), ...sorted.map((f) => new Option(`${f.properties.code} ${nameOf(f.properties)}`, String(f.id))));
    postChoice.value = chosen;
  }
  drawn.zones = answers.slice(0, -1).reduce((n, a) => n + (a?.data.features.length || 0), 0);
  drawn.posts = postAnswer?.data.features.length || 0;
  const kept = answers.map((a) => a?.kept).filter(Boolean).sort()[0];
  document.getElementById("map-as-of").textContent = !answers.some(Boolean) ? t("The map's layers were never kept on this device: open this page once with a connection.")
    : kept ? t("Offline: the map as kept on this device at %(at)s", { at: missionTime(kept) }) : "";
  const area = L.featureGroup(Object.values(zones)).getBounds();
  if (area.isValid() && !routes.getLayers().length) map.fitBounds(area, { maxZoom: 11 });
  document.getElementById("field-map").dataset.layers = JSON.stringify(drawn);
  places.tidy();
}

function drawRoutes() {
  routes.clearLayers();
  for (const patrol of patrols.filter((p) => p.route)) {
    L.geoJSON(patrol.route, { style: { color: "#0b5394", weight: 4, dashArray: "10 6", opacity: 0.9 } })
      .bindTooltip(escapeHtml(patrol.name), { sticky: true }).addTo(routes);
  }
  drawn.routes = routes.getLayers().length;
  document.getElementById("field-map").dataset.layers = JSON.stringify(drawn);
}

function showRoute(patrol) {
  const bounds = L.geoJSON(patrol.route).getBounds();
  if (bounds.isValid()) map.fitBounds(bounds.pad(0.2));
  document.getElementById("field-map").scrollIntoView({ block: "nearest" });
}

function showHere(fix) {
  youAreHere.clearLayers();
  L.circleMarker([fix.lat, fix.lon], { radius: 7, color: "#ffffff", weight: 2, fillColor: "#1a73e8", fillOpacity: 1 })
    .bindTooltip(t("You are here")).addTo(youAreHere);
}

// the first visit is not yet the service worker's: once it takes over, each list is read again through it,
// so that it keeps them for the day with no connection
navigator.serviceWorker?.addEventListener("controllerchange", () => {
  Promise.all([...layerUrls(), patrolsUrl(), "/api/v1/units?limit=1000", "/api/v1/places?limit=10000"].map(read));
});

// --- positions from the device -----------------------------------------------------------------------------

function position() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) { resolve(null); return; }
    navigator.geolocation.getCurrentPosition(
      (p) => {
        // dated by the page's clock when the fix arrives (at most maximumAge old), the clock whose offset is learned
        const fix = { lat: p.coords.latitude, lon: p.coords.longitude, accuracy: p.coords.accuracy, t: new Date() };
        showHere(fix);
        resolve(fix);
      },
      () => resolve(null), { enableHighAccuracy: true, timeout: 10000, maximumAge: 5000 });
  });
}

let tracking = null;
async function recordPosition() {
  const patrol = underWay || patrols.find((p) => p.status === "under_way");
  const tracker = patrol?.trackers?.[0];
  const status = document.getElementById("track-status");
  if (!tracker) { status.textContent = t("No patrol under way with a tracker: no position kept."); return; }
  const here = await position();
  if (!here) { status.textContent = t("The device gives no position."); return; }
  const offset = clockOffsetS(); // a fix is dated by the device's clock: by the server's once its offset is known
  const at = new Date(here.t.getTime() + (offset || 0) * 1000);
  const fix = { tracker, t: at.toISOString(), lat: here.lat, lon: here.lon, accuracy: here.accuracy };
  const clockOf = offset === null ? "device" : undefined;
  const open = (await outbox.all()).find((i) => i.kind === "positions" && i.state === "waiting" && i.user === me
                                              && !i.locked && i.fixes.length < 500 && i.id !== inFlight && i.clock === clockOf);
  if (open) await outbox.update(open.id, { fixes: [...open.fixes, fix] });
  else await outbox.keep({ kind: "positions", user: me, fixes: [fix], clock: clockOf });
  status.textContent = t("Position kept at %(at)s", { at: missionTime(at, { seconds: true }) });
  await render();
}

function followTracking() {
  clearInterval(tracking);
  tracking = null;
  if (document.getElementById("track-me").checked) {
    const every = Math.max(2, Number(document.getElementById("track-every").value) || 60); // a vehicle at speed: down to 2 s
    recordPosition();
    tracking = setInterval(recordPosition, every * 1000);
  }
}

// --- reporting an incident with its files ------------------------------------------------------------------

async function sha256(blob) {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

let correcting = null; // the refused report being corrected: sent again in its place

/** The fields of a recovery's form that give the recovery ``body`` the device kept. */
function recoveryFields(body) {
  const [lon, lat] = body.site.coordinates;
  return { ...body, lat, lon, bodies: body.bodies.filter((b) => b.kind === "body").length,
           parts: body.bodies.filter((b) => b.kind === "body_part").length };
}

const FORMS = { incident: { form: "report-form", fields: reportFields }, recovery: { form: "recovery-form", fields: recoveryFields } };
const INSTANTS = new Set(["started_at", "ended_at", "recovered_at"]);

function correct(item) {
  const form = document.getElementById(FORMS[item.kind]?.form);
  if (!form) { outbox.update(item.id, { state: "waiting", reason: undefined, next_try: 0 }).then(flush); return; }
  correcting = item;
  for (const [name, value] of Object.entries(FORMS[item.kind].fields(item.body))) {
    if (Array.isArray(value)) { // a group of check boxes
      form.querySelectorAll(`[name="${name}"]`).forEach((box) => { box.checked = value.includes(box.value); });
      continue;
    }
    const field = form.elements.namedItem(name);
    if (!field || value === null || value === undefined || field.type === "file") continue;
    field.value = INSTANTS.has(name) ? missionTime(value).replace(" ", "T") : String(value);
  }
  const error = form.querySelector('[data-error-for=""]');
  error.textContent = item.reason;
  error.hidden = false;
  form.scrollIntoView();
}

const CASUALTIES = ["killed_civilian", "killed_military", "wounded_civilian", "wounded_military"];

function reportBody(form) {
  const value = (name) => form.elements.namedItem(name).value.trim();
  const checked = (name) => [...form.querySelectorAll(`[name="${name}"]:checked`)].map((box) => box.value);
  const body = { type: value("type"), started_at: missionTimeToIso(value("started_at")), lat: Number(value("lat")),
                 lon: Number(value("lon")), event_count: Number(value("event_count") || 1), narrative: value("narrative"),
                 place_name: value("place_name"), observed_by: checked("observed_by"), alleged_actors: checked("alleged_actors") };
  for (const name of ["subtype", "restriction", "denied"]) if (value(name)) body[name] = value(name);
  if (value("ended_at")) body.ended_at = missionTimeToIso(value("ended_at"));
  for (const name of ["direction_deg", "distance_m"]) if (value(name)) body[name] = Number(value(name));
  const counted = CASUALTIES.filter((name) => Number(value(name)) > 0);
  if (counted.length) body.casualties = Object.fromEntries(counted.map((name) => [name, { min: Number(value(name)) }]));
  const patrolId = value("patrol_id");
  const postId = value("post_id");
  body.source = patrolId ? "patrol" : postId ? "observation_post" : config.role === "patrol" ? "patrol" : "joint_monitoring_centre";
  if (patrolId) body.patrol_id = Number(patrolId);
  if (postId) body.post_id = Number(postId);
  return body;
}

/** A kept report's body as the report form's fields (casualties one count each; lists as check boxes). */
function reportFields(body) {
  const fields = { ...body };
  for (const name of CASUALTIES) fields[name] = body.casualties?.[name]?.min ?? 0;
  delete fields.casualties;
  return fields;
}

/** Whether the form's fields hold a report the server will take: the page's own checks (``missing``, with their
 * ``messages``) and the server's rules for ``kind`` (rules.js); each broken one is said once, beside its field or,
 * for a field with no place of its own, above the form under the field's label. */
function filledIn(form, kind, body, missing, messages = {}) {
  const said = new Map(missing.map((name) => [name, messages[name] || t("Fill this in.")]));
  const latest = serverNow().getTime() + config.clock_skew_s * 1000;
  for (const [name, message] of rules.broken(config.rules?.[kind] || {}, body, { latest, t })) if (!said.has(name)) said.set(name, message);
  form.querySelectorAll("[data-error-for]").forEach((el) => { el.hidden = true; el.textContent = ""; });
  const general = form.querySelector('[data-error-for=""]');
  const labels = labelIn(kind);
  for (const [name, message] of said) {
    const slot = form.querySelector(`[data-error-for="${name}"]`);
    const target = slot || general;
    const line = slot ? message : `${labels(name) || name}: ${message}`;
    target.textContent = target.textContent ? `${target.textContent} · ${line}` : line;
    target.hidden = false;
  }
  const first = [...said.keys()].map((name) => form.querySelector(`[name="${name}"]`)).find(Boolean);
  first?.focus();
  return !said.size;
}

function unplaced(form, body) {
  return ["lat", "lon"].filter((name) => !Number.isFinite(body[name]) || !form.elements.namedItem(name).value.trim());
}

/** Keep a report of ``kind`` (its files after it) in the outbox: a new one, or the refused one being corrected. */
async function keepReport(form, kind, body, instant) {
  // what the form says now, before anything waits; the form is free at once for the next report
  const files = [...form.elements.namedItem("files").files];
  const corrected = correcting?.kind === kind ? correcting : null;
  if (corrected) correcting = null;
  form.reset();
  form.elements.namedItem(instant).value = missionTime(serverNow()).replace(" ", "T");
  if (kind === "incident") renderPatrols(); // the patrol under way reports the next one too
  try {
    let reportId;
    if (corrected) {
      reportId = corrected.id; // the same report, corrected: the same client_id, never stored before (unless the
      // server holds a different report under it: then a new one)
      const clientId = corrected.taken ? `field-${crypto.randomUUID()}` : corrected.body.client_id;
      await outbox.update(reportId, { body: { ...body, client_id: clientId, clock_offset_s: corrected.body.clock_offset_s },
                                      state: "waiting", reason: undefined,
                                      taken: false, attempts: 0, next_try: 0 });
    } else {
      reportId = await outbox.keep({ kind, user: me, ...dated({ ...body, client_id: `field-${crypto.randomUUID()}` }) });
    }
    await keepFiles(files, { after: reportId, record_kind: kind });
  } catch (failure) { // the device could not keep it (storage full): the report goes back into the form
    correct({ kind, id: corrected?.id, body: { ...body, client_id: corrected?.body.client_id }, reason: `${t("Not kept on this device:")} ${failure}` });
    if (!corrected) correcting = null;
    return;
  }
  await render();
  flush();
}

async function submitReport(event) {
  event.preventDefault();
  const form = event.target;
  const body = reportBody(form);
  const missing = [...["type", "started_at"].filter((name) => !body[name]), ...unplaced(form, body)];
  // a patrol or post commander reports as that patrol or post: the server would refuse the report otherwise
  if (config.role === "patrol" && !body.patrol_id && !body.post_id) missing.push("patrol_id");
  if (body.type === "ceasefire_violation" && !body.subtype) missing.push("subtype"); // the server's rule across two fields
  if (!filledIn(form, "incident", body, missing, { patrol_id: t("Choose your patrol or your post."),
                                                  subtype: t("a ceasefire violation needs its subtype") })) return;
  await keepReport(form, "incident", body, "started_at");
}

function recoveryBody(form) {
  const value = (name) => form.elements.namedItem(name).value.trim();
  const count = (name) => Math.max(0, Math.floor(Number(value(name) || 0)));
  const bodies = [...Array(count("bodies")).fill({ kind: "body" }), ...Array(count("parts")).fill({ kind: "body_part" })];
  return { recovered_at: missionTimeToIso(value("recovered_at")), lat: Number(value("lat")), lon: Number(value("lon")),
           place_name: value("place_name"), team: value("team"), side: value("side"), bodies_found: count("bodies_found"),
           bodies, stored_at: value("stored_at"), notes: value("notes") };
}

async function submitRecovery(event) {
  event.preventDefault();
  const form = event.target;
  const { lat, lon, ...body } = recoveryBody(form);
  const missing = ["recovered_at", "team", "side"].filter((name) => !body[name]);
  if (!filledIn(form, "recovery", { ...body, site: { type: "Point", coordinates: [lon, lat] } },
                [...missing, ...unplaced(form, { lat, lon })])) return;
  await keepReport(form, "recovery", { ...body, site: { type: "Point", coordinates: [lon, lat] } }, "recovered_at");
}

// A large photo goes first as a smaller copy bound to the original's SHA-256; the original follows when the link
// allows (the browser's Network Information: not while it says the data is to be saved or the link is slower than
// 4G). The record's evidence stays the original: the server lists the copy only until the original arrives.
const LARGE_PHOTO_BYTES = 1.5 * 2 ** 20;
const COPY_SIDE_PX = 1600;

/** Whether the link is too slow for full-size photos now. */
function slowLink() {
  const link = navigator.connection;
  return !!link && (link.saveData || ["slow-2g", "2g", "3g"].includes(link.effectiveType));
}

/** A smaller JPEG of a large photo, or null (small already, not a photo the browser decodes, no real gain). */
async function smallerCopy(file) {
  if (file.size <= LARGE_PHOTO_BYTES || !file.type.startsWith("image/") || typeof OffscreenCanvas === "undefined") return null;
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, COPY_SIDE_PX / Math.max(bitmap.width, bitmap.height));
    const canvas = new OffscreenCanvas(Math.round(bitmap.width * scale), Math.round(bitmap.height * scale));
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    const copy = await canvas.convertToBlob({ type: "image/jpeg", quality: 0.8 });
    return copy.size < file.size * 0.8 ? copy : null;
  } catch {
    return null; // a format the browser does not draw (HEIC): the original alone
  }
}

async function keepFiles(files, fields) {
  for (const file of files) {
    const digest = await sha256(file);
    const common = { kind: "file", user: me, captured_at: new Date(file.lastModified || Date.now()).toISOString(),
                     kept_at: serverNow().toISOString(), ...(clockOffsetS() === null ? { clock: "device" } : {}), ...fields };
    const copy = await smallerCopy(file);
    if (copy) {
      await outbox.keep({ ...common, file: copy, filename: `${file.name.replace(/\.[^.]*$/, "")}-small.jpg`, sha256: await sha256(copy),
                          copy_of: digest, client_id: `field-${crypto.randomUUID()}` });
    }
    await outbox.keep({ ...common, file, filename: file.name, sha256: digest, full_size: !!copy, client_id: `field-${crypto.randomUUID()}` });
  }
}

async function submitEvidence(event) {
  event.preventDefault();
  const form = event.target;
  const key = form.elements.namedItem("record_key").value.trim();
  const files = form.elements.namedItem("files").files;
  form.querySelectorAll("[data-error-for]").forEach((el) => { el.hidden = true; });
  const missing = [!key && "record_key", !files.length && "files"].filter(Boolean);
  for (const name of missing) {
    const slot = form.querySelector(`[data-error-for="${name}"]`);
    slot.textContent = t("Fill this in.");
    slot.hidden = false;
  }
  if (missing.length) return;
  await keepFiles(files, { record_kind: form.elements.namedItem("record_kind").value, record_key: key,
                           caption: form.elements.namedItem("caption").value.trim() });
  form.reset();
  await render();
  flush();
}

// --- wiring ------------------------------------------------------------------------------------------------

/** The device's position into a form's latitude and longitude. */
async function placeHere(form) {
  const fix = await position();
  if (fix) { form.elements.namedItem("lat").value = fix.lat.toFixed(5); form.elements.namedItem("lon").value = fix.lon.toFixed(5); }
}

const report = document.getElementById("report-form");
if (report) {
  // a report comes from a patrol or from a post, not both: choosing one clears the other
  const patrolChoice = report.elements.namedItem("patrol_id");
  const postChoice = report.elements.namedItem("post_id");
  patrolChoice.addEventListener("change", () => { if (patrolChoice.value) postChoice.value = ""; });
  postChoice.addEventListener("change", () => { if (postChoice.value) patrolChoice.value = ""; });
  report.elements.namedItem("started_at").value = missionTime(serverNow()).replace(" ", "T");
  report.addEventListener("submit", submitReport);
  document.getElementById("r-here").addEventListener("click", () => placeHere(report));
}
document.getElementById("evidence-form")?.addEventListener("submit", submitEvidence);
const recovery = document.getElementById("recovery-form");
if (recovery) {
  recovery.elements.namedItem("recovered_at").value = missionTime(serverNow()).replace(" ", "T");
  recovery.addEventListener("submit", submitRecovery);
  document.getElementById("v-here").addEventListener("click", () => placeHere(recovery));
}
unitChoice.addEventListener("change", () => {
  localStorage.setItem(UNIT_KEY, unitChoice.value);
  loadPatrols();
});
// --- the Emergency button ----------------------------------------------------------------------------------
// One touch and a confirmation: the call is kept in the outbox at once (with the position the device gives within
// a few seconds, or none) and sent before anything else, again every few seconds until the server has it. The call
// stays on this device, to be called off, until it is called off.

const CALL_KEY = `peacewatch-emergency:${me}`; // {call, alert}: this user's call on this device, until called off
const confirmCall = document.getElementById("emergency-confirm");

function callOn() { return JSON.parse(localStorage.getItem(CALL_KEY) || "null"); }

function showCall() {
  const on = callOn();
  const status = document.getElementById("emergency-status");
  document.getElementById("emergency").hidden = Boolean(on);
  document.getElementById("emergency-off").hidden = !on;
  status.hidden = !on;
  if (on) {
    status.textContent = on.alert ? t("Emergency received by the operations centre (alert %(id)s).", { id: on.alert })
      : t("Emergency kept on this device: it is sent the moment there is a connection.");
  }
  document.body.dataset.emergency = on ? (on.alert ? "received" : "waiting") : "";
}

function answered(call, alert) {
  const on = callOn();
  if (on?.call === call && alert?.id) localStorage.setItem(CALL_KEY, JSON.stringify({ ...on, alert: alert.id }));
  showCall();
}

async function sendCall() {
  confirmCall.close();
  const call = `em-${crypto.randomUUID()}`;
  localStorage.setItem(CALL_KEY, JSON.stringify({ call, alert: null }));
  showCall();
  const here = await Promise.race([position(), new Promise((resolve) => { setTimeout(() => resolve(null), 3000); })]);
  const offset = clockOffsetS();
  const body = { client_id: call, at: new Date(Date.now() + (offset || 0) * 1000).toISOString(),
                 patrol_id: (underWay || patrols.find((p) => p.status === "under_way"))?.id ?? null };
  if (here) Object.assign(body, { lat: here.lat, lon: here.lon, accuracy: Math.round(here.accuracy) });
  await outbox.keep({ kind: "emergency", user: me, call, body });
  await sendNow();
}

async function callOff() {
  const on = callOn();
  if (!on) return;
  await outbox.keep({ kind: "emergency_off", user: me, call: on.call });
  localStorage.removeItem(CALL_KEY);
  showCall();
  await sendNow();
}

document.getElementById("emergency").addEventListener("click", () => confirmCall.showModal());
document.getElementById("emergency-back").addEventListener("click", () => confirmCall.close());
document.getElementById("emergency-send").addEventListener("click", sendCall);
document.getElementById("emergency-off").addEventListener("click", callOff);
showCall();

/** Send what waits now, its back-off forgotten: the user asked, or the connection came back. */
async function sendNow() {
  for (const item of await outbox.all()) if (item.state === "waiting") await outbox.update(item.id, { next_try: 0 });
  flush();
}
document.getElementById("send-now").addEventListener("click", sendNow);
document.getElementById("export-outbox").addEventListener("click", exportOutbox);
document.getElementById("track-me").addEventListener("change", followTracking);
document.getElementById("track-every").addEventListener("change", followTracking);
window.addEventListener("online", () => { render(); sendNow(); });
window.addEventListener("offline", render);
navigator.connection?.addEventListener?.("change", () => { render(); flush(); }); // a faster link: the originals go
setInterval(flush, 15000);
window.peacewatch = Object.assign(window.peacewatch || {}, { flush, outbox, recordPosition });
showClock();
// the outbox is the only copy of what was reported offline: ask the browser never to evict it under storage pressure
navigator.storage?.persist?.().then((kept) => { document.body.dataset.storagePersisted = String(kept); });
// the outbox's key: the public half kept here at once, the private one as soon as the server answers
const keysReady = useOutboxKey(null).then(() => freshSession()).then(render);
Promise.all([keysReady, loadUnits().then(() => Promise.all([loadPatrols(), loadLayers()]))]).then(render).then(flush)
  .then(() => { document.body.dataset.fieldReady = "true"; });
