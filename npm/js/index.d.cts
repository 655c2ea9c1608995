// The CommonJS entry's types: `require("keyscope")` is the API object itself (no `default`).
import keyscope = require("./api.cjs");
export = keyscope;
