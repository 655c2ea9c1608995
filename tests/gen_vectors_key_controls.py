#!/usr/bin/env python3
"""Writes tests/vectors/key_controls.json: SPEC "Key controls" — keys of several projects
(`scopedProjectIds`) and address allow-lists (`allowedCidrs`, a case's `clientIp`), under Align.

Run from the repository root: python3 tests/gen_vectors_key_controls.py
Shares the key format, the expectations and the writer with gen_vectors.py.
"""
import random

import gen_vectors as g

_rng = random.Random(20261204)


def secret():
    prefix = "ck_live_"
    body = "".join(_rng.choice(g.B62) for _ in range(30))
    return prefix + body + g.checksum(prefix + body)


def key(kid, creator, scope, projects=None, cidrs=None, permissions=None, **extra):
    k = {"secret": secret(), "id": kid, "name": kid.replace("_", " "), "organizationId": "org_a",
         "createdBy": creator, "scope": scope, "permissions": permissions, "createdAt": g.CREATED,
         "revokedAt": extra.pop("revokedAt", None), "expiresAt": None}
    if projects is not None:
        k["scopedProjectIds"] = projects
    if cidrs is not None:
        k["allowedCidrs"] = cidrs
    k.update(extra)
    return k


def case(name, method, path, k, expect, ip=None):
    c = g.case(name, method, path, g.xkey(k), expect)
    if ip is not None:
        c["clientIp"] = ip
    return c


