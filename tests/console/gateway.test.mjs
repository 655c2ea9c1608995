// The key console in a real browser (Debian's chromium, driven by playwright-core) against the
// real gateway: the built worker on workerd (Miniflare) with local D1, KV and key-state objects,
// its admin API issuing the session links, and a loopback origin behind it.
// Run: bash scripts/build-worker && bash scripts/ensure-browser && node --test tests/console/
// Screenshots of the main states go to target/console-screenshots/gateway-*.png.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { rawRequest, startGateway, startOrigin, waitFor } from "../e2e/lib/gateway.mjs";

const SHOTS = fileURLToPath(new URL("../../target/console-screenshots/", import.meta.url));
const CHROMIUM = process.env.KEYSCOPE_CHROMIUM ?? "/usr/bin/chromium";
const KEY = /^ck_live_[0-9A-Za-z]{36}$/;
const ORG = "org_acme";
const OTHER = "org_other";
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
  "img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

let browser;
let origin;
let gw;
let base;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  origin = await startOrigin();
  gw = await startGateway({ originUrl: origin.url, clock: true });
  base = `http://127.0.0.1:${gw.port}`;
  for (const [org, user, role] of [
    [ORG, "usr_ada", "admin"], [ORG, "usr_eng", "engineer"], [ORG, "usr_mem", "member"], [ORG, "usr_gone", "engineer"],
    [OTHER, "usr_oz", "admin"],
  ]) await gw.admin.putMember(org, user, role);
  await gw.admin.resourceBatch({
    put: [
      { kind: "project", id: "proj_web", organizationId: ORG, projectId: "proj_web" },
      { kind: "project", id: "proj_mobile", organizationId: ORG, projectId: "proj_mobile" },
      { kind: "project", id: "proj_other", organizationId: OTHER, projectId: "proj_other" },
    ],
  });
  browser = await chromium.launch({ executablePath: CHROMIUM });
});

after(async () => {
  await browser?.close();
  await gw?.dispose();
  await origin?.close();
});

/** A one-time console link from the admin API, on the address the browser reaches. */
async function link(org, actingUserId, returnUrl) {
  // Issued while the worker's clock stands still at `at`: the link's end is exact.
  const at = await gw.clock.freeze();
  let res;
  try {
    res = await gw.admin.call("POST", `/organizations/${org}/console-sessions`, { actingUserId, returnUrl });
  } finally {
    await gw.clock.release();
  }
  assert.equal(res.status, 201, res.text);
  assert.ok(Date.parse(res.body.expiresAt) > at);
  assert.equal(res.body.expiresAt, new Date(at + 10 * 60_000).toISOString(), "a link works for 10 minutes");
  const url = new URL(res.body.url);
  assert.equal(url.pathname, "/console/open");
  assert.match(url.searchParams.get("token"), /^[0-9a-f]{64}$/);
  return `${base}${url.pathname}${url.search}`;
}

/** A fresh browser context opened through `url`; `problems` collects what must never happen. */
async function open(url, { width = 1100, height = 800 } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  // Every violation of the page's policy is reported, whatever the console says about it.
  await context.addInitScript(() => document.addEventListener("securitypolicyviolation", (e) =>
    console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`)));
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("dialog", (dialog) => {
    problems.push(`${dialog.type()} dialog: ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(`csp: ${message.text()}`);
  });
  const first = await page.goto(url);
  await page.locator("main[aria-busy=false]").waitFor();
  return { context, page, problems, first };
}

function card(page, name) {
  return page.locator("#list > li").filter({ has: page.locator("h3.name", { hasText: name }) });
}

async function acknowledge(page) {
  await page.getByLabel("I have copied it").check();
  await page.getByRole("button", { name: "Done" }).click();
  await page.locator("#secret-dialog").waitFor({ state: "hidden" });
  await page.waitForFunction(() => document.getElementById("secret").textContent === "");
}

/** Ticks exactly the projects `ids` in the Generate dialog. */
async function chooseProjects(page, ids) {
  for (const box of await page.locator("#new-projects input[type=checkbox]").all()) {
    await box.setChecked(ids.includes(await box.getAttribute("value")));
  }
}

