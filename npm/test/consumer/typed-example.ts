// A typed use of every export: `tsc --noEmit` must accept it against the installed package.
import express from "express";
import { Hono } from "hono";
import { express as expressTyped } from "keyscope/express";
import { hono as honoTyped } from "keyscope/hono";
import keyscope, {
  Engine,
  KeyRecord,
  authorize,
  generateKey,
  hashKey,
  isValidKey,
  keyHint,
  parseKey,
  withKeyscope,
  type Decision,
  type KeyRecordInput,
  type KeyStore,
  type MeView,
} from "keyscope";

const rows = new Map<string, KeyRecordInput>();
const store: KeyStore = {
  findKey: async (hash) => rows.get(hash) ?? null,
  findRole: async (_organizationId, _userId) => "admin",
  findResource: async (_kind, _id) => ({ organizationId: "org_a", projectId: "p1" }),
};

const key = generateKey({ environment: "test" });
const parsed = parseKey(key.secret, { environment: "test" });
const same: boolean = parsed.hash === hashKey(key.secret) && keyHint(key.secret) === key.hint && isValidKey(key.secret);
rows.set(key.hash, {
  id: "k1",
  name: "CI",
  hint: key.hint,
  organizationId: "org_a",
  createdBy: "u_admin",
  scope: "project",
  scopedProjectId: "p1",
  permissions: ["read:project"],
  createdAt: new Date(),
  expiresAt: "2027-01-01T00:00:00Z",
});

const engine = new Engine({ environment: "test" });
const prepared = new KeyRecord({ id: "k2", name: "n", hint: "abcd", organizationId: "o", createdBy: "u", scope: "organization", createdAt: 0 });

async function demo(request: Request): Promise<string> {
  const decision: Decision = await engine.authorize(request, store, { now: Date.now() });
  if (decision.allowed) {
    const me: MeView | null = decision.me();
    const filter: string | null = decision.projectFilter;
    return `${decision.keyId} ${me?.role ?? "-"} ${filter ?? "-"} ${decision.permissions.join(",")} ${prepared.id} ${same}`;
  }
  const status: number = decision.status;
  return `${status} ${decision.reason}: ${decision.message} ${JSON.stringify(decision.body())}`;
}

const sync = engine.authorizeSync({ method: "GET", url: "/api/v1/me", headers: { "x-api-key": key.secret } }, {
  findKey: () => prepared,
  findRole: () => "member",
});
if (sync.allowed && sync.servesMe) console.log(sync.me()?.apiKeyId);

// The root's middleware needs neither peer's types; the subpaths' are Express's and Hono's own.
const app = express();
app.use(keyscope.express({ store, engine }));
app.use(expressTyped({ store, engine }));
const handlerType: express.RequestHandler = expressTyped({ store });
void handlerType;

const hono = new Hono();
hono.use("*", keyscope.hono({ store }));
hono.use("*", honoTyped({ store }));
new Hono().get("/api/v1/me-too", honoTyped({ store }), (c) => c.json({ keyId: c.get("keyscope").keyId }));

const handler = withKeyscope(async (_request: Request, decision) => new Response(decision?.keyId ?? "outside the base path"), { store });
const everywhere = withKeyscope(async (_request: Request, decision) => new Response(decision.keyId), { store, paths: "all" });

// Express: `req.keyscope` is typed on every request; Hono: `c.get("keyscope")` too.
app.get("/api/v1/projects", (req, res) => {
  const role: string | undefined = req.keyscope?.role;
  res.json({ role });
});
hono.get("/api/v1/projects", (c) => c.json({ keyId: c.get("keyscope").keyId }));

// Error classes, with their codes.
try {
  parseKey("nope");
} catch (error) {
  if (error instanceof keyscope.KeyError) {
    const code: "wrong_length" | "unknown_prefix" | "bad_character" | "checksum_mismatch" | "wrong_environment" | "not_a_string" = error.code;
    void code;
  }
}
void everywhere;

void demo;
void handler;
void authorize(new Request("https://api.example.com/api/v1/projects"), store);
