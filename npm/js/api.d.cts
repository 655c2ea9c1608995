// Types of the `keyscope` package (written by hand over the wasm bindings): one set of
// declarations, exported as CommonJS by `index.d.cts` and as an ES module by `index.d.mts`.
// They import nothing: Express's and Hono's own types are used only by the subpaths
// `keyscope/express` and `keyscope/hono` (express.d.cts, hono.d.cts), so a project with neither
// peer compiles these strictly, without skipLibCheck.

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
  /** The key's project when `scope` is `project` and it has one (or give `scopedProjectIds`). */
  scopedProjectId?: string | null;
  /** The key's projects (1–50 distinct ids) when `scope` is `project`; a record giving both
   * fields must name the same project. */
  scopedProjectIds?: string[] | null;
  /** Explicit grants (only ever narrow the creator's role), or null to inherit the role. */
  permissions?: string[] | null;
  /** The client addresses the key may be used from: 1–20 IPv4 or IPv6 CIDR blocks (null: any).
   * A request whose `clientIp` is in none of them, or unknown, is `403 forbidden`. */
  allowedCidrs?: string[] | null;
  /** The key's own rate, overriding the deployment's default. */
  rateLimit?: RateLimitSetting | null;
  /** The key's quota per UTC calendar day or month. */
  quota?: QuotaSetting | null;
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
  /** The client's IPv4 or IPv6 address, when known (Express: `req.ip`, which needs Express's
   * `trust proxy` setting behind a proxy). A key with `allowedCidrs` is refused without one. */
  clientIp?: string;
}

/** Options of one decision. */
export interface DecideOptions {
  /** The decision's clock (defaults to now). */
  now?: Date | number;
  /** Overrides the engine's `onStoreError` for this decision. */
  onStoreError?: (error: StoreError) => void;
}

/** The `/me` view: what a key may learn about itself. */
export interface MeView {
  /** The key's id. */
  apiKeyId: string;
  /** `organization` or `project`. */
  scope: Scope;
  /** The key's project when it has exactly one, else null. */
  scopedProjectId: string | null;
  /** The key's projects (sorted), or null for organization keys. */
  scopedProjectIds: string[] | null;
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
  /** The addresses the key may be used from (null: any). */
  allowedCidrs: string[] | null;
  /** The key's own rate (null: the deployment's default). */
  rateLimit: RateLimitSetting | null;
  /** The key's quota (null: none). */
  quota: QuotaSetting | null;
}

/** A key's own rate: `perSecond` requests in any one-second window (1–10,000). */
export interface RateLimitSetting {
  perSecond: number;
}

/** A key's quota: `limit` allowed requests per UTC calendar `day` or `month`. */
export interface QuotaSetting {
  limit: number;
  period: "day" | "month";
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
  /** The key's own rate (null: the deployment's default applies), for a limiter. */
  readonly rateLimit: RateLimitSetting | null;
  /** The key's quota (null: none), for a limiter. */
  readonly quota: QuotaSetting | null;
  /** On `GET …/me` (`servesMe`): the key's `/me` view; otherwise null. */
  me(): MeView | null;
  /** On `GET …/me` (`servesMe`): the `/me` view as a JSON body; otherwise null. */
  meJson(): string | null;
  /** What `JSON.stringify` writes: the documented fields above, `permissions` included. */
  toJSON(): AllowedJson;
}

/** An `Allowed` decision as JSON. */
export interface AllowedJson {
  allowed: true;
  status: 200;
  keyId: string;
  organizationId: string;
  userId: string;
  role: string;
  scope: Scope;
  projectFilter: string | null;
  servesMe: boolean;
  permissions: string[];
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
  /** What `JSON.stringify` writes: the documented fields above. */
  toJSON(): { allowed: false; status: number; reason: Reason; message: string; wwwAuthenticate: string | null };
}

/** A decision's result. */
export type Decision = Allowed | Denied;

