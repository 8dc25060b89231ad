// One task's form (task.html): fields built from the API's schema; submit as the signed-in user; errors beside their fields.
/* global L */
import { alertText, api, askWhy, baseMap, config, contextLayers, escapeHtml, missionTime, missionTimeToIso, nameOf, t } from "./common.js";
import { shapeEditor } from "./shape-editor.js";

const form = document.getElementById("task-form");
const result = document.getElementById("task-result");
const confirmDialog = document.getElementById("confirm");
const task = config.task;

// --- reading the form into the request ---------------------------------------------------------------------

function isInTemplate(el) { return el.closest("template") !== null; }

/** A fresh id for what the form sends next: the same send twice (a double click, a retry) is stored once. */
function newClientIds() {
  for (const el of form.querySelectorAll("[data-kind=client_id]")) {
    el.value = `web-${crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`}`;
  }
}

newClientIds();

function valueOf(el) {
  const kind = el.dataset.kind;
  if (kind === "client_id") return el.value || undefined;
  if (kind === "choices") {
    const picked = [...el.querySelectorAll("input:checked")].map((c) => (el.hasAttribute("data-numeric") ? Number(c.value) : c.value));
    return picked.length ? picked : undefined;
  }
  if (kind === "dental") { // {"16": "filled", ...}: the teeth charted, the others left out
    const chart = Object.fromEntries([...el.querySelectorAll("select[data-tooth]")].filter((s) => s.value).map((s) => [s.dataset.tooth, s.value]));
    return Object.keys(chart).length ? chart : undefined;
  }
  if (kind === "events") { // [[report ids of event 1], [of event 2], ...]: the reports sorted into the events they are
    const events = new Map();
    for (const select of el.querySelectorAll("select[data-report]")) {
      if (!events.has(select.value)) events.set(select.value, []);
      events.get(select.value).push(Number(select.dataset.report));
    }
    return events.size ? [...events.entries()].sort(([a], [b]) => Number(a) - Number(b)).map(([, ids]) => ids) : undefined;
  }
  if (kind === "checkbox") return el.checked ? true : changing ? false : undefined; // a change may untick
  if (kind === "file") return el.files[0];
  const raw = el.value.trim();
  if (raw === "") return undefined;
  switch (kind) {
    case "integer": case "number": { const n = Number(raw); return Number.isFinite(n) ? n : raw; }
    case "datetime": return missionTimeToIso(raw);
    case "lines": return raw.split("\n").map((l) => l.trim()).filter(Boolean);
    case "json": case "geometry": try { return JSON.parse(raw); } catch { return raw; }
    case "reference": return /^\d+$/.test(raw) && !el.dataset.value ? Number(raw) : raw; // an id, or a code
    default: return raw;
  }
}

function put(target, path, value) {
  const keys = path.split(".");
  let node = target;
  keys.forEach((key, i) => {
    if (i === keys.length - 1) { node[key] = value; return; }
    if (node[key] === undefined) node[key] = /^\d+$/.test(keys[i + 1]) ? [] : {};
    node = node[key];
  });
}

function compact(value) {
  if (Array.isArray(value)) return value.filter((v) => v !== undefined).map(compact);
  if (value && typeof value === "object" && !(value instanceof File)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, compact(v)]));
  }
  return value;
}

/** {path: {...}, body: {...}} from the filled fields; an empty field sends nothing (the API's default holds). */
function collect() {
  const out = { path: {}, body: {} };
  for (const el of form.querySelectorAll("[data-path]")) {
    if (isInTemplate(el)) continue;
    const value = valueOf(el);
    if (value !== undefined) put(out, el.dataset.path, value);
  }
  // a "Feature" constant alone is no change: only send it with something else
  // (a body that is a file, a CSV flight log, is sent whole)
  if (!(out.body instanceof File) && !Object.keys(out.body).some((k) => k !== "type")) out.body = {};
  return compact(out);
}

// --- a change of a record: the form holds the record's current values and sends only what was changed -------

// a PATCH of one record (/api/v1/users/{user_id}): its fields start from the record as it is now
const changing = task.method === "PATCH" && /\{\w+\}$/.test(task.path);
let current = null; // the body as the form held it when the record was read: what a change is measured against
const status = document.getElementById("task-current");

function fill(el, value) {
  const kind = el.dataset.kind;
  if (kind === "constant" || kind === "file" || kind === "client_id") return;
  if (kind === "checkbox") { el.checked = value === true; return; }
  if (kind === "choices") {
    el.querySelectorAll("input").forEach((box) => { box.checked = Array.isArray(value) && value.map(String).includes(box.value); });
    return;
  }
  if (kind === "dental") {
    el.querySelectorAll("select[data-tooth]").forEach((s) => { s.value = (value && value[s.dataset.tooth]) || ""; });
    return;
  }
  if (kind === "events") return;
  let text = "";
  if (value !== null && value !== undefined) {
    switch (kind) {
      case "lines": text = Array.isArray(value) ? value.join("\n") : String(value); break;
      case "json": case "geometry": text = JSON.stringify(value); break;
      case "datetime": text = missionTime(value).replace(" ", "T"); break;
      default: text = String(value);
    }
  }
  if (el.tagName === "SELECT" && text && ![...el.options].some((o) => o.value === text)) el.add(new Option(text, text));
  el.value = text;
  if (kind === "geometry") el.dispatchEvent(new Event("change"));
}

/** Read the record named by the path's fields and fill the form with it; a change is then what differs. */
async function loadCurrent() {
  const values = collect();
  if ((task.path.match(/\{(\w+)\}/g) || []).some((p) => values.path[p.slice(1, -1)] === undefined)) return;
  current = null;
  status.hidden = true;
  let record;
  try {
    record = await api(url(values));
  } catch (problem) {
    showErrors(problem);
    return;
  }
  clearErrors();
  for (const el of form.querySelectorAll('[data-path^="body."]')) {
    const key = el.dataset.path.slice(5);
    if (isInTemplate(el) || key.includes(".") || !(key in record)) continue;
    fill(el, record[key]);
  }
  current = collect().body;
  status.textContent = t("The form holds the record as it is now: change what needs changing.");
  status.hidden = false;
}

/** What the form changes of the record as it was read: the fields that differ (an emptied field is cleared). */
function changesOf(body) {
  const changes = {};
  for (const [key, value] of Object.entries(body)) {
    if (JSON.stringify(value) !== JSON.stringify(current[key])) changes[key] = value;
  }
  for (const key of Object.keys(current)) {
    if (key in body) continue;
    const el = form.querySelector(`[data-path="body.${CSS.escape(key)}"]`);
    const kind = el?.dataset.kind;
    changes[key] = kind === "lines" || kind === "choices" ? [] : kind === "text" || kind === "textarea" ? "" : null;
  }
  return changes;
}

function url(values) {
  return task.path.replace(/\{(\w+)\}/g, (_, name) => encodeURIComponent(values.path[name] ?? ""));
}

async function send(values, reason) {
  const headers = {};
  if (reason) headers["PeaceWatch-Reason"] = encodeURIComponent(reason);
  const missingPath = (task.path.match(/\{(\w+)\}/g) || []).map((p) => p.slice(1, -1)).filter((n) => values.path[n] === undefined);
  if (missingPath.length) {
    throw { detail: t("Fill in the fields marked."),
            errors: missingPath.map((n) => ({ field: `path.${n}`, message: t("Choose one.") })) };
  }
  if (task.content_type === "multipart/form-data") {
    const data = new FormData();
    for (const [k, v] of Object.entries(values.body)) data.append(k, v);
    return api(url(values), { method: task.method, formData: data, headers });
  }
  if (task.content_type === "text/csv") {
    return api(url(values), { method: task.method, raw: values.body.body ?? values.body, contentType: "text/csv", headers });
  }
  const hasBody = task.content_type !== null && task.content_type !== undefined;
  return api(url(values), { method: task.method, body: hasBody ? values.body : undefined, headers });
}

// --- showing the answer ------------------------------------------------------------------------------------

function clearErrors() {
  form.querySelectorAll("[data-error-for]").forEach((el) => { el.hidden = true; el.textContent = ""; });
  form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
}

/** The slot for an error's field: the field itself, or the nearest enclosing one the form has (a shape's coordinates → the shape). */
function slotFor(field) {
  let parts = (field || "").split(".");
  if (parts[0] === "query") return null;
  while (parts.length) {
    const slot = form.querySelector(`[data-error-for="${CSS.escape(parts.join("."))}"]`);
    if (slot) return slot;
    parts = parts.slice(0, -1);
  }
  return null;
}

function showErrors(problem) {
  clearErrors();
  const general = form.querySelector('[data-error-for=""]');
  const unplaced = [];
  for (const error of problem.errors || []) {
    const slot = slotFor(error.field);
    if (slot) {
      slot.textContent = slot.textContent ? `${slot.textContent} ${error.message}` : error.message;
      slot.hidden = false;
      const input = form.querySelector(`[data-path="${CSS.escape(slot.dataset.errorFor)}"]`);
      if (input) input.setAttribute("aria-invalid", "true");
    } else {
      unplaced.push(error.message);
    }
  }
  const placed = (problem.errors || []).length - unplaced.length;
  const lead = placed ? t("%(n)s field(s) to correct: see the messages below each.", { n: placed }) : problem.detail || problem.title;
  general.textContent = [...new Set([lead, ...unplaced].filter(Boolean))].join(" · ");
  general.hidden = false;
  general.focus?.();
  const first = form.querySelector('[aria-invalid="true"]');
  if (first) first.focus();
}

const LINKS = [
  [/\/incidents/, (r) => r.id && `/incidents/${r.id}`], [/\/patrols/, (r) => r.id && `/patrols/${r.id}`],
  [/\/recoveries|\/bodies/, (r) => (r.body_numbers?.[0] || r.number) && `/remains/bodies/${r.body_numbers?.[0] || r.number}`],
  [/\/missing-persons/, (r) => r.number && `/remains/missing/${r.number}`],
  [/\/identifications/, (r) => r.body && `/remains/bodies/${r.body}`],
  // a handover's list goes to the receiving side with the bodies: printed from here, in the page's language
  [/\/handovers$/, (r) => r.id && `/api/v1/handovers/${r.id}/list?format=html&lang=${document.documentElement.lang}`, "Print the handover list"],
];

// what an answer says, in the reader's words: a record's identity, or an import's counts
const SAID = {
  id: "Record", number: "Number", body_numbers: "Body numbers", code: "Code", name: "Name", status: "Status",
  received: "Received", stored: "Stored", created: "Created", updated: "Updated", already_recorded: "Already recorded",
  duplicates: "Already stored (sent again)", skipped: "Not stored as positions", places_created: "New places",
  places_known: "Places already known", alerts: "Alerts raised", token: "Token", refused: "Refused", held: "Held",
};

const OUTBOX_KINDS = { incident: "Incident report", recovery: "Recovery", checkin: "Check-in", step: "Patrol step",
                       positions: "Positions", file: "File" };

/** Each item an import did not store, and why: a flight log's rows, a layer's features, a track's points. */
function refusalsOf(answer) {
  const rows = (answer.rejected || []).map((r) => `${t("Line %(n)s", { n: r.line })} (${r.field}): ${r.message}`);
  const features = Array.isArray(answer.refused)
    ? answer.refused.map((f) => `${t("Feature %(n)s", { n: f.index + 1 })}${f.name ? ` “${f.name}”` : ""}: ${f.reason}`) : [];
  const points = (answer.skipped_points || []).map((p) => `${p.where}${p.name ? ` “${p.name}”` : ""}: ${p.reason}`);
  const items = (answer.outcomes || []).filter((o) => o.reason) // a carried outbox: each item not stored, and why
    .map((o) => `${t("Line %(n)s", { n: o.line })} (${t(OUTBOX_KINDS[o.kind] || o.kind)}, ${o.user}): ${o.reason}`);
  return [...rows, ...features, ...points, ...items];
}

function showResult(answer) {
  clearErrors();
  newClientIds(); // stored: whatever is sent next is another record
  const said = answer && typeof answer === "object"
    ? Object.keys(SAID)
      .filter((k) => answer[k] !== undefined && answer[k] !== null && !(Array.isArray(answer[k]) && typeof answer[k][0] === "object"))
      .map((k) => `${escapeHtml(t(SAID[k]))}: <strong>${escapeHtml(Array.isArray(answer[k]) ? answer[k].length > 8 ? `${answer[k].slice(0, 8).join(", ")}, …` : answer[k].join(", ") : typeof answer[k] === "object" ? JSON.stringify(answer[k]) : answer[k])}</strong>`)
    : [];
  const refusals = answer && typeof answer === "object" ? refusalsOf(answer) : [];
  const rule = LINKS.find(([pattern]) => pattern.test(task.path));
  const href = rule && answer && rule[1](answer);
  const linkText = (rule && rule[2]) || "Open the record";
  result.innerHTML = `<p class="ok">${escapeHtml(t("Done: the server stored it."))}</p>` +
    (said.length ? `<p>${said.join(" · ")}</p>` : "") +
    (refusals.length ? `<p class="warn">${escapeHtml(t("Not stored, and why:"))}</p><ul class="refusals">${
      refusals.map((r) => `<li>${escapeHtml(r)}</li>`).join("")}</ul>` : "") +
    (href ? `<p><a href="${escapeHtml(href)}">${escapeHtml(t(linkText))}</a></p>` : "");
  result.hidden = false;
  result.focus?.();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const values = collect();
  if (changing && current !== null) {
    values.body = changesOf(values.body);
    if (!Object.keys(values.body).length) {
      clearErrors();
      result.innerHTML = `<p class="warn">${escapeHtml(t("Nothing was changed: the form holds the record as it is."))}</p>`;
      result.hidden = false;
      return;
    }
  }
  let reason = null;
  if (task.irreversible) {
    reason = await askWhy(confirmDialog);
    if (reason === null) return;
    const reasonField = form.querySelector('[data-path="body.reason"]');
    if (reasonField && !reasonField.value.trim()) { reasonField.value = reason; put(values, "body.reason", reason); }
  }
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  try {
    showResult(await send(values, reason));
    if (task.method !== "PATCH") form.querySelectorAll("[data-kind=reference]").forEach(loadChoices);
    else if (changing) { const said = result.innerHTML; await loadCurrent(); result.innerHTML = said; result.hidden = false; }
  } catch (problem) {
    showErrors(problem instanceof TypeError ? { detail: t("The server could not be reached: nothing was stored. Try again.") } : problem);
  } finally {
    button.disabled = false;
  }
});

// --- lists of items ----------------------------------------------------------------------------------------

function renumber(list) {
  list.querySelectorAll(":scope > [data-items] > [data-item]").forEach((item, i) => {
    item.querySelector("[data-item-number]").textContent = String(i + 1);
  });
}

function addItem(list) {
  const items = list.querySelector(":scope > [data-items]");
  const index = Number(list.dataset.next || 0);
  list.dataset.next = String(index + 1);
  const html = list.querySelector(":scope > template").innerHTML;
  const base = list.dataset.list;
  // only this list's own index: a nested list keeps its placeholder for its own items
  const own = `${base}.__i__`;
  items.insertAdjacentHTML("beforeend", html.split(own).join(`${base}.${index}`)
    .split(own.replace(/[^A-Za-z0-9_-]/g, "-")).join(`${base}.${index}`.replace(/[^A-Za-z0-9_-]/g, "-")));
  const item = items.lastElementChild;
  setUp(item);
  renumber(list);
  item.querySelector("input, select, textarea")?.focus();
}

// --- choices read from the API (the reader's own view of the records) ---------------------------------------

async function loadChoices(select) {
  const source = select.dataset.source;
  if (!source) return;
  try {
    const sep = source.includes("?") ? "&" : "?";
    const data = await api(`${source}${sep}limit=1000`);
    const keep = select.value; // chosen, or filled in by the link, while the list loaded
    const rows = Array.isArray(data) ? data : data.features ? data.features.map((f) => ({ id: f.id, ...f.properties })) : data.items || [];
    const key = select.dataset.value || (select.dataset.path.endsWith(".number") || select.dataset.label === "number" ? "number" : "id");
    const first = select.options[0];
    select.replaceChildren(first, ...rows.map((row) => {
      const option = document.createElement("option");
      option.value = row[key] ?? row.id;
      const name = source.startsWith("/api/v1/alerts") ? `${alertText(row)} · ${missionTime(row.started_at)}` // said as the map says it
        : source.startsWith("/api/v1/merge-proposals") ? t("%(n)s reports", { n: row.incident_ids.length }) // "3 reports (#39)"
        : row.family_name ? `${row.number} · ${row.family_name} ${row.given_names}` // a missing person: the humanitarian cell's form only
        : (select.dataset.label === "name" ? nameOf(row) : row[select.dataset.label]) ?? nameOf(row) ?? row.code ?? row.id;
      const named = nameOf(row) || row.full_name;
      option.textContent = select.dataset.value ? [option.value, named !== option.value ? named : ""].filter(Boolean).join(" · ") // UBBB · Baku
        : String(name) === String(option.value) ? `#${name}` : `${name} (#${option.value})`;
      return option;
    }));
    if (keep && ![...select.options].some((o) => o.value === keep)) select.add(new Option(`#${keep}`, keep));
    if (keep) select.value = keep;
  } catch {
    select.insertAdjacentHTML("afterend", `<p class="hint">${escapeHtml(t("The list could not be loaded; type the number instead."))}</p>`);
    const input = document.createElement("input");
    input.type = "text";
    for (const attr of ["id", "aria-describedby"]) input.setAttribute(attr, select.getAttribute(attr));
    input.dataset.path = select.dataset.path;
    input.dataset.kind = "reference";
    select.replaceWith(input);
  }
}

