// The key console's screen in a real browser (Debian's chromium, driven by playwright-core),
// against the mock console API. Run: scripts/ensure-browser && node --test tests/console/
// Screenshots of the main states go to target/console-screenshots/; with KEYSCOPE_SCREENSHOTS=1
// the documentation's (a key's limits and usage chart, the Limits dialog) are written to
// docs/screenshots/ too.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startMock } from "./mock-server.mjs";

const SHOTS = fileURLToPath(new URL("../../target/console-screenshots/", import.meta.url));
const DOCS = process.env.KEYSCOPE_SCREENSHOTS === "1"
  ? fileURLToPath(new URL("../../docs/screenshots/", import.meta.url))
  : null;
const CHROMIUM = process.env.KEYSCOPE_CHROMIUM ?? "/usr/bin/chromium";
const KEY = /^ck_live_[0-9A-Za-z]{36}$/;

let browser;
let mock;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  if (DOCS) mkdirSync(DOCS, { recursive: true });
  mock = await startMock();
  browser = await chromium.launch({ executablePath: CHROMIUM });
});

after(async () => {
  await browser?.close();
  await mock?.close();
});

/**
 * A fresh browser context signed in as `role` through the mock's session link. `problems` collects
 * what must never happen: script errors, CSP violations, alert/confirm dialogs.
 */
async function open(role, { width = 1100, height = 800, query = "", setup } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: mock.url });
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
  await fetch(`${mock.url}/__mock/reset`);
  await setup?.(page);
  await page.goto(`${mock.url}/console/open?as=${role}${query}`);
  await page.locator("main[aria-busy=false]").waitFor();
  return { context, page, problems };
}

function card(page, name) {
  return page.locator("#list > li").filter({ has: page.locator("h3.name", { hasText: name }) });
}

/** Ticks exactly the projects `ids` in the Generate dialog. */
async function chooseProjects(page, ids) {
  for (const box of await page.locator("#new-projects input[type=checkbox]").all()) {
    await box.setChecked(ids.includes(await box.getAttribute("value")));
  }
}

/** Fills and submits the Generate dialog; returns the value shown once. */
async function generate(page, { name, project, projects, preset = "read", scope = "project", controls }) {
  await page.getByRole("button", { name: "Generate key" }).click();
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.locator(`#new-form input[name=scope][value=${scope}]`).check();
  if (project || projects) await chooseProjects(page, projects ?? [project]);
  if (controls) {
    await page.locator("#new-controls > summary").click();
    const form = page.locator("#new-form");
    if (controls.cidrs !== undefined) await form.getByLabel("Allowed addresses").fill(controls.cidrs);
    if (controls.rate !== undefined) await form.getByLabel("Requests per second").fill(controls.rate);
    if (controls.quota !== undefined) await form.getByLabel("Quota", { exact: true }).fill(controls.quota);
    if (controls.period !== undefined) await form.getByLabel("Quota period").selectOption(controls.period);
  }
  await page.locator(`#new-form input[name=preset][value=${preset}]`).check();
  await page.getByRole("button", { name: "Generate", exact: true }).click();
  const dialog = page.locator("#secret-dialog");
  await dialog.waitFor();
  return (await page.locator("#secret").textContent()).trim();
}

