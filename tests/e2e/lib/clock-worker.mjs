// The built worker behind a clock the test sets: the same module (same handlers, same Durable
// Object class, same isolate), with the isolate's `Date` replaced so that the worker's clock
// (`clock::now()`, i.e. `new Date().getTime()` through js-sys) reads the test's time. Only the
// test suite runs this entry (startGateway's `clock` option); the product never ships it.
//
// `PUT /__test/clock` with `{"frozenAt": <Unix ms>}` freezes the clock there (the key-state
// objects read it too: they run in this isolate); `{"frozenAt": null}` lets it run again.
// `POST /__test/flush-usage?key=<id>` has a key's object write its pending usage at once.
import Worker from "../../../edge-worker/build/index.js";

export * from "../../../edge-worker/build/index.js";

const RealDate = Date;
let frozenAt = null;
const now = () => frozenAt ?? RealDate.now();

class TestDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(now());
    else super(...args);
  }
  static now() {
    return now();
  }
}
globalThis.Date = TestDate;

export default class extends Worker {
  async fetch(request) {
    const url = new URL(request.url);
    // `POST /__test/flush-usage?key=<id>`: the key's object writes its pending usage to D1 now
    // (what its alarm does a minute after the first count).
    if (url.pathname === "/__test/flush-usage" && request.method === "POST") {
      const stub = this.env.KEY_STATE.get(this.env.KEY_STATE.idFromName(url.searchParams.get("key")));
      const res = await stub.fetch("https://key-state/flush-usage", { method: "POST" });
      return new Response(await res.text(), { status: res.status });
    }
    if (url.pathname === "/__test/clock") {
      if (request.method === "PUT") {
        const body = await request.json();
        frozenAt = body.frozenAt ?? null;
      }
      return Response.json({ frozenAt, now: now() });
    }
    return super.fetch(request);
  }
}