/** A list of references to tick (the bodies still in the mission's custody): one box each, from the reader's view. */
async function loadPicks(fieldset) {
  const loading = fieldset.querySelector("[data-choices-loading]");
  try {
    const source = fieldset.dataset.source;
    const rows = await api(`${source}${source.includes("?") ? "&" : "?"}limit=1000`);
    const key = fieldset.dataset.label;
    const ticked = new Set([...fieldset.querySelectorAll("input:checked")].map((box) => box.value));
    fieldset.querySelectorAll("label").forEach((label) => label.remove());
    for (const row of rows) {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = fieldset.hasAttribute("data-numeric") ? row.id : row[key]; // a record's id, or a body's number
      box.checked = ticked.has(box.value);
      const where = [row.username !== row[key] ? row.username : "", row.name !== row[key] ? row.name : "", row.full_name, row.custody_place, row.identified_as ? t("identified as %(number)s", { number: row.identified_as }) : ""]
        .filter(Boolean).join(" · ");
      label.append(box, ` ${row[key]}`);
      if (where) { // the record's own words (a tracker's name, a custody place): not the page's
        const typed = document.createElement("span");
        typed.dataset.typed = "";
        typed.textContent = ` (${where})`;
        label.append(typed);
      }
      fieldset.append(label);
    }
    loading.textContent = rows.length ? "" : t("Nothing to choose from now.");
    loading.hidden = rows.length > 0;
  } catch {
    loading.textContent = t("The list could not be loaded.");
  }
}

