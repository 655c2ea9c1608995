#!/usr/bin/env python3
"""Writes tests/vectors/*.json, the conformance vectors every target runs.

The expectations are derived here from SPEC's tables, independently of policy-core, so the
vectors are an outside check of the engine rather than a copy of its output. Keys are made
deterministically (seeded) so that regenerating changes nothing unless this script changes.

    python3 tests/gen_vectors.py      # rewrites tests/vectors/
"""
import json
import os
import random
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "vectors")
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
NOW = "2026-11-23T12:00:00Z"
CREATED = "2026-10-01T09:00:00Z"
BASE = "/api/v1"

# --- SPEC: the default policy (Align) ---------------------------------------------------------
ALL = [
    "read:project", "write:project", "delete:project", "read:entry", "write:entry",
    "read:time_entry", "write:time_entry", "approve:time_entry", "read:user", "invite:user",
    "read:webhook", "write:webhook", "read:integration_link", "read:audit_event", "search",
]
MEMBER = [p for p in ALL if p not in ("approve:time_entry", "invite:user", "delete:project")]
ROLES = {
    "member": MEMBER,
    "engineer": MEMBER,
    "manager": MEMBER + ["approve:time_entry"],
    "admin": ALL,
}
READ = [p for p in ALL if p.startswith("read:")] + ["search"]
PRESETS = {"read": READ, "write": READ + ["write:entry", "write:time_entry"], "full": None}

# (method, path, permission, project-key rule)
ROWS = [
    ("GET", "/me", None, "allow"),
    ("GET", "/projects", "read:project", "filtered"),
    ("POST", "/projects", "write:project", "deny"),
    ("DELETE", "/projects/:id", "delete:project", "deny"),
    ("GET", "/projects/:id/entries", "read:entry", "own_path"),
    ("POST", "/projects/:id/entries", "write:entry", "own_path"),
    ("GET", "/projects/:id/time-entries", "read:time_entry", "own_path"),
    ("POST", "/projects/:id/time-entries", "write:time_entry", "own_path"),
    ("GET", "/time-entries", "read:time_entry", "deny"),
    ("PATCH", "/time-entries/:id", "write:time_entry", "own_resource"),
    ("POST", "/time-entries/:id/approve", "approve:time_entry", "own_resource"),
    ("POST", "/time-entries/:id/reject", "approve:time_entry", "own_resource"),
    ("POST", "/time-entries/:id/unlock", "approve:time_entry", "own_resource"),
    ("GET", "/users", "read:user", "deny"),
    ("POST", "/users/invite", "invite:user", "deny"),
    ("GET", "/webhooks", "read:webhook", "deny"),
    ("POST", "/webhooks", "write:webhook", "deny"),
    ("GET", "/integration-links", "read:integration_link", "filtered"),
    ("GET", "/audit-events", "read:audit_event", "filtered"),
    ("GET", "/search", "search", "filtered"),
]
STATUS = {"missing_key": 401, "invalid_key": 401, "key_revoked": 401, "scope_violation": 403,
          "forbidden": 403, "not_found": 404}

_rng = random.Random(20261123)


def checksum(text):
    n = zlib.crc32(text.encode())
    out = ""
    for _ in range(6):
        out = B62[n % 62] + out
        n //= 62
    return out


def make_secret(env="live"):
    prefix = "ck_%s_" % env
    body = "".join(_rng.choice(B62) for _ in range(30))
    return prefix + body + checksum(prefix + body)


def key(kid, org, creator, scope, project=None, permissions=None, **extra):
    k = {
        "secret": make_secret(extra.pop("env", "live")),
        "id": kid,
        "name": extra.pop("name", kid.replace("_", " ")),
        "organizationId": org,
        "createdBy": creator,
        "scope": scope,
        "scopedProjectId": project,
        "permissions": permissions,
        "createdAt": CREATED,
        "revokedAt": extra.pop("revokedAt", None),
        "expiresAt": extra.pop("expiresAt", None),
    }
    assert not extra, extra
    return k


def allow(project_filter=None, me=None):
    e = {"allow": True}
    if project_filter is not None:
        e["projectFilter"] = project_filter
    if me is not None:
        e["me"] = me
    return e


