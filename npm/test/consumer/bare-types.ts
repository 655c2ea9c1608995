// Compiled by scripts/test-npm in a project that has neither `express`/`@types/express` nor
// `hono` installed, under `strict` and without `skipLibCheck`: the root types must not need
// either peer. (`keyscope/express` and `keyscope/hono` do, and are compiled in typed-example.ts.)
import keyscope, { authorize, withKeyscope, type Allowed, type ExpressMiddleware, type HonoMiddleware, type KeyStore } from "keyscope";

const store: KeyStore = { findKey: () => null, findRole: () => null };
const decision = authorize({ method: "GET", url: "/api/v1/projects", headers: {} }, store);
void decision;
const express: ExpressMiddleware = keyscope.express({ store });
const hono: HonoMiddleware = keyscope.hono({ store });
const handler = withKeyscope(async (_request: Request, allowed: Allowed | null) => new Response(allowed?.keyId ?? "outside"), { store });
void express;
void hono;
void handler;
