// The key console: one page over the console API (ARCHITECTURE.md, "The key console").
// Data only ever reaches the page through textContent and attribute values, never as markup
// (the usage chart too: SVG elements made with createElementNS, sized by attributes).
// A new key's value lives in one element while its dialog is open, and nowhere else.

const $ = (id) => document.getElementById(id);
const api = (path) => new URL(`api/${path}`, import.meta.url);
const DAY = 86400e3;
const SVG = "http://www.w3.org/2000/svg";
const PRESETS = { read: "Read", write: "Write", full: "Full" };
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const number = new Intl.NumberFormat();
// Usage days are UTC calendar days (the server's buckets), named as such wherever the viewer is.
const utcDay = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", timeZone: "UTC" });

let session = null;
let keys = [];
let filter = "all";

class ApiError extends Error {
  constructor(status, reason, message, code) {
    super(message);
    this.status = status;
    this.reason = reason;
    this.code = code;
  }
}

/** GET when `body` is undefined, else a JSON POST with the CSRF proof. */
async function call(path, body) {
  const init = { credentials: "same-origin", cache: "no-store", headers: { accept: "application/json" } };
  if (body !== undefined) {
    init.method = "POST";
    init.headers["content-type"] = "application/json";
    init.headers["x-keyscope-csrf"] = session.csrfToken;
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(api(path), init);
  } catch {
    throw new ApiError(0, "network", "The console could not reach the server. Check your connection and try again.");
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    // Not JSON: reported below in words.
  }
  if (!res.ok) {
    const said = data && typeof data.message === "string" && data.message.trim();
    const error = new ApiError(res.status, data?.reason ?? "unknown",
      said || `The server could not do that (HTTP ${res.status}). Try again in a moment.`,
      typeof data?.code === "string" ? data.code : undefined);
    if (res.status === 401) ended(error.message);
    throw error;
  }
  if (data === null || typeof data !== "object") {
    throw new ApiError(res.status, "bad_response", "The server sent an answer the console cannot read.");
  }
  return data;
}

// ---- Page states ------------------------------------------------------------------------------

function show(el, visible) {
  el.hidden = !visible;
}

function banner(message) {
  $("banner").textContent = message ?? "";
  show($("banner"), Boolean(message));
}

/** The session is gone: no data stays on the page. */
function ended(message) {
  keys = [];
  usage.clear();
  expanded.clear();
  $("list").replaceChildren();
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
  show($("content"), false);
  show($("generate"), false);
  show($("loading"), false);
  banner(null);
  $("who").textContent = "";
  if (location.hash === "#link-expired") {
    history.replaceState(null, "", location.pathname);
    $("ended-title").textContent = "This console link no longer works";
    $("ended-text").textContent = "Console links work once and only for a short time. Open the API keys page again from your application to get a new one.";
  } else {
    $("ended-text").textContent = `${message} Open the API keys page again from your application to continue.`;
  }
  show($("ended"), true);
  $("main").setAttribute("aria-busy", "false");
  $("ended-title").tabIndex = -1;
  $("ended-title").focus();
}

/** Nothing to show but a sentence. */
function failed(message) {
  show($("loading"), false);
  banner(message);
  $("main").setAttribute("aria-busy", "false");
}

