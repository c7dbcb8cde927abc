/*
 * test_scram.c - unit tests for the auth module: SCRAM-SHA-256 (verifier,
 * server side, client side) and md5.
 *
 * Both directions are pinned to the RFC 7677 section 3 exchange byte for
 * byte.  The verifier strings below were checked against a PostgreSQL 15
 * server: its pg_authid entries parse and re-format identically and re-derive
 * from the plaintext, and the RFC verifier installed as a role's password
 * accepts "pencil" from psql.  A reference proof computed here directly with
 * OpenSSL (not through the module) drives the server-side cases the module's
 * own client cannot produce ("y,," headers, extensions).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sw/auth.h"
#include "../../src/auth/scram_int.h"

/* ---- RFC 7677 section 3 ---- */

static const char rfc_password[] = "pencil";
static const char rfc_client_nonce[] = "rOprNGfwEbeRWgbNEkqO";
static const char rfc_server_nonce[] = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
static const uint8_t rfc_salt[16] = {0x5b, 0x6d, 0x99, 0x68, 0x9d, 0x12, 0x35, 0x8e,
                                     0xec, 0xa0, 0x4b, 0x14, 0x12, 0x36, 0xfa, 0x81};
static const char rfc_salt64[] = "W22ZaJ0SNY7soEsUEjb6gQ==";
static const char rfc_client_first[] = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
static const char rfc_server_first[] =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
static const char rfc_client_final[] =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
static const char rfc_server_final[] = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

/* sw_scram_secret_from_password("pencil", rfc_salt, 16, 4096) as text; the
 * same string set as a PostgreSQL 15 role's password accepts "pencil". */
static const char rfc_verifier[] =
    "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$"
    "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";

/* Written by PostgreSQL 15 (password_encryption = scram-sha-256). */
static const struct {
    const char *verifier, *password;
} pg_verifiers[] = {
    {"SCRAM-SHA-256$4096:Mqwynl3fY1J7/TTCgjhFuQ==$6xMEiFid0ihlvW7YuzwKO9ruc2+APr7BP73ftD4KBSU=:"
     "3/dKxSciLtVN4jUg3kkSXAvF4F9WMg397cAD/ppLnlY=",
     "pencil"},
    {"SCRAM-SHA-256$4096:AtiWBSk2vcVxcYkebIL2oQ==$speLMzFwxKTby96VsPZdIZ3obyK6NfsXt/cvhDLr3C4=:"
     "FA9VIpwRl/8WtqdWtwwc3i/GPUMyhhaQ8cIAxVlmUis=",
     "correct horse battery staple"},
};

/* Derived once: PBKDF2 at 4096 rounds is the slow part of every test. */
static sw_scram_secret rfc_secret;

static int group_setup(void **state)
{
    (void)state;
    return sw_scram_secret_from_password(rfc_password, rfc_salt, sizeof rfc_salt, 4096,
                                         &rfc_secret);
}

/* ---- reference client proof, straight from OpenSSL ---- */

/* Build "<wo_proof>,p=<proof>" for password against server_first, computing
 * the proof independently of the module. */
static void ref_client_final(const char *password, const uint8_t *salt, int salt_len, int iter,
                             const char *first_bare, const char *server_first,
                             const char *wo_proof, char *out, size_t outsz)
{
    uint8_t salted[32], ck[32], stored[32], sig[32], proof[32];
    unsigned int l = 0;
    char am[2048];
    unsigned char p64[64];

    assert_int_equal(PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, salt_len, iter,
                                       EVP_sha256(), 32, salted),
                     1);
    assert_non_null(HMAC(EVP_sha256(), salted, 32, (const unsigned char *)"Client Key", 10, ck, &l));
    assert_int_equal(EVP_Digest(ck, 32, stored, &l, EVP_sha256(), NULL), 1);
    int n = snprintf(am, sizeof am, "%s,%s,%s", first_bare, server_first, wo_proof);
    assert_true(n > 0 && (size_t)n < sizeof am);
    assert_non_null(HMAC(EVP_sha256(), stored, 32, (unsigned char *)am, (size_t)n, sig, &l));
    for (int i = 0; i < 32; i++) proof[i] = ck[i] ^ sig[i];
    EVP_EncodeBlock(p64, proof, 32);
    n = snprintf(out, outsz, "%s,p=%s", wo_proof, (char *)p64);
    assert_true(n > 0 && (size_t)n < outsz);
}

/* Server with the RFC secret after a successful server-first for
 * client_first; the server nonce is the RFC one. */
static void rfc_server(sw_scram_server *s, const char *client_first, char *sf, size_t sfsz)
{
    size_t n = 0;
    sw_scram_server_init(s, &rfc_secret);
    assert_int_equal(sw_scram_server_first(s, client_first, strlen(client_first),
                                           rfc_server_nonce, sf, sfsz, &n),
                     0);
    assert_int_equal(n, strlen(sf));
}

static int server_final_str(sw_scram_server *s, const char *msg)
{
    char out[SW_SCRAM_MSG_MAX];
    size_t n;
    return sw_scram_server_final(s, msg, strlen(msg), out, sizeof out, &n);
}

/* ---- RFC 7677 vector, both directions ---- */

static void test_rfc7677_server(void **state)
{
    (void)state;
    sw_scram_server s;
    char out[SW_SCRAM_MSG_MAX];
    size_t n = 0;

    rfc_server(&s, rfc_client_first, out, sizeof out);
    assert_string_equal(out, rfc_server_first);
    assert_int_equal(sw_scram_server_final(&s, rfc_client_final, strlen(rfc_client_final), out,
                                           sizeof out, &n),
                     0);
    assert_string_equal(out, rfc_server_final);
    assert_int_equal(n, strlen(rfc_server_final));
}

