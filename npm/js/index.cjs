"use strict";
// Node (CommonJS): the wasm engine loaded synchronously from the package.
const { webcrypto } = require("node:crypto");
module.exports = require("./keyscope.cjs")(require("../dist/node/keyscope_wasm.js"), webcrypto);
