#!/usr/bin/env python3
"""A stand-in for Keycloak in tollgate's tests (Keycloak cannot be installed on these machines).

It reproduces the shapes of Keycloak's documented REST API that tollgate uses, with real RS256
signatures from a generated RSA key:
  OpenID Connect, per realm, under /realms/{realm}:
    GET  /.well-known/openid-configuration
    GET  /protocol/openid-connect/certs              (a signing key and an encryption key, as Keycloak lists)
    POST /protocol/openid-connect/auth/device        (RFC 8628: device_code, user_code, verification_uri[_complete])
    POST /protocol/openid-connect/token              (device_code, client_credentials, refresh_token grants;
                                                       authorization_pending, slow_down, expired_token, access_denied, invalid_grant)
    POST /protocol/openid-connect/logout             (refresh_token: ends that session)
  Admin REST, under /admin/realms (a bearer token of the admin client, from the master realm):
    GET  /{realm}                                    (realm, enabled, displayName)
    GET  /{realm}/users/count
    GET  /{realm}/client-session-stats               ([{id, clientId, active, offline}], counts as strings)
    GET  /{realm}/group-by-path/{path}               ({id, name, path})
    GET  /{realm}/groups/{id}/members?first=&max=    ([{id, username}])
    GET  /{realm}/users/{id}/sessions                ([{id, username, clients}])
    POST /{realm}/logout-all
    POST /{realm}/users/{id}/logout
Test controls (not Keycloak's), under /_test: seed realms and users, approve or deny a device code,
make the next poll answer slow_down, mint a token with any claims/alg/key, read what was called.

Usage: keycloak-standin.py PORT_FILE   (binds a free loopback port and writes it to PORT_FILE)
"""
import base64, json, secrets, sys, threading, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse, unquote

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uint(n: int) -> str:
    return b64(n.to_bytes((n.bit_length() + 7) // 8, "big"))


KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)   # signs "wrongly signed" tokens
KID = "standin-" + secrets.token_hex(4)


def jwk(key, kid, use="sig", alg="RS256"):
    pub = key.public_key().public_numbers()
    return {"kid": kid, "kty": "RSA", "alg": alg, "use": use, "n": uint(pub.n), "e": uint(pub.e)}


def sign(claims: dict, alg="RS256", kid=KID, key=None) -> str:
    header = {"alg": alg, "typ": "JWT"}
    if kid is not None:
        header["kid"] = kid
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    if alg == "none":
        return signing_input + "."
    signature = (key or KEY).sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + b64(signature)


LOCK = threading.Lock()
STATE = {}


def reset():
    STATE.clear()
    STATE.update({
        "base": "",            # set from the Host header of the first request
        "realms": {},          # name -> {enabled, displayName, users: {id: {username, roles, tenant_id, groups: [path]}}, groups: {path: id}}
        "clients": {"tollgate": {"secret": None}, "tollgate-bot": {"secret": "bot-secret"}, "tollgate-admin": {"secret": "admin-secret"}},
        "service_accounts": {"tollgate-bot": {"username": "service-account-tollgate-bot", "roles": ["tollgate-operator"]},
                             "tollgate-admin": {"username": "service-account-tollgate-admin", "roles": ["admin"]}},
        "admin_tokens": set(),   # what the admin REST accepts: the admin client's tokens from the master realm
        "devices": {},         # device_code -> {user_code, realm, client, expires, approved_by, denied, slow_down, interval}
        "sessions": {},        # refresh token -> {realm, user_id, client, alive}
        "user_sessions": {},   # realm -> {user_id: [session ids]}
        "calls": [],           # (method, path) of every admin call
        "access_lifetime": 300,
    })


reset()


def realm(name):
    return STATE["realms"].setdefault(name, {"enabled": True, "displayName": name, "users": {}, "groups": {}})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=None, ctype="application/json"):
        data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def form(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n).decode() if n else ""
        if (self.headers.get("Content-Type") or "").startswith("application/json"):
            return json.loads(raw or "{}")
        return {k: v[0] for k, v in parse_qs(raw).items()}

    def do_GET(self):
        self.route("GET", {})

    def do_POST(self):
        self.route("POST", self.form())

    def route(self, method, body):
        url = urlparse(self.path)
        parts = [unquote(p) for p in url.path.strip("/").split("/")]
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        with LOCK:
            if not STATE["base"]:
                STATE["base"] = "http://" + self.headers.get("Host", "127.0.0.1")
            try:
                if parts[0] == "_test":
                    return self.test(parts[1:], body)
                if parts[0] == "realms" and len(parts) >= 2:
                    return self.oidc(method, parts[1], parts[2:], body)
                if parts[0] == "admin" and len(parts) >= 3 and parts[1] == "realms":
                    return self.admin(method, parts[2], parts[3:], query)
                return self.reply(404, {"error": "not found"})
            except Exception as e:   # a bug here must show in the test, not hang it
                return self.reply(500, {"error": "standin", "error_description": repr(e)})

    # OpenID Connect
    def issuer(self, r):
        return f"{STATE['base']}/realms/{r}"

    def token_for(self, r, client, user_id, user):
        now = int(time.time())
        claims = {"exp": now + STATE["access_lifetime"], "iat": now, "jti": str(uuid.uuid4()), "iss": self.issuer(r),
                  "aud": "account", "sub": user_id, "typ": "Bearer", "azp": client, "preferred_username": user["username"],
                  "realm_access": {"roles": list(user.get("roles", [])) + ["offline_access"]}}
        if user.get("tenant_id"):
            claims["tenant_id"] = user["tenant_id"]
        refresh = secrets.token_urlsafe(24)
        STATE["sessions"][refresh] = {"realm": r, "user_id": user_id, "client": client, "alive": True}
        return {"access_token": sign(claims), "expires_in": STATE["access_lifetime"], "refresh_expires_in": 1800,
                "refresh_token": refresh, "token_type": "Bearer", "scope": "openid"}

    def client_ok(self, body):
        c = STATE["clients"].get(body.get("client_id"))
        return c is not None and (c["secret"] is None or c["secret"] == body.get("client_secret"))

    def oidc(self, method, r, rest, body):
        path = "/".join(rest)
        if path == ".well-known/openid-configuration":
            base = self.issuer(r) + "/protocol/openid-connect"
            return self.reply(200, {"issuer": self.issuer(r), "token_endpoint": base + "/token", "jwks_uri": base + "/certs",
                                    "device_authorization_endpoint": base + "/auth/device", "end_session_endpoint": base + "/logout"})
        if path == "protocol/openid-connect/certs":
            return self.reply(200, {"keys": [jwk(KEY, KID), jwk(OTHER, "enc-" + KID, use="enc", alg="RSA-OAEP")]})
        if method != "POST":
            return self.reply(405, {"error": "method not allowed"})
        if not self.client_ok(body):
            return self.reply(401, {"error": "unauthorized_client", "error_description": "Invalid client or Invalid client credentials"})
        if path == "protocol/openid-connect/auth/device":
            device, user_code = secrets.token_urlsafe(16), secrets.token_hex(2).upper() + "-" + secrets.token_hex(2).upper()
            STATE["devices"][device] = {"user_code": user_code, "realm": r, "client": body["client_id"], "expires": time.time() + 600,
                                        "approved_by": None, "denied": False, "slow_down": 0, "interval": 1}
            uri = f"{STATE['base']}/realms/{r}/device"
            return self.reply(200, {"device_code": device, "user_code": user_code, "verification_uri": uri,
                                    "verification_uri_complete": f"{uri}?user_code={user_code}", "expires_in": 600, "interval": 1})
        if path == "protocol/openid-connect/logout":
            s = STATE["sessions"].get(body.get("refresh_token"))
            if s:
                s["alive"] = False
            return self.reply(204)
        if path != "protocol/openid-connect/token":
            return self.reply(404, {"error": "not found"})
        grant = body.get("grant_type")
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            d = STATE["devices"].get(body.get("device_code"))
            if d is None:
                return self.reply(400, {"error": "invalid_grant", "error_description": "Device code not valid"})
            if time.time() > d["expires"]:
                return self.reply(400, {"error": "expired_token", "error_description": "Device code is expired"})
            if d["denied"]:
                return self.reply(400, {"error": "access_denied", "error_description": "Takes precedence over everything"})
            if d["slow_down"] > 0:
                d["slow_down"] -= 1
                return self.reply(400, {"error": "slow_down", "error_description": "Slow down"})
            if d["approved_by"] is None:
                return self.reply(400, {"error": "authorization_pending", "error_description": "The authorization request is still pending"})
            uid = d["approved_by"]
            del STATE["devices"][body["device_code"]]
            return self.reply(200, self.token_for(r, d["client"], uid, realm(r)["users"][uid]))
        if grant == "client_credentials":
            account = STATE["service_accounts"].get(body["client_id"])
            if account is None or STATE["clients"][body["client_id"]]["secret"] is None:
                return self.reply(400, {"error": "unauthorized_client", "error_description": "Client not enabled to retrieve service account"})
            t = self.token_for(r, body["client_id"], "sa-" + body["client_id"], account)
            if body["client_id"] == "tollgate-admin" and r == "master":
                STATE["admin_tokens"].add(t["access_token"])
            t.pop("refresh_token")
            t["refresh_expires_in"] = 0
            return self.reply(200, t)
        if grant == "refresh_token":
            s = STATE["sessions"].get(body.get("refresh_token"))
            if s is None or not s["alive"]:
                return self.reply(400, {"error": "invalid_grant", "error_description": "Session not active"})
            s["alive"] = False
            user = realm(s["realm"])["users"][s["user_id"]]
            return self.reply(200, self.token_for(s["realm"], s["client"], s["user_id"], user))
        return self.reply(400, {"error": "unsupported_grant_type"})

    # Admin REST
    def admin(self, method, r, rest, query):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in STATE["admin_tokens"]:
            return self.reply(401, {"error": "HTTP 401 Unauthorized"})
        STATE["calls"].append([method, "/admin/realms/" + "/".join([r] + rest)])
        if r not in STATE["realms"]:
            return self.reply(404, {"error": "Realm not found."})
        rm = STATE["realms"][r]
        if not rest:
            return self.reply(200, {"id": r, "realm": r, "enabled": rm["enabled"], "displayName": rm["displayName"]})
        if rest == ["users", "count"]:
            return self.reply(200, len(rm["users"]))
        if rest == ["client-session-stats"]:
            active = sum(len(v) for v in STATE["user_sessions"].get(r, {}).values())
            return self.reply(200, [{"id": "c-tollgate", "clientId": "gateway-web", "active": str(active), "offline": str(active // 2)}] if active else [])
        if rest[0] == "group-by-path":
            path = "/" + "/".join(rest[1:])
            gid = rm["groups"].get(path)
            return self.reply(200, {"id": gid, "name": path.rsplit("/", 1)[-1], "path": path}) if gid else self.reply(404, {"error": "Group path does not exist"})
        if rest[0] == "groups" and len(rest) == 3 and rest[2] == "members":
            path = next((p for p, i in rm["groups"].items() if i == rest[1]), None)
            if path is None:
                return self.reply(404, {"error": "Could not find group by id"})
            members = [{"id": uid, "username": u["username"]} for uid, u in sorted(rm["users"].items()) if path in u.get("groups", [])]
            first, count = int(query.get("first", 0)), int(query.get("max", 100))
            return self.reply(200, members[first:first + count])
        if rest[0] == "users" and len(rest) == 3 and rest[2] == "sessions":
            ids = STATE["user_sessions"].get(r, {}).get(rest[1], [])
            return self.reply(200, [{"id": s, "username": rm["users"][rest[1]]["username"], "clients": {"c-tollgate": "gateway-web"}} for s in ids])
        if method == "POST" and rest == ["logout-all"]:
            STATE["user_sessions"][r] = {}
            return self.reply(200, {})
        if method == "POST" and rest[0] == "users" and len(rest) == 3 and rest[2] == "logout":
            STATE["user_sessions"].get(r, {}).pop(rest[1], None)
            return self.reply(204)
        return self.reply(404, {"error": "not found"})

    # Test controls
    def test(self, rest, body):
        what = rest[0] if rest else ""
        if what == "reset":
            reset()
            return self.reply(200, {})
        if what == "user":   # {realm, id, username, roles, tenant_id?, groups?, sessions?}
            rm = realm(body["realm"])
            rm["users"][body["id"]] = {"username": body["username"], "roles": body.get("roles", []), "tenant_id": body.get("tenant_id"),
                                       "groups": body.get("groups", [])}
            for g in body.get("groups", []):
                rm["groups"].setdefault(g, "g-" + secrets.token_hex(4))
            if body.get("sessions"):
                STATE["user_sessions"].setdefault(body["realm"], {})[body["id"]] = ["s-" + secrets.token_hex(4) for _ in range(body["sessions"])]
            return self.reply(200, {})
        if what == "realm":   # {realm, enabled, displayName}
            rm = realm(body["realm"])
            rm["enabled"] = body.get("enabled", True)
            rm["displayName"] = body.get("displayName", body["realm"])
            return self.reply(200, {})
        if what == "approve":   # {user_code, user_id} or {user_code, deny: true} or {user_code, slow_down: N}
            d = next((d for d in STATE["devices"].values() if d["user_code"] == body["user_code"]), None)
            if d is None:
                return self.reply(404, {"error": "no such user code"})
            if body.get("deny"):
                d["denied"] = True
            elif body.get("slow_down"):
                d["slow_down"] = body["slow_down"]
            else:
                d["approved_by"] = body["user_id"]
            return self.reply(200, {})
        if what == "devices":
            return self.reply(200, [d["user_code"] for d in STATE["devices"].values()])
        if what == "mint":   # {claims, alg?, kid?, wrong_key?}: any token, for the verifier's tests
            claims = dict(body["claims"])
            for k in ("iss",):
                if claims.get(k) == "$issuer":
                    claims[k] = self.issuer(body.get("realm", "ops"))
            token = sign(claims, alg=body.get("alg", "RS256"), kid=body.get("kid", KID), key=OTHER if body.get("wrong_key") else None)
            return self.reply(200, {"token": token})
        if what == "calls":
            return self.reply(200, STATE["calls"])
        if what == "sessions":   # {realm}: user id -> session count
            return self.reply(200, {u: len(s) for u, s in STATE["user_sessions"].get(body["realm"], {}).items()})
        if what == "access-lifetime":
            STATE["access_lifetime"] = body["seconds"]
            return self.reply(200, {})
        return self.reply(404, {"error": "unknown test control"})


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