static void test_rfc7677_client(void **state)
{
    (void)state;
    sw_scram_client c;
    char out[SW_SCRAM_MSG_MAX];
    size_t n = 0;

    assert_int_equal(sw_scram_client_first_user(&c, "user", rfc_password, rfc_client_nonce, out,
                                                sizeof out, &n),
                     0);
    assert_string_equal(out, rfc_client_first);
    assert_int_equal(n, strlen(rfc_client_first));
    assert_int_equal(sw_scram_client_final(&c, rfc_server_first, strlen(rfc_server_first), out,
                                           sizeof out, &n),
                     0);
    assert_string_equal(out, rfc_client_final);
    assert_int_equal(n, strlen(rfc_client_final));
    /* The password must not outlive the proof. */
    for (size_t i = 0; i < sizeof c.password; i++) assert_int_equal(c.password[i], 0);
    assert_int_equal(sw_scram_client_verify(&c, rfc_server_final, strlen(rfc_server_final)), 0);
}

/* The reference proof reproduces the RFC's, so it can stand in for a client. */
static void test_rfc7677_reference_proof(void **state)
{
    (void)state;
    char out[SW_SCRAM_MSG_MAX];
    ref_client_final(rfc_password, rfc_salt, sizeof rfc_salt, 4096, rfc_client_first + 3,
                     rfc_server_first,
                     "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0", out, sizeof out);
    assert_string_equal(out, rfc_client_final);
}

/* ---- verifier ---- */

static void test_secret_rfc_pinned(void **state)
{
    (void)state;
    char buf[256];
    sw_scram_secret parsed;

    assert_int_equal(rfc_secret.iterations, 4096);
    assert_int_equal(rfc_secret.salt_len, 16);
    assert_memory_equal(rfc_secret.salt, rfc_salt, 16);
    assert_int_equal(sw_b64_encode(rfc_salt, sizeof rfc_salt, buf, sizeof buf), 24);
    assert_string_equal(buf, rfc_salt64);
    assert_int_equal(sw_scram_secret_format(&rfc_secret, buf, sizeof buf), 0);
    assert_string_equal(buf, rfc_verifier);
    assert_int_equal(sw_scram_secret_parse(rfc_verifier, &parsed), 0);
    assert_memory_equal(&parsed, &rfc_secret, sizeof parsed);
}

/* StoredKey checked against the RFC exchange alone: ClientKey = proof XOR
 * HMAC(StoredKey, AuthMessage) must hash to StoredKey. */
static void test_secret_rfc_independent(void **state)
{
    (void)state;
    static const char am[] =
        "n=user,r=rOprNGfwEbeRWgbNEkqO,"
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,"
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    uint8_t proof[33], sig[32], ck[32], h[32], server_sig[33];
    unsigned int l = 0;

    assert_int_equal(EVP_DecodeBlock(proof, (const unsigned char *)"dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", 44), 33);
    assert_non_null(HMAC(EVP_sha256(), rfc_secret.stored_key, 32, (const unsigned char *)am,
                         strlen(am), sig, &l));
    for (int i = 0; i < 32; i++) ck[i] = proof[i] ^ sig[i];
    assert_int_equal(EVP_Digest(ck, 32, h, &l, EVP_sha256(), NULL), 1);
    assert_memory_equal(h, rfc_secret.stored_key, 32);

    /* ServerKey: HMAC(ServerKey, AuthMessage) is the RFC's "v=". */
    assert_int_equal(EVP_DecodeBlock(server_sig, (const unsigned char *)rfc_server_final + 2, 44), 33);
    assert_non_null(HMAC(EVP_sha256(), rfc_secret.server_key, 32, (const unsigned char *)am,
                         strlen(am), sig, &l));
    assert_memory_equal(sig, server_sig, 32);
}

static void test_secret_postgres_roundtrip(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof pg_verifiers / sizeof pg_verifiers[0]; i++) {
        sw_scram_secret parsed, derived;
        char buf[256];
        assert_int_equal(sw_scram_secret_parse(pg_verifiers[i].verifier, &parsed), 0);
        assert_int_equal(sw_scram_secret_format(&parsed, buf, sizeof buf), 0);
        assert_string_equal(buf, pg_verifiers[i].verifier);
        assert_int_equal(sw_scram_secret_from_password(pg_verifiers[i].password, parsed.salt,
                                                       parsed.salt_len, parsed.iterations,
                                                       &derived),
                         0);
        assert_memory_equal(&derived, &parsed, sizeof parsed);
    }
}

static void test_secret_parse_bad(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "md553f48b7c4b76a86ce72276c5755f217d",
        "SCRAM-SHA-256",
        "SCRAM-SHA-256$",
        "SCRAM-SHA-1$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
        "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        /* iterations */
        "SCRAM-SHA-256$0:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
        "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$-1:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
        "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
        "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$99999999999:W22ZaJ0SNY7soEsUEjb6gQ==$"
        "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        /* salt */
        "SCRAM-SHA-256$4096:$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
        "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ=$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
        "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$4096:W22ZaJ0SNY7s=EsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
        "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        /* keys: missing, short, bad padding, trailing garbage */
        "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==",
        "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=",
        "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:",
        "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$W22ZaJ0SNY7soEsUEjb6gQ==:"
        "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
        "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU",
        "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
        "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=x",
        "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
        "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU= ",
        "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
        "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=:AAAA",
    };
    sw_scram_secret s;
    memset(&s, 0x5a, sizeof s);
    sw_scram_secret before = s;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (sw_scram_secret_parse(bad[i], &s) != -EINVAL) fail_msg("accepted: %s", bad[i]);
        assert_memory_equal(&s, &before, sizeof s); /* untouched on failure */
    }
    assert_int_equal(sw_scram_secret_parse(NULL, &s), -EINVAL);
    assert_int_equal(sw_scram_secret_parse(rfc_verifier, NULL), -EINVAL);
}

