import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
const P = `permit(principal in Role::"admin", action, resource);`;
console.log(cedar.preparsePolicySet("a", { staticPolicies: P }).type);
const mode = process.argv[2];
for (let i = 0; i < 5000; i++) {
  const call = {
    principal: { type: "Key", id: "1" }, action: { type: "Action", id: "x" }, resource: { type: "Endpoint", id: "2" }, context: {},
    entities: [{ uid: { type: "Key", id: "1" }, attrs: {}, parents: [{ type: "Role", id: "admin" }] }, { uid: { type: "Role", id: "admin" }, attrs: {}, parents: [] }],
  };
  const a = mode === "stateful" ? cedar.statefulIsAuthorized({ ...call, preparsedPolicySetId: "a" }) : cedar.isAuthorized({ ...call, policies: { staticPolicies: P } });
  if (a.type !== "success" || a.response.decision !== "allow") { console.log(JSON.stringify(a)); break; }
  if (i % 1000 == 0) console.log(i);
}
console.log("done", mode);