def deny(reason):
    return {"allow": False, "status": STATUS[reason], "reason": reason}


def case(name, method, path, headers, expect):
    return {"name": name, "method": method, "path": path, "headers": headers, "expect": expect}


def xkey(k):
    return {"x-api-key": k["secret"]}


def bearer(k):
    return {"authorization": "Bearer " + k["secret"]}


def world_members(org="org_a"):
    return [{"organizationId": org, "userId": "u_" + r, "role": r} for r in ROLES]


RESOURCES = [
    {"kind": "time_entry", "id": "te_p1", "organizationId": "org_a", "projectId": "p1"},
    {"kind": "time_entry", "id": "te_p2", "organizationId": "org_a", "projectId": "p2"},
    {"kind": "time_entry", "id": "te_b1", "organizationId": "org_b", "projectId": "p1"},
]
OWNER = {r["id"]: (r["organizationId"], r["projectId"]) for r in RESOURCES}


def oracle(role, k, method, row, value):
    """SPEC's precedence for a known, live key whose creator holds `role`."""
    _, _, permission, rule = row
    perms = set(ROLES[role])
    if k["permissions"] is not None:
        perms &= set(k["permissions"])
    project_key = k["scope"] == "project"
    if project_key:
        if rule == "deny":
            return deny("scope_violation")
        if rule == "own_path" and value != k["scopedProjectId"]:
            return deny("scope_violation")
    if permission is not None and permission not in perms:
        return deny("forbidden")
    if project_key and rule == "own_resource":
        owner = OWNER.get(value)
        if owner != (k["organizationId"], k["scopedProjectId"]):
            return deny("not_found")
    if project_key and rule == "filtered":
        return allow(k["scopedProjectId"])
    return allow()


def concrete(path, value):
    return BASE + path.replace(":id", value)


def values_for(row):
    rule, path = row[3], row[1]
    if ":id" not in path:
        return [None]
    if rule == "own_resource":
        return ["te_p1", "te_p2", "te_unknown", "te_b1"]
    return ["p1", "p2"]


def write(name, doc):
    for c in doc["cases"]:
        e = c["expect"]
        if not e["allow"]:
            assert STATUS[e["reason"]] == e["status"], c
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    return len(doc["cases"])


# --- 1. every endpoint row × key scope × project × role --------------------------------------
def matrix():
    keys, cases = [], []
    for role in ROLES:
        org_key = key("key_org_" + role, "org_a", "u_" + role, "organization")
        proj_key = key("key_p1_" + role, "org_a", "u_" + role, "project", "p1")
        keys += [org_key, proj_key]
        for k, label in ((org_key, "organization key"), (proj_key, "project key (p1)")):
            for row in ROWS:
                for value in values_for(row):
                    path = concrete(row[1], value) if value else BASE + row[1]
                    where = "" if value is None else " with %s" % value
                    cases.append(case(
                        "%s of a %s: %s %s%s" % (label, role, row[0], row[1], where),
                        row[0], path, xkey(k) if len(cases) % 2 == 0 else bearer(k),
                        oracle(role, k, row[0], row, value)))
            # HEAD is matched as GET
            cases.append(case("%s of a %s: HEAD /projects is GET" % (label, role), "HEAD",
                              BASE + "/projects", xkey(k),
                              allow("p1" if k["scope"] == "project" else None)))
    return {
        "description": "SPEC's Align table: every endpoint row for an organization key and a "
                       "project key (own project, other project, unknown and other-organization "
                       "resources) of each role. Creation rules are enforced when a key is made, "
                       "not when it is used: a key acts with its creator's current role.",
        "environment": "live",
        "now": NOW,
        "members": world_members(),
        "keys": keys,
        "resources": RESOURCES,
        "cases": cases,
    }


# --- 2. presenting keys, key format, lifecycle ----------------------------------------------
def mutate(secret, i):
    c = secret[i]
    replacement = "A" if c != "A" else "B"
    if i < 8:  # prefix: swap to another character of the prefix alphabet
        replacement = "x" if c != "x" else "y"
    return secret[:i] + replacement + secret[i + 1:]