/** The body of the next POST the page sends to `path` (below /console/api/). */
function nextBody(page, path) {
  return page.waitForRequest((r) => r.method() === "POST" && new URL(r.url()).pathname === `/console/api/${path}`)
    .then((r) => r.postDataJSON());
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

/** The chart's day columns: the day, its summaries and its bars (in the plot's units). */
function columnsOf(item) {
  return item.locator(".usage svg g.day").evaluateAll((gs) => gs.map((g) => {
    const bar = (c) => {
      const r = g.querySelector(`rect.${c}`);
      return { y: Number(r.getAttribute("y")), height: Number(r.getAttribute("height")), fill: getComputedStyle(r).fill };
    };
    return { day: g.dataset.day, label: g.getAttribute("aria-label"), title: g.querySelector("title").textContent, allowed: bar("allowed"), denied: bar("denied") };
  }));
}

const utcDay = new Intl.DateTimeFormat("en-US", { month: "short", day: "numeric", timeZone: "UTC" });
const DAY = 86400e3;

async function acknowledge(page) {
  await page.getByLabel("I have copied it").check();
  await page.getByRole("button", { name: "Done" }).click();
  await page.locator("#secret-dialog").waitFor({ state: "hidden" });
  await page.waitForFunction(() => document.getElementById("secret").textContent === "");
}

test("generate a read key for a project: shown once, copyable, then a card; rotate; revoke", async () => {
  const { context, page, problems } = await open("admin", { query: "&return=https://app.example.test/settings" });
  assert.equal(new URL(page.url()).search, "", "the session link's query leaves the address bar");
  assert.equal(await page.getByRole("link", { name: "Back" }).getAttribute("href"), "https://app.example.test/settings");
  await page.locator("#empty", { hasText: "No keys yet" }).waitFor();
  await page.screenshot({ path: `${SHOTS}01-empty.png`, fullPage: true });

  await page.getByRole("button", { name: "Generate key" }).click();
  await page.getByLabel("Name", { exact: true }).fill("Payroll sync");
  await chooseProjects(page, ["proj_mobile"]);
  assert.ok(await page.locator("#new-form input[value=read]").isChecked(), "read is the default preset");
  await page.screenshot({ path: `${SHOTS}02-generate-dialog.png` });
  await page.getByRole("button", { name: "Generate", exact: true }).click();

  // The value, once, with Copy and the guard.
  const dialog = page.locator("#secret-dialog");
  await dialog.waitFor();
  const secret = (await page.locator("#secret").textContent()).trim();
  assert.match(secret, KEY);
  assert.ok(await page.getByRole("button", { name: "Done" }).isDisabled(), "Done waits for 'I have copied it'");
  await page.getByRole("button", { name: "Copy", exact: true }).click();
  await page.locator("#copy-status", { hasText: "Copied" }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
  await page.keyboard.press("Escape");
  assert.ok(await dialog.isVisible(), "Escape does not close the value before it is confirmed copied");
  await page.locator("#copy-status", { hasText: "I have copied it" }).waitFor();
  await page.screenshot({ path: `${SHOTS}03-value-shown-once.png` });
  await acknowledge(page);

  // Gone from the page and never stored.
  assert.equal(await page.locator("#secret").textContent(), "");
  assert.ok(!(await page.content()).includes(secret), "the value is cleared from the page");
  assert.deepEqual(await page.evaluate(() => [localStorage.length, sessionStorage.length, document.cookie]),
    [0, 0, ""], "nothing in storage, and the session cookie is out of the page's reach");

  const made = card(page, "Payroll sync");
  await made.waitFor();
  const text = await made.innerText();
  assert.match(text, new RegExp(`…${secret.slice(-4)}`), "hint: the value's last 4 characters");
  assert.match(text, /Project proj_mobile/);
  assert.match(text, /\bRead\b/);
  assert.match(text, /Never used/);
  assert.match(text, /Added\s+\w{3} \d{1,2}, \d{4}/);
  assert.match(text, /Expires\s+Never/);
  assert.match(text, /Active/);
  await page.screenshot({ path: `${SHOTS}04-card.png`, fullPage: true });

  // Used: after a reload the card says when.
  const id = await made.getAttribute("data-id");
  await fetch(`${mock.url}/__mock/use?id=${id}`);
  await page.reload();
  await page.locator("main[aria-busy=false]").waitFor();
  assert.match(await card(page, "Payroll sync").innerText(), /Last used\s+just now/);
  assert.ok(!(await page.content()).includes(secret));

  // Rotate with a grace period: a new value, once; the old key keeps working for an hour.
  await made.locator(".menu summary").click();
  await made.getByRole("button", { name: "Rotate" }).click();
  await page.getByLabel("Keep the old key working for").selectOption("3600");
  await page.screenshot({ path: `${SHOTS}05-rotate-dialog.png` });
  await page.locator("#rotate-form").getByRole("button", { name: "Rotate" }).click();
  await dialog.waitFor();
  const rotated = (await page.locator("#secret").textContent()).trim();
  assert.match(rotated, KEY);
  assert.notEqual(rotated, secret);
  assert.match(await page.locator("#secret-note").textContent(), /old key keeps working until/);
  await acknowledge(page);
  assert.ok(!(await page.content()).includes(rotated));
  const cards = card(page, "Payroll sync");
  assert.equal(await cards.count(), 2, "the new key and the old one, still working");
  assert.match(await cards.nth(1).locator(".status").innerText(), /Active until/);
  assert.match(await cards.nth(0).innerText(), new RegExp(`…${rotated.slice(-4)}`));

  // Revoke the new key: a confirmation that says it cannot be undone; Cancel changes nothing.
  const fresh = cards.nth(0);
  const freshId = await fresh.getAttribute("data-id");
  await fresh.locator(".menu summary").click();
  await fresh.getByRole("button", { name: "Revoke" }).click();
  const confirm = page.locator("#revoke-dialog");
  await confirm.waitFor();
  assert.match(await confirm.innerText(), /cannot be undone/);
  assert.match(await confirm.innerText(), /Revoke “Payroll sync”\?/);
  await page.screenshot({ path: `${SHOTS}06-revoke-confirmation.png` });
  await confirm.getByRole("button", { name: "Cancel" }).click();
  assert.match(await page.locator(`#list > li[data-id=${freshId}] .status`).innerText(), /^Active$/);
  await fresh.locator(".menu summary").click();
  await fresh.getByRole("button", { name: "Revoke" }).click();
  await confirm.getByRole("button", { name: "Revoke key" }).click();
  await confirm.waitFor({ state: "hidden" });
  const revoked = page.locator(`#list > li[data-id=${freshId}]`);
  assert.equal(await revoked.locator(".status").innerText(), "Revoked");
  assert.equal(await revoked.locator(".menu summary").count(), 0, "a revoked key has no menu");
  assert.equal(await page.evaluate(() => document.activeElement?.closest("li")?.dataset.id), freshId,
    "focus stays on the card that changed");

  // The filter.
  await page.getByText("Revoked (1)").click();
  assert.equal(await page.locator("#list > li").count(), 1);
  await page.getByText("Active (1)").click();
  assert.equal(await page.locator("#list > li").count(), 1);
  assert.notEqual(await page.locator("#list > li").getAttribute("data-id"), freshId);
  await page.getByText("Expired (0)").click();
  assert.equal(await page.locator("#empty").innerText(), "No expired keys.");
  await page.getByText("All (2)").click();
  await page.screenshot({ path: `${SHOTS}07-revoked.png`, fullPage: true });

  assert.deepEqual(problems, []);
  await context.close();
});

test("a member sees no Generate button and no menu on keys they cannot change", async () => {
  const { context, page, problems } = await open("member");
  assert.equal(await page.getByRole("button", { name: "Generate key" }).count(), 0);
  assert.equal(await page.getByRole("button", { name: "Generate key", includeHidden: true }).count(), 1);
  assert.match(await page.locator("#empty").innerText(), /Keys you may see will appear here/);
  await page.screenshot({ path: `${SHOTS}08-member.png`, fullPage: true });
  // How it works: the gateway's address, copyable; the header; the self-check.
  await page.getByRole("button", { name: "Copy URL" }).click();
  await page.getByRole("button", { name: "Copied" }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), "https://api.example.test");
  assert.match(await page.locator(".how").innerText(), /X-Api-Key[\s\S]*Authorization: Bearer[\s\S]*GET \/api\/v1\/me/);
  await context.close();

  // A key the server says this user may not change: no Rotate, no Revoke.
  const other = {
    id: "key_other", name: "Someone else's", hint: "Ab12", organizationId: "org_acme", createdBy: "usr_ada",
    scope: "project", scopedProjectId: "proj_web", permissions: null, preset: "full",
    createdAt: new Date().toISOString(), lastUsedAt: null, expiresAt: null, revokedAt: null,
    status: "active", canChange: false, canRotate: false, canRevoke: false,
  };
  const second = await open("member", {
    setup: (p) => p.route("**/console/api/keys", (route) =>
      route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify({ keys: [other] }) })),
  });
  await card(second.page, "Someone else's").waitFor();
  assert.equal(await second.page.locator(".menu summary").count(), 0);
  assert.equal(await second.page.locator("#list").getByRole("button", { name: /Rotate|Revoke/, includeHidden: true }).count(), 0);
  assert.deepEqual([...problems, ...second.problems], []);
  await second.context.close();
});

