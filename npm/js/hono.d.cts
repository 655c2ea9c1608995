// Types of `keyscope/hono`: the root's `hono` middleware, typed as Hono's own
// `MiddlewareHandler` (needs `hono`), and `c.get("keyscope")` typed through Hono's
// `ContextVariableMap`.
import type { MiddlewareHandler } from "hono";
import type { Allowed, KeyscopeVariables, MiddlewareOptions } from "./api.cjs";

/** Hono middleware; `c.get("keyscope")` (typed through `ContextVariableMap`) holds the decision. */
export declare function hono(options: MiddlewareOptions): MiddlewareHandler<{ Variables: KeyscopeVariables }>;

declare module "hono" {
  interface ContextVariableMap {
    /** The keyscope decision, set by `keyscope.hono` on requests it allowed. */
    keyscope: Allowed;
  }
}