/** Opens a card's "Limits and usage" (if closed) and waits for its usage to be drawn or refused. */
async function openDetails(item) {
  const more = item.locator("details.more");
  if (!(await more.evaluate((d) => d.open))) await more.locator("summary").click();
  await item.locator(".usage[aria-busy=false]").waitFor();
}

/** A card's limits as its details show them (the allow-list's blocks as a list, or its words). */
async function controlsOf(item) {
  await openDetails(item);
  const blocks = item.locator(".cidrs code");
  return {
    projects: await item.locator(".projects").innerText(),
    rate: await item.locator(".rate").innerText(),
    quota: await item.locator(".quota").innerText(),
    cidrs: await blocks.count() ? await blocks.allInnerTexts() : await item.locator(".cidrs").innerText(),
  };
}

/** The body of the next POST the page sends to `path` (below /console/api/). */
function nextBody(page, path) {
  return page.waitForRequest((r) => r.method() === "POST" && new URL(r.url()).pathname === `/console/api/${path}`)
    .then((r) => r.postDataJSON());
}

const utcDay = new Intl.DateTimeFormat("en-US", { month: "short", day: "numeric", timeZone: "UTC" });

const use = (key, method, path) => rawRequest(gw.port, { method, path, headers: [["x-api-key", key]] });
const reasonOf = (res) => JSON.parse(res.body).reason;