test("an engineer is offered project keys only; expiry presets and dates", async () => {
  const { context, page, problems } = await open("engineer");
  await page.getByRole("button", { name: "Generate key" }).click();
  assert.equal(await page.locator("#new-form input[value=organization]").count(), 0);
  assert.equal(await page.getByText("The whole organization").count(), 0);
  assert.ok(await page.locator("#new-form input[value=project]").isChecked());
  assert.deepEqual(await page.locator("#new-projects input").evaluateAll((bs) => bs.map((b) => [b.value, b.checked])),
    [["proj_web", true], ["proj_mobile", false]], "every project offered, the first ticked");

  // Expiry: a date in the past is refused in words; 30 days and a picked date are kept.
  await page.getByLabel("Name", { exact: true }).fill("Month pass");
  await page.getByLabel("Expires").selectOption("date");
  await page.getByLabel("Expiry date").fill("2001-01-01");
  await page.getByRole("button", { name: "Generate", exact: true }).click();
  assert.match(await page.locator("#new-form .form-error").innerText(), /Pick an expiry date in the future/);
  await page.getByLabel("Expires").selectOption("30");
  // The page's clock stands still at `at` while it computes the expiry: 30 days from then, exactly.
  const at = Date.now();
  await page.clock.setFixedTime(at);
  await page.getByRole("button", { name: "Generate", exact: true }).click();
  await acknowledge(page);
  const month = await page.locator("#list time").evaluateAll((ts) => ts.map((t) => t.dateTime));
  const in30 = at + 30 * 86400e3;
  assert.ok(month.includes(new Date(in30).toISOString()), `expires in 30 days, to the millisecond: ${month}`);

  const picked = new Date(Date.now() + 45 * 86400e3);
  const ymd = `${picked.getFullYear()}-${String(picked.getMonth() + 1).padStart(2, "0")}-${String(picked.getDate()).padStart(2, "0")}`;
  await page.getByRole("button", { name: "Generate key" }).click();
  await page.getByLabel("Name", { exact: true }).fill("Until a date");
  await page.getByLabel("Expires").selectOption("date");
  await page.getByLabel("Expiry date").fill(ymd);
  await page.getByRole("button", { name: "Generate", exact: true }).click();
  await acknowledge(page);
  const until = await card(page, "Until a date").locator(".expires time").getAttribute("datetime");
  assert.equal(until, new Date(`${ymd}T23:59:59`).toISOString(), "the end of the picked day");
  assert.deepEqual(problems, []);
  await context.close();
});

test("a key name is text, never markup", async () => {
  const { context, page, problems } = await open("admin");
  const name = "<img src=x onerror=alert(1)>";
  await generate(page, { name, scope: "organization", preset: "full" });
  await acknowledge(page);
  const made = card(page, name);
  assert.equal(await made.locator("h3.name").textContent(), name);
  assert.equal(await page.locator("#list img").count(), 0);
  assert.match(await made.innerText(), /Whole organization/);
  assert.match(await made.innerText(), /\bFull\b/);
  await made.locator(".menu summary").click();
  await made.getByRole("button", { name: "Revoke" }).click();
  assert.equal(await page.locator("#revoke-dialog .target").textContent(), `“${name}”`);
  await page.locator("#revoke-dialog").getByRole("button", { name: "Cancel" }).click();
  assert.deepEqual(problems, [], "no alert dialog, no script error");
  await context.close();
});