def keys_and_headers():
    good = key("key_good", "org_a", "u_admin", "organization", name="Deploy bot")
    revoked = key("key_revoked", "org_a", "u_admin", "organization", revokedAt="2026-11-20T08:00:00Z")
    expired = key("key_expired", "org_a", "u_admin", "organization", expiresAt="2026-11-01T00:00:00Z")
    expires_later = key("key_expires_later", "org_a", "u_admin", "organization",
                        expiresAt="2027-01-01T00:00:00Z")
    expires_now = key("key_expires_now", "org_a", "u_admin", "organization", expiresAt=NOW)
    removed = key("key_removed_creator", "org_a", "u_gone", "organization")
    other_org_member = key("key_member_elsewhere", "org_a", "u_b_only", "organization")
    test_env = key("key_test_env", "org_a", "u_admin", "organization", env="test")
    unknown = make_secret()  # well formed, never stored
    keys = [good, revoked, expired, expires_later, expires_now, removed, other_org_member, test_env]
    s = good["secret"]
    P = BASE + "/projects"
    cases = [
        case("no headers: missing_key", "GET", P, {}, deny("missing_key")),
        case("empty X-Api-Key: missing_key", "GET", P, {"x-api-key": ""}, deny("missing_key")),
        case("whitespace-only X-Api-Key: missing_key", "GET", P, {"x-api-key": "   "}, deny("missing_key")),
        case("Basic scheme presents no key", "GET", P, {"authorization": "Basic dXNlcjpwYXNz"},
             deny("missing_key")),
        case("Bearer with no token presents no key", "GET", P, {"authorization": "Bearer"},
             deny("missing_key")),
        case("Bearer with blank token presents no key", "GET", P, {"authorization": "Bearer    "},
             deny("missing_key")),
        case("Basic scheme beside X-Api-Key: the X-Api-Key key is used", "GET", P,
             {"x-api-key": s, "authorization": "Basic dXNlcjpwYXNz"}, allow()),
        case("X-Api-Key", "GET", P, {"x-api-key": s}, allow()),
        case("Authorization: Bearer", "GET", P, {"authorization": "Bearer " + s}, allow()),
        case("bearer scheme in lower case", "GET", P, {"authorization": "bearer " + s}, allow()),
        case("BEARER scheme in upper case", "GET", P, {"authorization": "BEARER " + s}, allow()),
        case("bEaReR scheme in mixed case", "GET", P, {"authorization": "bEaReR " + s}, allow()),
        case("header names are case-insensitive", "GET", P, {"X-API-KEY": s}, allow()),
        case("Authorization header name in any case", "GET", P, {"AUTHORIZATION": "Bearer " + s}, allow()),
        case("surrounding whitespace is trimmed (X-Api-Key)", "GET", P, {"x-api-key": "  " + s + "\t"},
             allow()),
        case("surrounding whitespace is trimmed (Bearer)", "GET", P,
             {"authorization": "  Bearer   " + s + "  "}, allow()),
        case("both headers with the same key", "GET", P, {"x-api-key": s, "authorization": "Bearer " + s},
             allow()),
        case("both headers with different keys: invalid_key", "GET", P,
             {"x-api-key": s, "authorization": "Bearer " + revoked["secret"]}, deny("invalid_key")),
        case("both headers, one malformed: invalid_key", "GET", P,
             {"x-api-key": s, "authorization": "Bearer nonsense"}, deny("invalid_key")),
        case("Bearer token with inner space: invalid_key", "GET", P,
             {"authorization": "Bearer " + s[:20] + " " + s[20:]}, deny("invalid_key")),
        case("garbage key: invalid_key", "GET", P, {"x-api-key": "hello"}, deny("invalid_key")),
        case("key one character short: invalid_key", "GET", P, {"x-api-key": s[:-1]}, deny("invalid_key")),
        case("key one character long: invalid_key", "GET", P, {"x-api-key": s + "0"}, deny("invalid_key")),
        case("key with a non-base62 character: invalid_key", "GET", P,
             {"x-api-key": s[:20] + "-" + s[21:]}, deny("invalid_key")),
        case("key in lower case: invalid_key", "GET", P, {"x-api-key": s.lower()}, deny("invalid_key")),
        case("unknown prefix sk_live_: invalid_key", "GET", P, {"x-api-key": "sk" + s[2:]},
             deny("invalid_key")),
        case("well-formed but unknown key: invalid_key", "GET", P, {"x-api-key": unknown},
             deny("invalid_key")),
        case("test key on a live deployment: invalid_key", "GET", P, xkey(test_env), deny("invalid_key")),
        case("non-ASCII key: invalid_key", "GET", P, {"x-api-key": s[:43] + "é"}, deny("invalid_key")),
        case("revoked key: key_revoked", "GET", P, xkey(revoked), deny("key_revoked")),
        case("revoked key on /me: key_revoked", "GET", BASE + "/me", xkey(revoked), deny("key_revoked")),
        case("expired key: key_revoked", "GET", P, xkey(expired), deny("key_revoked")),
        case("key expiring exactly now: key_revoked", "GET", P, xkey(expires_now), deny("key_revoked")),
        case("key expiring later works", "GET", P, xkey(expires_later), allow()),
        case("creator removed from the organization: key_revoked", "GET", P, xkey(removed),
             deny("key_revoked")),
        case("creator is a member of another organization only: key_revoked", "GET", P,
             xkey(other_org_member), deny("key_revoked")),
    ]
    for i in range(len(s)):
        cases.append(case("one-character change at position %d: invalid_key" % i, "GET", P,
                          {"x-api-key": mutate(s, i)}, deny("invalid_key")))
    for i in range(0, len(s) - 1, 4):
        swapped = s[:i] + s[i + 1] + s[i] + s[i + 2:]
        if swapped != s:
            cases.append(case("adjacent characters swapped at %d: invalid_key" % i, "GET", P,
                              {"x-api-key": swapped}, deny("invalid_key")))
    members = world_members() + [{"organizationId": "org_b", "userId": "u_b_only", "role": "admin"}]
    return {
        "description": "Presenting a key (headers, schemes, whitespace), the key format "
                       "(length, prefix, alphabet, checksum, environment, single-character "
                       "changes) and the key lifecycle (unknown, revoked, expired, creator removed).",
        "environment": "live",
        "now": NOW,
        "members": members,
        "keys": keys,
        "resources": RESOURCES,
        "cases": cases,
    }