function safeUrl(text) {
  try {
    const url = new URL(text);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

async function start() {
  try {
    session = await call("session");
  } catch (error) {
    if (error.status !== 401) failed(error.message);
    return;
  }
  const back = session.returnUrl && safeUrl(session.returnUrl);
  if (back) {
    $("back").href = back;
    show($("back"), true);
  }
  $("who").textContent = `Signed in as ${session.userId} (${session.role}) in ${session.organizationId}`;
  setUpHowItWorks();
  setUpGenerate();
  try {
    keys = (await call("keys")).keys ?? [];
  } catch (error) {
    if (error.status !== 401) failed(error.message);
    return;
  }
  show($("loading"), false);
  show($("content"), true);
  $("main").setAttribute("aria-busy", "false");
  render();
}

// ---- Keys ------------------------------------------------------------------------------------

// A key's status, and whether it may be rotated or revoked, are the server's (policy-core's,
// at the time of its answer; a key whose creator left has stopped, as the gateway says): the page
// only words them. A status the page does not know is shown as not working.
const STATUS = {
  active: { group: "active", text: "Active" },
  revoked: { group: "revoked", text: "Revoked" },
  expired: { group: "expired", text: "Expired" },
  creator_left: { group: "revoked", text: "Stopped: its creator left the organization" },
};
const UNKNOWN_STATUS = { group: "revoked", text: "Not working" };

function statusOf(key) {
  return Object.hasOwn(STATUS, key.status) ? STATUS[key.status] : UNKNOWN_STATUS;
}

function timeEl(iso, ago) {
  const el = document.createElement("time");
  const at = Date.parse(iso);
  el.dateTime = iso;
  if (Number.isNaN(at)) {
    el.textContent = iso;
    return el;
  }
  el.title = dateTime.format(at);
  el.textContent = ago ? sinceText(at) : dateTime.format(at);
  return el;
}

function sinceText(at) {
  const seconds = (at - Date.now()) / 1000;
  const units = [["year", 31536000], ["month", 2592000], ["day", 86400], ["hour", 3600], ["minute", 60]];
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return "just now";
}

function projectName(id) {
  const project = session.projects.find((p) => p.id === id);
  return project?.name ?? id;
}

/** A key's projects (the server's sorted list; one id for a key from before the list). */
function projectsOf(key) {
  if (Array.isArray(key.scopedProjectIds)) return key.scopedProjectIds;
  return key.scopedProjectId ? [key.scopedProjectId] : [];
}

function scopeText(key) {
  if (key.scope === "organization") return "Whole organization";
  const names = projectsOf(key).map(projectName);
  if (names.length === 0) return "Project";
  return `${names.length === 1 ? "Project" : "Projects"} ${names.join(", ")}`;
}

function rateText(rate) {
  return rate ? `${number.format(rate.perSecond)} requests per second` : "Deployment default";
}

function quotaText(quota) {
  if (!quota) return "No quota";
  const per = quota.period === "month" ? "month" : quota.period === "day" ? "day" : quota.period;
  return `${number.format(quota.limit)} requests per ${per} (UTC)`;
}

/** The key's allow-list, its details' "Allowed from". */
function fillCidrs(dd, cidrs) {
  if (!Array.isArray(cidrs)) {
    dd.textContent = "Any address";
    return;
  }
  const list = document.createElement("ul");
  list.className = "blocks";
  for (const block of cidrs) {
    const li = document.createElement("li");
    const code = document.createElement("code");
    code.textContent = block;
    li.append(code);
    list.append(li);
  }
  dd.replaceChildren(list);
}

function accessText(key) {
  if (key.preset && PRESETS[key.preset]) return PRESETS[key.preset];
  if (key.preset) return key.preset;
  if (key.permissions === null) return "Everything the creator's role allows";
  return key.permissions.length ? `Custom: ${key.permissions.join(", ")}` : "No permissions";
}

function card(key) {
  const li = $("card").content.firstElementChild.cloneNode(true);
  const q = (selector) => li.querySelector(selector);
  const state = statusOf(key);
  li.dataset.id = key.id;
  li.classList.add(state.group);
  q(".name").textContent = key.name;
  q(".hint").textContent = `…${key.hint}`;
  q(".scope").textContent = scopeText(key);
  q(".access").textContent = accessText(key);
  q(".used").append(key.lastUsedAt ? timeEl(key.lastUsedAt, true) : "Never used");
  q(".added").append(timeEl(key.createdAt, false));
  q(".expires").append(key.expiresAt ? timeEl(key.expiresAt, false) : "Never");
  const status = q(".status");
  if (key.status === "active" && key.revokedAt) {
    status.append("Active until ", timeEl(key.revokedAt, false));
    status.classList.add("ending");
  } else {
    status.textContent = state.text;
  }
  status.classList.add(state.group);
  if (session.can.manageEveryKey) {
    show(q(".by"), true);
    q(".creator").textContent = key.createdBy === session.userId ? "You" : key.createdBy;
  }
  if (!key.canChange || (!key.canRotate && !key.canRevoke)) {
    q(".menu").remove();
  } else {
    q(".menu summary").setAttribute("aria-label", `Manage ${key.name}`);
    if (!key.canRotate) q("[data-action=rotate]").remove();
    if (!key.canRevoke) q("[data-action=revoke]").remove();
  }
  // Limits and usage: what the key may do, and what it did.
  q(".projects").textContent = key.scope === "organization"
    ? "All projects (organization key)"
    : projectsOf(key).map(projectName).join(", ") || "None";
  q(".rate").textContent = rateText(key.rateLimit);
  q(".quota").textContent = quotaText(key.quota);
  fillCidrs(q(".cidrs"), key.allowedCidrs);
  if (key.canEditControls === true) {
    q("[data-action=controls]").setAttribute("aria-label", `Change limits of ${key.name}`);
  } else {
    q("[data-action=controls]").remove();
  }
  if (expanded.has(key.id)) q("details.more").open = true;
  return li;
}

function render() {
  const counts = { all: keys.length, active: 0, revoked: 0, expired: 0 };
  for (const key of keys) counts[statusOf(key).group] += 1;
  for (const span of document.querySelectorAll("[data-count]")) {
    span.textContent = `(${counts[span.dataset.count]})`;
  }
  const shown = keys
    .filter((key) => filter === "all" || statusOf(key).group === filter)
    .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
  $("list").replaceChildren(...shown.map((key) => card(key)));
  const empty = $("empty");
  if (keys.length === 0) {
    empty.textContent = canGenerate()
      ? "No keys yet. Press Generate key to make one for your first integration."
      : "No keys yet. Keys you may see will appear here.";
  } else if (shown.length === 0) {
    empty.textContent = `No ${filter} keys.`;
  }
  show(empty, shown.length === 0);
}

// ---- Usage: a chart of the last 30 days -------------------------------------------------------

// Which cards have their "Limits and usage" open (kept across renders), and the usage fetched
// for each key: { at, answer } (a promise), refetched when older than a minute.
const expanded = new Set();
const usage = new Map();
const USAGE_FRESH_MS = 60e3;
const DENIALS = {
  key_revoked: "key revoked or expired",
  scope_violation: "outside the key's scope",
  forbidden: "not permitted",
  not_found: "not found",
  rate_limited: "over a limit",
  unavailable: "gateway unavailable",
};
// The plot's own units: one column per day, bars scaled to PLOT_H at the axis's top.
const COLUMN_W = 10;
const BAR_W = 7;
const PLOT_H = 100;

function usageOf(id) {
  const held = usage.get(id);
  if (held && Date.now() - held.at < USAGE_FRESH_MS) return held.answer;
  const answer = call(`keys/${encodeURIComponent(id)}/usage`);
  usage.set(id, { at: Date.now(), answer });
  answer.catch(() => { if (usage.get(id)?.answer === answer) usage.delete(id); });
  return answer;
}

async function showUsage(li, id) {
  const figure = li.querySelector(".usage");
  let answer;
  try {
    answer = await usageOf(id);
  } catch (error) {
    if (error.status === 401) return;
    usageFailed(figure, error.status === 404
      ? "The usage of this key is not available."
      : error.message);
    return;
  }
  const days = usageDays(answer);
  if (!days) {
    usageFailed(figure, "The server sent usage the console cannot read.");
    return;
  }
  drawUsage(figure, days);
}

function usageFailed(figure, message) {
  const status = figure.querySelector(".usage-status");
  status.textContent = message;
  show(status, true);
  show(figure.querySelector(".chart"), false);
  show(figure.querySelector(".legend"), false);
  figure.querySelector(".usage-totals").textContent = "";
  figure.querySelector(".usage-denied").textContent = "";
  figure.setAttribute("aria-busy", "false");
}

/** A count as the answer holds it: a whole number from 0, else 0. */
const count = (n) => (Number.isSafeInteger(n) && n > 0 ? n : 0);

/**
 * The 30 UTC days from the answer's `since`, each { start, allowed, denied, reasons }: the
 * answer lists only days with traffic, so every other day is a day of zeros. Null when the
 * answer is not usage.
 */
function usageDays(answer) {
  const since = Date.parse(answer?.since);
  if (Number.isNaN(since) || !Array.isArray(answer.buckets)) return null;
  const first = Math.floor(since / DAY) * DAY;
  const days = Array.from({ length: 30 }, (_, i) => ({ start: first + i * DAY, allowed: 0, denied: 0, reasons: {} }));
  for (const bucket of answer.buckets) {
    const at = Date.parse(bucket?.start);
    if (Number.isNaN(at)) continue;
    const day = days[Math.floor((at - first) / DAY)];
    if (!day) continue;
    day.allowed += count(bucket.allowed);
    const denied = bucket.denied && typeof bucket.denied === "object" ? bucket.denied : {};
    for (const [reason, n] of Object.entries(denied)) {
      day.denied += count(n);
      day.reasons[reason] = (day.reasons[reason] ?? 0) + count(n);
    }
  }
  return days;
}

/** The axis's top: a round number at or above the busiest day, even so that its half is whole. */
function axisTop(peak) {
  for (let scale = 1; ; scale *= 10) {
    for (const step of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8]) {
      const top = step * scale;
      if (top >= peak && Number.isInteger(top / 2)) return top;
    }
  }
}

function svg(name, attributes) {
  const el = document.createElementNS(SVG, name);
  for (const [attribute, value] of Object.entries(attributes)) el.setAttribute(attribute, String(value));
  return el;
}

const daySummary = (day) =>
  `${utcDay.format(day.start)}: ${number.format(day.allowed)} allowed, ${number.format(day.denied)} denied`;

function drawUsage(figure, days) {
  const top = axisTop(Math.max(0, ...days.map((d) => d.allowed + d.denied)));
  const scale = (n) => (n / top) * PLOT_H;
  const chart = svg("svg", {
    viewBox: `0 0 ${days.length * COLUMN_W} ${PLOT_H}`,
    preserveAspectRatio: "none",
    role: "group",
    "aria-label": `Requests per day, ${utcDay.format(days[0].start)} to ${utcDay.format(days[days.length - 1].start)} (UTC)`,
  });
  for (const y of [0, PLOT_H / 2]) {
    chart.append(svg("line", { class: "grid", x1: 0, x2: days.length * COLUMN_W, y1: y, y2: y, "vector-effect": "non-scaling-stroke" }));
  }
  days.forEach((day, i) => {
    const summary = daySummary(day);
    const column = svg("g", { class: "day", role: "img", "aria-label": summary, "data-day": new Date(day.start).toISOString().slice(0, 10) });
    const title = svg("title", {});
    title.textContent = summary;
    const x = i * COLUMN_W + (COLUMN_W - BAR_W) / 2;
    const allowed = scale(day.allowed);
    const denied = scale(day.denied);
    column.append(
      title,
      // The whole column answers a pointer, so that a quiet day has its tooltip too.
      svg("rect", { class: "hit", x: i * COLUMN_W, y: 0, width: COLUMN_W, height: PLOT_H }),
      svg("rect", { class: "allowed", x, y: PLOT_H - allowed, width: BAR_W, height: allowed }),
      svg("rect", { class: "denied", x, y: PLOT_H - allowed - denied, width: BAR_W, height: denied }),
    );
    chart.append(column);
  });
  chart.append(svg("line", { class: "base", x1: 0, x2: days.length * COLUMN_W, y1: PLOT_H, y2: PLOT_H, "vector-effect": "non-scaling-stroke" }));
  figure.querySelector(".plot").replaceChildren(chart);
  figure.querySelector(".y-top").textContent = number.format(top);
  figure.querySelector(".y-mid").textContent = number.format(top / 2);
  figure.querySelector(".x-first").textContent = utcDay.format(days[0].start);
  figure.querySelector(".x-mid").textContent = utcDay.format(days[15].start);
  figure.querySelector(".x-last").textContent = utcDay.format(days[days.length - 1].start);

  const allowed = days.reduce((sum, d) => sum + d.allowed, 0);
  const denied = days.reduce((sum, d) => sum + d.denied, 0);
  figure.querySelector(".usage-totals").textContent = allowed + denied === 0
    ? "No requests in the last 30 days."
    : `${number.format(allowed)} allowed, ${number.format(denied)} denied in 30 days.`;
  const reasons = {};
  for (const day of days) {
    for (const [reason, n] of Object.entries(day.reasons)) reasons[reason] = (reasons[reason] ?? 0) + n;
  }
  const why = Object.entries(reasons)
    .filter(([, n]) => n > 0)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([reason, n]) => `${number.format(n)} ${Object.hasOwn(DENIALS, reason) ? DENIALS[reason] : reason.replaceAll("_", " ")}`);
  figure.querySelector(".usage-denied").textContent = why.length ? `Denied: ${why.join(", ")}.` : "";
  show(figure.querySelector(".usage-status"), false);
  show(figure.querySelector(".chart"), true);
  show(figure.querySelector(".legend"), true);
  figure.setAttribute("aria-busy", "false");
}

