// The key console's screen in a real browser (Debian's chromium, driven by playwright-core),
// against the mock console API. Run: scripts/ensure-browser && node --test tests/console/
// Screenshots of the main states go to target/console-screenshots/.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startMock } from "./mock-server.mjs";

const SHOTS = fileURLToPath(new URL("../../target/console-screenshots/", import.meta.url));
const CHROMIUM = process.env.KEYSCOPE_CHROMIUM ?? "/usr/bin/chromium";
const KEY = /^ck_live_[0-9A-Za-z]{36}$/;

let browser;
let mock;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
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

/** Fills and submits the Generate dialog; returns the value shown once. */
async function generate(page, { name, project, preset = "read", scope = "project" }) {
  await page.getByRole("button", { name: "Generate key" }).click();
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.locator(`#new-form input[name=scope][value=${scope}]`).check();
  if (project) await page.getByLabel("Project", { exact: true }).selectOption(project);
  await page.locator(`#new-form input[name=preset][value=${preset}]`).check();
  await page.getByRole("button", { name: "Generate", exact: true }).click();
  const dialog = page.locator("#secret-dialog");
  await dialog.waitFor();
  return (await page.locator("#secret").textContent()).trim();
}

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
  await page.getByLabel("Project", { exact: true }).selectOption("proj_mobile");
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
  await made.locator("summary").click();
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
  await fresh.locator("summary").click();
  await fresh.getByRole("button", { name: "Revoke" }).click();
  const confirm = page.locator("#revoke-dialog");
  await confirm.waitFor();
  assert.match(await confirm.innerText(), /cannot be undone/);
  assert.match(await confirm.innerText(), /Revoke “Payroll sync”\?/);
  await page.screenshot({ path: `${SHOTS}06-revoke-confirmation.png` });
  await confirm.getByRole("button", { name: "Cancel" }).click();
  assert.match(await page.locator(`#list > li[data-id=${freshId}] .status`).innerText(), /^Active$/);
  await fresh.locator("summary").click();
  await fresh.getByRole("button", { name: "Revoke" }).click();
  await confirm.getByRole("button", { name: "Revoke key" }).click();
  await confirm.waitFor({ state: "hidden" });
  const revoked = page.locator(`#list > li[data-id=${freshId}]`);
  assert.equal(await revoked.locator(".status").innerText(), "Revoked");
  assert.equal(await revoked.locator("summary").count(), 0, "a revoked key has no menu");
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
  assert.equal(await second.page.locator("summary").count(), 0);
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
  assert.deepEqual(await page.locator("#new-project option").evaluateAll((os) => os.map((o) => o.value)),
    ["proj_web", "proj_mobile"]);

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
  await made.locator("summary").click();
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
  assert.equal(await overflow(), 0, "with the dialog open");
  await page.getByRole("button", { name: "Cancel" }).click();
  await page.screenshot({ path: `${SHOTS}10-phone.png`, fullPage: true });
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
  await card(page, "Before the end").locator("summary").click();
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