// --- a merge proposal split: each of its reports put in the event it belongs to ------------------------------------

/** The proposal's reports, each with a choice of event (its own by default), read when the proposal is chosen. */
async function loadEvents(fieldset, proposalId) {
  const list = fieldset.querySelector("[data-events]");
  const hint = fieldset.querySelector("[data-events-hint]");
  list.replaceChildren();
  if (!proposalId) { hint.hidden = false; return; }
  try {
    const proposal = await api(`/api/v1/merge-proposals/${encodeURIComponent(proposalId)}`);
    const reports = await Promise.all(proposal.incident_ids.map((id) => api(`/api/v1/incidents/${id}`)));
    reports.forEach((report, i) => {
      const item = document.createElement("li");
      const select = document.createElement("select");
      select.dataset.report = String(report.id);
      select.id = `${fieldset.id}-${report.id}`;
      reports.forEach((_, n) => select.add(new Option(t("Event %(number)s", { number: n + 1 }), String(n + 1))));
      select.value = String(i + 1);
      const label = document.createElement("label");
      label.htmlFor = select.id;
      label.textContent = [`#${report.id}`, t(report.type), report.place_name, missionTime(report.started_at)].filter(Boolean).join(" · ");
      item.append(label, " ", select);
      list.append(item);
    });
    hint.textContent = t("Reports put in one event stay together; by default each report is an event of its own.");
    hint.hidden = false;
  } catch (problem) {
    hint.textContent = problem.detail || t("The list could not be loaded.");
  }
}