static void test_secret_from_password_args(void **state)
{
    (void)state;
    sw_scram_secret a, b;
    assert_int_equal(sw_scram_secret_from_password(NULL, rfc_salt, 16, 4096, &a), -EINVAL);
    assert_int_equal(sw_scram_secret_from_password("x", rfc_salt, 16, 0, &a), -EINVAL);
    assert_int_equal(sw_scram_secret_from_password("x", rfc_salt, 0, 4096, &a), -EINVAL);
    assert_int_equal(sw_scram_secret_from_password("x", rfc_salt, SW_SCRAM_MAX_SALT + 1, 4096, &a),
                     -EINVAL);

    /* A NULL salt draws a fresh 16-byte one each time. */
    assert_int_equal(sw_scram_secret_from_password("x", NULL, 0, 4096, &a), 0);
    assert_int_equal(sw_scram_secret_from_password("x", NULL, 0, 4096, &b), 0);
    assert_int_equal(a.salt_len, 16);
    assert_int_equal(b.salt_len, 16);
    assert_int_equal(a.iterations, 4096);
    assert_memory_not_equal(a.salt, b.salt, 16);
    assert_memory_not_equal(a.stored_key, b.stored_key, 32);

    /* A 64-byte salt (the maximum) survives a format/parse round trip. */
    uint8_t big[SW_SCRAM_MAX_SALT];
    for (int i = 0; i < SW_SCRAM_MAX_SALT; i++) big[i] = (uint8_t)(i * 7);
    char buf[256];
    assert_int_equal(sw_scram_secret_from_password("x", big, sizeof big, 1, &a), 0);
    assert_int_equal(sw_scram_secret_format(&a, buf, sizeof buf), 0);
    assert_int_equal(sw_scram_secret_parse(buf, &b), 0);
    assert_memory_equal(&a, &b, sizeof a);
}

static void test_secret_format_enospc(void **state)
{
    (void)state;
    char buf[sizeof rfc_verifier];
    assert_int_equal(sw_scram_secret_format(&rfc_secret, buf, sizeof buf - 1), -ENOSPC);
    assert_int_equal(sw_scram_secret_format(&rfc_secret, buf, 0), -ENOSPC);
    assert_int_equal(sw_scram_secret_format(&rfc_secret, buf, sizeof buf), 0);
    assert_string_equal(buf, rfc_verifier);
    sw_scram_secret bad = rfc_secret;
    bad.salt_len = 0;
    assert_int_equal(sw_scram_secret_format(&bad, buf, sizeof buf), -EINVAL);
}

/* ---- server side ---- */

static void test_server_wrong_password(void **state)
{
    (void)state;
    sw_scram_server s;
    char sf[SW_SCRAM_MSG_MAX], cf[SW_SCRAM_MSG_MAX], wo[SW_SCRAM_MSG_MAX];
    rfc_server(&s, "n,,n=,r=abc", sf, sizeof sf);
    snprintf(wo, sizeof wo, "c=biws,r=abc%s", rfc_server_nonce);
    ref_client_final("pencil2", rfc_salt, 16, 4096, "n=,r=abc", sf, wo, cf, sizeof cf);
    assert_int_equal(server_final_str(&s, cf), -EACCES);
    /* One attempt per exchange. */
    assert_int_equal(server_final_str(&s, cf), -EINVAL);

    /* The same construction with the right password passes. */
    rfc_server(&s, "n,,n=,r=abc", sf, sizeof sf);
    ref_client_final("pencil", rfc_salt, 16, 4096, "n=,r=abc", sf, wo, cf, sizeof cf);
    assert_int_equal(server_final_str(&s, cf), 0);

    /* A well-formed proof with one bit flipped. */
    rfc_server(&s, rfc_client_first, sf, sizeof sf);
    char t[sizeof rfc_client_final];
    memcpy(t, rfc_client_final, sizeof t);
    char *p = strstr(t, ",p=") + 3;
    p[0] = p[0] == 'd' ? 'e' : 'd';
    assert_int_equal(server_final_str(&s, t), -EACCES);
}

static void test_server_gs2_y(void **state)
{
    (void)state;
    sw_scram_server s;
    char sf[SW_SCRAM_MSG_MAX], cf[SW_SCRAM_MSG_MAX], wo[SW_SCRAM_MSG_MAX];

    /* "y,," is answered with c=eSws, its base64. */
    rfc_server(&s, "y,,n=,r=abc", sf, sizeof sf);
    snprintf(wo, sizeof wo, "c=eSws,r=abc%s", rfc_server_nonce);
    ref_client_final("pencil", rfc_salt, 16, 4096, "n=,r=abc", sf, wo, cf, sizeof cf);
    assert_int_equal(server_final_str(&s, cf), 0);

    /* ...and must not be switched to "n,," in flight, nor the reverse. */
    rfc_server(&s, "y,,n=,r=abc", sf, sizeof sf);
    snprintf(wo, sizeof wo, "c=biws,r=abc%s", rfc_server_nonce);
    ref_client_final("pencil", rfc_salt, 16, 4096, "n=,r=abc", sf, wo, cf, sizeof cf);
    assert_int_equal(server_final_str(&s, cf), -EBADMSG);

    rfc_server(&s, "n,,n=,r=abc", sf, sizeof sf);
    snprintf(wo, sizeof wo, "c=eSws,r=abc%s", rfc_server_nonce);
    ref_client_final("pencil", rfc_salt, 16, 4096, "n=,r=abc", sf, wo, cf, sizeof cf);
    assert_int_equal(server_final_str(&s, cf), -EBADMSG);
}

