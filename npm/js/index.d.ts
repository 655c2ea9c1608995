// Types of the `keyscope` package (written by hand over the wasm bindings).

/** `live` keys start `ck_live_`, `test` keys `ck_test_`. */
export type Environment = "live" | "test";

/** SPEC's reason codes. */
export type Reason =
  | "missing_key"
  | "invalid_key"
  | "key_revoked"
  | "scope_violation"
  | "forbidden"
  | "not_found"
  | "rate_limited"
  | "unavailable";

/** A key's scope. */
export type Scope = "organization" | "project";

/** A time as a `Date`, an ISO 8601 string, or Unix milliseconds. */
export type TimeInput = Date | string | number;

/** A key as your store keeps it (never the secret: the store is keyed by its SHA-256). */
export interface KeyRecordInput {
  /** Stable key id (shown in `/me` as `apiKeyId`). */
  id: string;
  /** Human name, e.g. "CI". */
  name: string;
  /** Last four characters of the key. */
  hint: string;
  /** The organization the key belongs to. */
  organizationId: string;
  /** The user who created the key; the key acts with this user's current role. */
  createdBy: string;
  /** Organization- or project-scoped. */
  scope: Scope;
  /** The key's project when `scope` is `project`. */
  scopedProjectId?: string | null;
  /** Explicit grants (only ever narrow the creator's role), or null to inherit the role. */
  permissions?: string[] | null;
  /** When the key was created. */
  createdAt: TimeInput;
  /** When the key was last used (null = never). */
  lastUsedAt?: TimeInput | null;
  /** When the key was (or will be) revoked. */
  revokedAt?: TimeInput | null;
  /** When the key expires, if ever. */
  expiresAt?: TimeInput | null;
}

/** Who owns a resource (for project-scoped keys on per-resource endpoints). */
export interface ResourceOwner {
  /** The owning organization. */
  organizationId: string;
  /** The owning project. */
  projectId: string;
}

/** A value, or a promise of it. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * Your key store. Every method may be async; a method that throws or rejects denies the
 * request with `503 unavailable` (never fails open).
 */
export interface KeyStore {
  /** The record stored under `hash` (SHA-256 hex of the key), or null/undefined if none. */
  findKey(hash: string): MaybePromise<KeyRecordInput | KeyRecord | null | undefined>;
  /** The current role of `userId` in `organizationId`, or null/undefined if not a member. */
  findRole(organizationId: string, userId: string): MaybePromise<string | null | undefined>;
  /** Who owns resource `kind`/`id`, or null/undefined if unknown. Needed for project keys. */
  findResource?(kind: string, id: string): MaybePromise<ResourceOwner | null | undefined>;
}

/** The same store with synchronous answers, for `Engine.authorizeSync`. */
export interface SyncKeyStore {
  /** The record stored under `hash`, or null/undefined if none. */
  findKey(hash: string): KeyRecordInput | KeyRecord | null | undefined;
  /** The current role of `userId` in `organizationId`, or null/undefined if not a member. */
  findRole(organizationId: string, userId: string): string | null | undefined;
  /** Who owns resource `kind`/`id`, or null/undefined if unknown. */
  findResource?(kind: string, id: string): ResourceOwner | null | undefined;
}

/** Header access as offered by `Headers`, Node's `IncomingHttpHeaders` or a plain object. */
export type HeadersLike =
  | { get(name: string): string | null | undefined }
  | Record<string, string | string[] | undefined>;

/** What a decision reads of a request: `fetch`'s `Request`, Express's `req`, or a plain object. */
export interface RequestLike {
  /** The method, as sent (matching is case-sensitive). */
  method: string;
  /** An absolute URL or a request target (`/path?query`), taken as written. */
  url: string;
  /** Express's untouched target; preferred over `url` when present. */
  originalUrl?: string;
  /** The request headers (`X-Api-Key`, `Authorization` are read). */
  headers?: HeadersLike;
}

/** Options of one decision. */
export interface DecideOptions {
  /** The decision's clock (defaults to now). */
  now?: Date | number;
}

/** The `/me` view: what a key may learn about itself. */
export interface MeView {
  /** The key's id. */
  apiKeyId: string;
  /** `organization` or `project`. */
  scope: Scope;
  /** The key's project, or null for organization keys. */
  scopedProjectId: string | null;
  /** The explicit grants as stored, or null when the key inherits its creator's role. */
  permissions: string[] | null;
  /** The key's organization. */
  organizationId: string;
  /** The creator's current role. */
  role: string;
  /** What the key may do now, in policy order. */
  effectivePermissions: string[];
  /** The key's name. */
  name: string;
  /** The key's last four characters. */
  hint: string;
}

/** An allowed request and the identity it carries. */
export interface Allowed {
  /** Always true. */
  readonly allowed: true;
  /** Always 200. */
  readonly status: 200;
  /** The key's id. */
  readonly keyId: string;
  /** The key's organization. */
  readonly organizationId: string;
  /** The key's creator. */
  readonly userId: string;
  /** The creator's current role. */
  readonly role: string;
  /** The key's scope. */
  readonly scope: Scope;
  /** On list endpoints for project keys: the project the results must be filtered to. */
  readonly projectFilter: string | null;
  /** Whether the request is `GET /me` (answered from `me()`, not by your handler). */
  readonly servesMe: boolean;
  /** The key's effective permissions, in policy order. */
  readonly permissions: string[];
  /** On `GET …/me` (`servesMe`): the key's `/me` view; otherwise null. */
  me(): MeView | null;
  /** On `GET …/me` (`servesMe`): the `/me` view as a JSON body; otherwise null. */
  meJson(): string | null;
}

