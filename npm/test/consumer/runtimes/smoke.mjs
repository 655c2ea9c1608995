// One decision each way through the installed package, printed as JSON: run by Bun and by Deno
// (with no permissions at all) in runtimes.test.mjs.
import keyscope from "keyscope";

const key = keyscope.generateKey();
const store = {
  findKey: (hash) => (hash === key.hash ? { id: "k1", name: "n", hint: key.hint, organizationId: "o", createdBy: "u", scope: "organization", createdAt: 0 } : null),
  findRole: () => "member",
};
const allowed = await keyscope.authorize({ method: "GET", url: "/api/v1/projects", headers: { "x-api-key": key.secret } }, store);
const denied = await keyscope.authorize({ method: "POST", url: "/api/v1/users/invite", headers: { "x-api-key": key.secret } }, store);
console.log(JSON.stringify({ allowed: allowed.allowed, keyId: allowed.keyId, reason: denied.reason, keyError: keyscope.KeyError.name }));
