"use strict";
// `require("keyscope/express")`: the root's `express` middleware (the same function).
module.exports = { express: require("./index.cjs").express };