/** A refused request and exactly why. */
export interface Denied {
  /** Always false. */
  readonly allowed: false;
  /** 401, 403, 404 or 503. */
  readonly status: number;
  /** The reason code. */
  readonly reason: Reason;
  /** One human sentence; never echoes the key. */
  readonly message: string;
  /** The `WWW-Authenticate` value on 401, else null. */
  readonly wwwAuthenticate: string | null;
  /** SPEC's JSON body. */
  body(): { reason: Reason; message: string };
  /** The response headers (content type, no-store, `WWW-Authenticate` on 401). */
  headers(): Record<string, string>;
}

/** A decision's result. */
export type Decision = Allowed | Denied;

/** Options of an engine. */
export interface EngineOptions {
  /** A policy document (object or JSON text); the Align policy when absent. */
  policy?: string | object;
  /** The key environment served; `live` when absent. */
  environment?: Environment;
  /**
   * How many validated key headers to remember with their hash (default 1024; 0 disables), so
   * a key seen again skips its checksum and SHA-256. Only the offline key checks are cached:
   * revocation, role and scope are decided afresh on every request. The cache holds keys in
   * process memory, as the requests carrying them do.
   */
  keyCache?: number;
}

/** A compiled policy and the key environment it serves. */
export declare class Engine {
  /**
   * Compiles the policy. An invalid document throws an `Error` named `PolicyError` whose
   * `field` names the bad field (e.g. `endpoints[3].permission`).
   */
  constructor(options?: EngineOptions);
  /** The key environment served. */
  readonly environment: Environment;
  /** The policy's base path, e.g. `/api/v1`. */
  readonly basePath: string;
  /** Every permission the policy knows, in policy order. */
  readonly permissions: string[];
  /** Every role the policy knows. */
  readonly roles: string[];
  /** Decides `request`, answering lookups from `store`. Never rejects for store failures (503). */
  authorize(request: RequestLike, store: KeyStore, options?: DecideOptions): Promise<Decision>;
  /** The same decision against a synchronous store. */
  authorizeSync(request: RequestLike, store: SyncKeyStore, options?: DecideOptions): Decision;
}

/** A key record prepared once (e.g. in a cache) and handed to decisions without conversion. */
export declare class KeyRecord {
  /** Throws a `TypeError` if `record` is not a key record. */
  constructor(record: KeyRecordInput);
  /** The key's id. */
  readonly id: string;
}

/** Decides `request` with the default Align engine (or `options.engine`). */
export declare function authorize(
  request: RequestLike,
  store: KeyStore,
  options?: DecideOptions & { engine?: Engine },
): Promise<Decision>;

/** A freshly generated key. Show `secret` once; store only `hash` and `hint`. */
export interface GeneratedKey {
  /** The whole key: `ck_live_…` / `ck_test_…`, 44 characters. */
  secret: string;
  /** SHA-256 of the key, lower-case hex: what stores keep. */
  hash: string;
  /** The last four characters. */
  hint: string;
  /** The key's environment. */
  environment: Environment;
}

/** A new key from Web Crypto randomness. */
export declare function generateKey(options?: { environment?: Environment }): GeneratedKey;
/**
 * Validates a key offline (length, prefix, alphabet, checksum; the environment when given).
 * Throws an `Error` named `KeyError` with `code` (`wrong_length`, `unknown_prefix`,
 * `bad_character`, `checksum_mismatch`, `wrong_environment`).
 */
export declare function parseKey(text: string, options?: { environment?: Environment }): GeneratedKey;
/** Whether `text` is a valid key (of `environment`, when given). */
export declare function isValidKey(text: string, options?: { environment?: Environment }): boolean;
/** The SHA-256 (hex) of a valid key. Throws `KeyError` for an invalid one. */
export declare function hashKey(text: string): string;
/** The last four characters of a valid key. Throws `KeyError` for an invalid one. */
export declare function keyHint(text: string): string;

/** Options of the middleware. */
export interface MiddlewareOptions {
  /** Where keys, memberships and resources are looked up. */
  store: KeyStore;
  /** The engine (default: Align, live keys). */
  engine?: Engine;
  /** Answer `GET …/me` with the key's `/me` view (default true). */
  serveMe?: boolean;
}

/** Express middleware; sets `req.keyscope` to the `Allowed` decision. */
export declare function express(
  options: MiddlewareOptions,
): (req: any, res: any, next: (err?: unknown) => void) => void;

/** Hono middleware; `c.get("keyscope")` holds the `Allowed` decision. */
export declare function hono(options: MiddlewareOptions): (c: any, next: () => Promise<void>) => Promise<Response | void>;

/** Wraps a fetch handler: denials and `/me` are answered; other requests reach `handler`. */
export declare function withKeyscope<Rest extends unknown[]>(
  handler: (request: Request, decision: Allowed, ...rest: Rest) => Response | Promise<Response>,
  options: MiddlewareOptions,
): (request: Request, ...rest: Rest) => Promise<Response>;

declare const keyscope: {
  Engine: typeof Engine;
  KeyRecord: typeof KeyRecord;
  authorize: typeof authorize;
  generateKey: typeof generateKey;
  parseKey: typeof parseKey;
  isValidKey: typeof isValidKey;
  hashKey: typeof hashKey;
  keyHint: typeof keyHint;
  express: typeof express;
  hono: typeof hono;
  withKeyscope: typeof withKeyscope;
};
export default keyscope;