function upsert(key) {
  const at = keys.findIndex((k) => k.id === key.id);
  if (at >= 0) keys[at] = key;
  else keys.push(key);
}

function focusCard(id) {
  const article = [...$("list").children].find((li) => li.dataset.id === id)?.querySelector("article");
  (article ?? $("keys-title")).focus();
}

// ---- Dialogs ---------------------------------------------------------------------------------

function formError(form, message) {
  const el = form.querySelector(".form-error");
  el.textContent = message ?? "";
  show(el, Boolean(message));
}

/** A message next to one field (`data-field` of its error element), which is marked invalid. */
function fieldError(form, field, message) {
  const el = form.querySelector(`.field-error[data-field=${field}]`);
  el.textContent = message;
  show(el, true);
  const input = field === "projects" ? form.querySelector("#new-projects input") : form.elements[field];
  input?.setAttribute("aria-invalid", "true");
  input?.focus();
}

function clearErrors(form) {
  formError(form, null);
  for (const el of form.querySelectorAll(".field-error")) {
    el.textContent = "";
    show(el, false);
  }
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
}

/**
 * The field a refusal is about, when the form has it: the allow-list (its rule's code, or the
 * field named in the message), the rate, the quota, the projects.
 */
function fieldOf(form, error) {
  const fields = [
    ["cidrs", error.code === "invalid_cidrs" || /allowedCidrs/i.test(error.message)],
    ["rate", /rateLimit|perSecond/i.test(error.message)],
    ["quota", /\bquota/i.test(error.message)],
    ["projects", /scopedProjectIds?\b/i.test(error.message)],
  ];
  return fields.find(([field, hit]) => hit && form.querySelector(`.field-error[data-field=${field}]`))?.[0] ?? null;
}