static void test_server_extensions(void **state)
{
    (void)state;
    sw_scram_server s;
    char sf[SW_SCRAM_MSG_MAX], cf[SW_SCRAM_MSG_MAX], wo[SW_SCRAM_MSG_MAX];

    /* Optional extensions after the nonce (client-first) and before the proof
     * (client-final) are skipped but still covered by the AuthMessage. */
    rfc_server(&s, "n,,n=someone,r=abc,x=1", sf, sizeof sf);
    assert_string_equal(s.client_first_bare, "n=someone,r=abc,x=1");
    snprintf(wo, sizeof wo, "c=biws,r=abc%s,e=ext", rfc_server_nonce);
    ref_client_final("pencil", rfc_salt, 16, 4096, "n=someone,r=abc,x=1", sf, wo, cf, sizeof cf);
    assert_int_equal(server_final_str(&s, cf), 0);
}

static void test_server_tampered(void **state)
{
    (void)state;
    sw_scram_server s;
    char sf[SW_SCRAM_MSG_MAX];
    static const char *const tampered[] = {
        /* nonce: changed, client part only, extended, missing server part */
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k1,"
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=biws,r=rOprNGfwEbeRWgbNEkqO,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0x,"
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=biws,r=%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        /* channel binding: other flag, tls-server-end-point data, empty, raw */
        "c=eSws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=cD10bHMtc2VydmVyLWVuZC1wb2ludCws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=n,,,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=biwsx,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    };
    for (size_t i = 0; i < sizeof tampered / sizeof tampered[0]; i++) {
        rfc_server(&s, rfc_client_first, sf, sizeof sf);
        if (server_final_str(&s, tampered[i]) != -EBADMSG) fail_msg("accepted: %s", tampered[i]);
    }
}

static void test_server_client_first_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "n",
        "n,",
        "n,,",
        "x,,n=,r=abc",
        "N,,n=,r=abc",
        "p=tls-server-end-point,,n=,r=abc",
        "p,,n=,r=abc",
        "nx,n=,r=abc",
        "n,a=admin,n=,r=abc",
        "n,a,n=,r=abc",
        "y;,n=,r=abc",
        "n,,m=ext,n=,r=abc",
        "n,,r=abc",
        "n,,n=",
        "n,,n=,",
        "n,,n,r=abc",
        "n,,n=,r",
        "n,,n=,r=",
        "n,,n=,r=,",
        "n,,n=,x=abc",
        "n,,n=,r=a b",
        "n,,n=,r=ab\001c",
        "n,,n=,r=ab\x7f",
        "n,,n=,r=\xc3\xa9t\xc3\xa9",
        "n,,n=,r=abc,1=x",
        "n,,n=,r=abc,x",
        "n,,n=,r=abc,=x",
        "n,,n=,r=abc,,",
    };
    char out[SW_SCRAM_MSG_MAX];
    size_t n;
    sw_scram_server s;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sw_scram_server_init(&s, &rfc_secret);
        int rc = sw_scram_server_first(&s, bad[i], strlen(bad[i]), NULL, out, sizeof out, &n);
        if (rc != -EBADMSG) fail_msg("rc %d for: %s", rc, bad[i]);
        /* A failed first step ends the exchange. */
        assert_int_equal(server_final_str(&s, rfc_client_final), -EINVAL);
    }

    /* Embedded NUL: the SASL payload must be a single C string. */
    static const char nul[] = "n,,n=,r=ab\0cd";
    sw_scram_server_init(&s, &rfc_secret);
    assert_int_equal(sw_scram_server_first(&s, nul, sizeof nul - 1, NULL, out, sizeof out, &n),
                     -EBADMSG);

    /* An oversized nonce cannot be kept, so it is refused. */
    char big[SW_SCRAM_MSG_MAX + 16];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    memcpy(big, "n,,n=,r=", 8);
    sw_scram_server_init(&s, &rfc_secret);
    assert_int_equal(sw_scram_server_first(&s, big, strlen(big), NULL, out, sizeof out, &n),
                     -EBADMSG);
    /* A nonce that fits client-first-bare but leaves no room for ours. */
    big[SW_SCRAM_MSG_MAX - 8] = '\0';
    sw_scram_server_init(&s, &rfc_secret);
    assert_int_equal(sw_scram_server_first(&s, big, strlen(big), NULL, out, sizeof out, &n),
                     -EBADMSG);
}