test("keyboard only: generate, copy, confirm", async () => {
  const { context, page, problems } = await open("engineer");
  await page.getByRole("button", { name: "Generate key" }).focus();
  await page.keyboard.press("Enter");
  assert.equal(await page.evaluate(() => document.activeElement.id), "new-name");
  await page.keyboard.type("CI deploys");
  await page.keyboard.press("Enter");
  await page.locator("#secret-dialog").waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), "copy-secret");
  await page.keyboard.press("Enter");
  await page.locator("#copy-status", { hasText: "Copied" }).waitFor();
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.id), "copied");
  await page.keyboard.press("Space");
  await page.keyboard.press("Tab");
  await page.keyboard.press("Enter");
  await page.locator("#secret-dialog").waitFor({ state: "hidden" });
  // Focus moves to the new card (as the dialog's close event runs).
  await page.waitForFunction(() => document.activeElement.closest("li")?.querySelector("h3").textContent === "CI deploys");
  // The card menu opens and closes from the keyboard.
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.tagName), "SUMMARY");
  await page.keyboard.press("Enter");
  assert.equal(await page.locator("details.menu[open]").count(), 1);
  await page.keyboard.press("Escape");
  assert.equal(await page.locator("details.menu[open]").count(), 0);
  assert.deepEqual(problems, []);
  await context.close();
});

test("at 375 px wide nothing scrolls sideways", async () => {
  const { context, page, problems } = await open("admin", { width: 375, height: 740 });
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  await generate(page, { name: "A rather long key name for the nightly export to the payroll provider", project: "proj_web" });
  assert.equal(await overflow(), 0, "with the value shown");
  await page.screenshot({ path: `${SHOTS}09-phone-value.png` });
  await acknowledge(page);
  assert.equal(await overflow(), 0, "with a card");
  await page.getByRole("button", { name: "Generate key" }).click();
  await page.locator("#new-controls > summary").click();
  assert.equal(await overflow(), 0, "with the dialog and its limits open");
  await page.getByRole("button", { name: "Cancel" }).click();
  const item = page.locator("#list > li").first();
  await openDetails(item);
  assert.equal(await item.locator(".usage svg g.day").count(), 30);
  assert.equal(await overflow(), 0, "with the limits and the usage chart shown");
  await page.screenshot({ path: `${SHOTS}10-phone.png`, fullPage: true });
  await item.getByRole("button", { name: /^Change limits/ }).click();
  assert.equal(await overflow(), 0, "with the Limits dialog open");
  await page.locator("#controls-dialog").getByRole("button", { name: "Cancel" }).click();
  assert.deepEqual(problems, []);
  await context.close();
});