async function busy(form, work) {
  const buttons = form.querySelectorAll("button");
  for (const b of buttons) b.disabled = true;
  clearErrors(form);
  try {
    await work();
  } catch (error) {
    if (error.status === 401) return;
    const field = fieldOf(form, error);
    if (field) fieldError(form, field, error.message);
    else formError(form, error.message);
  } finally {
    for (const b of buttons) b.disabled = false;
  }
}

for (const button of document.querySelectorAll("[data-close]")) {
  button.addEventListener("click", () => button.closest("dialog").close());
}
for (const dialog of document.querySelectorAll("#new-dialog, #rotate-dialog, #revoke-dialog, #controls-dialog")) {
  dialog.addEventListener("close", () => clearErrors(dialog.querySelector("form")));
}

// ---- Allow-list and limits: the fields of the Generate and Limits dialogs --------------------------

/** The blocks of an allow-list field: one a line, blank lines dropped; none is any address. */
function blocksOf(text) {
  const blocks = text.split(/\r?\n/).map((line) => line.trim()).filter(Boolean);
  return blocks.length ? blocks : null;
}

/** A whole number field: null when empty, the number, or undefined when it is not one in `min..max`. */
function wholeOf(input, min, max) {
  if (input.validity.badInput) return undefined;
  const text = input.value.trim();
  if (text === "") return null;
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
}

