// The vectors through `import … from "keyscope"` (named and default exports agree).
import { createRequire } from "node:module";
import assert from "node:assert/strict";
import keyscope, { Engine, authorize } from "keyscope";

assert.equal(keyscope.Engine, Engine);
assert.equal(keyscope.authorize, authorize);
const require = createRequire(import.meta.url);
require("./vectors-runner.cjs")({ ...keyscope, Engine }, "ES module");
