// Keys in SPEC's format, made independently of policy-core (as a client library would make
// them): the tests' oracle for "a well-formed key".
import { randomBytes } from "node:crypto";

const B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(text) {
  let c = 0xffffffff;
  for (const b of Buffer.from(text)) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
/** A fresh key in SPEC's format (independent of policy-core, as a client library would make it). */
export function newKey(env = "live") {
  const prefix = `ck_${env}_`;
  const body = [...randomBytes(30)].map((b) => B62[b % 62]).join("");
  let n = crc32(prefix + body);
  let sum = "";
  for (let i = 0; i < 6; i++) {
    sum = B62[n % 62] + sum;
    n = Math.floor(n / 62);
  }
  return prefix + body + sum;
}

