// A module as a browser app would write it (run by browser-run.mjs with the browser condition).
import { Engine, generateKey } from "keyscope";

export async function decide() {
  const key = generateKey();
  const row = { id: "k1", name: "n", hint: key.hint, organizationId: "o", createdBy: "u", scope: "organization", createdAt: 0 };
  const store = { findKey: async (hash) => (hash === key.hash ? row : null), findRole: async () => "member" };
  const engine = new Engine();
  const allowed = await engine.authorize(new Request("https://api.example.com/api/v1/projects", { headers: { "x-api-key": key.secret } }), store);
  const denied = await engine.authorize(new Request("https://api.example.com/api/v1/users/invite", { method: "POST", headers: { "x-api-key": key.secret } }), store);
  return { allowed: allowed.allowed, keyId: allowed.keyId, reason: denied.reason };
}