static void test_server_client_final_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=biws,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,",
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=",
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p",
        /* proof: not base64, '=' inside, unpadded, 31 and 33 bytes */
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "p=dHzbZapWIk4jUhN*Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "p=dHzbZapWIk4jUhN=Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ",
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndQ==",
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQAAAA=",
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "p= dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        /* garbage after the proof, proof not last, bad attribute names */
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=,x=1",
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=x",
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,1=x,"
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,x,"
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=biws,,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=biws;r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    };
    sw_scram_server s;
    char sf[SW_SCRAM_MSG_MAX];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rfc_server(&s, rfc_client_first, sf, sizeof sf);
        int rc = server_final_str(&s, bad[i]);
        if (rc != -EBADMSG) fail_msg("rc %d for: %s", rc, bad[i]);
    }

    /* Every truncation of the valid message is malformed. */
    for (size_t cut = 0; cut < strlen(rfc_client_final); cut++) {
        char out[SW_SCRAM_MSG_MAX];
        size_t n;
        rfc_server(&s, rfc_client_first, sf, sizeof sf);
        int rc = sw_scram_server_final(&s, rfc_client_final, cut, out, sizeof out, &n);
        if (rc != -EBADMSG) fail_msg("rc %d for prefix of %zu bytes", rc, cut);
    }

    /* Embedded NUL, even with a valid message before it. */
    char withnul[sizeof rfc_client_final + 1];
    memcpy(withnul, rfc_client_final, sizeof rfc_client_final);
    withnul[sizeof rfc_client_final] = 'x';
    char out[SW_SCRAM_MSG_MAX];
    size_t n;
    rfc_server(&s, rfc_client_first, sf, sizeof sf);
    assert_int_equal(sw_scram_server_final(&s, withnul, sizeof withnul, out, sizeof out, &n),
                     -EBADMSG);
}

/* Pull the salt and iteration count out of a server-first we produced. */
static void split_server_first(const char *sf, char *nonce, uint8_t *salt, int *salt_len, int *iter)
{
    const char *s = strstr(sf, ",s="), *i = strstr(sf, ",i=");
    assert_non_null(s);
    assert_non_null(i);
    assert_true(strncmp(sf, "r=", 2) == 0);
    memcpy(nonce, sf + 2, (size_t)(s - sf - 2));
    nonce[s - sf - 2] = '\0';
    *salt_len = sw_b64_decode(s + 3, (size_t)(i - s - 3), salt, SW_SCRAM_MAX_SALT);
    *iter = atoi(i + 3);
}

static void test_server_mock(void **state)
{
    (void)state;
    sw_scram_server s;
    char sf[SW_SCRAM_MSG_MAX], sf2[SW_SCRAM_MSG_MAX], cf[SW_SCRAM_MSG_MAX];
    char nonce[SW_SCRAM_MSG_MAX], wo[SW_SCRAM_MSG_MAX + 16];
    uint8_t salt[SW_SCRAM_MAX_SALT], salt2[SW_SCRAM_MAX_SALT];
    int salt_len, iter;
    size_t n;

    /* Looks like a real exchange: 16-byte salt, 4096 iterations. */
    sw_scram_server_init(&s, NULL);
    assert_true(s.mock);
    assert_int_equal(sw_scram_server_first(&s, "n,,n=,r=abc", 11, "srv", sf, sizeof sf, &n), 0);
    split_server_first(sf, nonce, salt, &salt_len, &iter);
    assert_string_equal(nonce, "abcsrv");
    assert_int_equal(salt_len, 16);
    assert_int_equal(iter, 4096);

    /* Whatever the password, the proof fails. */
    snprintf(wo, sizeof wo, "c=biws,r=%s", nonce);
    ref_client_final("pencil", salt, salt_len, iter, "n=,r=abc", sf, wo, cf, sizeof cf);
    assert_int_equal(server_final_str(&s, cf), -EACCES);

    /* Malformed or tampered messages are still reported as such. */
    sw_scram_server_init(&s, NULL);
    assert_int_equal(sw_scram_server_first(&s, "n,,n=,r=abc", 11, "srv", sf2, sizeof sf2, &n), 0);
    split_server_first(sf2, nonce, salt2, &salt_len, &iter);
    assert_memory_not_equal(salt, salt2, 16); /* a fresh salt per mock exchange */
    assert_int_equal(server_final_str(&s, "c=biws,r=abcsrv,p=@@@@"), -EBADMSG);
    sw_scram_server_init(&s, NULL);
    assert_int_equal(sw_scram_server_first(&s, "n,,n=,r=abc", 11, "srv", sf2, sizeof sf2, &n), 0);
    assert_int_equal(server_final_str(&s, "c=biws,r=abcsrX,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="),
                     -EBADMSG);
    sw_scram_server_init(&s, NULL);
    assert_int_equal(sw_scram_server_first(&s, "p=x,,n=,r=abc", 13, "srv", sf2, sizeof sf2, &n),
                     -EBADMSG);

    /* Our own client against a mock server. */
    sw_scram_client c;
    char m1[SW_SCRAM_MSG_MAX], m2[SW_SCRAM_MSG_MAX], m3[SW_SCRAM_MSG_MAX];
    size_t l1, l2, l3;
    assert_int_equal(sw_scram_client_first(&c, "anything", NULL, m1, sizeof m1, &l1), 0);
    sw_scram_server_init(&s, NULL);
    assert_int_equal(sw_scram_server_first(&s, m1, l1, NULL, m2, sizeof m2, &l2), 0);
    assert_int_equal(sw_scram_client_final(&c, m2, l2, m3, sizeof m3, &l3), 0);
    assert_int_equal(sw_scram_server_final(&s, m3, l3, m1, sizeof m1, &l1), -EACCES);
}