/** What a project-scoped key may do on an endpoint (organization keys may do every row). */
export type ProjectKeyRule = "allow" | "filtered" | "own_path" | "own_resource" | "deny";

/** One endpoint row of a policy document. */
export interface EndpointDocument {
  /** Upper-case HTTP method (`HEAD` is matched as `GET` and may not be declared). */
  method: string;
  /** Path pattern relative to the base path, e.g. `/projects/:id/entries`. */
  path: string;
  /** The permission the endpoint needs, or null for none. */
  permission?: string | null;
  /** What a project-scoped key may do here. */
  projectKey: ProjectKeyRule;
  /** For `own_resource`: the kind of resource the parameter names (e.g. `time_entry`). */
  resourceKind?: string | null;
  /**
   * For `own_path` / `own_resource`: which parameter holds the project / resource id (may be
   * left out when one parameter other than the organization and user parameters remains).
   */
  param?: string | null;
  /**
   * On a row whose pattern holds `userParam`: the permission needed, beyond `permission`, to
   * name a user other than the key's creator (without it the row is limited to that user).
   */
  othersPermission?: string | null;
  /** `me` for the endpoint answered with the key's `/me` view. */
  serve?: "me" | null;
}

/** A policy document (see `keyscope/policies/align.json`). Unknown fields are an error. */
export interface PolicyDocument {
  /** The deployment's key prefix: 2–12 of `a-z0-9`, the first a letter (default `ck`). */
  keyPrefix?: string;
  /** The prefix every endpoint path is relative to, e.g. `/api/v1`. */
  basePath: string;
  /** Every permission the API knows (1 to 256). */
  permissions: string[];
  /** The path parameter naming the organization (tenant), e.g. `workspaceId`. */
  organizationParam?: string;
  /** The path parameter naming a user, e.g. `userId`. */
  userParam?: string;
  /** Role name → the permissions the role holds. */
  roles: Record<string, string[]>;
  /** Which roles may create keys of each scope. */
  keyCreators: { organization: string[]; project: string[] };
  /** Preset name → explicit grants (null = inherit everything the role allows). */
  presets?: Record<string, string[] | null>;
  /** One row per endpoint. */
  endpoints: EndpointDocument[];
}

/** The Align policy document (what `new Engine()` compiles), as a fresh object. */
export declare function alignPolicy(): PolicyDocument;
/**
 * Checks a policy document (object or JSON text) by compiling it and returns it as an object;
 * throws a `PolicyError` naming the bad field.
 */
export declare function loadPolicy(document: PolicyDocument | string): PolicyDocument;

