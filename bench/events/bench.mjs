// Event delivery against a receiver that is down half the time: N changes (members added, keys
// created and revoked) are committed through the admin API while the receiver flips between
// answering 503 and 200 every BENCH_FLIP_MS; then the run waits until every delivery in the
// outbox is settled and compares what was committed (the audit log), what the outbox holds and
// what the receiver got. Pauses between tries are one second (KEYSCOPE_EVENTS_RETRY), so an outage
// shorter than the schedule loses nothing.
import http from "node:http";
import { randomBytes } from "node:crypto";
import { startGateway, waitFor } from "../../tests/e2e/lib/gateway.mjs";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 300);
const FLIP_MS = Number(process.env.BENCH_FLIP_MS ?? 1000);
const ORG = "org_bench_events";

const received = new Map(); // event id → successful deliveries
let tries = 0;
let up = true;
const server = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    tries += 1;
    const id = req.headers["keyscope-event-id"];
    if (up) received.set(id, (received.get(id) ?? 0) + 1);
    res.writeHead(up ? 200 : 503);
    res.end();
  });
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const flipper = setInterval(() => (up = !up), FLIP_MS);

const gw = await startGateway({
  bindings: {
    KEYSCOPE_EVENTS_URL: `http://127.0.0.1:${server.address().port}/hooks`,
    KEYSCOPE_EVENTS_SECRET: randomBytes(16).toString("hex"),
    KEYSCOPE_EVENTS_RETRY: Array(20).fill(1).join(","),
  },
});
const started = Date.now();
await gw.admin.putMember(ORG, "u_admin", "admin");
let committed = 1;
while (committed < EVENTS) {
  const { key } = await gw.admin.createKey(ORG, { actingUserId: "u_admin", name: `k${committed}`, scope: "organization" });
  committed += 1;
  if (committed < EVENTS) {
    await gw.admin.ok("POST", `/organizations/${ORG}/keys/${key.id}/revoke`, { actingUserId: "u_admin" });
    committed += 1;
  }
}
const count = async (sql) => (await gw.db.prepare(sql).first()).n;
await waitFor(async () => (await count("SELECT count(*) AS n FROM event_outbox WHERE state = 'pending'")) === 0, "every delivery settled", {
  timeoutMs: 600_000,
  everyMs: 200,
});
clearInterval(flipper);
const logged = await count("SELECT count(*) AS n FROM audit_events WHERE action != 'event.delivery_failed'");
const outbox = await count("SELECT count(*) AS n FROM event_outbox");
const delivered = await count("SELECT count(*) AS n FROM event_outbox WHERE state = 'delivered'");
const dead = await count("SELECT count(*) AS n FROM event_outbox WHERE state = 'dead'");
const repeats = [...received.values()].filter((n) => n > 1).length;
const seconds = ((Date.now() - started) / 1000).toFixed(1);
console.log(`events committed (audit log)        ${logged}`);
console.log(`deliveries in the outbox            ${outbox}`);
console.log(`delivered (outbox)                  ${delivered}`);
console.log(`distinct events the receiver got    ${received.size}`);
console.log(`dead-lettered                       ${dead}`);
console.log(`received more than once             ${repeats}`);
console.log(`tries (receiver down half the time) ${tries}`);
console.log(`until all settled                   ${seconds} s (receiver flipping every ${FLIP_MS} ms)`);
await gw.dispose();
server.close();
const ok = logged === EVENTS && outbox === logged && delivered === logged && received.size === logged && dead === 0;
console.log(ok ? "bench-events: every committed event was delivered" : "bench-events: EVENTS LOST");
process.exit(ok ? 0 : 1);