# --- 3. grants, roles and precedence ---------------------------------------------------------
def grants_and_precedence():
    k = {}
    k["read_proj"] = key("key_read_p1", "org_a", "u_engineer", "project", "p1", PRESETS["read"])
    k["write_proj"] = key("key_write_p1", "org_a", "u_engineer", "project", "p1", PRESETS["write"])
    k["read_org"] = key("key_read_org", "org_a", "u_admin", "organization", None, PRESETS["read"])
    k["narrow"] = key("key_narrow", "org_a", "u_admin", "organization", None, ["read:entry"])
    k["beyond"] = key("key_beyond_role", "org_a", "u_member", "organization", None,
                      ["read:project", "approve:time_entry", "invite:user", "delete:project"])
    k["unknown_grant"] = key("key_unknown_grant", "org_a", "u_admin", "organization", None,
                             ["read:project", "teleport:user"])
    k["empty"] = key("key_empty_grants", "org_a", "u_admin", "organization", None, [])
    k["manager_proj"] = key("key_manager_p1", "org_a", "u_manager", "project", "p1")
    k["revoked_proj"] = key("key_revoked_p1", "org_a", "u_admin", "project", "p1",
                            revokedAt="2026-11-22T00:00:00Z")
    k["removed_proj"] = key("key_removed_p1", "org_a", "u_gone", "project", "p1")
    k["expired_read"] = key("key_expired_read", "org_a", "u_admin", "organization", None,
                            PRESETS["read"], expiresAt="2026-01-01T00:00:00Z")
    k["demoted"] = key("key_demoted_admin", "org_a", "u_demoted", "organization")
    k["promoted"] = key("key_promoted_member", "org_a", "u_promoted", "project", "p1")
    B = BASE
    c = [
        # precedence: static properties of the key before anything about the endpoint
        case("revoked key on an unknown endpoint: key_revoked, not not_found", "GET", B + "/nope",
             xkey(k["revoked_proj"]), deny("key_revoked")),
        case("revoked project key on an org-wide endpoint: key_revoked, not scope_violation", "GET",
             B + "/users", xkey(k["revoked_proj"]), deny("key_revoked")),
        case("removed creator on an unknown endpoint: key_revoked", "GET", B + "/nope",
             xkey(k["removed_proj"]), deny("key_revoked")),
        case("removed creator, other project: key_revoked", "GET", B + "/projects/p2/entries",
             xkey(k["removed_proj"]), deny("key_revoked")),
        case("expired read key on a write endpoint: key_revoked, not forbidden", "POST", B + "/projects",
             xkey(k["expired_read"]), deny("key_revoked")),
        case("missing key on an unknown endpoint: missing_key", "GET", B + "/nope", {}, deny("missing_key")),
        case("invalid key on an unknown endpoint: invalid_key", "GET", "/elsewhere",
             {"x-api-key": "ck_live_short"}, deny("invalid_key")),
        case("valid key on an unknown endpoint: not_found", "GET", B + "/nope", xkey(k["read_org"]),
             deny("not_found")),
        case("valid key on an unknown method: not_found", "PUT", B + "/projects", xkey(k["read_org"]),
             deny("not_found")),
        # scope before permission
        case("project read key on POST /projects: scope_violation, not forbidden", "POST", B + "/projects",
             xkey(k["read_proj"]), deny("scope_violation")),
        case("project read key on POST /users/invite: scope_violation, not forbidden", "POST",
             B + "/users/invite", xkey(k["read_proj"]), deny("scope_violation")),
        case("project read key writing entries of another project: scope_violation", "POST",
             B + "/projects/p2/entries", xkey(k["read_proj"]), deny("scope_violation")),
        # permission before resource visibility
        case("project read key patching another project's entry: forbidden, not not_found", "PATCH",
             B + "/time-entries/te_p2", xkey(k["read_proj"]), deny("forbidden")),
        case("project read key patching an unknown entry: forbidden (no existence oracle)", "PATCH",
             B + "/time-entries/te_unknown", xkey(k["read_proj"]), deny("forbidden")),
        case("project write key patching another project's entry: not_found", "PATCH",
             B + "/time-entries/te_p2", xkey(k["write_proj"]), deny("not_found")),
        case("project write key patching an unknown entry: not_found", "PATCH",
             B + "/time-entries/te_unknown", xkey(k["write_proj"]), deny("not_found")),
        case("project write key patching its own project's entry", "PATCH", B + "/time-entries/te_p1",
             xkey(k["write_proj"]), allow()),
        case("project write key cannot approve (engineer role): forbidden", "POST",
             B + "/time-entries/te_p1/approve", xkey(k["write_proj"]), deny("forbidden")),
        case("manager project key approves its own project's entry", "POST",
             B + "/time-entries/te_p1/approve", xkey(k["manager_proj"]), allow()),
        case("manager project key approving another project's entry: not_found", "POST",
             B + "/time-entries/te_p2/approve", xkey(k["manager_proj"]), deny("not_found")),
        case("manager project key approving another organization's entry: not_found", "POST",
             B + "/time-entries/te_b1/approve", xkey(k["manager_proj"]), deny("not_found")),
        # presets and explicit grants narrow
        case("read preset lists projects (filtered)", "GET", B + "/projects", xkey(k["read_proj"]),
             allow("p1")),
        case("read preset searches (filtered)", "GET", B + "/search", xkey(k["read_proj"]), allow("p1")),
        case("read preset cannot log time: forbidden", "POST", B + "/projects/p1/time-entries",
             xkey(k["read_proj"]), deny("forbidden")),
        case("write preset logs time", "POST", B + "/projects/p1/time-entries", xkey(k["write_proj"]),
             allow()),
        case("write preset writes entries", "POST", B + "/projects/p1/entries", xkey(k["write_proj"]),
             allow()),
        case("org read preset of an admin cannot create projects: forbidden", "POST", B + "/projects",
             xkey(k["read_org"]), deny("forbidden")),
        case("org read preset of an admin cannot invite: forbidden", "POST", B + "/users/invite",
             xkey(k["read_org"]), deny("forbidden")),
        case("org read preset of an admin lists users", "GET", B + "/users", xkey(k["read_org"]), allow()),
        case("org read preset of an admin cannot delete projects: forbidden", "DELETE", B + "/projects/p1",
             xkey(k["read_org"]), deny("forbidden")),
        case("explicit read:entry grant reads entries", "GET", B + "/projects/p1/entries",
             xkey(k["narrow"]), allow()),
        case("explicit read:entry grant cannot list projects: forbidden", "GET", B + "/projects",
             xkey(k["narrow"]), deny("forbidden")),
        case("empty grant list can still call /me", "GET", B + "/me", xkey(k["empty"]), allow()),
        case("empty grant list cannot list projects: forbidden", "GET", B + "/projects", xkey(k["empty"]),
             deny("forbidden")),
        # grants never exceed the creator's role
        case("member's grant of approve:time_entry does not exceed the role: forbidden", "POST",
             B + "/time-entries/te_p1/approve", xkey(k["beyond"]), deny("forbidden")),
        case("member's grant of invite:user does not exceed the role: forbidden", "POST",
             B + "/users/invite", xkey(k["beyond"]), deny("forbidden")),
        case("member's grant of delete:project does not exceed the role: forbidden", "DELETE",
             B + "/projects/p1", xkey(k["beyond"]), deny("forbidden")),
        case("member's grant of read:project works", "GET", B + "/projects", xkey(k["beyond"]), allow()),
        case("an unknown grant name grants nothing", "GET", B + "/users", xkey(k["unknown_grant"]),
             deny("forbidden")),
        case("an unknown grant name beside a known one", "GET", B + "/projects", xkey(k["unknown_grant"]),
             allow()),
        # role changes apply to the very next request (the world holds the current role)
        case("admin demoted to member: cannot invite any more", "POST", B + "/users/invite",
             xkey(k["demoted"]), deny("forbidden")),
        case("admin demoted to member: cannot delete projects any more", "DELETE", B + "/projects/p1",
             xkey(k["demoted"]), deny("forbidden")),
        case("admin demoted to member: still lists users", "GET", B + "/users", xkey(k["demoted"]), allow()),
        case("member promoted to manager: project key now approves", "POST",
             B + "/time-entries/te_p1/unlock", xkey(k["promoted"]), allow()),
    ]
    members = world_members() + [
        {"organizationId": "org_a", "userId": "u_demoted", "role": "member"},
        {"organizationId": "org_a", "userId": "u_promoted", "role": "manager"},
    ]
    return {
        "description": "Precedence conflicts, presets and explicit grants (which only narrow), grants "
                       "beyond the creator's role, and keys acting with their creator's current role.",
        "now": NOW,
        "members": members,
        "keys": list(k.values()),
        "resources": RESOURCES,
        "cases": c,
    }