test("an admin's session: generate a read key, use it through the gateway, see it used, rotate, revoke", async () => {
  const url = await link(ORG, "usr_ada", "https://app.example.test/settings");
  const { context, page, problems, first } = await open(url);

  // The token leaves the address bar; the page is served with the strict policy.
  assert.equal(page.url(), `${base}/console/`);
  assert.equal(first.request().redirectedFrom()?.url(), url, "the link answered with a redirect");
  const headers = first.headers();
  assert.equal(headers["content-security-policy"], CSP);
  assert.equal(headers["x-content-type-options"], "nosniff");
  assert.equal(headers["referrer-policy"], "no-referrer");
  const cookies = await context.cookies();
  assert.equal(cookies.length, 1);
  assert.deepEqual([cookies[0].name, cookies[0].httpOnly, cookies[0].sameSite, cookies[0].path],
    ["keyscope_console", true, "Strict", "/console"]);
  assert.equal(await page.getByRole("link", { name: "Back" }).getAttribute("href"), "https://app.example.test/settings");
  await page.locator("#empty", { hasText: "No keys yet" }).waitFor();
  assert.match(await page.locator(".how").innerText(), new RegExp(`${base}[\\s\\S]*X-Api-Key[\\s\\S]*GET /api/v1/me`));

  // The link worked once.
  const again = await browser.newContext();
  const replay = await again.newPage();
  await replay.goto(url);
  await replay.locator("#ended").waitFor();
  assert.match(await replay.locator("#ended").innerText(), /This console link no longer works/);
  await again.close();

  // Generate a project key with the read preset.
  await page.getByRole("button", { name: "Generate key" }).click();
  await page.getByLabel("Name", { exact: true }).fill("Payroll sync");
  await page.locator("#new-form input[name=scope][value=project]").check();
  assert.deepEqual(await page.locator("#new-projects input").evaluateAll((bs) => bs.map((b) => b.value)),
    ["proj_mobile", "proj_web"], "the organization's projects, and only them");
  await chooseProjects(page, ["proj_web"]);
  await page.locator("#new-form input[name=preset][value=read]").check();
  await page.screenshot({ path: `${SHOTS}gateway-01-generate.png` });
  await page.getByRole("button", { name: "Generate", exact: true }).click();

  // The value, once, copyable.
  await page.locator("#secret-dialog").waitFor();
  const secret = (await page.locator("#secret").textContent()).trim();
  assert.match(secret, KEY);
  await page.getByRole("button", { name: "Copy", exact: true }).click();
  await page.locator("#copy-status", { hasText: "Copied" }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
  await page.screenshot({ path: `${SHOTS}gateway-02-value-once.png` });
  await acknowledge(page);
  assert.ok(!(await page.content()).includes(secret), "the value is cleared from the page");

  // The card.
  const made = card(page, "Payroll sync");
  await made.waitFor();
  let text = await made.innerText();
  assert.match(text, new RegExp(`…${secret.slice(-4)}`));
  assert.match(text, /Project proj_web/);
  assert.match(text, /\bRead\b/);
  assert.match(text, /Never used/);
  assert.match(text, /Added\s+\w{3} \d{1,2}, \d{4}/);

  // The key through the gateway: allowed on a read endpoint, refused on a write one.
  const read = await use(secret, "GET", "/api/v1/projects/proj_web/entries");
  assert.equal(read.status, 200, read.body);
  assert.equal(JSON.parse(read.body).origin, true, "the origin answered");
  const write = await use(secret, "POST", "/api/v1/projects/proj_web/entries");
  assert.equal(write.status, 403);
  assert.equal(reasonOf(write), "forbidden");

  // After a reload the card says when it was last used (written after the answer).
  const id = await made.getAttribute("data-id");
  const lastUsedAt = await waitFor(async () => (await gw.admin.listKeys(ORG)).keys.find((k) => k.id === id)?.lastUsedAt, "lastUsedAt set");
  // The page reads the card 5 s after the use, however long the machine took to get here.
  await page.clock.setFixedTime(Date.parse(lastUsedAt) + 5_000);
  await page.reload();
  await page.locator("main[aria-busy=false]").waitFor();
  text = await card(page, "Payroll sync").innerText();
  assert.match(text, /Last used\s+(just now|\d+ seconds? ago)/);
  await page.screenshot({ path: `${SHOTS}gateway-03-last-used.png`, fullPage: true });

  // Rotate with a grace period: a new value once; the old key keeps working for an hour.
  await made.locator(".menu summary").click();
  await made.getByRole("button", { name: "Rotate" }).click();
  await page.getByLabel("Keep the old key working for").selectOption("3600");
  await page.locator("#rotate-form").getByRole("button", { name: "Rotate" }).click();
  await page.locator("#secret-dialog").waitFor();
  const rotated = (await page.locator("#secret").textContent()).trim();
  assert.match(rotated, KEY);
  assert.notEqual(rotated, secret);
  await acknowledge(page);
  const cards = card(page, "Payroll sync");
  assert.equal(await cards.count(), 2);
  assert.match(await cards.nth(1).locator(".status").innerText(), /Active until/);
  assert.equal((await use(secret, "GET", "/api/v1/projects/proj_web/entries")).status, 200, "the old key, in its grace period");
  assert.equal((await use(rotated, "GET", "/api/v1/projects/proj_web/entries")).status, 200, "the new key");

  // Revoke the new key, behind the confirmation.
  const fresh = cards.nth(0);
  const freshId = await fresh.getAttribute("data-id");
  await fresh.locator(".menu summary").click();
  await fresh.getByRole("button", { name: "Revoke" }).click();
  const confirm = page.locator("#revoke-dialog");
  assert.match(await confirm.innerText(), /cannot be undone/);
  await confirm.getByRole("button", { name: "Revoke key" }).click();
  await confirm.waitFor({ state: "hidden" });
  assert.equal(await page.locator(`#list > li[data-id=${freshId}] .status`).innerText(), "Revoked");
  await page.screenshot({ path: `${SHOTS}gateway-04-rotated-and-revoked.png`, fullPage: true });
  const gone = await use(rotated, "GET", "/api/v1/projects/proj_web/entries");
  assert.equal(gone.status, 401);
  assert.equal(reasonOf(gone), "key_revoked");

  assert.deepEqual(problems, []);
  await context.close();
});

test("an engineer gets no organization option and cannot make an organization key; a removed member's session ends", async () => {
  const { context, page, problems } = await open(await link(ORG, "usr_gone", undefined));
  const session = await page.evaluate(() => fetch("/console/api/session").then((r) => r.json()));
  assert.equal(session.role, "engineer");
  assert.equal(session.can.createOrganizationKeys, false);
  await page.getByRole("button", { name: "Generate key" }).click();
  assert.equal(await page.locator("#new-form input[value=organization]").count(), 0);
  assert.ok(await page.locator("#new-form input[value=project]").isChecked());
  await page.screenshot({ path: `${SHOTS}gateway-05-engineer.png` });
  await page.getByRole("button", { name: "Cancel" }).click();

  // The server holds the rule too: a hand-made organization key request is refused.
  const refused = await page.evaluate(async (csrf) => {
    const res = await fetch("/console/api/keys", {
      method: "POST",
      headers: { "content-type": "application/json", "x-keyscope-csrf": csrf },
      body: JSON.stringify({ name: "Sneaky", scope: "organization", preset: "read" }),
    });
    return [res.status, await res.json()];
  }, session.csrfToken);
  assert.equal(refused[0], 403);
  assert.equal(refused[1].reason, "forbidden");
  assert.match(refused[1].message, /engineer/);

  // Removed from the organization: the next action ends the session, in words, with no data.
  await gw.admin.removeMember(ORG, "usr_gone");
  await page.reload();
  await page.locator("#ended").waitFor();
  assert.match(await page.locator("#ended").innerText(), /no longer a member/);
  assert.equal(await page.locator("#list > li").count(), 0);
  const after = await page.evaluate(() => fetch("/console/api/keys").then((r) => r.status));
  assert.equal(after, 401, "the session is gone for good");
  assert.deepEqual(problems, []);
  await context.close();
});

test("a member sees no Generate button", async () => {
  const { context, page, problems } = await open(await link(ORG, "usr_mem"));
  await page.locator("#empty").waitFor();
  assert.equal(await page.getByRole("button", { name: "Generate key" }).count(), 0);
  await page.screenshot({ path: `${SHOTS}gateway-06-member.png`, fullPage: true });
  assert.deepEqual(problems, []);
  await context.close();
});

test("an expired or forged link shows a clear page and no data, and sets no cookie", async () => {
  const expired = await link(ORG, "usr_ada");
  await gw.db.prepare("UPDATE console_links SET expires_at = ?1").bind(Date.now() - 1000).run();
  const forged = `${base}/console/open?token=${"ab".repeat(32)}`;
  for (const [url, shot] of [[expired, "gateway-07-link-expired.png"], [forged, null], [`${base}/console/open`, null]]) {
    const { context, page, problems } = await open(url);
    assert.equal(page.url(), `${base}/console/`, "neither the token nor the marker stays in the address bar");
    assert.match(await page.locator("#ended").innerText(), /This console link no longer works/);
    assert.ok(!(await page.locator("#content").isVisible()));
    assert.equal(await page.getByRole("button", { name: "Generate key" }).count(), 0);
    assert.deepEqual(await context.cookies(), []);
    if (shot) await page.screenshot({ path: `${SHOTS}${shot}` });
    assert.deepEqual(problems, []);
    await context.close();
  }
  const raw = await rawRequest(gw.port, { method: "GET", path: "/console/open?token=zz" });
  assert.equal(raw.status, 303);
  assert.equal(raw.headers.location, "/console/#link-expired");
  assert.equal(raw.headers["set-cookie"], undefined);
  assert.equal(raw.headers["cache-control"], "no-store");
});

test("a key named like markup renders as text", async () => {
  const name = "<img src=x onerror=alert(1)>";
  await gw.admin.createKey(ORG, { actingUserId: "usr_ada", name, scope: "organization", preset: "read" });
  const { context, page, problems } = await open(await link(ORG, "usr_ada"));
  const shown = card(page, name);
  await shown.waitFor();
  assert.equal(await shown.locator("h3.name").textContent(), name);
  assert.equal(await page.locator("#list img").count(), 0);
  assert.deepEqual(problems, [], "no alert, no script error, no CSP violation");
  await context.close();
});

test("a state-changing call without the CSRF proof, as text, or from another site is refused", async () => {
  const { context, page } = await open(await link(ORG, "usr_ada"));
  const session = await page.evaluate(() => fetch("/console/api/session").then((r) => r.json()));
  const post = (init) => page.evaluate(async (i) => {
    const res = await fetch("/console/api/keys", { method: "POST", ...i });
    return [res.status, (await res.json()).reason];
  }, init);
  const body = JSON.stringify({ name: "CSRF", scope: "organization", preset: "read" });
  const json = { "content-type": "application/json" };
  assert.deepEqual(await post({ headers: json, body }), [403, "forbidden"], "no proof");
  assert.deepEqual(await post({ headers: { ...json, "x-keyscope-csrf": "0".repeat(64) }, body }), [403, "forbidden"], "a wrong proof");
  assert.deepEqual(await post({ headers: { "content-type": "text/plain", "x-keyscope-csrf": session.csrfToken }, body }),
    [403, "forbidden"], "not JSON");

  // Another site, carrying the cookie and even the proof (what SameSite and the Origin check stop).
  const [{ value: cookie }] = await context.cookies();
  const headers = [["cookie", `keyscope_console=${cookie}`], ["content-type", "application/json"], ["x-keyscope-csrf", session.csrfToken]];
  const foreign = await rawRequest(gw.port, { method: "POST", path: "/console/api/keys", headers: [...headers, ["origin", "https://evil.example"]], body });
  assert.equal(foreign.status, 403);
  assert.equal(reasonOf(foreign), "forbidden");
  // The same call with the proof and no foreign origin is what the page does: it works.
  assert.deepEqual(await post({ headers: { ...json, "x-keyscope-csrf": session.csrfToken }, body }), [201, undefined]);
  const { keys } = await gw.admin.listKeys(ORG);
  assert.equal(keys.filter((k) => k.name === "CSRF").length, 1, "only the proven call changed anything");
  await context.close();
});

test("a session of another organization sees nothing of this one", async () => {
  const { keys } = await gw.admin.listKeys(ORG);
  assert.ok(keys.length > 0);
  const { context, page, problems } = await open(await link(OTHER, "usr_oz"));
  await page.locator("#empty", { hasText: "No keys yet" }).waitFor();
  const seen = await page.evaluate(async (id) => {
    const session = await fetch("/console/api/session").then((r) => r.json());
    const list = await fetch("/console/api/keys").then((r) => r.json());
    const revoke = await fetch(`/console/api/keys/${id}/revoke`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-keyscope-csrf": session.csrfToken },
      body: "{}",
    });
    return { org: session.organizationId, projects: session.projects, keys: list.keys, revoke: [revoke.status, (await revoke.json()).reason] };
  }, keys[0].id);
  assert.deepEqual(seen, { org: OTHER, projects: [{ id: "proj_other" }], keys: [], revoke: [404, "not_found"] });
  const still = (await gw.admin.listKeys(ORG)).keys.find((k) => k.id === keys[0].id);
  assert.equal(still.revokedAt, keys[0].revokedAt, "the other organization's key is untouched");
  assert.deepEqual(problems, []);
  await context.close();
});

