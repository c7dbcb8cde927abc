#!/usr/bin/env python3
"""make_seeds.py - writes the seed corpora of tests/fuzz/corpus/<target>/.

Each seed is a small, valid input as the target reads it: real protocol
messages for fuzz_codec, ledger scripts of ordinary request/reply exchanges
for fuzz_ledger, client byte streams and SCRAM exchanges for fuzz_startup,
and the shipped configurations for fuzz_conf.  The seeds are committed; run
this again only to change them (it rewrites the generated files, and leaves
alone the regression inputs other commits added).
"""
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def msg(t, body=b""):
    """A typed message: type byte, length word, body."""
    return t + struct.pack("!I", len(body) + 4) + body


def cstr(s):
    return s.encode() + b"\0"


def startup(kv, code=196608):
    body = struct.pack("!I", code) + b"".join(cstr(k) + cstr(v) for k, v in kv) + b"\0"
    return struct.pack("!I", len(body) + 4) + body


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def codec_seeds():
    bind = (cstr("") + cstr("s1") + struct.pack("!HH", 1, 0) + struct.pack("!H", 2)
            + struct.pack("!i", 2) + b"42" + struct.pack("!i", -1) + struct.pack("!HH", 1, 1))
    write("fuzz_codec", "simple_query", msg(b"Q", cstr("SELECT 1")) + msg(b"X"))
    write("fuzz_codec", "extended", msg(b"P", cstr("s1") + cstr("SELECT $1, $2") + struct.pack("!HII", 2, 23, 25))
          + msg(b"B", bind) + msg(b"D", b"P" + cstr("")) + msg(b"E", cstr("") + struct.pack("!i", 0))
          + msg(b"C", b"S" + cstr("s1")) + msg(b"S"))
    write("fuzz_codec", "backend_login", msg(b"R", struct.pack("!i", 10) + cstr("SCRAM-SHA-256") + b"\0")
          + msg(b"R", struct.pack("!i", 0)) + msg(b"S", cstr("server_version") + cstr("15.4"))
          + msg(b"K", struct.pack("!ii", 4242, 0x1234567)) + msg(b"Z", b"I"))
    write("fuzz_codec", "backend_result", msg(b"T", struct.pack("!H", 1) + cstr("x") + struct.pack("!IhIhih", 0, 0, 23, 4, -1, 0))
          + msg(b"D", struct.pack("!Hi", 1, 1) + b"1") + msg(b"C", cstr("SELECT 1")) + msg(b"Z", b"T"))
    write("fuzz_codec", "error", msg(b"E", b"S" + cstr("ERROR") + b"V" + cstr("ERROR") + b"C" + cstr("42P01")
          + b"M" + cstr('relation "t" does not exist') + b"P" + cstr("15") + b"\0") + msg(b"Z", b"E"))
    write("fuzz_codec", "notice", msg(b"N", b"S" + cstr("NOTICE") + b"C" + cstr("00000") + b"M" + cstr("hi")
          + b"D" + cstr("detail") + b"H" + cstr("hint") + b"\0"))


# The exchange seeds follow fuzz_exchange's layout: flags, iterations - 1,
# salt length - 1, salt, password length, password, nonce lengths - 1 and
# nonces, then (flip flag set) the flip's position and xor.

# Ledger script bytes: (arg << 3) | op.  Push: op 0, arg = kind + 10 * owner.
# Reply: op 3 (fast path) or 4 (slow), arg = index into REPLIES.
KINDS = ["PARSE", "BIND", "DESCRIBE_STMT", "DESCRIBE_PORTAL", "EXECUTE", "CLOSE", "SYNC",
         "QUERY", "FUNCTION", "FAKE"]
REPLIES = "123tTnDCIsZEVNSAGHdcW"


def push(kind, owner=0, extra=None):
    b = bytes([((KINDS.index(kind) + 10 * owner) << 3) | 0])
    return b + (bytes([extra]) if kind == "FAKE" else b"")


def reply(types, slow=False):
    return bytes([(REPLIES.index(t) << 3) | (4 if slow else 3) for t in types])