/**
 * What a form's allow-list and limits fields ask for — { allowedCidrs, rateLimit, quota }, each
 * null when empty — or null after saying which field is wrong. The blocks and the quota's upper
 * bound are the server's to judge (its message is shown by the field).
 */
function readControls(form) {
  const { cidrs, rate, quota, period } = form.elements;
  const perSecond = wholeOf(rate, 1, 10000);
  if (perSecond === undefined) {
    fieldError(form, "rate", "Enter a whole number of requests per second from 1 to 10,000, or leave it empty for the deployment's default.");
    return null;
  }
  const limit = wholeOf(quota, 1, Number.MAX_SAFE_INTEGER);
  if (limit === undefined) {
    fieldError(form, "quota", "Enter the quota as a whole number of requests from 1, or leave it empty for no quota.");
    return null;
  }
  return {
    allowedCidrs: blocksOf(cidrs.value),
    rateLimit: perSecond === null ? null : { perSecond },
    quota: limit === null ? null : { limit, period: period.value },
  };
}

/** The Limits dialog, showing `key`'s allow-list and limits. */
function fillControls(form, key) {
  clearErrors(form);
  form.elements.cidrs.value = (key.allowedCidrs ?? []).join("\n");
  form.elements.rate.value = key.rateLimit ? String(key.rateLimit.perSecond) : "";
  form.elements.quota.value = key.quota ? String(key.quota.limit) : "";
  form.elements.period.value = key.quota?.period === "month" ? "month" : "day";
}

