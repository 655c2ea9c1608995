// `import { hono } from "keyscope/hono"` (deno): the root entry's `hono` middleware.
import keyscope from "./deno.mjs";

export const { hono } = keyscope;