test("errors are shown in words", async () => {
  const { context, page, problems } = await open("admin");

  // The API's message, inside the dialog.
  await fetch(`${mock.url}/__mock/fail-next?status=503&reason=unavailable&message=${encodeURIComponent("The key store is unavailable; try again shortly.")}`);
  await page.getByRole("button", { name: "Generate key" }).click();
  await page.getByLabel("Name", { exact: true }).fill("Flaky");
  await page.getByRole("button", { name: "Generate", exact: true }).click();
  const error = page.locator("#new-form .form-error");
  await error.waitFor();
  assert.equal(await error.innerText(), "The key store is unavailable; try again shortly.");
  await page.screenshot({ path: `${SHOTS}11-error.png` });

  // An answer that is not the API's JSON: words, not the body.
  await fetch(`${mock.url}/__mock/fail-next?status=502&raw=${encodeURIComponent("<html>Bad gateway</html>")}`);
  await page.getByRole("button", { name: "Generate", exact: true }).click();
  await page.locator("#new-form .form-error", { hasText: "HTTP 502" }).waitFor();
  assert.doesNotMatch(await error.innerText(), /<html>|\{/);

  // A name left empty is caught before any call.
  await page.getByLabel("Name", { exact: true }).fill("  ");
  await page.getByRole("button", { name: "Generate", exact: true }).click();
  assert.match(await error.innerText(), /Give the key a name/);
  await page.getByRole("button", { name: "Cancel" }).click();
  assert.equal(await page.locator("#list > li").count(), 0);

  // The session ends: a clear page and no data.
  await generate(page, { name: "Before the end", project: "proj_web" });
  await acknowledge(page);
  await fetch(`${mock.url}/__mock/end-sessions`);
  await card(page, "Before the end").locator(".menu summary").click();
  await page.getByRole("button", { name: "Revoke" }).click();
  await page.getByRole("button", { name: "Revoke key" }).click();
  await page.locator("#ended").waitFor();
  assert.match(await page.locator("#ended").innerText(), /session has ended/);
  assert.equal(await page.locator("#list > li").count(), 0);
  assert.ok(!(await page.locator("#content").isVisible()));
  assert.ok(!(await page.getByRole("button", { name: "Generate key" }).isVisible()));
  await page.screenshot({ path: `${SHOTS}12-session-ended.png` });

  // Opening the page with no session at all.
  await page.reload();
  await page.locator("#ended").waitFor();
  assert.equal(await page.locator("#list > li").count(), 0);
  assert.deepEqual(problems, []);
  await context.close();
});

test("a forged or expired session link shows a clear page and no data", async () => {
  const { context, page, problems } = await open("forged");
  assert.equal(new URL(page.url()).hash, "", "the marker leaves the address bar");
  assert.match(await page.locator("#ended").innerText(), /This console link no longer works/);
  assert.ok(!(await page.locator("#content").isVisible()));
  assert.equal(await page.getByRole("button", { name: "Generate key" }).count(), 0);
  await page.screenshot({ path: `${SHOTS}13-link-expired.png` });
  assert.deepEqual(problems, []);
  await context.close();
});

test("the mock holds the contract's CSRF rule (so the screen is proven to send the proof)", async () => {
  const { context, page } = await open("admin");
  const status = (init) => page.evaluate(async (i) => {
    const res = await fetch("/console/api/keys", i);
    return [res.status, (await res.json()).reason];
  }, init);
  const body = JSON.stringify({ name: "x", scope: "organization", preset: "read" });
  assert.deepEqual(await status({ method: "POST", headers: { "content-type": "application/json" }, body }),
    [403, "forbidden"]);
  assert.deepEqual(await status({ method: "POST", headers: { "content-type": "text/plain", "x-keyscope-csrf": "forged" }, body }),
    [403, "forbidden"]);
  await context.close();
});

test("a failure to list keys is a sentence in a banner, not a dump", async () => {
  const body = JSON.stringify({ reason: "unavailable", message: "The key store is unavailable; try again shortly." });
  const { context, page, problems } = await open("admin", {
    setup: (p) => p.route("**/console/api/keys", (route) =>
      route.fulfill({ status: 503, contentType: "application/json", body })),
  });
  assert.equal(await page.getByRole("alert").first().innerText(), "The key store is unavailable; try again shortly.");
  assert.equal(await page.locator("#list > li").count(), 0);
  assert.deepEqual(problems, []);
  await context.close();
});

test("a key's projects, limits and allow-list: generated with them, shown in its details, changed in the Limits dialog", async () => {
  const { context, page, problems } = await open("engineer");
  // Several projects and every control: the projects as a list, the blocks one a line (blank
  // lines and spaces dropped), the limits as numbers.
  let sent = nextBody(page, "keys");
  await generate(page, {
    name: "Billing export", projects: ["proj_web", "proj_mobile"],
    controls: { cidrs: "203.0.113.0/24\n\n  2001:db8::/48  \n", rate: "25", quota: "50000", period: "month" },
  });
  assert.deepEqual(await sent, {
    name: "Billing export", scope: "project", preset: "read", scopedProjectIds: ["proj_web", "proj_mobile"],
    allowedCidrs: ["203.0.113.0/24", "2001:db8::/48"], rateLimit: { perSecond: 25 }, quota: { limit: 50000, period: "month" },
  });
  await acknowledge(page);
  // One project and no controls: scopedProjectId alone, and no control at all.
  sent = nextBody(page, "keys");
  await generate(page, { name: "Plain", project: "proj_mobile" });
  assert.deepEqual(await sent, { name: "Plain", scope: "project", preset: "read", scopedProjectId: "proj_mobile" });
  await acknowledge(page);

  // No project ticked: said by the projects, nothing sent.
  await page.getByRole("button", { name: "Generate key" }).click();
  await page.getByLabel("Name", { exact: true }).fill("Nowhere");
  await chooseProjects(page, []);
  await page.getByRole("button", { name: "Generate", exact: true }).click();
  assert.equal(await page.locator("#new-projects-error").innerText(), "Choose at least one project for the key.");
  await page.locator("#new-form").getByRole("button", { name: "Cancel" }).click();

  const billing = card(page, "Billing export");
  assert.equal(await billing.locator(".scope").innerText(), "Projects proj_mobile, proj_web");
  assert.deepEqual(await controlsOf(billing), {
    projects: "proj_mobile, proj_web", rate: "25 requests per second", quota: "50,000 requests per month (UTC)",
    cidrs: ["203.0.113.0/24", "2001:db8::/48"],
  });
  const plain = card(page, "Plain");
  assert.equal(await plain.locator(".scope").innerText(), "Project proj_mobile");
  assert.deepEqual(await controlsOf(plain), { projects: "proj_mobile", rate: "Deployment default", quota: "No quota", cidrs: "Any address" });

  // The Limits dialog shows the key's controls; only what changed is sent.
  const id = await billing.getAttribute("data-id");
  const dialog = page.locator("#controls-dialog");
  const field = (label) => dialog.getByLabel(label, { exact: true });
  await billing.getByRole("button", { name: "Change limits of Billing export" }).click();
  assert.match(await dialog.locator("h2").innerText(), /Limits of “Billing export”/);
  assert.deepEqual([
    await field("Allowed addresses").inputValue(), await field("Requests per second").inputValue(),
    await field("Quota").inputValue(), await field("Quota period").inputValue(),
  ], ["203.0.113.0/24\n2001:db8::/48", "25", "50000", "month"]);
  await field("Allowed addresses").fill("198.51.100.0/24");
  await field("Requests per second").fill("50");
  await page.screenshot({ path: `${SHOTS}14-limits-dialog.png` });
  sent = nextBody(page, `keys/${id}/controls`);
  await dialog.getByRole("button", { name: "Save" }).click();
  assert.deepEqual(await sent, { allowedCidrs: ["198.51.100.0/24"], rateLimit: { perSecond: 50 } },
    "the quota is left out: unchanged");
  await dialog.waitFor({ state: "hidden" });
  assert.deepEqual(await controlsOf(billing), {
    projects: "proj_mobile, proj_web", rate: "50 requests per second", quota: "50,000 requests per month (UTC)",
    cidrs: ["198.51.100.0/24"],
  });
  assert.ok(await billing.locator("details.more").evaluate((d) => d.open), "the details stay open across the update");
  assert.equal(await page.evaluate(() => document.activeElement?.closest("li")?.dataset.id), id, "focus is back on the card");

  // An invalid block: the server's message, next to the allow-list; nothing changes.
  await billing.getByRole("button", { name: /^Change limits/ }).click();
  await field("Allowed addresses").fill("198.51.100.0/24\n10.0.0.0/33");
  const answer = page.waitForResponse((r) => new URL(r.url()).pathname === `/console/api/keys/${id}/controls`);
  await dialog.getByRole("button", { name: "Save" }).click();
  const refused = await answer;
  assert.equal(refused.status(), 400);
  const said = await refused.json();
  assert.equal(said.code, "invalid_cidrs");
  assert.match(said.message, /10\.0\.0\.0\/33/);
  const cidrsError = dialog.locator("#edit-cidrs-error");
  await cidrsError.waitFor();
  assert.equal(await cidrsError.innerText(), said.message);
  assert.equal(await field("Allowed addresses").getAttribute("aria-invalid"), "true");
  assert.ok(await dialog.locator(".form-error").isHidden(), "said by the field, not the form");
  assert.ok(await dialog.isVisible());
  await page.screenshot({ path: `${SHOTS}15-limits-invalid-block.png` });
  assert.deepEqual((await controlsOf(billing)).cidrs, ["198.51.100.0/24"]);

  // The server's bound of the quota, by the quota; a rate out of bounds is caught before a call.
  await field("Allowed addresses").fill("198.51.100.0/24");
  await field("Quota").fill("2000000000000");
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.locator("#edit-quota-error").waitFor();
  assert.match(await dialog.locator("#edit-quota-error").innerText(), /quota\.limit must be 1 to 1000000000000/);
  assert.ok(await cidrsError.isHidden(), "the earlier complaint is gone");
  await field("Quota").fill("50000");
  let posts = 0;
  const count = (r) => { if (r.method() === "POST") posts += 1; };
  page.on("request", count);
  await field("Requests per second").fill("0");
  await dialog.getByRole("button", { name: "Save" }).click();
  assert.match(await dialog.locator("#edit-rate-error").innerText(), /from 1 to 10,000/);
  // Nothing changed: the dialog closes without a call.
  await field("Requests per second").fill("50");
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.waitFor({ state: "hidden" });
  page.off("request", count);
  assert.equal(posts, 0);

  // Emptied: every control removed (null), the key back to any address and the defaults.
  await billing.getByRole("button", { name: /^Change limits/ }).click();
  await field("Allowed addresses").fill("");
  await field("Requests per second").fill("");
  await field("Quota").fill("");
  sent = nextBody(page, `keys/${id}/controls`);
  await dialog.getByRole("button", { name: "Save" }).click();
  assert.deepEqual(await sent, { allowedCidrs: null, rateLimit: null, quota: null });
  await dialog.waitFor({ state: "hidden" });
  assert.deepEqual(await controlsOf(billing), { projects: "proj_mobile, proj_web", rate: "Deployment default", quota: "No quota", cidrs: "Any address" });

  // A quota set anew: its limit and period.
  await plain.getByRole("button", { name: /^Change limits/ }).click();
  await field("Quota").fill("1000");
  await field("Quota period").selectOption("day");
  sent = nextBody(page, `keys/${await plain.getAttribute("data-id")}/controls`);
  await dialog.getByRole("button", { name: "Save" }).click();
  assert.deepEqual(await sent, { quota: { limit: 1000, period: "day" } });
  await dialog.waitFor({ state: "hidden" });
  assert.equal((await controlsOf(plain)).quota, "1,000 requests per day (UTC)");

  // A refused allow-list at creation is shown by its field too, with the optional part open.
  await page.getByRole("button", { name: "Generate key" }).click();
  await page.getByLabel("Name", { exact: true }).fill("Bad block");
  await page.locator("#new-controls > summary").click();
  await page.locator("#new-form").getByLabel("Allowed addresses").fill("not-a-block");
  await page.getByRole("button", { name: "Generate", exact: true }).click();
  await page.locator("#new-cidrs-error").waitFor();
  assert.match(await page.locator("#new-cidrs-error").innerText(), /not-a-block/);
  assert.ok(await page.locator("#new-controls").evaluate((d) => d.open));
  await page.locator("#new-form").getByRole("button", { name: "Cancel" }).click();
  assert.equal(await card(page, "Bad block").count(), 0);

  assert.deepEqual(problems, []);
  await context.close();
});

test("a key the viewer may not change shows its limits and no Limits form", async () => {
  const { context, page, problems } = await open("admin");
  await generate(page, { name: "Soon revoked", project: "proj_web", controls: { rate: "5" } });
  await acknowledge(page);
  const item = card(page, "Soon revoked");
  assert.equal(await item.getByRole("button", { name: /^Change limits/, includeHidden: true }).count(), 1, "while it works");
  await item.locator(".menu summary").click();
  await item.getByRole("button", { name: "Revoke" }).click();
  await page.getByRole("button", { name: "Revoke key" }).click();
  await page.locator("#revoke-dialog").waitFor({ state: "hidden" });
  const revoked = card(page, "Soon revoked");
  assert.equal(await revoked.locator(".status").innerText(), "Revoked");
  assert.equal(await revoked.getByRole("button", { name: /Change limits/, includeHidden: true }).count(), 0, "no form once revoked");
  assert.equal((await controlsOf(revoked)).rate, "5 requests per second", "its limits are still shown");
  // The mock holds the rule the page follows: a revoked key's controls are refused, 409.
  const id = await revoked.getAttribute("data-id");
  const refused = await page.evaluate(async (keyId) => {
    const session = await fetch("/console/api/session").then((r) => r.json());
    const res = await fetch(`/console/api/keys/${keyId}/controls`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-keyscope-csrf": session.csrfToken },
      body: JSON.stringify({ rateLimit: null }),
    });
    return [res.status, (await res.json()).code];
  }, id);
  assert.deepEqual(refused, [409, "key_revoked"]);
  await context.close();

  // Keys the server says this member may not change: their limits, no form.
  const other = {
    id: "key_other", name: "Someone else's", hint: "Ab12", organizationId: "org_acme", createdBy: "usr_ada",
    scope: "organization", scopedProjectId: null, scopedProjectIds: null, permissions: null, preset: "full",
    allowedCidrs: ["192.0.2.0/24"], rateLimit: null, quota: { limit: 10, period: "day" },
    createdAt: new Date().toISOString(), lastUsedAt: null, expiresAt: null, revokedAt: null,
    status: "active", canChange: false, canRotate: false, canRevoke: false, canEditControls: false,
  };
  const second = await open("member", {
    setup: (p) => p.route("**/console/api/keys", (route) =>
      route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify({ keys: [other] }) })),
  });
  const shown = card(second.page, "Someone else's");
  await shown.waitFor();
  assert.equal(await shown.getByRole("button", { name: /Change limits/, includeHidden: true }).count(), 0);
  assert.deepEqual(await controlsOf(shown), {
    projects: "All projects (organization key)", rate: "Deployment default", quota: "10 requests per day (UTC)", cidrs: ["192.0.2.0/24"],
  });
  assert.match(await shown.locator(".usage-status").innerText(), /not available/, "the mock has no such key: 404, in words");
  assert.deepEqual([...problems, ...second.problems], []);
  await second.context.close();
});