/** Options of an engine. */
export interface EngineOptions {
  /** A policy document (object or JSON text); the Align policy when absent. */
  policy?: PolicyDocument | string;
  /** The key environment served; `live` when absent. */
  environment?: Environment;
  /**
   * How many validated key headers to remember with their hash (default 1024; 0 disables), so
   * a key seen again skips its checksum and SHA-256. Only the offline key checks are cached:
   * revocation, role and scope are decided afresh on every request. The cache holds keys in
   * process memory, as the requests carrying them do.
   */
  keyCache?: number;
  /**
   * Told, once per distinct problem, why a store answer denied a request `503` (which field of
   * which lookup was wrong; never the key). Default: one `console.warn` per problem. The engine
   * remembers the last 256 problems, so memory stays bounded whatever the store's messages say.
   */
  onStoreError?: (error: StoreError) => void;
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
  /** The policy's key prefix (`keyPrefix`, default `ck`). */
  readonly keyPrefix: string;
  /** The policy's base path, e.g. `/api/v1`. */
  readonly basePath: string;
  /** A new key of this engine's prefix and environment. */
  generateKey(): GeneratedKey;
  /** Validates a key offline as one of this engine's prefix and environment; throws `KeyError`. */
  parseKey(text: string): GeneratedKey;
  /** Every permission the policy knows, in policy order. */
  readonly permissions: string[];
  /** Every role the policy knows. */
  readonly roles: string[];
  /** Whether `url` (absolute, or a request target) lies under the policy's base path. */
  covers(url: string): boolean;
  /** Decides `request`, answering lookups from `store`. Never rejects for store failures (503). */
  authorize(request: RequestLike, store: KeyStore, options?: DecideOptions): Promise<Decision>;
  /** The same decision against a synchronous store. */
  authorizeSync(request: RequestLike, store: SyncKeyStore, options?: DecideOptions): Decision;
  /**
   * Plans a new key with the gateway's rules (membership, who may create the scope,
   * scope/project, grants within the actor's role, name, expiry): show `secret` once, store
   * `record` under `hash`. Throws a `LifecycleError`.
   */
  planCreate(request: PlanCreateRequest): PlannedKey;
  /** Plans the rotation of a stored key by `actor`. Throws a `LifecycleError`. */
  planRotate(request: PlanRotateRequest): PlannedKey & { oldRevokedAt: Date | null };
  /** Plans the revocation of a stored key by `actor` (never moved later). */
  planRevoke(request: { actor: LifecycleActor; key: KeyRecordInput; now?: TimeInput }): { revokedAt: Date; changed: boolean };
  /** Checks that `role` is a role of the policy; throws a `LifecycleError` (`unknown_role`). */
  planMemberRole(role: string): void;
  /** Throws a `LifecycleError` (`not_a_member`, `not_yours`) unless `actor` may revoke or rotate `key`. */
  checkKeyChange(request: { actor: LifecycleActor; key: KeyRecordInput }): void;
  /** A key's status at `now` (default: now) with its creator's current role (null: not a member). */
  keyStatus(request: { key: KeyRecordInput; creatorRole: string | null; now?: TimeInput }): KeyStatus;
  /** Where a key stands for the viewer `actor`, as a key list shows it (the gateway console's rule). */
  keyStanding(request: { actor: LifecycleActor; key: KeyRecordInput; creatorRole: string | null; now?: TimeInput }): KeyStanding;
  /** The preset a key's explicit grants (or null: inherit) amount to, or null. */
  presetOf(permissions: string[] | null): string | null;
  /** What a member of `role` (null: no member) may do with keys. */
  keyAbilities(role: string | null): KeyAbilities;
  /** The policy's presets, in policy order. */
  readonly presets: string[];
  /** The path of the policy's `/me` view, base path included (e.g. `/api/v1/me`), or null. */
  readonly mePath: string | null;
}

/** Where a key stands: the gateway refuses every status but `active` (`401 key_revoked`). */
export type KeyStatus = "active" | "revoked" | "expired" | "creator_left";

/** Where a key stands for a viewer: its preset, status, and what the viewer may do with it now. */
export interface KeyStanding {
  preset: string | null;
  status: KeyStatus;
  canChange: boolean;
  canRotate: boolean;
  canRevoke: boolean;
  /** The viewer may change its address allow-list and limits now (not once revoked or expired). */
  canEditControls: boolean;
}

/** What a member of a role may do with keys. */
export interface KeyAbilities {
  createOrganizationKeys: boolean;
  createProjectKeys: boolean;
  /** They may revoke and rotate keys they did not create (an admin). */
  manageEveryKey: boolean;
}

/** The header that carries a key: `x-api-key`. */
export declare const KEY_HEADER: string;
/** `KEY_HEADER` as documentation shows it: `X-Api-Key`. */
export declare const KEY_HEADER_NAME: string;
/** The other header that may carry a key, as `Bearer <key>`: `authorization`. */
export declare const AUTHORIZATION_HEADER: string;

/** Who acts on a key: a user and their current role in the organization (null: not a member). */
export interface LifecycleActor {
  /** The acting user. */
  userId: string;
  /** Their current role, or null when they are not a member. */
  role: string | null;
}