test("the admin API refuses a console link for a non-member and a non-http return URL", async () => {
  const stranger = await gw.admin.call("POST", `/organizations/${ORG}/console-sessions`, { actingUserId: "usr_oz" });
  assert.equal(stranger.status, 404);
  assert.equal(stranger.body.reason, "not_found");
  const script = await gw.admin.call("POST", `/organizations/${ORG}/console-sessions`, { actingUserId: "usr_ada", returnUrl: "javascript:alert(1)" });
  assert.equal(script.status, 400);
  assert.equal(script.body.reason, "invalid_request");
  const noToken = await gw.admin.call("POST", `/organizations/${ORG}/console-sessions`, { actingUserId: "usr_ada" }, { token: null });
  assert.equal(noToken.status, 401);
});

test("the console's own routes: redirects, errors in words, a configurable frame-ancestors, the API untouched", async () => {
  const raw = (method, path, headers = []) => rawRequest(gw.port, { method, path, headers });
  const bare = await raw("GET", "/console");
  assert.deepEqual([bare.status, bare.headers.location], [308, "/console/"]);
  for (const [path, type] of [["/console/console.js", "text/javascript"], ["/console/console.css", "text/css"]]) {
    const res = await raw("GET", path);
    assert.equal(res.status, 200);
    assert.ok(res.headers["content-type"].startsWith(type), path);
    assert.equal(res.headers["content-security-policy"], CSP);
  }
  for (const [method, path, status, reason] of [
    ["GET", "/console/nothing", 404, "not_found"],
    ["GET", "/console/api/nothing", 404, "not_found"],
    ["GET", "/console/api/keys/key_x/revoke", 405, "method_not_allowed"],
    ["POST", "/console/", 405, "method_not_allowed"],
    ["GET", "/console/api/session", 401, "session_expired"],
  ]) {
    const res = await raw(method, path);
    assert.equal(res.status, status, `${method} ${path}`);
    const body = JSON.parse(res.body);
    assert.equal(body.reason, reason);
    assert.match(body.message, /^[A-Z].*\.$/, "a sentence");
  }
  // A HEAD (a link checker) does not use up the one-time link.
  const once = new URL(await link(ORG, "usr_ada"));
  const head = await rawRequest(gw.port, { method: "HEAD", path: `${once.pathname}${once.search}` });
  assert.equal(head.status, 405);
  const taken = await raw("GET", `${once.pathname}${once.search}`);
  assert.deepEqual([taken.status, taken.headers.location], [303, "/console/"]);

  // The public API and the admin API are not the console's.
  assert.equal(reasonOf(await raw("GET", "/api/v1/me")), "missing_key");
  assert.equal((await raw("GET", "/admin/v1/organizations/org_acme/keys")).status, 401);

  const framed = await startGateway({ originUrl: origin.url, bindings: { KEYSCOPE_CONSOLE_FRAME_ANCESTORS: "https://app.example.test 'self'" } });
  const injected = await startGateway({ originUrl: origin.url, bindings: { KEYSCOPE_CONSOLE_FRAME_ANCESTORS: "*; script-src 'unsafe-inline'" } });
  try {
    const csp = async (g) => (await rawRequest(g.port, { method: "GET", path: "/console/" })).headers["content-security-policy"];
    assert.equal(await csp(framed), CSP.replace("frame-ancestors 'none'", "frame-ancestors https://app.example.test 'self'"));
    assert.equal(await csp(injected), CSP, "a value that is not a source list leaves framing denied");
  } finally {
    await framed.dispose();
    await injected.dispose();
  }
});

