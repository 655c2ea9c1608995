"use strict";
// `require("keyscope/hono")`: the root's `hono` middleware (the same function).
module.exports = { hono: require("./index.cjs").hono };