def build():
    many = key("key_ctl_many", "u_engineer", "project", projects=["p3", "p1", "p10"])
    solo = key("key_ctl_solo", "u_engineer", "project", projects=["p1"])
    v4 = key("key_ctl_v4", "u_admin", "organization", cidrs=["203.0.113.0/24", "198.51.100.7"])
    v6 = key("key_ctl_v6", "u_engineer", "project", projects=["p1", "p2"], cidrs=["2001:db8::/32"])
    gone = key("key_ctl_gone", "u_admin", "organization", cidrs=["203.0.113.0/24"],
               revokedAt="2026-11-01T00:00:00Z")
    left = key("key_ctl_left", "u_former", "organization", cidrs=["203.0.113.0/24"])
    read = key("key_ctl_read", "u_admin", "organization", cidrs=["0.0.0.0/0", "::/0"],
               permissions=["read:project"])
    limited = key("key_ctl_limits", "u_admin", "organization", rateLimit={"perSecond": 5},
                  quota={"limit": 1000, "period": "month"})
    keys = [many, solo, v4, v6, gone, left, read, limited]
    resources = [
        {"kind": "time_entry", "id": "te_ctl_p1", "organizationId": "org_a", "projectId": "p1"},
        {"kind": "time_entry", "id": "te_ctl_p3", "organizationId": "org_a", "projectId": "p3"},
        {"kind": "time_entry", "id": "te_ctl_p4", "organizationId": "org_a", "projectId": "p4"},
        {"kind": "time_entry", "id": "te_ctl_b", "organizationId": "org_b", "projectId": "p1"},
    ]
    A = "/api/v1"
    me_many = {"scope": "project", "scopedProjectId": None, "scopedProjectIds": ["p1", "p10", "p3"]}
    cases = [
        # Several projects.
        case("several projects: own_path allows each of them (p1)", "GET", A + "/projects/p1/entries", many, g.allow()),
        case("several projects: own_path allows each of them (p10)", "GET", A + "/projects/p10/time-entries", many, g.allow()),
        case("several projects: own_path allows each of them (p3, write)", "POST", A + "/projects/p3/entries", many, g.allow()),
        case("several projects: a project not among them is scope_violation", "GET", A + "/projects/p2/entries", many, g.deny("scope_violation")),
        case("several projects: a prefix of one of them is another project", "GET", A + "/projects/p/entries", many, g.deny("scope_violation")),
        case("several projects: an id that only extends one is another project", "GET", A + "/projects/p100/entries", many, g.deny("scope_violation")),
        case("several projects: a percent-encoded id is decoded before it is compared", "GET", A + "/projects/p%31/entries", many, g.allow()),
        case("several projects: own_resource in one of them is allowed (p1)", "PATCH", A + "/time-entries/te_ctl_p1", many, g.allow()),
        case("several projects: own_resource in one of them is allowed (p3)", "PATCH", A + "/time-entries/te_ctl_p3", many, g.allow()),
        case("several projects: own_resource in another project is not_found", "PATCH", A + "/time-entries/te_ctl_p4", many, g.deny("not_found")),
        case("several projects: own_resource of another organization is not_found", "PATCH", A + "/time-entries/te_ctl_b", many, g.deny("not_found")),
        case("several projects: an unknown resource is not_found", "PATCH", A + "/time-entries/te_ctl_none", many, g.deny("not_found")),
        case("several projects: filtered rows name them all, sorted, joined by commas", "GET", A + "/projects", many, g.allow("p1,p10,p3")),
        case("several projects: every filtered row", "GET", A + "/search?q=x", many, g.allow("p1,p10,p3")),
        case("several projects: organization-wide endpoints stay refused", "GET", A + "/users", many, g.deny("scope_violation")),
        case("several projects: /me lists them, scopedProjectId null", "GET", A + "/me", many, g.allow(me=me_many)),
        case("one project in scopedProjectIds: filtered rows name it", "GET", A + "/projects", solo, g.allow("p1")),
        case("one project in scopedProjectIds: /me shows it in both fields", "GET", A + "/me", solo,
             g.allow(me={"scopedProjectId": "p1", "scopedProjectIds": ["p1"]})),
        case("one project in scopedProjectIds: own_path", "GET", A + "/projects/p1/entries", solo, g.allow()),
        case("one project in scopedProjectIds: another project", "GET", A + "/projects/p10/entries", solo, g.deny("scope_violation")),
        # Address allow-lists.
        case("allow-list: an address in a block is allowed", "GET", A + "/projects", v4, g.allow(), ip="203.0.113.45"),
        case("allow-list: a single address is a block of one", "GET", A + "/projects", v4, g.allow(), ip="198.51.100.7"),
        case("allow-list: its neighbour is not", "GET", A + "/projects", v4, g.deny("forbidden"), ip="198.51.100.8"),
        case("allow-list: an address in no block is forbidden", "GET", A + "/projects", v4, g.deny("forbidden"), ip="192.0.2.1"),
        case("allow-list: an unknown address is forbidden", "GET", A + "/projects", v4, g.deny("forbidden")),
        case("allow-list: an unreadable address is forbidden", "GET", A + "/projects", v4, g.deny("forbidden"), ip="203.0.113.x"),
        case("allow-list: an IPv6 client of an IPv4 list is forbidden", "GET", A + "/projects", v4, g.deny("forbidden"), ip="2001:db8::1"),
        case("allow-list: the IPv4-mapped IPv6 form of an address in a block is that address", "GET", A + "/projects", v4, g.allow(), ip="::ffff:203.0.113.9"),
        case("allow-list: judged before the endpoint (an unknown one is forbidden, not not_found)", "GET", A + "/nope", v4, g.deny("forbidden"), ip="192.0.2.1"),
        case("allow-list: judged before the scope", "GET", A + "/users", v6, g.deny("forbidden"), ip="192.0.2.1"),
        case("allow-list: judged before the permission", "POST", A + "/projects", read, g.deny("forbidden"), ip="192.0.2.1"),
        case("allow-list: an allowed address then meets the endpoint check", "GET", A + "/nope", v4, g.deny("not_found"), ip="203.0.113.1"),
        case("allow-list: an allowed address then meets the permission check", "POST", A + "/projects", read, g.deny("forbidden"), ip="192.0.2.1"),
        case("allow-list: /0 blocks of both families allow every address (IPv4)", "GET", A + "/projects", read, g.allow(), ip="192.0.2.1"),
        case("allow-list: /0 blocks of both families allow every address (IPv6)", "GET", A + "/projects", read, g.allow(), ip="2001:db8::5"),
        case("allow-list: /0 blocks still refuse an unknown address", "GET", A + "/projects", read, g.deny("forbidden")),
        case("allow-list: IPv6 block, an address in it", "GET", A + "/projects/p2/entries", v6, g.allow(), ip="2001:db8:1:2::3"),
        case("allow-list: IPv6 block, an address outside it", "GET", A + "/projects/p2/entries", v6, g.deny("forbidden"), ip="2001:db9::1"),
        case("allow-list: IPv6 block, then the project scope", "GET", A + "/projects/p3/entries", v6, g.deny("scope_violation"), ip="2001:db8::1"),
        case("allow-list: /me from an allowed address lists the blocks", "GET", A + "/me", v4,
             g.allow(me={"allowedCidrs": ["203.0.113.0/24", "198.51.100.7/32"]}), ip="203.0.113.2"),
        case("allow-list: /me from another address is forbidden", "GET", A + "/me", v4, g.deny("forbidden"), ip="192.0.2.1"),
        case("allow-list: a revoked key is key_revoked whatever the address", "GET", A + "/projects", gone, g.deny("key_revoked"), ip="192.0.2.1"),
        case("allow-list: a key whose creator left is key_revoked whatever the address", "GET", A + "/projects", left, g.deny("key_revoked"), ip="192.0.2.1"),
        case("allow-list: a key without one ignores the address", "GET", A + "/projects", limited, g.allow(), ip="192.0.2.1"),
        case("limits: a key's own rate and quota are shown by /me", "GET", A + "/me", limited,
             g.allow(me={"rateLimit": {"perSecond": 5}, "quota": {"limit": 1000, "period": "month"}, "allowedCidrs": None})),
    ]
    return {
        "description": "SPEC \"Key controls\": keys of several projects (scopedProjectIds) and address allow-lists (allowedCidrs, clientIp)",
        "now": "2026-11-23T12:00:00Z",
        "members": g.world_members(),
        "keys": keys,
        "resources": resources,
        "cases": cases,
    }


if __name__ == "__main__":
    print("%-30s %4d cases" % ("key_controls.json", g.write("key_controls.json", build())))