test("a key whose creator left shows as stopped, as the gateway answers it", async () => {
  await gw.admin.putMember(ORG, "usr_leaver", "engineer");
  const name = "Leaver's script";
  const { secret } = await gw.admin.createKey(ORG, { actingUserId: "usr_leaver", name, scope: "project", scopedProjectId: "proj_web", preset: "read" });
  assert.equal((await use(secret, "GET", "/api/v1/projects/proj_web/entries")).status, 200, "it works while its creator is a member");
  await gw.admin.removeMember(ORG, "usr_leaver");
  const gone = await use(secret, "GET", "/api/v1/projects/proj_web/entries");
  assert.equal(gone.status, 401);
  assert.equal(reasonOf(gone), "key_revoked");

  const { context, page, problems } = await open(await link(ORG, "usr_ada"));
  const shown = card(page, name);
  await shown.waitFor();
  assert.equal(await shown.locator(".status").innerText(), "Stopped: its creator left the organization");
  const { keys } = await page.evaluate(() => fetch("/console/api/keys").then((r) => r.json()));
  const listed = keys.find((k) => k.name === name);
  assert.deepEqual([listed.status, listed.canChange, listed.canRotate, listed.canRevoke], ["creator_left", true, true, true]);
  // It is counted with the keys that do not work, and an admin may still rotate or revoke it.
  const filter = (value) => page.locator(`input[name=filter][value=${value}]`).check();
  await filter("revoked");
  await shown.waitFor();
  await filter("active");
  assert.equal(await card(page, name).count(), 0, "not among the active keys");
  await filter("all");
  await shown.locator(".menu summary").click();
  assert.equal(await shown.getByRole("button", { name: "Rotate" }).count(), 1);
  assert.equal(await shown.getByRole("button", { name: "Revoke" }).count(), 1);
  await page.screenshot({ path: `${SHOTS}gateway-08-creator-left.png`, fullPage: true });
  assert.deepEqual(problems, []);
  await context.close();
});