/** A request to create a key. */
export interface PlanCreateRequest {
  /** The key's organization. */
  organizationId: string;
  /** Who creates it. */
  actor: LifecycleActor;
  /** The key's name (1–100 characters, not blank). */
  name: string;
  /** The key's scope. */
  scope: Scope;
  /** The key's project (project keys name one project here, or several in `scopedProjectIds`). */
  scopedProjectId?: string;
  /** The key's projects (1–50 distinct ids; not with `scopedProjectId`). */
  scopedProjectIds?: string[];
  /** A preset of the policy (`read`, `write`, `full`), or … */
  preset?: string;
  /** … explicit permissions (within the actor's role); neither: inherit the creator's role. */
  permissions?: string[];
  /** When the key expires (in the future), if ever. */
  expiresAt?: TimeInput;
  /** The address allow-list: 1–20 IPv4 or IPv6 CIDR blocks. */
  allowedCidrs?: string[];
  /** The key's own rate. */
  rateLimit?: RateLimitSetting;
  /** The key's quota. */
  quota?: QuotaSetting;
  /** The new key's id (default: a fresh `key_…`). */
  id?: string;
  /** The plan's clock (default: now). */
  now?: TimeInput;
}

/** A request to rotate a key. */
export interface PlanRotateRequest {
  /** Who rotates it (its creator or an admin). */
  actor: LifecycleActor;
  /** The stored record of the key to rotate. */
  key: KeyRecordInput;
  /**
   * How long the old key keeps working, in whole seconds (0 to 30 days); absent or null: until
   * it is revoked. Anything else is a `LifecycleError` (`invalid_grace_period`, `grace_too_long`).
   */
  gracePeriodSeconds?: number | null;
  /** The new key's id (default: a fresh `key_…`). */
  id?: string;
  /** The plan's clock (default: now). */
  now?: TimeInput;
}

/** A key record as a plan returns it (times as `Date`, absent ones null). */
export interface PlannedRecord {
  id: string;
  name: string;
  hint: string;
  organizationId: string;
  createdBy: string;
  scope: Scope;
  scopedProjectId: string | null;
  permissions: string[] | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  expiresAt: Date | null;
}

/** A planned new key: the secret (show once), its hash (the store's key) and the record. */
export interface PlannedKey {
  secret: string;
  hash: string;
  record: PlannedRecord;
}

/**
 * A key record prepared once (e.g. in a cache) and handed to decisions without conversion; it
 * holds the record compiled for the policy of the engine deciding on it (compiled on its first
 * decision, again only under an engine with another policy).
 */
export declare class KeyRecord {
  /** Throws a `RecordError` naming the field if `record` is not a key record. */
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
  /** The whole key: `<prefix>_live_…` / `<prefix>_test_…` (44 characters with the default `ck`). */
  secret: string;
  /** SHA-256 of the key, lower-case hex: what stores keep. */
  hash: string;
  /** The last four characters. */
  hint: string;
  /** The key's environment. */
  environment: Environment;
}

/** Which keys a key helper means: the environment, and the deployment's key prefix (default `ck`). */
export interface KeyOptions {
  environment?: Environment;
  prefix?: string;
}

/** A new key from Web Crypto randomness. */
export declare function generateKey(options?: KeyOptions): GeneratedKey;
/**
 * Validates a key offline (length, prefix, alphabet, checksum; the environment when given).
 * Throws an `Error` named `KeyError` with `code` (`wrong_length`, `unknown_prefix`,
 * `bad_character`, `checksum_mismatch`, `wrong_environment`).
 */
export declare function parseKey(text: string, options?: KeyOptions): GeneratedKey;
/** Whether `text` is a valid key (of `environment`, when given). */
export declare function isValidKey(text: string, options?: KeyOptions): boolean;
/** The SHA-256 (hex) of a valid key. Throws `KeyError` for an invalid one. */
export declare function hashKey(text: string, options?: Pick<KeyOptions, "prefix">): string;
/** The last four characters of a valid key. Throws `KeyError` for an invalid one. */
export declare function keyHint(text: string, options?: Pick<KeyOptions, "prefix">): string;