static void test_server_args_and_state(void **state)
{
    (void)state;
    sw_scram_server s;
    char out[SW_SCRAM_MSG_MAX];
    size_t n;

    sw_scram_server_init(&s, &rfc_secret);
    assert_int_equal(server_final_str(&s, rfc_client_final), -EINVAL); /* no server-first yet */
    /* A caller-chosen server nonce must be printable. */
    assert_int_equal(sw_scram_server_first(&s, rfc_client_first, strlen(rfc_client_first), "a,b",
                                           out, sizeof out, &n),
                     -EINVAL);
    assert_int_equal(sw_scram_server_first(&s, rfc_client_first, strlen(rfc_client_first), "",
                                           out, sizeof out, &n),
                     -EINVAL);
    /* Output too small. */
    assert_int_equal(sw_scram_server_first(&s, rfc_client_first, strlen(rfc_client_first),
                                           rfc_server_nonce, out, 20, &n),
                     -ENOSPC);
    /* No second server-first. */
    rfc_server(&s, rfc_client_first, out, sizeof out);
    assert_int_equal(sw_scram_server_first(&s, rfc_client_first, strlen(rfc_client_first), NULL,
                                           out, sizeof out, &n),
                     -EINVAL);
    /* Output too small for server-final. */
    assert_int_equal(sw_scram_server_final(&s, rfc_client_final, strlen(rfc_client_final), out,
                                           10, &n),
                     -ENOSPC);

    /* A random server nonce is 24 base64 characters appended to the client's. */
    sw_scram_server_init(&s, &rfc_secret);
    assert_int_equal(sw_scram_server_first(&s, "n,,n=,r=abc", 11, NULL, out, sizeof out, &n), 0);
    assert_int_equal(strlen(s.nonce), 3 + 24);
    assert_true(sw_scram_printable(s.nonce, strlen(s.nonce)));
    assert_true(strncmp(out, "r=abc", 5) == 0);
}

/* ---- client side ---- */

static void test_client_first_forms(void **state)
{
    (void)state;
    sw_scram_client c, d;
    char out[SW_SCRAM_MSG_MAX], out2[SW_SCRAM_MSG_MAX];
    size_t n;

    /* libpq's form: empty user name. */
    assert_int_equal(sw_scram_client_first(&c, "pw", "abc", out, sizeof out, &n), 0);
    assert_string_equal(out, "n,,n=,r=abc");
    assert_int_equal(n, 11);

    /* Random nonces: 24 printable characters, different every time. */
    assert_int_equal(sw_scram_client_first(&c, "pw", NULL, out, sizeof out, &n), 0);
    assert_int_equal(sw_scram_client_first(&d, "pw", NULL, out2, sizeof out2, &n), 0);
    assert_int_equal(strlen(c.client_nonce), 24);
    assert_true(sw_scram_printable(c.client_nonce, 24));
    assert_string_not_equal(c.client_nonce, d.client_nonce);
    assert_string_not_equal(out, out2);

    /* saslname escaping. */
    assert_int_equal(sw_scram_client_first_user(&c, "a,b=c", "pw", "xyz", out, sizeof out, &n), 0);
    assert_string_equal(out, "n,,n=a=2Cb=3Dc,r=xyz");

    /* Bad arguments. */
    assert_int_equal(sw_scram_client_first(&c, "pw", "a,b", out, sizeof out, &n), -EINVAL);
    assert_int_equal(sw_scram_client_first(&c, "pw", "", out, sizeof out, &n), -EINVAL);
    assert_int_equal(sw_scram_client_first(&c, "pw", "a b", out, sizeof out, &n), -EINVAL);
    assert_int_equal(sw_scram_client_first(&c, NULL, "abc", out, sizeof out, &n), -EINVAL);
    char longpw[300];
    memset(longpw, 'p', sizeof longpw - 1);
    longpw[sizeof longpw - 1] = '\0';
    assert_int_equal(sw_scram_client_first(&c, longpw, "abc", out, sizeof out, &n), -EINVAL);
    longpw[sizeof c.password - 1] = '\0'; /* the longest password that fits */
    assert_int_equal(sw_scram_client_first(&c, longpw, "abc", out, sizeof out, &n), 0);
    assert_int_equal(sw_scram_client_first(&c, "pw", "abc", out, 11, &n), -ENOSPC);
    assert_int_equal(sw_scram_client_first(&c, "pw", "abc", out, 12, &n), 0);
    /* Out of order. */
    assert_int_equal(sw_scram_client_verify(&c, rfc_server_final, strlen(rfc_server_final)),
                     -EINVAL);
}

