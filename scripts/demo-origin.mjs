// A demo origin for `scripts/dev`: answers every request with a JSON echo of what it received,
// so you can see the identity headers keyscope adds (and that the key never arrives).
import http from "node:http";

const port = Number(process.env.DEMO_ORIGIN_PORT ?? 8788);
http
  .createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const identity = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k.startsWith("x-keyscope-")));
      const body = JSON.stringify(
        { origin: "demo", method: req.method, url: req.url, identity, keyForwarded: "x-api-key" in req.headers, body: Buffer.concat(chunks).toString() || undefined },
        null,
        2,
      );
      res.writeHead(200, { "content-type": "application/json" });
      res.end(body + "\n");
    });
  })
  .listen(port, "127.0.0.1", () => console.log(`demo origin on http://127.0.0.1:${port}`));
