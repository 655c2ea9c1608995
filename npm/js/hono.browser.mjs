// `import { hono } from "keyscope/hono"` (browser): the root entry's `hono` middleware.
import keyscope from "./browser.mjs";

export const { hono } = keyscope;
