#!/usr/bin/env python3
"""Writes the conformance vectors of two policies that are not Align (SPEC "Policy documents:
any API"): tests/vectors/policies/{workspaces,catalog}.json and the vector files
tests/vectors/{workspaces,catalog}.json that name them.

- workspaces: a Clockify-shaped API. The tenant (`workspaceId`) and the user (`userId`) sit in
  the path, keys carry the prefix `clk`, a static segment sits beside a parameter
  (`/expenses/categories` beside `/expenses/:expenseId`), `param` is left out where one id
  remains, and `othersPermission` opens another user's data.
- catalog: 200 permissions (100 resource kinds, read and write), so that grants live in every
  word of a 256-bit set; the tenant in the path as `/orgs/:org/…`; prefix `acme`.

The expectations are derived here from SPEC's rules (matching, then the precedence), not from
policy-core's output. Seeded: regenerating changes nothing unless this script changes.

    python3 tests/gen_vectors_any_api.py
"""
import json
import os
import random
import re
import urllib.parse
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "vectors")
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
NOW = "2026-11-23T12:00:00Z"
CREATED = "2026-10-01T09:00:00Z"
STATUS = {"missing_key": 401, "invalid_key": 401, "key_revoked": 401, "scope_violation": 403,
          "forbidden": 403, "not_found": 404}
ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

_rng = random.Random(20261204)


def checksum(text):
    n = zlib.crc32(text.encode())
    out = ""
    for _ in range(6):
        out = B62[n % 62] + out
        n //= 62
    return out


def make_secret(prefix, env="live"):
    head = "%s_%s_" % (prefix, env)
    body = "".join(_rng.choice(B62) for _ in range(30))
    return head + body + checksum(head + body)


def key(prefix, kid, org, creator, scope, project=None, permissions=None, **extra):
    return {
        "secret": make_secret(prefix, extra.pop("env", "live")),
        "id": kid,
        "name": kid.replace("_", " "),
        "organizationId": org,
        "createdBy": creator,
        "scope": scope,
        "scopedProjectId": project,
        "permissions": permissions,
        "createdAt": CREATED,
        "revokedAt": extra.pop("revokedAt", None),
        "expiresAt": None,
    }


def allow(project_filter=None, me=None):
    e = {"allow": True}
    if project_filter is not None:
        e["projectFilter"] = project_filter
    if me is not None:
        e["me"] = me
    return e


def deny(reason):
    return {"allow": False, "status": STATUS[reason], "reason": reason}


def case(name, method, path, k, expect, bearer=False):
    if k is None:
        headers = {}
    elif bearer:
        headers = {"authorization": "Bearer " + (k if isinstance(k, str) else k["secret"])}
    else:
        headers = {"x-api-key": k if isinstance(k, str) else k["secret"]}
    return {"name": name, "method": method, "path": path, "headers": headers, "expect": expect}