test("a key made with controls shows them; a change in the Limits dialog reaches the gateway; its usage is charted", async () => {
  const { context, page, problems } = await open(await link(ORG, "usr_eng"));
  await page.getByRole("button", { name: "Generate key" }).click();
  const form = page.locator("#new-form");
  await page.getByLabel("Name", { exact: true }).fill("Metered export");
  await chooseProjects(page, ["proj_web", "proj_mobile"]);
  await page.locator("#new-controls > summary").click();
  await form.getByLabel("Allowed addresses").fill("203.0.113.0/24\n2001:db8::/32");
  await form.getByLabel("Requests per second").fill("5");
  await form.getByLabel("Quota", { exact: true }).fill("1000");
  await form.getByLabel("Quota period").selectOption("day");
  let sent = nextBody(page, "keys");
  await page.getByRole("button", { name: "Generate", exact: true }).click();
  assert.deepEqual(await sent, {
    name: "Metered export", scope: "project", preset: "read", scopedProjectIds: ["proj_mobile", "proj_web"],
    allowedCidrs: ["203.0.113.0/24", "2001:db8::/32"], rateLimit: { perSecond: 5 }, quota: { limit: 1000, period: "day" },
  });
  await page.locator("#secret-dialog").waitFor();
  const secret = (await page.locator("#secret").textContent()).trim();
  assert.match(secret, KEY);
  await acknowledge(page);

  // The card and its details say what the real API stored.
  const item = card(page, "Metered export");
  await item.waitFor();
  const id = await item.getAttribute("data-id");
  assert.equal(await item.locator(".scope").innerText(), "Projects proj_mobile, proj_web");
  assert.deepEqual(await controlsOf(item), {
    projects: "proj_mobile, proj_web", rate: "5 requests per second", quota: "1,000 requests per day (UTC)",
    cidrs: ["203.0.113.0/24", "2001:db8::/32"],
  });
  let stored = (await gw.admin.listKeys(ORG)).keys.find((k) => k.id === id);
  assert.deepEqual([stored.scopedProjectId, stored.scopedProjectIds, stored.allowedCidrs, stored.rateLimit, stored.quota],
    [null, ["proj_mobile", "proj_web"], ["203.0.113.0/24", "2001:db8::/32"], { perSecond: 5 }, { limit: 1000, period: "day" }]);
  const listed = (await page.evaluate(() => fetch("/console/api/keys").then((r) => r.json()))).keys.find((k) => k.id === id);
  assert.equal(listed.canEditControls, true);

  // The gateway holds them: its projects, its addresses.
  const from = (ip, method = "GET", path = "/api/v1/projects/proj_web/entries") =>
    rawRequest(gw.port, { method, path, headers: [["x-api-key", secret], ["cf-connecting-ip", ip]] });
  assert.equal((await from("203.0.113.9")).status, 200);
  assert.equal((await from("2001:db8::1", "GET", "/api/v1/projects/proj_mobile/entries")).status, 200);
  const elsewhere = await from("198.51.100.7");
  assert.equal(elsewhere.status, 403);
  assert.deepEqual(JSON.parse(elsewhere.body), { reason: "forbidden", message: "This key cannot be used from this address." });
  assert.equal(reasonOf(await from("203.0.113.9", "POST")), "forbidden", "a read key");

  // Changed in the Limits dialog, through the real API: only what changed is sent.
  const dialog = page.locator("#controls-dialog");
  const field = (label) => dialog.getByLabel(label, { exact: true });
  await item.getByRole("button", { name: "Change limits of Metered export" }).click();
  await field("Allowed addresses").fill("198.51.100.0/24");
  await field("Requests per second").fill("3");
  sent = nextBody(page, `keys/${id}/controls`);
  await dialog.getByRole("button", { name: "Save" }).click();
  assert.deepEqual(await sent, { allowedCidrs: ["198.51.100.0/24"], rateLimit: { perSecond: 3 } });
  await dialog.waitFor({ state: "hidden" });
  assert.deepEqual(await controlsOf(item), {
    projects: "proj_mobile, proj_web", rate: "3 requests per second", quota: "1,000 requests per day (UTC)", cidrs: ["198.51.100.0/24"],
  });
  stored = (await gw.admin.listKeys(ORG)).keys.find((k) => k.id === id);
  assert.deepEqual([stored.allowedCidrs, stored.rateLimit, stored.quota], [["198.51.100.0/24"], { perSecond: 3 }, { limit: 1000, period: "day" }]);
  assert.equal((await from("198.51.100.7")).status, 200, "the new block, from the next request");
  assert.equal(reasonOf(await from("203.0.113.9")), "forbidden", "the old block no longer");

  // An invalid block: the real API's message, by the field; nothing stored.
  await item.getByRole("button", { name: /^Change limits/ }).click();
  await field("Allowed addresses").fill("198.51.100.0/33");
  const answer = page.waitForResponse((r) => new URL(r.url()).pathname === `/console/api/keys/${id}/controls`);
  await dialog.getByRole("button", { name: "Save" }).click();
  const refused = await answer;
  assert.equal(refused.status(), 400);
  const said = await refused.json();
  assert.equal(said.code, "invalid_cidrs");
  assert.match(said.message, /198\.51\.100\.0\/33/);
  await dialog.locator("#edit-cidrs-error").waitFor();
  assert.equal(await dialog.locator("#edit-cidrs-error").innerText(), said.message);
  await page.screenshot({ path: `${SHOTS}gateway-09-limits-invalid-block.png` });
  await dialog.getByRole("button", { name: "Cancel" }).click();
  assert.deepEqual((await gw.admin.listKeys(ORG)).keys.find((k) => k.id === id).allowedCidrs, ["198.51.100.0/24"]);

  // Its usage: 3 allowed and 3 denied (two addresses refused, one write) today, charted.
  const todayStart = `${new Date().toISOString().slice(0, 10)}T00:00:00Z`;
  const usage = () => page.evaluate(async (keyId) => {
    const res = await fetch(`/console/api/keys/${keyId}/usage`);
    return { status: res.status, body: await res.json() };
  }, id);
  const first = await usage();
  assert.equal(first.status, 200, `GET /console/api/keys/{id}/usage: ${JSON.stringify(first.body)}`);
  assert.deepEqual([first.body.keyId, first.body.granularity], [id, "day"]);
  // The key's object writes its counts to D1 by an alarm (within a minute); the test has it
  // write them now, again until the denials' recounts (sent after their answers) are in.
  let last = first.body;
  const counted = await waitFor(async () => {
    await gw.clock.flushUsage(id);
    last = (await usage()).body;
    const today = last.buckets.find((b) => Date.parse(b.start) === Date.parse(todayStart));
    const denied = today ? Object.values(today.denied).reduce((a, b) => a + b, 0) : 0;
    return today && today.allowed === 3 && denied === 3 ? last : null;
  }, "today's usage: 3 allowed, 3 denied", { everyMs: 200 }).catch((error) => {
    throw new Error(`${error.message}; the last answer: ${JSON.stringify(last)}`);
  });
  assert.equal(counted.buckets.find((b) => Date.parse(b.start) === Date.parse(todayStart)).denied.forbidden, 3);
  await page.reload();
  await page.locator("main[aria-busy=false]").waitFor();
  const again = card(page, "Metered export");
  await openDetails(again);
  const labels = await again.locator(".usage svg g.day").evaluateAll((gs) => gs.map((g) => g.getAttribute("aria-label")));
  assert.equal(labels.length, 30);
  assert.equal(labels[29], `${utcDay.format(Date.parse(todayStart))}: 3 allowed, 3 denied`);
  assert.equal(await again.locator(".usage-totals").innerText(), "3 allowed, 3 denied in 30 days.");
  assert.equal(await again.locator(".usage-denied").innerText(), "Denied: 3 not permitted.");
  await page.screenshot({ path: `${SHOTS}gateway-10-limits-and-usage.png`, fullPage: true });

  // Revoked: its limits stay on show, the form goes, and the API refuses a change (409).
  await again.locator(".menu summary").click();
  await again.getByRole("button", { name: "Revoke" }).click();
  await page.getByRole("button", { name: "Revoke key" }).click();
  await page.locator("#revoke-dialog").waitFor({ state: "hidden" });
  const revoked = card(page, "Metered export");
  assert.equal(await revoked.locator(".status").innerText(), "Revoked");
  assert.equal(await revoked.getByRole("button", { name: /Change limits/, includeHidden: true }).count(), 0);
  assert.equal((await controlsOf(revoked)).rate, "3 requests per second");
  const late = await page.evaluate(async (keyId) => {
    const session = await fetch("/console/api/session").then((r) => r.json());
    const res = await fetch(`/console/api/keys/${keyId}/controls`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-keyscope-csrf": session.csrfToken },
      body: JSON.stringify({ rateLimit: null }),
    });
    return [res.status, (await res.json()).code];
  }, id);
  assert.deepEqual(late, [409, "key_revoked"]);
  assert.deepEqual(problems, []);
  await context.close();
});