/** Options of the middleware. */
export interface MiddlewareOptions {
  /** Where keys, memberships and resources are looked up. */
  store: KeyStore;
  /** The engine (default: Align, live keys). */
  engine?: Engine;
  /** Answer `GET …/me` with the key's `/me` view (default true). */
  serveMe?: boolean;
  /**
   * Which requests are decided: `basePath` (default) only those under the policy's base path,
   * every other request passing through untouched; `all` every request the middleware sees.
   */
  paths?: "basePath" | "all";
  /** See `EngineOptions.onStoreError`. */
  onStoreError?: (error: StoreError) => void;
}

/** Hono's context variables set by `keyscope.hono`. */
export interface KeyscopeVariables {
  /** The allowed decision. */
  keyscope: Allowed;
}

/**
 * Middleware in Express's shape, `(req, res, next)`, usable wherever Express takes a
 * `RequestHandler`. `keyscope/express` exports the same function typed as Express's own.
 */
export type ExpressMiddleware = (req: any, res: any, next: (error?: unknown) => void) => void;

/**
 * Middleware in Hono's shape, `(c, next)`, usable wherever Hono takes a `MiddlewareHandler`.
 * `keyscope/hono` exports the same function typed as Hono's own, with `c.get("keyscope")` typed.
 */
export type HonoMiddleware = (c: any, next: () => Promise<void>) => Promise<Response | void>;

/** Express middleware; sets `req.keyscope` (typed on `Express.Request`) to the `Allowed` decision. */
export declare function express(options: MiddlewareOptions): ExpressMiddleware;

/** Hono middleware; `c.get("keyscope")` holds the decision (typed when imported from `keyscope/hono`). */
export declare function hono(options: MiddlewareOptions): HonoMiddleware;

/**
 * Wraps a fetch handler: denials and `/me` are answered; other requests under the base path
 * reach `handler` with their `Allowed` decision, requests outside it with `null`.
 */
export declare function withKeyscope<Rest extends unknown[]>(
  handler: (request: Request, decision: Allowed | null, ...rest: Rest) => Response | Promise<Response>,
  options: MiddlewareOptions & { paths?: "basePath" },
): (request: Request, ...rest: Rest) => Promise<Response>;
export declare function withKeyscope<Rest extends unknown[]>(
  handler: (request: Request, decision: Allowed, ...rest: Rest) => Response | Promise<Response>,
  options: MiddlewareOptions & { paths: "all" },
): (request: Request, ...rest: Rest) => Promise<Response>;

/** Options of `checkKey`. */
export interface CheckKeyOptions {
  /** The API's base URL, base path included, e.g. `https://api.example.com/api/v1`. */
  baseUrl: string;
  /** The key (from an environment variable or a secret store; never logged). */
  key: string;
  /** The permissions the integration needs. */
  require?: string[];
  /** How long to wait for the gateway (default 10,000 ms). */
  timeoutMs?: number;
  /** The `fetch` to use (default `globalThis.fetch`). */
  fetch?: typeof fetch;
}

/**
 * At start-up: asks the gateway (`GET {baseUrl}/me`) what the key may do and throws a
 * `CheckKeyError` unless it holds every permission in `require` (naming each missing one, the
 * key's scope and project), or when the key is refused or the gateway unreachable.
 */
export declare function checkKey(options: CheckKeyOptions): Promise<MeView>;

/** The base of every keyscope error: a stable `code`. */
export declare class KeyscopeError extends Error {
  /** A stable, machine-readable code. */
  readonly code: string;
}

/** Why a key was refused offline. */
export type KeyErrorCode = "wrong_length" | "unknown_prefix" | "bad_character" | "checksum_mismatch" | "wrong_environment" | "not_a_string";

/** A key refused offline; the message never echoes the key. */
export declare class KeyError extends KeyscopeError {
  readonly code: KeyErrorCode;
}

/** A policy document refused. */
export declare class PolicyError extends KeyscopeError {
  readonly code: "invalid_policy";
  /** The bad field's path, e.g. `endpoints[3].permission` (`document` for text that is not JSON). */
  readonly field: string;
}