const sameJson = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** The controls change from `key` to `asked`: only what differs (absent: unchanged, null: removed). */
function controlsChange(key, asked) {
  const change = {};
  if (!sameJson(asked.allowedCidrs, key.allowedCidrs)) change.allowedCidrs = asked.allowedCidrs;
  if (!sameJson(asked.rateLimit, key.rateLimit && { perSecond: key.rateLimit.perSecond })) change.rateLimit = asked.rateLimit;
  if (!sameJson(asked.quota, key.quota && { limit: key.quota.limit, period: key.quota.period })) change.quota = asked.quota;
  return change;
}

function canGenerate() {
  return Boolean(session && (session.can.createOrganizationKeys ||
    (session.can.createProjectKeys && session.projects.length > 0)));
}

function setUpHowItWorks() {
  const gateway = String(session.gatewayUrl).replace(/\/+$/, "");
  const header = session.keyHeader;
  $("gateway").textContent = gateway;
  $("key-header").textContent = header;
  // The policy's own /me path (the server's); a policy without one has no such check to show.
  const me = session.mePath;
  if (me) {
    $("me-path").textContent = `GET ${me}`;
    $("example").textContent = `curl -H "${header}: $API_KEY" ${gateway}${me}`;
  } else {
    show($("me-path").closest("p"), false);
    show($("example"), false);
  }
  $("copy-gateway").addEventListener("click", async (event) => {
    const button = event.currentTarget;
    button.textContent = await copy(gateway) ? "Copied" : "Copy failed";
    setTimeout(() => { button.textContent = "Copy URL"; }, 2000);
  });
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

function localDate(ms) {
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function setUpGenerate() {
  if (!canGenerate()) return;
  const form = $("new-form");
  const dialog = $("new-dialog");
  const orgAllowed = session.can.createOrganizationKeys;
  const projectAllowed = session.can.createProjectKeys && session.projects.length > 0;
  if (!orgAllowed) $("scope-org-label").remove();
  if (!projectAllowed) $("scope-project-label").remove();
  const choices = $("new-projects");
  for (const project of session.projects) {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.name = "project";
    box.value = project.id;
    label.append(box, ` ${project.name ?? project.id}`);
    choices.append(label);
  }
  const chosen = () => [...choices.querySelectorAll("input:checked")].map((box) => box.value);
  for (const input of form.querySelectorAll("input[name=preset]")) {
    if (!session.presets.includes(input.value)) input.closest("label").remove();
  }
  const scopeChanged = () => show($("project-field"), form.elements.scope.value === "project");
  const expiryChanged = () => show($("date-field"), $("new-expiry").value === "date");
  form.addEventListener("change", () => { scopeChanged(); expiryChanged(); });

  $("generate").addEventListener("click", () => {
    form.reset();
    $("new-controls").open = false;
    const first = form.querySelector(projectAllowed ? "input[value=project]" : "input[value=organization]");
    first.checked = true;
    const firstProject = choices.querySelector("input");
    if (firstProject) firstProject.checked = true;
    const presets = form.querySelectorAll("input[name=preset]");
    if (![...presets].some((p) => p.checked) && presets.length) presets[0].checked = true;
    $("new-date").min = localDate(Date.now() + DAY);
    scopeChanged();
    expiryChanged();
    dialog.showModal();
    $("new-name").focus();
  });
  show($("generate"), true);

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearErrors(form);
    const name = $("new-name").value.trim();
    if (!name) {
      formError(form, "Give the key a name, so that you know later which tool uses it.");
      $("new-name").focus();
      return;
    }
    const body = { name, scope: form.elements.scope.value, preset: form.elements.preset.value };
    if (body.scope === "project") {
      const projects = chosen();
      if (projects.length === 0) {
        fieldError(form, "projects", "Choose at least one project for the key.");
        return;
      }
      // One project as before; several as the list.
      if (projects.length === 1) body.scopedProjectId = projects[0];
      else body.scopedProjectIds = projects;
    }
    const controls = readControls(form);
    if (!controls) {
      $("new-controls").open = true;
      return;
    }
    for (const [field, value] of Object.entries(controls)) {
      if (value !== null) body[field] = value;
    }
    const expiry = $("new-expiry").value;
    if (expiry === "date") {
      const picked = $("new-date").value;
      const at = picked ? new Date(`${picked}T23:59:59`) : null;
      if (!at || Number.isNaN(at.getTime()) || at.getTime() <= Date.now()) {
        formError(form, "Pick an expiry date in the future, or choose another option.");
        $("new-date").focus();
        return;
      }
      body.expiresAt = at.toISOString();
    } else if (expiry) {
      body.expiresAt = new Date(Date.now() + Number(expiry) * DAY).toISOString();
    }
    busy(form, async () => {
      try {
        const made = await call("keys", body);
        upsert(made.key);
        dialog.close();
        render();
        reveal(made.secret, made.key.id, "");
      } catch (error) {
        // A refused allow-list or limit is shown by its field: open the part that holds it.
        if (["cidrs", "rate", "quota"].includes(fieldOf(form, error))) $("new-controls").open = true;
        throw error;
      }
    });
  });
}