class Api:
    """A policy document and SPEC's rules over it, written independently of policy-core."""

    def __init__(self, doc):
        self.doc = doc
        self.base = doc["basePath"]
        self.org_param = doc.get("organizationParam")
        self.user_param = doc.get("userParam")
        self.rows = doc["endpoints"]
        for row in self.rows:
            segs = row["path"].strip("/").split("/")
            row["_segs"] = segs
            if row.get("param") is None and row["projectKey"] in ("own_path", "own_resource"):
                others = [s[1:] for s in segs if s.startswith(":")
                          and s[1:] not in (self.org_param, self.user_param)]
                assert len(others) == 1, row
                row["_param"] = others[0]
            else:
                row["_param"] = row.get("param")

    def match(self, method, target):
        """SPEC matching: the query is ignored, ids are 1-64 of A-Za-z0-9_- after decoding, and
        a static segment is tried before a parameter at the same position."""
        path = target.split("?", 1)[0]
        if not path.startswith(self.base + "/"):
            return None
        segs = path[len(self.base) + 1:].split("/")
        method = "GET" if method == "HEAD" else method
        best = None
        for row in self.rows:
            if row["method"] != method or len(row["_segs"]) != len(segs):
                continue
            values, rank = {}, []
            for pattern, seg in zip(row["_segs"], segs):
                if pattern.startswith(":"):
                    decoded = urllib.parse.unquote(seg)
                    if not ID.match(decoded):
                        break
                    values[pattern[1:]] = decoded
                    rank.append(1)
                elif pattern == seg:
                    rank.append(0)
                else:
                    break
            else:
                if best is None or rank < best[0]:
                    best = (rank, row, values)
        return None if best is None else (best[1], best[2])

    def effective(self, role, k):
        perms = set(self.doc["roles"][role])
        if k["permissions"] is not None:
            perms &= set(k["permissions"])
        return perms

    def decide(self, role, k, method, target, owners):
        """SPEC's precedence for a known, live key whose creator holds `role`."""
        found = self.match(method, target)
        if found is None:
            return deny("not_found")
        row, values = found
        if self.org_param in values and values[self.org_param] != k["organizationId"]:
            return deny("scope_violation")
        rule = row["projectKey"]
        project_key = k["scope"] == "project"
        if project_key:
            if rule == "deny":
                return deny("scope_violation")
            if rule == "own_path" and values[row["_param"]] != k["scopedProjectId"]:
                return deny("scope_violation")
        perms = self.effective(role, k)
        if row.get("permission") and row["permission"] not in perms:
            return deny("forbidden")
        if self.user_param in values and values[self.user_param] != k["createdBy"]:
            others = row.get("othersPermission")
            if others is None or others not in perms:
                return deny("forbidden")
        if project_key and rule == "own_resource":
            owner = owners.get((row["resourceKind"], values[row["_param"]]))
            if owner != (k["organizationId"], k["scopedProjectId"]):
                return deny("not_found")
        if project_key and rule == "filtered":
            return allow(k["scopedProjectId"])
        return allow()


