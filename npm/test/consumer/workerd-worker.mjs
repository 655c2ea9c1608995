// A Worker using the package through its `workerd` export condition (bundled by esbuild, as
// wrangler does), run on workerd by workerd.test.mjs.
import { Engine, generateKey, withKeyscope } from "keyscope";

let world;
function setUp() {
  // Random values are only allowed inside a handler on workerd.
  const key = generateKey();
  const rows = new Map([[key.hash, { id: "k1", name: "n", hint: key.hint, organizationId: "o", createdBy: "u", scope: "organization", createdAt: 0 }]]);
  const store = { findKey: async (hash) => rows.get(hash), findRole: async () => "admin" };
  const handler = withKeyscope(async (_request, decision) => Response.json({ keyId: decision.keyId }), { store, engine: new Engine() });
  return { key, handler };
}

export default {
  async fetch(request) {
    world ??= setUp();
    if (new URL(request.url).pathname === "/key") return new Response(world.key.secret);
    return world.handler(request);
  },
};