// ---- The value, shown once ---------------------------------------------------------------------

let revealedFor = null;

function reveal(secret, keyId, note) {
  revealedFor = keyId;
  $("secret").textContent = secret;
  $("secret-note").textContent = note;
  $("copy-status").textContent = "";
  $("copied").checked = false;
  $("secret-done").disabled = true;
  $("secret-dialog").showModal();
  $("copy-secret").focus();
}

$("copy-secret").addEventListener("click", async () => {
  const code = $("secret");
  if (await copy(code.textContent)) {
    $("copy-status").textContent = "Copied to the clipboard.";
  } else {
    getSelection().selectAllChildren(code);
    $("copy-status").textContent = "Copying did not work here. The key is selected: press Ctrl+C (or ⌘C).";
  }
});
$("copied").addEventListener("change", () => { $("secret-done").disabled = !$("copied").checked; });
$("secret-dialog").addEventListener("cancel", (event) => {
  if (!$("copied").checked) {
    event.preventDefault();
    $("copy-status").textContent = "Copy the key first, then tick \u201cI have copied it\u201d.";
  }
});
// Done: the value leaves the page before the dialog closes; Escape (once confirmed) clears on close.
$("secret-form").addEventListener("submit", () => { $("secret").textContent = ""; });
$("secret-dialog").addEventListener("close", () => {
  $("secret").textContent = "";
  getSelection().removeAllRanges();
  $("copied").checked = false;
  $("secret-done").disabled = true;
  const id = revealedFor;
  revealedFor = null;
  if (id) focusCard(id);
});
addEventListener("beforeunload", (event) => {
  if ($("secret-dialog").open) event.preventDefault();
});