def write_policy(name, doc):
    with open(os.path.join(OUT, "policies", name), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


def write(name, doc):
    for c in doc["cases"]:
        e = c["expect"]
        if not e["allow"]:
            assert STATUS[e["reason"]] == e["status"], c
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    return len(doc["cases"])


# --- workspaces: the tenant and the user in the path ------------------------------------------
WS_PERMISSIONS = [
    "read:workspace", "read:project", "write:project", "read:task", "write:task",
    "read:time_entry", "write:time_entry", "read:others_time_entry", "read:expense",
    "write:expense", "read:user", "manage:user",
]
WS_MEMBER = ["read:workspace", "read:project", "read:task", "read:time_entry", "write:time_entry",
             "read:expense", "write:expense", "read:user"]
WS_ROLES = {
    "member": WS_MEMBER,
    "manager": WS_MEMBER + ["write:project", "write:task", "read:others_time_entry"],
    "owner": WS_PERMISSIONS,
}
W = "/workspaces/:workspaceId"
WS_DOC = {
    "keyPrefix": "clk",
    "basePath": "/api/v1",
    "organizationParam": "workspaceId",
    "userParam": "userId",
    "permissions": WS_PERMISSIONS,
    "roles": WS_ROLES,
    "keyCreators": {"organization": ["manager", "owner"], "project": ["member", "manager", "owner"]},
    "presets": {"read": [p for p in WS_PERMISSIONS if p.startswith("read:")], "full": None},
    "endpoints": [
        {"method": "GET", "path": "/me", "permission": None, "projectKey": "allow", "serve": "me"},
        {"method": "GET", "path": "/workspaces", "permission": "read:workspace", "projectKey": "allow"},
        {"method": "GET", "path": W, "permission": "read:workspace", "projectKey": "allow"},
        {"method": "GET", "path": W + "/projects", "permission": "read:project", "projectKey": "filtered"},
        {"method": "POST", "path": W + "/projects", "permission": "write:project", "projectKey": "deny"},
        {"method": "GET", "path": W + "/projects/:projectId", "permission": "read:project",
         "projectKey": "own_path"},
        {"method": "GET", "path": W + "/projects/:projectId/tasks/:taskId", "permission": "read:task",
         "projectKey": "own_path", "param": "projectId"},
        {"method": "PUT", "path": W + "/projects/:projectId/tasks/:taskId", "permission": "write:task",
         "projectKey": "own_path", "param": "projectId"},
        {"method": "GET", "path": W + "/user/:userId/time-entries", "permission": "read:time_entry",
         "othersPermission": "read:others_time_entry", "projectKey": "filtered"},
        {"method": "POST", "path": W + "/user/:userId/time-entries", "permission": "write:time_entry",
         "projectKey": "allow"},
        {"method": "PATCH", "path": W + "/time-entries/:id", "permission": "write:time_entry",
         "projectKey": "own_resource", "resourceKind": "time_entry"},
        {"method": "GET", "path": W + "/expenses/categories", "permission": "read:expense",
         "projectKey": "allow"},
        {"method": "GET", "path": W + "/expenses/:expenseId", "permission": "read:expense",
         "projectKey": "own_resource", "resourceKind": "expense"},
        {"method": "GET", "path": W + "/expenses/:expenseId/files", "permission": "read:expense",
         "projectKey": "own_resource", "resourceKind": "expense"},
        {"method": "GET", "path": W + "/users", "permission": "read:user", "projectKey": "deny"},
        {"method": "DELETE", "path": W + "/users/:userId", "permission": "manage:user",
         "othersPermission": "manage:user", "projectKey": "deny"},
    ],
}
WS_OWNERS = {
    ("time_entry", "te_a1"): ("ws_a", "p1"),
    ("time_entry", "te_a2"): ("ws_a", "p2"),
    ("time_entry", "te_b1"): ("ws_b", "p1"),
    ("expense", "ex_a1"): ("ws_a", "p1"),
    ("expense", "ex_a2"): ("ws_a", "p2"),
    ("expense", "categories"): ("ws_a", "p1"),
}


def ws_values(api, row, k):
    """The parameter values a row is tried with for key `k`."""
    choices = []
    for seg in row["_segs"]:
        if not seg.startswith(":"):
            continue
        name = seg[1:]
        if name == "workspaceId":
            choices.append([("workspaceId", v) for v in ("ws_a", "ws_b", "ws_nowhere")])
        elif name == "userId":
            choices.append([("userId", v) for v in (k["createdBy"], "u_other", "u_nobody")])
        elif name == "projectId":
            choices.append([("projectId", v) for v in ("p1", "p2")])
        elif row.get("resourceKind") == "time_entry":
            choices.append([(name, v) for v in ("te_a1", "te_a2", "te_b1", "te_none")])
        elif row.get("resourceKind") == "expense":
            choices.append([(name, v) for v in ("ex_a1", "ex_a2")])
        else:
            choices.append([(name, "t_1")])
    combos = [[]]
    for options in choices:
        combos = [c + [o] for c in combos for o in options]
    return combos


def fill(pattern, values):
    path = pattern
    for name, value in values:
        path = path.replace(":" + name, value, 1)
    return path


def workspaces():
    api = Api(json.loads(json.dumps(WS_DOC)))
    p = "clk"
    members = [
        ("ws_a", "u_member", "member"), ("ws_a", "u_manager", "manager"), ("ws_a", "u_owner", "owner"),
        ("ws_a", "u_other", "member"), ("ws_b", "u_b_owner", "owner"),
    ]
    role_of = {(o, u): r for o, u, r in members}
    read = WS_DOC["presets"]["read"]
    keys = [
        key(p, "key_owner", "ws_a", "u_owner", "organization"),
        key(p, "key_manager", "ws_a", "u_manager", "organization"),
        key(p, "key_member_p1", "ws_a", "u_member", "project", "p1"),
        key(p, "key_owner_read", "ws_a", "u_owner", "organization", None, read),
        key(p, "key_b_owner", "ws_b", "u_b_owner", "organization"),
    ]
    cases = []
    for k in keys:
        role = role_of[(k["organizationId"], k["createdBy"])]
        for row in api.rows:
            for values in ws_values(api, row, k):
                target = api.base + fill(row["path"], values)
                shown = ", ".join("%s=%s" % v for v in values)
                cases.append(case(
                    "%s (%s): %s %s%s" % (k["id"], role, row["method"], row["path"],
                                          " with " + shown if shown else ""),
                    row["method"], target, k, api.decide(role, k, row["method"], target, WS_OWNERS),
                    bearer=len(cases) % 3 == 0))
    owner, member = keys[0], keys[2]
    revoked = key(p, "key_revoked", "ws_a", "u_owner", "organization", revokedAt="2026-11-01T00:00:00Z")
    removed = key(p, "key_removed", "ws_a", "u_left", "organization")
    keys += [revoked, removed]
    ck = "ck_live_" + "".join(_rng.choice(B62) for _ in range(30))
    ck += checksum(ck)
    test_key = make_secret(p, "test")
    other_prefix = make_secret("clx")
    special = [
        ("no key, in another workspace: missing_key before the tenant", "GET",
         "/api/v1/workspaces/ws_b/projects", None, deny("missing_key")),
        ("a well-formed key of the default prefix ck is invalid here", "GET",
         "/api/v1/workspaces/ws_a/projects", ck, deny("invalid_key")),
        ("a key of another prefix of the same length is invalid", "GET",
         "/api/v1/workspaces/ws_a/projects", other_prefix, deny("invalid_key")),
        ("a clk test key on a live deployment is invalid", "GET",
         "/api/v1/workspaces/ws_a/projects", test_key, deny("invalid_key")),
        ("a revoked key naming another workspace: key_revoked first", "GET",
         "/api/v1/workspaces/ws_b/projects", revoked, deny("key_revoked")),
        ("a key whose creator left, naming another workspace: key_revoked first", "GET",
         "/api/v1/workspaces/ws_b/projects", removed, deny("key_revoked")),
        ("an unknown endpoint in another workspace is not_found, not scope_violation", "GET",
         "/api/v1/workspaces/ws_b/nothing-here", owner, deny("not_found")),
        ("the workspace id is percent-decoded before it is compared", "GET",
         "/api/v1/workspaces/ws%5Fa/projects", owner, allow()),
        ("an encoded id of another workspace is still another workspace", "GET",
         "/api/v1/workspaces/ws%5Fb/projects", owner, deny("scope_violation")),
        ("an invalid workspace id matches nothing", "GET",
         "/api/v1/workspaces/ws.a/projects", owner, deny("not_found")),
        ("an empty workspace id matches nothing", "GET",
         "/api/v1/workspaces//projects", owner, deny("not_found")),
        ("the tenant check comes before the project scope (project key, other workspace, deny row)",
         "POST", "/api/v1/workspaces/ws_b/projects", member, deny("scope_violation")),
        ("the static segment wins: /expenses/categories is the categories row", "GET",
         "/api/v1/workspaces/ws_a/expenses/categories", member, allow()),
        ("the static segment wins even with a query string", "GET",
         "/api/v1/workspaces/ws_a/expenses/categories?page=2", member, allow()),
        ("the parameter is tried when the path fails under the static segment", "GET",
         "/api/v1/workspaces/ws_a/expenses/categories/files", member, allow()),
        ("the parameter row under a static-looking id stays a resource check", "GET",
         "/api/v1/workspaces/ws_a/expenses/ex_a2/files", member, deny("not_found")),
        ("a static segment is case-sensitive: Categories is an expense id", "GET",
         "/api/v1/workspaces/ws_a/expenses/Categories", member, deny("not_found")),
        ("HEAD is matched as GET with the tenant in the path", "HEAD",
         "/api/v1/workspaces/ws_b/projects", owner, deny("scope_violation")),
        ("the user id is percent-decoded before it is compared", "POST",
         "/api/v1/workspaces/ws_a/user/u%5Fowner/time-entries", owner, allow()),
        ("a user path of another workspace: scope_violation, not forbidden", "POST",
         "/api/v1/workspaces/ws_b/user/u_other/time-entries", owner, deny("scope_violation")),
        ("/me under a policy with its own prefix", "GET", "/api/v1/me", owner,
         allow(me={"apiKeyId": "key_owner", "organizationId": "ws_a", "role": "owner"})),
    ]
    for name, method, path, k, expect in special:
        cases.append(case(name, method, path, k, expect))
    return {
        "description": "A Clockify-shaped API (policies/workspaces.json): the workspace and the user in "
                       "the path, the key prefix clk, a static segment beside a parameter, param left "
                       "out, othersPermission. Every key x every row x workspace, user, project and "
                       "resource values, then the precedence at the edges.",
        "policy": "policies/workspaces.json",
        "now": NOW,
        "members": [{"organizationId": o, "userId": u, "role": r} for o, u, r in members],
        "keys": keys,
        "resources": [{"kind": kind, "id": rid, "organizationId": o, "projectId": pr}
                      for (kind, rid), (o, pr) in WS_OWNERS.items()],
        "cases": cases,
    }


# --- catalog: 200 permissions, the tenant as /orgs/:org --------------------------------------
KINDS = ["k%02d" % i for i in range(100)]
CAT_PERMISSIONS = [p for k in KINDS for p in ("read:" + k, "write:" + k)]
# The kinds whose permissions fall at the edges of each 64-bit word (index = 2 * kind + op).
EDGE_KINDS = [0, 31, 32, 63, 64, 95, 96, 99]
CAT_DOC = {
    "keyPrefix": "acme",
    "basePath": "/v2",
    "organizationParam": "org",
    "permissions": CAT_PERMISSIONS,
    "roles": {
        "viewer": [p for p in CAT_PERMISSIONS if p.startswith("read:")],
        "editor": CAT_PERMISSIONS,
    },
    "keyCreators": {"organization": ["editor"], "project": ["viewer", "editor"]},
    "presets": {"full": None},
    "endpoints": [{"method": "GET", "path": "/me", "permission": None, "projectKey": "allow", "serve": "me"}]
    + [row for k in KINDS for row in (
        {"method": "GET", "path": "/orgs/:org/%s" % k, "permission": "read:" + k, "projectKey": "filtered"},
        {"method": "POST", "path": "/orgs/:org/%s" % k, "permission": "write:" + k, "projectKey": "deny"},
        {"method": "GET", "path": "/orgs/:org/projects/:projectId/%s" % k, "permission": "read:" + k,
         "projectKey": "own_path"},
    )] + [
        {"method": "GET", "path": "/items/:itemId", "permission": "read:k99", "projectKey": "own_resource",
         "resourceKind": "item"},
        {"method": "GET", "path": "/items/featured", "permission": "read:k00", "projectKey": "allow"},
    ],
}
CAT_OWNERS = {("item", "it_1"): ("org_a", "p1"), ("item", "it_2"): ("org_a", "p2")}


def catalog():
    api = Api(json.loads(json.dumps(CAT_DOC)))
    p = "acme"
    members = [("org_a", "u_viewer", "viewer"), ("org_a", "u_editor", "editor"), ("org_b", "u_b", "editor")]
    role_of = {(o, u): r for o, u, r in members}
    high = ["read:k99", "write:k99", "read:k64", "write:k32", "read:k00"]
    keys = [
        key(p, "key_editor", "org_a", "u_editor", "organization"),
        key(p, "key_viewer", "org_a", "u_viewer", "organization"),
        key(p, "key_editor_high", "org_a", "u_editor", "organization", None, high),
        key(p, "key_viewer_p1", "org_a", "u_viewer", "project", "p1"),
        key(p, "key_b", "org_b", "u_b", "organization"),
    ]
    cases = []
    for k in keys:
        role = role_of[(k["organizationId"], k["createdBy"])]
        for index in EDGE_KINDS:
            kind = KINDS[index]
            targets = [
                ("GET", "/v2/orgs/org_a/" + kind), ("POST", "/v2/orgs/org_a/" + kind),
                ("GET", "/v2/orgs/org_b/" + kind), ("GET", "/v2/orgs/org_a/projects/p1/" + kind),
                ("GET", "/v2/orgs/org_a/projects/p2/" + kind),
            ]
            for method, target in targets:
                cases.append(case("%s (%s): %s %s" % (k["id"], role, method, target), method, target, k,
                                  api.decide(role, k, method, target, CAT_OWNERS)))
        for method, target in [("GET", "/v2/items/it_1"), ("GET", "/v2/items/it_2"),
                               ("GET", "/v2/items/featured"), ("GET", "/v2/items/it_none"),
                               ("GET", "/v2/orgs/org_a/k100"), ("DELETE", "/v2/orgs/org_a/k00")]:
            cases.append(case("%s (%s): %s %s" % (k["id"], role, method, target), method, target, k,
                              api.decide(role, k, method, target, CAT_OWNERS)))
    editor_high = keys[2]
    cases.append(case("/me lists effective permissions beyond the first 64, in policy order", "GET", "/v2/me",
                      editor_high, allow(me={
                          "apiKeyId": "key_editor_high",
                          "effectivePermissions": [x for x in CAT_PERMISSIONS if x in high],
                      })))
    return {
        "description": "An API of 100 resource kinds (policies/catalog.json): 200 permissions, so grants "
                       "sit in every word of the permission set; the tenant as /orgs/:org; the key "
                       "prefix acme; /items/featured beside /items/:itemId.",
        "policy": "policies/catalog.json",
        "now": NOW,
        "members": [{"organizationId": o, "userId": u, "role": r} for o, u, r in members],
        "keys": keys,
        "resources": [{"kind": kind, "id": rid, "organizationId": o, "projectId": pr}
                      for (kind, rid), (o, pr) in CAT_OWNERS.items()],
        "cases": cases,
    }


# --- large: 2,000 endpoints and 256 permissions (SPEC "Size") -------------------------------
LARGE_KINDS = ["r%03d" % i for i in range(128)]
LARGE_PERMISSIONS = [p for k in LARGE_KINDS for p in ("read:" + k, "write:" + k)]
LARGE_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def large_rows():
    """2,000 rows: each of 400 resources has a list, an item, a static segment beside the item
    (`/settings`), a user-scoped row and a project row, across five methods."""
    rows = []
    for n in range(400):
        kind = "c%03d" % n
        perm = LARGE_PERMISSIONS[(2 * n) % 256]
        write = LARGE_PERMISSIONS[(2 * n + 1) % 256]
        method = LARGE_METHODS[n % 5]
        rows += [
            {"method": "GET", "path": "/orgs/:org/%s" % kind, "permission": perm, "projectKey": "filtered"},
            {"method": method, "path": "/orgs/:org/%s/:itemId" % kind, "permission": write,
             "projectKey": "deny"},
            {"method": method, "path": "/orgs/:org/%s/settings" % kind, "permission": perm, "projectKey": "allow"},
            {"method": "GET", "path": "/orgs/:org/users/:userId/%s" % kind, "permission": perm,
             "othersPermission": "read:r127", "projectKey": "allow"},
            {"method": "GET", "path": "/orgs/:org/projects/:projectId/%s" % kind, "permission": perm,
             "projectKey": "own_path"},
        ]
    # The last row needs the 256th permission.
    rows[-1]["permission"] = LARGE_PERMISSIONS[255]
    rows[0] = {"method": "GET", "path": "/me", "permission": None, "projectKey": "allow", "serve": "me"}
    return rows


LARGE_DOC = {
    "keyPrefix": "big",
    "basePath": "/v1",
    "organizationParam": "org",
    "userParam": "userId",
    "permissions": LARGE_PERMISSIONS,
    "roles": {"owner": LARGE_PERMISSIONS, "reader": [p for p in LARGE_PERMISSIONS if p.startswith("read:")]},
    "keyCreators": {"organization": ["owner"], "project": ["owner", "reader"]},
    "presets": {"full": None},
    "endpoints": large_rows(),
}


def large():
    api = Api(json.loads(json.dumps(LARGE_DOC)))
    assert len(api.rows) == 2000 and len(LARGE_PERMISSIONS) == 256
    p = "big"
    members = [("org_a", "u_owner", "owner"), ("org_a", "u_reader", "reader"), ("org_a", "u_x", "reader")]
    role_of = {(o, u): r for o, u, r in members}
    keys = [
        key(p, "key_big_owner", "org_a", "u_owner", "organization"),
        key(p, "key_big_last", "org_a", "u_owner", "organization", None, [LARGE_PERMISSIONS[255]]),
        key(p, "key_big_reader_p1", "org_a", "u_reader", "project", "p1"),
    ]
    cases = []
    picks = [1, 2, 3, 4, 5, 997, 998, 1000, 1001, 1002, 1003, 1004, 1995, 1996, 1997, 1998, 1999]
    for k in keys:
        role = role_of[(k["organizationId"], k["createdBy"])]
        for i in picks:
            row = api.rows[i]
            for org in ("org_a", "org_b"):
                target = api.base + row["path"].replace(":org", org).replace(":itemId", "it_1") \
                    .replace(":userId", "u_x" if i % 2 else k["createdBy"]).replace(":projectId", "p1")
                cases.append(case("%s (%s): endpoints[%d] %s %s" % (k["id"], role, i, row["method"], target),
                                  row["method"], target, k, api.decide(role, k, row["method"], target, {})))
        for method, target in [("GET", "/v1/orgs/org_a/c399/settings"), ("PATCH", "/v1/orgs/org_a/c398/settings"),
                               ("GET", "/v1/orgs/org_a/c400"), ("GET", "/v1/orgs/org_a/projects/p2/c001")]:
            cases.append(case("%s (%s): %s %s" % (k["id"], role, method, target), method, target, k,
                              api.decide(role, k, method, target, {})))
    cases.append(case("/me of a key granted only the 256th permission", "GET", "/v1/me", keys[1],
                      allow(me={"apiKeyId": "key_big_last", "effectivePermissions": [LARGE_PERMISSIONS[255]]})))
    return {
        "description": "A policy of 2,000 endpoints and 256 permissions (policies/large.json): rows at the "
                       "start, middle and end of the table, the 256th permission, the tenant and the user "
                       "in the path, a static segment beside a parameter.",
        "policy": "policies/large.json",
        "now": NOW,
        "members": [{"organizationId": o, "userId": u, "role": r} for o, u, r in members],
        "keys": keys,
        "resources": [],
        "cases": cases,
    }


# --- examples/clockify: the walkthrough's policy, checked like the others ----------------------
CLOCKIFY_DIR = os.path.join(HERE, "..", "examples", "clockify")


def clockify():
    doc = json.load(open(os.path.join(CLOCKIFY_DIR, "policy.json")))
    api = Api(json.loads(json.dumps(doc)))
    p = doc["keyPrefix"]
    members = [("ws_acme", "u_owner", "owner"), ("ws_acme", "u_manager", "manager"),
               ("ws_acme", "u_member", "member"), ("ws_acme", "u_other", "member"), ("ws_globex", "u_g", "owner")]
    role_of = {(o, u): r for o, u, r in members}
    keys = [
        key(p, "key_owner_all", "ws_acme", "u_owner", "organization"),
        key(p, "key_manager_read", "ws_acme", "u_manager", "organization", None, doc["presets"]["read"]),
        key(p, "key_member_timer", "ws_acme", "u_member", "organization", None, doc["presets"]["time-tracking"]),
        key(p, "key_member_web", "ws_acme", "u_member", "project", "p_web"),
    ]
    owners = {("time_entry", "te_web"): ("ws_acme", "p_web"), ("time_entry", "te_app"): ("ws_acme", "p_app"),
              ("expense", "ex_web"): ("ws_acme", "p_web")}
    values = {"workspaceId": ["ws_acme", "ws_globex"], "projectId": ["p_web", "p_app"],
              "id": ["te_web", "te_app"], "expenseId": ["ex_web", "ex_none"]}
    cases = []
    for k in keys:
        role = role_of[(k["organizationId"], k["createdBy"])]
        for row in api.rows:
            combos = [[]]
            for seg in row["_segs"]:
                if not seg.startswith(":"):
                    continue
                name = seg[1:]
                options = [k["createdBy"], "u_other"] if name == "userId" else values.get(name, ["x_1"])
                combos = [c + [(name, v)] for c in combos for v in options]
            for combo in combos:
                target = api.base + fill(row["path"], combo)
                cases.append(case("%s (%s): %s %s" % (k["id"], role, row["method"], target), row["method"], target,
                                  k, api.decide(role, k, row["method"], target, owners)))
    return {
        "description": "examples/clockify: every key x every row of the walkthrough's Clockify policy, with "
                       "workspace, user, project and resource values on both sides of each rule.",
        "policy": "policy.json",
        "now": NOW,
        "members": [{"organizationId": o, "userId": u, "role": r} for o, u, r in members],
        "keys": keys,
        "resources": [{"kind": kind, "id": rid, "organizationId": o, "projectId": pr}
                      for (kind, rid), (o, pr) in owners.items()],
        "cases": cases,
    }


def main():
    os.makedirs(os.path.join(OUT, "policies"), exist_ok=True)
    write_policy("workspaces.json", WS_DOC)
    write_policy("catalog.json", CAT_DOC)
    write_policy("large.json", LARGE_DOC)
    total = write("workspaces.json", workspaces()) + write("catalog.json", catalog()) + write("large.json", large())
    doc = clockify()
    with open(os.path.join(CLOCKIFY_DIR, "vectors.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("wrote %d cases (and %d in examples/clockify/vectors.json)" % (total, len(doc["cases"])))


if __name__ == "__main__":
    main()