function setUpEvents(fieldset) {
  const proposal = form.querySelector('[data-path="path.proposal_id"]');
  proposal?.addEventListener("change", () => loadEvents(fieldset, proposal.value));
  if (proposal?.value) loadEvents(fieldset, proposal.value);
}

// --- shapes drawn on a small map, with the mission's areas, line of contact, posts and towns around them ------------

function setUpGeometry(box) {
  const textarea = document.getElementById(box.dataset.geometryFor);
  const types = box.dataset.types.split(",");
  const chooser = box.querySelector("[data-geometry-type]");
  const { map } = baseMap(box.querySelector(".mini-map"));
  map.doubleClickZoom.disable(); // a double click places two points, it does not zoom
  contextLayers(map, config.icons, config.day);
  const editor = shapeEditor(map, {
    kind: () => (chooser ? chooser.value : types[0]),
    changed: (shape) => { textarea.value = shape ? JSON.stringify(shape) : ""; },
  });
  function readText(fit) { // pasted, typed or filled in by a link: its vertices become handles
    let parsed = null;
    try { parsed = JSON.parse(textarea.value); } catch { /* being typed: drawn once it is GeoJSON */ }
    if (chooser && parsed?.type && types.includes(parsed.type)) chooser.value = parsed.type;
    const bounds = editor.load(parsed);
    if (fit && bounds) map.fitBounds(bounds.pad(0.2));
  }
  box.querySelector("[data-geometry-clear]").addEventListener("click", () => { textarea.value = ""; editor.clear(); });
  chooser?.addEventListener("change", () => { textarea.value = ""; editor.clear(); });
  textarea.addEventListener("change", () => readText(true));
  setTimeout(() => map.invalidateSize(), 0); // the box may have been hidden in a template until now
}