static void test_client_server_first_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "r=xyz123,s=QUJD,i=4096",              /* not our nonce */
        "r=ab,s=QUJD,i=4096",                  /* shorter than ours */
        "r=abc,s=QUJD,i=4096",                 /* no server part */
        "r=abcd\001e,s=QUJD,i=4096",           /* non-printable */
        "r=abcdef,s=!!!!,i=4096",
        "r=abcdef,s=,i=4096",
        "r=abcdef,s=QUJ,i=4096",
        "r=abcdef,s=Q=JD,i=4096",
        "r=abcdef,s=QUJD,i=0",
        "r=abcdef,s=QUJD,i=-1",
        "r=abcdef,s=QUJD,i=+4096",
        "r=abcdef,s=QUJD,i= 4096",
        "r=abcdef,s=QUJD,i=abc",
        "r=abcdef,s=QUJD,i=",
        "r=abcdef,s=QUJD,i=4096x",
        "r=abcdef,s=QUJD,i=0x10",
        "r=abcdef,s=QUJD,i=99999999999",
        "r=abcdef,i=4096",
        "r=abcdef,s=QUJD",
        "r=abcdef,s=QUJD,",
        "r=abcdef,s=QUJD,i=4096,x=1",
        "m=ext,r=abcdef,s=QUJD,i=4096",
        "s=QUJD,r=abcdef,i=4096",
        "r=abcdef,i=4096,s=QUJD",
        "e=other-error",
    };
    sw_scram_client c;
    char out[SW_SCRAM_MSG_MAX];
    size_t n;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(sw_scram_client_first(&c, "pw", "abc", out, sizeof out, &n), 0);
        int rc = sw_scram_client_final(&c, bad[i], strlen(bad[i]), out, sizeof out, &n);
        if (rc != -EBADMSG) fail_msg("rc %d for: %s", rc, bad[i]);
        /* The exchange is over and the password gone. */
        for (size_t k = 0; k < sizeof c.password; k++) assert_int_equal(c.password[k], 0);
        assert_int_equal(sw_scram_client_final(&c, bad[i], strlen(bad[i]), out, sizeof out, &n),
                         -EINVAL);
    }
    /* A 66-byte salt is more than a verifier can hold. */
    static const char big_salt[] =
        "r=abcdef,s=QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
        "QUFBQUFBQUFB,i=4096";
    assert_int_equal(sw_scram_client_first(&c, "pw", "abc", out, sizeof out, &n), 0);
    assert_int_equal(sw_scram_client_final(&c, big_salt, strlen(big_salt), out, sizeof out, &n),
                     -EBADMSG);
    static const char nul[] = "r=abcdef,s=QUJD,i=4\0" "096";
    assert_int_equal(sw_scram_client_first(&c, "pw", "abc", out, sizeof out, &n), 0);
    assert_int_equal(sw_scram_client_final(&c, nul, sizeof nul - 1, out, sizeof out, &n), -EBADMSG);

    /* The salt/iteration bounds that are accepted: 1 iteration, 64-byte salt. */
    static const char ok[] =
        "r=abcdef,s=QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
        "QUFBQUFBQQ==,i=1";
    assert_int_equal(sw_scram_client_first(&c, "pw", "abc", out, sizeof out, &n), 0);
    assert_int_equal(sw_scram_client_final(&c, ok, strlen(ok), out, sizeof out, &n), 0);

    /* Output too small for client-final. */
    assert_int_equal(sw_scram_client_first(&c, "pw", "abc", out, sizeof out, &n), 0);
    assert_int_equal(sw_scram_client_final(&c, ok, strlen(ok), out, 20, &n), -ENOSPC);
}

/* Client after the RFC server-first, ready for server-final. */
static void rfc_client(sw_scram_client *c)
{
    char out[SW_SCRAM_MSG_MAX];
    size_t n;
    assert_int_equal(sw_scram_client_first_user(c, "user", rfc_password, rfc_client_nonce, out,
                                                sizeof out, &n),
                     0);
    assert_int_equal(sw_scram_client_final(c, rfc_server_first, strlen(rfc_server_first), out,
                                           sizeof out, &n),
                     0);
}

static void test_client_server_final(void **state)
{
    (void)state;
    static const struct {
        const char *msg;
        int rc;
    } cases[] = {
        {"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", 0},
        {"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=,x=ext", 0},
        {"e=invalid-proof", -EACCES},
        {"e=other-error,x=1", -EACCES},
        {"v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", -EACCES},
        {"v=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", -EACCES},
        {"", -EBADMSG},
        {"e", -EBADMSG},
        {"v", -EBADMSG},
        {"v=", -EBADMSG},
        {"v=abc", -EBADMSG},
        {"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4", -EBADMSG},
        {"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=x", -EBADMSG},
        {"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95A==", -EBADMSG},
        {"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=,1", -EBADMSG},
        {"x=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", -EBADMSG},
        {" v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", -EBADMSG},
    };
    sw_scram_client c;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rfc_client(&c);
        int rc = sw_scram_client_verify(&c, cases[i].msg, strlen(cases[i].msg));
        if (rc != cases[i].rc) fail_msg("rc %d (want %d) for: %s", rc, cases[i].rc, cases[i].msg);
        /* One verification per exchange. */
        assert_int_equal(sw_scram_client_verify(&c, rfc_server_final, strlen(rfc_server_final)),
                         -EINVAL);
    }
}

/* ---- both sides together ---- */

static void test_roundtrip_random(void **state)
{
    (void)state;
    sw_scram_secret secret;
    assert_int_equal(sw_scram_secret_from_password("s3cr3t p@ss,word=", NULL, 0, 4096, &secret), 0);
    for (int round = 0; round < 3; round++) {
        sw_scram_client c;
        sw_scram_server s;
        char m1[SW_SCRAM_MSG_MAX], m2[SW_SCRAM_MSG_MAX], m3[SW_SCRAM_MSG_MAX], m4[SW_SCRAM_MSG_MAX];
        size_t l1, l2, l3, l4;
        assert_int_equal(sw_scram_client_first(&c, "s3cr3t p@ss,word=", NULL, m1, sizeof m1, &l1), 0);
        sw_scram_server_init(&s, &secret);
        assert_int_equal(sw_scram_server_first(&s, m1, l1, NULL, m2, sizeof m2, &l2), 0);
        assert_int_equal(sw_scram_client_final(&c, m2, l2, m3, sizeof m3, &l3), 0);
        assert_int_equal(sw_scram_server_final(&s, m3, l3, m4, sizeof m4, &l4), 0);
        assert_int_equal(sw_scram_client_verify(&c, m4, l4), 0);
    }

    /* Wrong password end to end. */
    sw_scram_client c;
    sw_scram_server s;
    char m1[SW_SCRAM_MSG_MAX], m2[SW_SCRAM_MSG_MAX], m3[SW_SCRAM_MSG_MAX], m4[SW_SCRAM_MSG_MAX];
    size_t l1, l2, l3, l4;
    assert_int_equal(sw_scram_client_first(&c, "s3cr3t p@ss,word", NULL, m1, sizeof m1, &l1), 0);
    sw_scram_server_init(&s, &secret);
    assert_int_equal(sw_scram_server_first(&s, m1, l1, NULL, m2, sizeof m2, &l2), 0);
    assert_int_equal(sw_scram_client_final(&c, m2, l2, m3, sizeof m3, &l3), 0);
    assert_int_equal(sw_scram_server_final(&s, m3, l3, m4, sizeof m4, &l4), -EACCES);

    /* A server that does not hold the verifier cannot fake server-final: the
     * same exchange against a different ServerKey. */
    sw_scram_secret other = secret;
    other.server_key[0] ^= 1;
    assert_int_equal(sw_scram_client_first(&c, "s3cr3t p@ss,word=", NULL, m1, sizeof m1, &l1), 0);
    sw_scram_server_init(&s, &other);
    assert_int_equal(sw_scram_server_first(&s, m1, l1, NULL, m2, sizeof m2, &l2), 0);
    assert_int_equal(sw_scram_client_final(&c, m2, l2, m3, sizeof m3, &l3), 0);
    assert_int_equal(sw_scram_server_final(&s, m3, l3, m4, sizeof m4, &l4), 0);
    assert_int_equal(sw_scram_client_verify(&c, m4, l4), -EACCES);
}