# --- 4. request matching ---------------------------------------------------------------------
def paths():
    org = key("key_paths_org", "org_a", "u_admin", "organization")
    proj = key("key_paths_p1", "org_a", "u_admin", "project", "p1")
    B = BASE
    long_id = "a" * 64
    too_long = "a" * 65
    rows = [
        ("trailing slash", "GET", B + "/projects/", deny("not_found"), deny("not_found")),
        ("double slash", "GET", B + "//projects", deny("not_found"), deny("not_found")),
        ("double slash inside", "GET", B + "/projects//entries", deny("not_found"), deny("not_found")),
        ("dot segment", "GET", B + "/./projects", deny("not_found"), deny("not_found")),
        ("dot-dot segment", "GET", B + "/projects/p1/../../users", deny("not_found"), deny("not_found")),
        ("dot-dot as the id", "GET", B + "/projects/../entries", deny("not_found"), deny("not_found")),
        ("percent-encoded dot-dot as the id", "GET", B + "/projects/%2e%2e/entries", deny("not_found"),
         deny("not_found")),
        ("percent-encoded slash in the id", "GET", B + "/projects/p1%2Fx/entries", deny("not_found"),
         deny("not_found")),
        ("percent-encoded id of the key's project", "GET", B + "/projects/p%31/entries", allow(), allow()),
        ("percent-encoded id of another project", "GET", B + "/projects/p%32/entries", allow(),
         deny("scope_violation")),
        ("bad percent escape in the id", "GET", B + "/projects/p%zz/entries", deny("not_found"),
         deny("not_found")),
        ("id with a dot", "GET", B + "/projects/p.1/entries", deny("not_found"), deny("not_found")),
        ("id with a space", "GET", B + "/projects/p%201/entries", deny("not_found"), deny("not_found")),
        ("id of 64 characters", "GET", B + "/projects/%s/entries" % long_id, allow(),
         deny("scope_violation")),
        ("id of 65 characters", "GET", B + "/projects/%s/entries" % too_long, deny("not_found"),
         deny("not_found")),
        ("id with underscore and dash", "GET", B + "/projects/p_1-x/entries", allow(),
         deny("scope_violation")),
        ("percent-encoded static segment is not normalised", "GET", B + "/pro%6Aects", deny("not_found"),
         deny("not_found")),
        ("upper-case static segment", "GET", B + "/Projects", deny("not_found"), deny("not_found")),
        ("upper-case base path", "GET", "/API/v1/projects", deny("not_found"), deny("not_found")),
        ("no base path", "GET", "/projects", deny("not_found"), deny("not_found")),
        ("other version", "GET", "/api/v2/projects", deny("not_found"), deny("not_found")),
        ("base path alone", "GET", B, deny("not_found"), deny("not_found")),
        ("base path with trailing slash", "GET", B + "/", deny("not_found"), deny("not_found")),
        ("base path glued to a segment", "GET", B + "projects", deny("not_found"), deny("not_found")),
        ("query string ignored", "GET", B + "/projects?project=p2&x=/../users", allow(), allow("p1")),
        ("query string on an own-path row", "GET", B + "/projects/p1/entries?project=p2", allow(), allow()),
        ("empty query string", "GET", B + "/users?", allow(), deny("scope_violation")),
        ("lower-case method", "get", B + "/projects", deny("not_found"), deny("not_found")),
        ("unknown method", "PUT", B + "/projects", deny("not_found"), deny("not_found")),
        ("OPTIONS", "OPTIONS", B + "/projects", deny("not_found"), deny("not_found")),
        ("made-up method", "BREW", B + "/projects", deny("not_found"), deny("not_found")),
        ("HEAD is GET", "HEAD", B + "/projects/p1/entries", allow(), allow()),
        ("HEAD of an org-wide row", "HEAD", B + "/users", allow(), deny("scope_violation")),
        ("HEAD of a POST-only row", "HEAD", B + "/users/invite", deny("not_found"), deny("not_found")),
        ("extra segment", "GET", B + "/projects/p1/entries/x", deny("not_found"), deny("not_found")),
        ("deep path", "GET", B + "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p", deny("not_found"), deny("not_found")),
        ("me with a trailing slash", "GET", B + "/me/", deny("not_found"), deny("not_found")),
        ("POST to /me", "POST", B + "/me", deny("not_found"), deny("not_found")),
        ("unicode in a static segment", "GET", B + "/projécts", deny("not_found"), deny("not_found")),
        ("time entry id percent-encoded", "PATCH", B + "/time-entries/te%5Fp1", allow(), allow()),
    ]
    cases = []
    for label, method, path, org_expect, proj_expect in rows:
        cases.append(case("organization key, %s" % label, method, path, xkey(org), org_expect))
        cases.append(case("project key (p1), %s" % label, method, path, xkey(proj), proj_expect))
    cases.append(case("missing key beats a bad path", "GET", B + "/../x", {}, deny("missing_key")))
    cases.append(case("invalid key beats a bad path", "GET", B + "//", {"x-api-key": "x"},
                      deny("invalid_key")))
    return {
        "description": "Matching a request to an endpoint: query strings, empty and dot segments, "
                       "percent-encoding, id rules, case, HEAD and unknown methods. Nothing is "
                       "normalised into another route.",
        "now": NOW,
        "members": world_members(),
        "keys": [org, proj],
        "resources": RESOURCES,
        "cases": cases,
    }


