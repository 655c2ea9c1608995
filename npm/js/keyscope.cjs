"use strict";
// keyscope's JavaScript API over the wasm engine: puts the modules together for one loaded wasm
// module (Node, workerd, browsers and Deno each load it their own way) and returns the public
// API. Everything that decides comes from the wasm module (policy-core); the modules read
// requests, drive the lookup loop with the caller's store, report store answers they cannot
// use, and write responses.
//
//   codec.cjs       the boundary's numeric protocol (outcomes, field lists)
//   errors.cjs      error classes, and wasm errors mapped onto them
//   records.cjs     store rows → the engine's record fields; the `KeyRecord` handle
//   keycache.cjs    the validated-key cache
//   decide.cjs      the decision loop over the caller's store; store problems
//   decision.cjs    `Allowed` / `Denied`
//   keys.cjs        generateKey, parseKey and friends
//   lifecycle.cjs   the key lifecycle plans
//   engine.cjs      the `Engine` class; alignPolicy, loadPolicy
//   limiter.cjs     per-key limits: memoryLimiter, redisLimiter, checkLimits
//   middleware.cjs  authorize, express, hono, withKeyscope
//   checkkey.cjs    checkKey (the gateway's `/me`)
//   webhooks.cjs    verifyWebhook (a receiver's check of an event webhook)

const createCodec = require("./codec.cjs");
const errors = require("./errors.cjs");
const createRecords = require("./records.cjs");
const createDecide = require("./decide.cjs");
const createKeys = require("./keys.cjs");
const createLifecycle = require("./lifecycle.cjs");
const createEngine = require("./engine.cjs");
const createLimits = require("./limiter.cjs");
const createMiddleware = require("./middleware.cjs");
const createCheckKey = require("./checkkey.cjs");
const createWebhooks = require("./webhooks.cjs");

module.exports = function createKeyscope(wasm, crypto) {
  const codec = createCodec(wasm);
  const records = createRecords(wasm, codec);
  const keys = createKeys(wasm, crypto);
  const decide = createDecide(wasm, codec, records);
  const plans = createLifecycle(wasm, codec, records, keys);
  const { Engine, alignPolicy, loadPolicy } = createEngine(wasm, decide, plans, keys);
  const limits = createLimits(wasm);
  const { authorize, express, hono, withKeyscope } = createMiddleware(Engine, limits);
  const checkKey = createCheckKey(wasm, keys.headers);
  const { verifyWebhook } = createWebhooks(wasm);

  return {
    Engine,
    KeyRecord: records.KeyRecord,
    KeyscopeError: errors.KeyscopeError,
    KeyError: errors.KeyError,
    PolicyError: errors.PolicyError,
    RecordError: errors.RecordError,
    StoreError: errors.StoreError,
    CheckKeyError: errors.CheckKeyError,
    LifecycleError: errors.LifecycleError,
    WebhookError: errors.WebhookError,
    LimiterError: limits.LimiterError,
    authorize,
    alignPolicy,
    loadPolicy,
    generateKey: keys.generateKey,
    parseKey: keys.parseKey,
    isValidKey: keys.isValidKey,
    hashKey: keys.hashKey,
    keyHint: keys.keyHint,
    express,
    hono,
    withKeyscope,
    checkKey,
    verifyWebhook,
    memoryLimiter: limits.memoryLimiter,
    redisLimiter: limits.redisLimiter,
    checkLimits: limits.checkLimits,
    KEY_HEADER: keys.headers.KEY_HEADER,
    KEY_HEADER_NAME: keys.headers.KEY_HEADER_NAME,
    AUTHORIZATION_HEADER: keys.headers.AUTHORIZATION_HEADER,
  };
};