/* ---- base64 strictness (internal) ---- */

static void test_b64_strict(void **state)
{
    (void)state;
    uint8_t out[8];
    char enc[16];
    assert_int_equal(sw_b64_decode("", 0, out, sizeof out), 0);
    assert_int_equal(sw_b64_decode("QQ==", 4, out, sizeof out), 1);
    assert_int_equal(out[0], 'A');
    assert_int_equal(sw_b64_decode("QUI=", 4, out, sizeof out), 2);
    assert_memory_equal(out, "AB", 2);
    assert_int_equal(sw_b64_decode("QUJD", 4, out, sizeof out), 3);
    assert_int_equal(sw_b64_decode("QUJDRA==", 8, out, sizeof out), 4);
    assert_memory_equal(out, "ABCD", 4);
    assert_int_equal(sw_b64_decode("QUJDRA==", 8, out, 3), -ENOSPC);
    assert_int_equal(sw_b64_decode("QUJDRA==", 8, out, 4), 4);
    static const char *const bad[] = {"Q", "QQ", "QQ=", "Q===", "====", "Q=Q=", "QQ=A",
                                      "QU I", " QUJ", "QUJ\n", "QUJD=", "QU-_", "QQ==QUJD"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (sw_b64_decode(bad[i], strlen(bad[i]), out, sizeof out) != -EBADMSG)
            fail_msg("accepted: \"%s\"", bad[i]);
    assert_int_equal(sw_b64_encode((const uint8_t *)"ABCD", 4, enc, sizeof enc), 8);
    assert_string_equal(enc, "QUJDRA==");
    assert_int_equal(sw_b64_encode((const uint8_t *)"ABCD", 4, enc, 8), -ENOSPC);
}

/* ---- md5 ---- */

static void test_md5(void **state)
{
    (void)state;
    char stored[36], resp[36];
    static const uint8_t salt[4] = {1, 2, 3, 4};

    /* printf 'secretpostgres' | md5sum */
    sw_md5_stored("postgres", "secret", stored);
    assert_string_equal(stored, "md553f48b7c4b76a86ce72276c5755f217d");
    /* printf '53f48b7c4b76a86ce72276c5755f217d\x01\x02\x03\x04' | md5sum */
    sw_md5_response(stored, salt, resp);
    assert_string_equal(resp, "md5bb41a296aab6baccb36ff243a562abff");
    /* As written to pg_authid by PostgreSQL 15 for role postgres2 / "secret". */
    sw_md5_stored("postgres2", "secret", stored);
    assert_string_equal(stored, "md5a99489f2ba8d41137689bf5947f835e0");

    /* Anything but a 35-char "md5..." stored form gives no response. */
    sw_md5_response("md553f48b7c4b76a86ce72276c5755f217", salt, resp);
    assert_string_equal(resp, "");
    sw_md5_response(rfc_verifier, salt, resp);
    assert_string_equal(resp, "");
}

static void test_random_bytes(void **state)
{
    (void)state;
    uint8_t a[32], b[32];
    assert_int_equal(sw_random_bytes(a, sizeof a), 0);
    assert_int_equal(sw_random_bytes(b, sizeof b), 0);
    assert_memory_not_equal(a, b, sizeof a);
    assert_int_equal(sw_random_bytes(NULL, 0), 0);
    assert_int_equal(sw_random_bytes(NULL, 1), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc7677_server),
        cmocka_unit_test(test_rfc7677_client),
        cmocka_unit_test(test_rfc7677_reference_proof),
        cmocka_unit_test(test_secret_rfc_pinned),
        cmocka_unit_test(test_secret_rfc_independent),
        cmocka_unit_test(test_secret_postgres_roundtrip),
        cmocka_unit_test(test_secret_parse_bad),
        cmocka_unit_test(test_secret_from_password_args),
        cmocka_unit_test(test_secret_format_enospc),
        cmocka_unit_test(test_server_wrong_password),
        cmocka_unit_test(test_server_gs2_y),
        cmocka_unit_test(test_server_extensions),
        cmocka_unit_test(test_server_tampered),
        cmocka_unit_test(test_server_client_first_malformed),
        cmocka_unit_test(test_server_client_final_malformed),
        cmocka_unit_test(test_server_mock),
        cmocka_unit_test(test_server_args_and_state),
        cmocka_unit_test(test_client_first_forms),
        cmocka_unit_test(test_client_server_first_malformed),
        cmocka_unit_test(test_client_server_final),
        cmocka_unit_test(test_roundtrip_random),
        cmocka_unit_test(test_b64_strict),
        cmocka_unit_test(test_md5),
        cmocka_unit_test(test_random_bytes),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