// ---- Card menu: rotate and revoke ----------------------------------------------------------------

let target = null;

$("list").addEventListener("click", (event) => {
  const button = event.target.closest("[data-action]");
  if (!button) return;
  const id = button.closest("li").dataset.id;
  target = keys.find((k) => k.id === id) ?? null;
  const menu = button.closest("details.menu");
  if (menu) menu.open = false;
  if (!target) return;
  const action = button.dataset.action;
  const dialog = $(`${action}-dialog`);
  dialog.querySelector(".target").textContent = `\u201c${target.name}\u201d`;
  if (action === "controls") fillControls($("controls-form"), target);
  dialog.showModal();
  const first = { rotate: "select", revoke: "[data-close]", controls: "textarea" }[action];
  dialog.querySelector(first).focus();
});

$("list").addEventListener("toggle", (event) => {
  if (event.target.matches("details.more")) {
    const li = event.target.closest("li");
    if (event.target.open) {
      expanded.add(li.dataset.id);
      showUsage(li, li.dataset.id);
    } else {
      expanded.delete(li.dataset.id);
    }
    return;
  }
  if (!event.target.open) return;
  for (const other of document.querySelectorAll("details.menu[open]")) {
    if (other !== event.target) other.open = false;
  }
}, true);
document.addEventListener("click", (event) => {
  for (const menu of document.querySelectorAll("details.menu[open]")) {
    if (!menu.contains(event.target)) menu.open = false;
  }
});
document.addEventListener("keydown", (event) => {
  const menu = event.key === "Escape" && document.activeElement?.closest("details.menu[open]");
  if (menu) {
    menu.open = false;
    menu.querySelector("summary").focus();
  }
});

$("rotate-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const key = target;
  const grace = Number($("grace").value);
  busy(event.target, async () => {
    const rotated = await call(`keys/${encodeURIComponent(key.id)}/rotate`, { gracePeriodSeconds: grace });
    upsert(rotated.previous);
    upsert(rotated.key);
    $("rotate-dialog").close();
    render();
    const until = rotated.previous.revokedAt && Date.parse(rotated.previous.revokedAt);
    reveal(rotated.secret, rotated.key.id, grace > 0 && until
      ? `The old key keeps working until ${dateTime.format(until)}. Switch your tool to the new key before then.`
      : "The old key has stopped working. Switch your tool to the new key now.");
  });
});

$("controls-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target;
  const key = target;
  clearErrors(form);
  const asked = readControls(form);
  if (!asked) return;
  const change = controlsChange(key, asked);
  if (Object.keys(change).length === 0) {
    $("controls-dialog").close();
    focusCard(key.id);
    return;
  }
  busy(form, async () => {
    const changed = await call(`keys/${encodeURIComponent(key.id)}/controls`, change);
    upsert(changed.key);
    $("controls-dialog").close();
    render();
    focusCard(key.id);
  });
});

$("revoke-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const key = target;
  busy(event.target, async () => {
    const revoked = await call(`keys/${encodeURIComponent(key.id)}/revoke`, {});
    upsert(revoked.key);
    $("revoke-dialog").close();
    render();
    focusCard(key.id);
  });
});

for (const input of document.querySelectorAll("input[name=filter]")) {
  input.addEventListener("change", () => {
    filter = input.value;
    render();
  });
}

start();