test("the usage chart: 30 days, allowed and denied stacked in proportion, totals and a summary in words", async () => {
  const { context, page, problems } = await open("admin");
  await generate(page, {
    name: "Nightly export", projects: ["proj_web", "proj_mobile"],
    controls: { cidrs: "203.0.113.0/24\n2001:db8::/48", rate: "20", quota: "100000", period: "month" },
  });
  await acknowledge(page);
  const item = card(page, "Nightly export");
  const id = await item.getAttribute("data-id");
  const days = [
    { daysAgo: 0, allowed: 30, denied: { rate_limited: 6, forbidden: 4 } },
    { daysAgo: 7, allowed: 10, denied: { scope_violation: 3 } },
    { daysAgo: 12, allowed: 0, denied: {} },
    { daysAgo: 29, allowed: 5, denied: {} },
  ];
  await fetch(`${mock.url}/__mock/usage?id=${id}&days=${encodeURIComponent(JSON.stringify(days))}`);
  await openDetails(item);

  const answer = await page.evaluate((keyId) => fetch(`/console/api/keys/${keyId}/usage`).then((r) => r.json()), id);
  assert.equal(answer.buckets.length, 3, "the mock lists only days with traffic");
  const since = Date.parse(answer.since);
  const columns = await columnsOf(item);
  assert.equal(columns.length, 30, "one column a day, quiet days included");
  assert.deepEqual(columns.map((c) => c.day), Array.from({ length: 30 }, (_, i) => new Date(since + i * DAY).toISOString().slice(0, 10)));
  assert.equal(columns[29].day, new Date().toISOString().slice(0, 10), "the last column is today (UTC)");

  // The axis's top is 40 (the busiest day: 30 + 10); every bar is count / 40 of the plot's 100.
  assert.equal(await item.locator(".y-top").innerText(), "40");
  assert.equal(await item.locator(".y-mid").innerText(), "20");
  const expected = new Map(days.map((d) => [29 - d.daysAgo, d]));
  columns.forEach((column, i) => {
    const d = expected.get(i) ?? { allowed: 0, denied: {} };
    const denied = Object.values(d.denied).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(column.allowed.height - (d.allowed / 40) * 100) < 1e-9, `${column.day}: allowed height`);
    assert.ok(Math.abs(column.denied.height - (denied / 40) * 100) < 1e-9, `${column.day}: denied height`);
    assert.ok(Math.abs(column.allowed.y + column.allowed.height - 100) < 1e-9, "allowed stands on the base line");
    assert.ok(Math.abs(column.denied.y + column.denied.height - column.allowed.y) < 1e-9, "denied is stacked on allowed");
    const summary = `${utcDay.format(since + i * DAY)}: ${d.allowed} allowed, ${denied} denied`;
    assert.equal(column.label, summary);
    assert.equal(column.title, summary);
  });
  assert.deepEqual([columns[29].allowed.height, columns[29].denied.height], [75, 25]);
  assert.equal(columns[22].label, `${utcDay.format(since + 22 * DAY)}: 10 allowed, 3 denied`);
  assert.notEqual(columns[29].allowed.fill, columns[29].denied.fill, "denied in its own colour");

  // Totals, the reasons, the legend (its swatches the bars' colours), the chart's name.
  assert.equal(await item.locator(".usage-totals").innerText(), "45 allowed, 13 denied in 30 days.");
  assert.equal(await item.locator(".usage-denied").innerText(), "Denied: 6 over a limit, 4 not permitted, 3 outside the key's scope.");
  assert.deepEqual(await item.locator(".legend li").allInnerTexts(), ["Allowed", "Denied"]);
  const swatches = await item.locator(".legend .swatch").evaluateAll((ss) => ss.map((s) => getComputedStyle(s).backgroundColor));
  assert.deepEqual(swatches, [columns[29].allowed.fill, columns[29].denied.fill]);
  assert.equal(await item.locator(".usage svg").getAttribute("aria-label"),
    `Requests per day, ${utcDay.format(since)} to ${utcDay.format(since + 29 * DAY)} (UTC)`);
  assert.equal(await item.locator(".usage svg").getAttribute("role"), "group");
  assert.equal(await item.locator(".usage svg g.day[role=img]").count(), 30);
  assert.equal(await item.locator(".usage svg").evaluate((el) => el.namespaceURI), "http://www.w3.org/2000/svg");
  if (DOCS) await item.screenshot({ path: `${DOCS}console-usage-chart.png` });
  await item.screenshot({ path: `${SHOTS}16-usage-chart.png` });
  // The Limits dialog over this key, for the documentation.
  await item.getByRole("button", { name: "Change limits of Nightly export" }).click();
  const dialog = page.locator("#controls-dialog");
  assert.equal(await dialog.getByLabel("Allowed addresses").inputValue(), "203.0.113.0/24\n2001:db8::/48");
  await page.evaluate(() => scrollTo(0, 0));
  if (DOCS) await page.screenshot({ path: `${DOCS}console-key-controls.png` });
  await page.screenshot({ path: `${SHOTS}17-limits-dialog-over-chart.png` });
  await dialog.getByRole("button", { name: "Cancel" }).click();

  // A key no test set: the mock's pattern, drawn in proportion to what the API answered.
  await generate(page, { name: "Busy", scope: "organization" });
  await acknowledge(page);
  const busy = card(page, "Busy");
  await openDetails(busy);
  const busyAnswer = await page.evaluate((keyId) => fetch(`/console/api/keys/${keyId}/usage`).then((r) => r.json()), await busy.getAttribute("data-id"));
  const byDay = new Map(busyAnswer.buckets.map((b) => [b.start.slice(0, 10), b]));
  const busyColumns = await columnsOf(busy);
  assert.equal(busyColumns.length, 30);
  const top = Number((await busy.locator(".y-top").innerText()).replaceAll(",", ""));
  let allowedTotal = 0;
  let deniedTotal = 0;
  for (const column of busyColumns) {
    const b = byDay.get(column.day);
    const allowed = b?.allowed ?? 0;
    const denied = b ? Object.values(b.denied).reduce((x, y) => x + y, 0) : 0;
    allowedTotal += allowed;
    deniedTotal += denied;
    assert.ok(top >= allowed + denied);
    assert.ok(Math.abs(column.allowed.height - (allowed / top) * 100) < 1e-9, column.day);
    assert.ok(Math.abs(column.denied.height - (denied / top) * 100) < 1e-9, column.day);
  }
  assert.ok(busyAnswer.buckets.length < 30 && busyAnswer.buckets.length > 0, "some quiet days");
  assert.equal(await busy.locator(".usage-totals").innerText(),
    `${allowedTotal.toLocaleString("en-US")} allowed, ${deniedTotal.toLocaleString("en-US")} denied in 30 days.`);

  // A key never used: 30 empty columns and a sentence.
  await generate(page, { name: "Quiet", scope: "organization" });
  await acknowledge(page);
  const quiet = card(page, "Quiet");
  await fetch(`${mock.url}/__mock/usage?id=${await quiet.getAttribute("data-id")}&days=[]`);
  await openDetails(quiet);
  const quietColumns = await columnsOf(quiet);
  assert.equal(quietColumns.length, 30);
  assert.ok(quietColumns.every((c) => c.allowed.height === 0 && c.denied.height === 0));
  assert.equal(await quiet.locator(".usage-totals").innerText(), "No requests in the last 30 days.");
  assert.equal(await quiet.locator(".usage-denied").innerText(), "");
  assert.deepEqual(problems, [], "no CSP violation, no script error");
  await context.close();
});

test("usage that cannot be read is a sentence, not a chart", async () => {
  const { context, page, problems } = await open("admin", {
    setup: (p) => p.route("**/console/api/keys/*/usage", (route) =>
      route.fulfill({ status: 503, contentType: "application/json", body: JSON.stringify({ reason: "unavailable", message: "Usage is unavailable; try again shortly." }) })),
  });
  await generate(page, { name: "Unlucky", scope: "organization" });
  await acknowledge(page);
  const item = card(page, "Unlucky");
  await openDetails(item);
  assert.equal(await item.locator(".usage-status").innerText(), "Usage is unavailable; try again shortly.");
  assert.ok(await item.locator(".chart").isHidden());
  assert.ok(await item.locator(".legend").isHidden());
  // An answer that is not usage.
  await page.unroute("**/console/api/keys/*/usage");
  await page.route("**/console/api/keys/*/usage", (route) =>
    route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify({ keyId: "x", buckets: "no" }) }));
  await page.reload();
  await page.locator("main[aria-busy=false]").waitFor();
  await openDetails(card(page, "Unlucky"));
  assert.equal(await card(page, "Unlucky").locator(".usage-status").innerText(), "The server sent usage the console cannot read.");
  assert.deepEqual(problems, []);
  await context.close();
});