/** Fields that do not make a key record. */
export declare class RecordError extends KeyscopeError {
  readonly code: "invalid_record";
  /** The bad field, e.g. `createdAt`. */
  readonly field: string;
}

/** Why a store answer denied a request `503`. */
export type StoreErrorCode = "invalid_record" | "invalid_role" | "invalid_resource" | "lookup_failed" | "missing_lookup" | "async_lookup";

/** Why a store answer denied a request `503` (given to `onStoreError`; never contains the key). */
export declare class StoreError extends KeyscopeError {
  readonly code: StoreErrorCode;
  /** The store method: `findKey`, `findRole` or `findResource`. */
  readonly lookup: "findKey" | "findRole" | "findResource";
  /** The wrong field, when one is (e.g. `createdAt`, `scope`, `projectId`). */
  readonly field: string | undefined;
}

/** Why `checkKey` found the key unfit. */
export type CheckKeyErrorCode = "missing_permissions" | "key_revoked" | "invalid_key" | "missing_key" | "denied" | "unreachable" | "bad_response";

/** Why `checkKey` found the key unfit. */
export declare class CheckKeyError extends KeyscopeError {
  readonly code: CheckKeyErrorCode;
  /** The required permissions the key lacks. */
  readonly missing: string[];
  /** The key's scope (when the gateway answered its `/me` view). */
  readonly scope: Scope | null;
  /** The key's project, for project-scoped keys. */
  readonly projectId: string | null;
  /** The gateway's HTTP status, when it answered. */
  readonly status: number | null;
}

/** Why `verifyWebhook` refused a delivery. */
export type WebhookErrorCode = "missing_header" | "malformed_header" | "no_signature" | "outside_tolerance" | "mismatch" | "malformed_body";

/** A webhook delivery that is not genuine (`verifyWebhook`). */
export declare class WebhookError extends KeyscopeError {
  readonly code: WebhookErrorCode;
}

/** Options of `verifyWebhook`. */
export interface VerifyWebhookOptions {
  /** The most seconds between the signature's time and `now` (default 300). */
  toleranceSeconds?: number;
  /** The time to judge the signature at: Unix milliseconds or a `Date` (default the clock). */
  now?: number | Date;
}

/** The body of a keyscope event webhook. */
export interface WebhookEvent {
  /** The event's type, e.g. `key.revoked` (the audit action). */
  type: string;
  /** The audit event, as `GET …/audit-events` lists it. */
  event: Record<string, unknown>;
}

/**
 * Verifies a keyscope event webhook (`Keyscope-Signature: t=…,v1=…`, HMAC-SHA256 of
 * `"<t>.<raw body>"` under `secret`, by the rule the gateway signs with) and returns the parsed
 * body. Pass the raw body exactly as received. Throws a `WebhookError` when the delivery is not
 * genuine, a `TypeError` for arguments of the wrong type.
 */
export declare function verifyWebhook(
  body: string | Uint8Array | ArrayBuffer | ArrayBufferView,
  header: string | null | undefined,
  secret: string | Uint8Array,
  options?: VerifyWebhookOptions,
): WebhookEvent;

/** Why a lifecycle plan was refused (the gateway admin API's rules and messages). */
export declare class LifecycleError extends KeyscopeError {
  /** The rule, as the admin and console APIs' `code`: `not_a_member`, `may_not_create`, `project_required`, `beyond_role`, `not_yours`, `key_revoked`, `invalid_grace_period`, `preset_and_permissions`, … */
  readonly code: string;
  /** The request field at fault, or null. */
  readonly field: string | null;
  /** The admin API's status for it: 400, 403 or 409. */
  readonly status: number;
  /** Its class. */
  readonly kind: "invalid" | "forbidden" | "conflict";
}

declare global {
  namespace Express {
    interface Request {
      /** The keyscope decision, set by `keyscope.express` on requests it allowed. */
      keyscope?: Allowed;
    }
  }
}
export * from "./limiter.cjs";
