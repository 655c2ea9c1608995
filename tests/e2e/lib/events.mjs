// The event catalogue (docs/events.schema.json) as a check: a webhook body that does not match it
// is one the README and the schema do not describe.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { ROOT } from "./gateway.mjs";

const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validate = ajv.compile(JSON.parse(readFileSync(join(ROOT, "docs", "events.schema.json"), "utf8")));

/** Why `body` (a webhook's raw body) does not match the catalogue, or null when it does. */
export function catalogueProblems(body) {
  return validate(JSON.parse(body)) ? null : ajv.errorsText(validate.errors, { separator: "; " });
}