# --- 5. the /me view -------------------------------------------------------------------------
def me():
    ks = [
        ("organization key of an admin, inheriting",
         key("key_me_org_admin", "org_a", "u_admin", "organization", name="Admin automation"), "admin"),
        ("project key of an engineer, inheriting",
         key("key_me_p1_engineer", "org_a", "u_engineer", "project", "p1", name="CI"), "engineer"),
        ("project key of an engineer, read preset",
         key("key_me_p1_read", "org_a", "u_engineer", "project", "p1", PRESETS["read"], name="Dashboard"),
         "engineer"),
        ("organization key of a manager, explicit grants",
         key("key_me_org_manager", "org_a", "u_manager", "organization", None,
             ["read:entry", "write:entry", "read:time_entry", "approve:time_entry"], name="Approvals"),
         "manager"),
        ("organization key of a member with grants beyond the role",
         key("key_me_org_member", "org_a", "u_member", "organization", None,
             ["read:project", "invite:user"], name="Scripts"), "member"),
        ("organization key with an empty grant list",
         key("key_me_org_empty", "org_a", "u_admin", "organization", None, [], name="Ping"), "admin"),
    ]
    cases = []
    for label, k, role in ks:
        effective = [p for p in ALL if p in ROLES[role] and (k["permissions"] is None or p in k["permissions"])]
        body = {
            "apiKeyId": k["id"],
            "scope": k["scope"],
            "scopedProjectId": k["scopedProjectId"],
            "permissions": k["permissions"],
            "organizationId": k["organizationId"],
            "role": role,
            "effectivePermissions": effective,
            "name": k["name"],
            "hint": k["secret"][-4:],
        }
        cases.append(case("/me: " + label, "GET", BASE + "/me", bearer(k), allow(me=body)))
        cases.append(case("/me with HEAD: " + label, "HEAD", BASE + "/me", xkey(k), allow()))
        cases.append(case("/me with a query string: " + label, "GET", BASE + "/me?fields=all", xkey(k),
                          allow(me={"apiKeyId": k["id"], "scope": k["scope"]})))
    return {
        "description": "GET /me for each kind of key: SPEC's fields (explicit grants or null) plus "
                       "role, effectivePermissions (role ∩ grants, in policy order), name and hint.",
        "now": NOW,
        "members": world_members(),
        "keys": [k for _, k, _ in ks],
        "resources": [],
        "cases": cases,
    }


