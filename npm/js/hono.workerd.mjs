// `import { hono } from "keyscope/hono"` (workerd): the root entry's `hono` middleware.
import keyscope from "./workerd.mjs";

export const { hono } = keyscope;
