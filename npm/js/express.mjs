// `import { express } from "keyscope/express"` (Node): the root's `express` middleware.
import keyscope from "./index.mjs";

export const { express } = keyscope;