# --- 6. a test-environment deployment --------------------------------------------------------
def test_environment():
    t = key("key_test", "org_a", "u_admin", "organization", env="test")
    lv = key("key_live", "org_a", "u_admin", "organization")
    P = BASE + "/projects"
    return {
        "description": "A deployment serving test keys: ck_test_ keys work, ck_live_ keys are invalid_key "
                       "without touching a store.",
        "environment": "test",
        "now": NOW,
        "members": world_members(),
        "keys": [t, lv],
        "resources": [],
        "cases": [
            case("test key on a test deployment", "GET", P, xkey(t), allow()),
            case("test key /me", "GET", BASE + "/me", xkey(t), allow(me={"apiKeyId": "key_test"})),
            case("live key on a test deployment: invalid_key", "GET", P, xkey(lv), deny("invalid_key")),
            case("live key on a test deployment, unknown endpoint: invalid_key", "GET", BASE + "/x",
                 bearer(lv), deny("invalid_key")),
        ],
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    total = 0
    for name, build in [("align_matrix.json", matrix), ("keys_and_headers.json", keys_and_headers),
                        ("grants_and_precedence.json", grants_and_precedence), ("paths.json", paths),
                        ("me.json", me), ("test_environment.json", test_environment)]:
        n = write(name, build())
        print("%-30s %4d cases" % (name, n))
        total += n
    print("%-30s %4d cases" % ("total", total))


if __name__ == "__main__":
    main()
