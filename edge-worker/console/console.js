// The key console: one page over the console API (ARCHITECTURE.md, "The key console").
// Data only ever reaches the page through textContent and attribute values, never as markup.
// A new key's value lives in one element while its dialog is open, and nowhere else.

const $ = (id) => document.getElementById(id);
const api = (path) => new URL(`api/${path}`, import.meta.url);
const DAY = 86400e3;
const PRESETS = { read: "Read", write: "Write", full: "Full" };
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

let session = null;
let keys = [];
let filter = "all";

class ApiError extends Error {
  constructor(status, reason, message) {
    super(message);
    this.status = status;
    this.reason = reason;
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
      said || `The server could not do that (HTTP ${res.status}). Try again in a moment.`);
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
  q(".scope").textContent = key.scope === "organization"
    ? "Whole organization"
    : `Project ${projectName(key.scopedProjectId)}`;
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

async function busy(form, work) {
  const buttons = form.querySelectorAll("button");
  for (const b of buttons) b.disabled = true;
  formError(form, null);
  try {
    await work();
  } catch (error) {
    if (error.status !== 401) formError(form, error.message);
  } finally {
    for (const b of buttons) b.disabled = false;
  }
}

for (const button of document.querySelectorAll("[data-close]")) {
  button.addEventListener("click", () => button.closest("dialog").close());
}
for (const dialog of document.querySelectorAll("#new-dialog, #rotate-dialog, #revoke-dialog")) {
  dialog.addEventListener("close", () => formError(dialog.querySelector("form"), null));
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
  const select = $("new-project");
  for (const project of session.projects) {
    const option = document.createElement("option");
    option.value = project.id;
    option.textContent = project.name ?? project.id;
    select.append(option);
  }
  for (const input of form.querySelectorAll("input[name=preset]")) {
    if (!session.presets.includes(input.value)) input.closest("label").remove();
  }
  const scopeChanged = () => show($("project-field"), form.elements.scope.value === "project");
  const expiryChanged = () => show($("date-field"), $("new-expiry").value === "date");
  form.addEventListener("change", () => { scopeChanged(); expiryChanged(); });

  $("generate").addEventListener("click", () => {
    form.reset();
    const first = form.querySelector(projectAllowed ? "input[value=project]" : "input[value=organization]");
    first.checked = true;
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
    const name = $("new-name").value.trim();
    if (!name) {
      formError(form, "Give the key a name, so that you know later which tool uses it.");
      $("new-name").focus();
      return;
    }
    const body = { name, scope: form.elements.scope.value, preset: form.elements.preset.value };
    if (body.scope === "project") body.scopedProjectId = select.value;
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
      const made = await call("keys", body);
      upsert(made.key);
      dialog.close();
      render();
      reveal(made.secret, made.key.id, "");
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
  button.closest("details").open = false;
  if (!target) return;
  const dialog = $(`${button.dataset.action}-dialog`);
  dialog.querySelector(".target").textContent = `\u201c${target.name}\u201d`;
  dialog.showModal();
  dialog.querySelector(button.dataset.action === "rotate" ? "select" : "[data-close]").focus();
});

$("list").addEventListener("toggle", (event) => {
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