COPY_END = bytes([5])
POP_FAKE = bytes([6])
LOST = bytes([7])


def ledger_seeds():
    write("fuzz_ledger", "query", push("QUERY") + reply("TDDCZ"))
    write("fuzz_ledger", "extended", push("PARSE") + push("BIND") + push("DESCRIBE_PORTAL") + push("EXECUTE")
          + push("SYNC") + reply("12TDDC") + reply("Z", slow=True))
    write("fuzz_ledger", "error_skip", push("PARSE") + push("BIND") + push("EXECUTE") + push("SYNC")
          + reply("E") + reply("Z") + push("QUERY") + reply("EZ"))
    write("fuzz_ledger", "copy_in", push("QUERY") + reply("G") + push("SYNC") + COPY_END + reply("CZ"))
    write("fuzz_ledger", "fake_and_lost", push("PARSE", owner=1) + push("FAKE", extra=4) + push("BIND")
          + push("SYNC") + reply("1") + POP_FAKE + push("QUERY") + LOST + push("QUERY") + reply("NZ"))
    write("fuzz_ledger", "function_copyout", push("FUNCTION") + reply("VZ") + push("QUERY") + reply("HddcCZ"))


def client_first(nonce):
    return "n,,n=,r=" + nonce


def sasl_initial(data):
    return msg(b"p", cstr("SCRAM-SHA-256") + struct.pack("!i", len(data)) + data.encode())


def startup_seeds():
    alice = startup([("user", "alice"), ("database", "shop"), ("application_name", "psql")])
    final = "c=biws,r=clientnonce123fuzzServerNonce0123456789,p=" + "A" * 43 + "="
    write("fuzz_startup", "scram_alice", b"\0" + alice + sasl_initial(client_first("clientnonce123"))
          + msg(b"p", final.encode()))
    write("fuzz_startup", "ssl_then_mock", b"\0" + struct.pack("!II", 8, 80877103)
          + startup([("user", "nobody"), ("options", "-c search_path=x")], code=196610)
          + sasl_initial(client_first("abc")) + msg(b"p", b"c=biws,r=abc,p=AAAA"))
    write("fuzz_startup", "cancel", b"\0" + struct.pack("!IIii", 16, 80877102, 4242, 0x1234567))
    write("fuzz_startup", "md5_bob", b"\0" + startup([("user", "bob")])
          + msg(b"p", cstr("md5" + "0" * 32)))
    write("fuzz_startup", "exchange", b"\1" + bytes([0, 3, 15]) + b"saltsaltsaltsalt" + bytes([6]) + b"pencil"
          + bytes([9]) + b"abcdefghij" + bytes([7]) + b"ABCDEFGH")
    write("fuzz_startup", "exchange_flip", b"\1" + bytes([2, 0, 3]) + b"salt" + bytes([3]) + b"pwd"
          + bytes([3]) + b"nnnn" + bytes([3]) + b"ssss" + bytes([0, 70, 1]))
    sf = b"r=fuzzClientNonceSERVERnonce,s=c2FsdHNhbHQ=,i=2"
    write("fuzz_startup", "client_side", b"\3" + bytes([len(sf)]) + sf + b"v=" + b"A" * 43 + b"=")
    write("fuzz_startup", "verifier", b"\2" + b"SCRAM-SHA-256$4096:c2FsdHNhbHRzYWx0c2FsdA==$"
          + b"a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=:c3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3M=")


def conf_seeds():
    for name in ("test-minimal.yaml", "shardwire.yaml", "ecommerce.yaml"):
        shutil.copyfile(os.path.join(ROOT, "config", name), os.path.join(HERE, "corpus", "fuzz_conf", name))
    write("fuzz_conf", "flow.yaml", b"nodes:\n  - {name: shard0, host: db0, database: shop, user: postgres}\n"
          b"databases:\n  - {name: shop, default_node: shard0}\n"
          b"users:\n  - {name: app, auth: scram-sha-256, password: secret}\n"
          b"admin_users: [app]\n")


if __name__ == "__main__":
    codec_seeds()
    ledger_seeds()
    startup_seeds()
    conf_seeds()
