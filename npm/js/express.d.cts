// Types of `keyscope/express`: the root's `express` middleware, typed as Express's own
// `RequestHandler` (needs `@types/express`). `req.keyscope` is typed by the root's types.
import type { RequestHandler } from "express";
import type { MiddlewareOptions } from "./api.cjs";

/** Express middleware; sets `req.keyscope` (typed on `Express.Request`) to the `Allowed` decision. */
export declare function express(options: MiddlewareOptions): RequestHandler;