const picking = []; // lists of choices still loading: a record's current values are filled in once they are there

function setUp(root) {
  root.querySelectorAll("[data-list]").forEach((list) => {
    if (list.dataset.ready || isInTemplate(list)) return;
    list.dataset.ready = "1";
    list.querySelector(":scope > [data-add]").addEventListener("click", () => addItem(list));
  });
  root.querySelectorAll("[data-remove]").forEach((button) => {
    if (button.dataset.ready || isInTemplate(button)) return;
    button.dataset.ready = "1";
    button.addEventListener("click", () => {
      const list = button.closest("[data-list]");
      button.closest("[data-item]").remove();
      renumber(list);
    });
  });
  root.querySelectorAll("[data-kind=reference]").forEach((select) => { if (!isInTemplate(select)) loadChoices(select); });
  root.querySelectorAll("fieldset[data-kind=choices][data-source]").forEach((set) => { if (!isInTemplate(set)) picking.push(loadPicks(set)); });
  root.querySelectorAll("[data-geometry-for]").forEach((box) => { if (!isInTemplate(box)) setUpGeometry(box); });
  root.querySelectorAll("fieldset[data-kind=events]").forEach((set) => { if (!isInTemplate(set)) setUpEvents(set); });
}

setUp(form);
for (const [path, value] of Object.entries(config.prefilled || {})) {
  const el = form.querySelector(`[data-path="${CSS.escape(path)}"]`);
  if (!el) continue;
  if (el.tagName === "SELECT" && ![...el.options].some((o) => o.value === value)) el.add(new Option(value, value));
  el.value = value;
  el.dispatchEvent(new Event("change")); // a shape filled in is drawn on its map
}
if (changing) {
  form.querySelectorAll('[data-path^="path."]').forEach((el) => el.addEventListener("change", loadCurrent));
  await Promise.all(picking);
  await loadCurrent(); // a link that named the record (?path.user_id=7): its values at once
}
window.peacewatch = { ...(window.peacewatch || {}), taskReady: true };
