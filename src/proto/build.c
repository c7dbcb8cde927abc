/*
 * build.c - builders for the messages shardwire itself originates: towards
 * clients the session handshake and its own errors, towards servers the
 * startup, authentication and the extended-query messages it rewrites.  Each
 * appends one complete message to an sw_wbuf; failures surface as w->oom.
 */
#include "sw/proto.h"

/* ErrorResponse/NoticeResponse with S, V, C, M and the optional D and H. */
void sw_build_error(sw_wbuf *w, uint8_t type, const char *severity, const char *sqlstate,
                    const char *message, const char *detail, const char *hint)
{
    sw_msg_begin(w, type);
    sw_wbuf_u8(w, 'S');
    sw_wbuf_cstr(w, severity);
    sw_wbuf_u8(w, 'V');
    sw_wbuf_cstr(w, severity);
    sw_wbuf_u8(w, 'C');
    sw_wbuf_cstr(w, sqlstate);
    sw_wbuf_u8(w, 'M');
    sw_wbuf_cstr(w, message);
    if (detail) {
        sw_wbuf_u8(w, 'D');
        sw_wbuf_cstr(w, detail);
    }
    if (hint) {
        sw_wbuf_u8(w, 'H');
        sw_wbuf_cstr(w, hint);
    }
    sw_wbuf_u8(w, 0);
    sw_msg_end(w);
}

/* ParameterStatus name=value. */
void sw_build_param_status(sw_wbuf *w, const char *name, const char *value)
{
    sw_msg_begin(w, SW_BE_PARAM_STATUS);
    sw_wbuf_cstr(w, name);
    sw_wbuf_cstr(w, value);
    sw_msg_end(w);
}

/* BackendKeyData with the key clients will cancel with. */
void sw_build_backend_key(sw_wbuf *w, int32_t pid, int32_t key)
{
    sw_msg_begin(w, SW_BE_BACKEND_KEY);
    sw_wbuf_i32(w, pid);
    sw_wbuf_i32(w, key);
    sw_msg_end(w);
}

/* ReadyForQuery with transaction status 'I', 'T' or 'E'. */
void sw_build_ready(sw_wbuf *w, char status)
{
    sw_msg_begin(w, SW_BE_READY);
    sw_wbuf_u8(w, (uint8_t)status);
    sw_msg_end(w);
}

/* Authentication request: subtype then len bytes of data. */
void sw_build_auth(sw_wbuf *w, int32_t subtype, const void *data, size_t len)
{
    sw_msg_begin(w, SW_BE_AUTH);
    sw_wbuf_i32(w, subtype);
    sw_wbuf_put(w, data, len);
    sw_msg_end(w);
}

/* AuthenticationSASL: each mechanism name, then an empty one ending the list. */
void sw_build_auth_sasl(sw_wbuf *w, const char *const *mechanisms)
{
    sw_msg_begin(w, SW_BE_AUTH);
    sw_wbuf_i32(w, SW_AUTH_SASL);
    for (; *mechanisms; mechanisms++) sw_wbuf_cstr(w, *mechanisms);
    sw_wbuf_u8(w, 0);
    sw_msg_end(w);
}

/* CommandComplete with tag. */
void sw_build_command_complete(sw_wbuf *w, const char *tag)
{
    sw_msg_begin(w, SW_BE_COMMAND_COMPLETE);
    sw_wbuf_cstr(w, tag);
    sw_msg_end(w);
}

/* A message with no body. */
void sw_build_empty(sw_wbuf *w, uint8_t type)
{
    sw_msg_begin(w, type);
    sw_msg_end(w);
}

/* StartupMessage v3.0 with the key,value,... list up to its NULL. */
void sw_build_startup(sw_wbuf *w, const char *const *kv)
{
    sw_msg_begin(w, 0);
    sw_wbuf_i32(w, SW_PROTO_V3);
    /* A trailing key without a value is dropped: sent, it would make the
     * server reject the whole packet. */
    for (; kv && kv[0] && kv[1]; kv += 2) {
        sw_wbuf_cstr(w, kv[0]);
        sw_wbuf_cstr(w, kv[1]);
    }
    sw_wbuf_u8(w, 0);
    sw_msg_end(w);
}

/* CancelRequest for a server backend. */
void sw_build_cancel(sw_wbuf *w, int32_t pid, int32_t key)
{
    sw_msg_begin(w, 0);
    sw_wbuf_i32(w, SW_CODE_CANCEL);
    sw_wbuf_i32(w, pid);
    sw_wbuf_i32(w, key);
    sw_msg_end(w);
}

/* SSLRequest. */
void sw_build_ssl_request(sw_wbuf *w)
{
    sw_msg_begin(w, 0);
    sw_wbuf_i32(w, SW_CODE_SSL);
    sw_msg_end(w);
}

/* Simple Query of len bytes of sql. */
void sw_build_query(sw_wbuf *w, const char *sql, size_t len)
{
    sw_msg_begin(w, SW_FE_QUERY);
    sw_wbuf_put(w, sql, len);
    sw_wbuf_u8(w, 0);
    sw_msg_end(w);
}

/* Parse; param_types holds nparams big-endian OIDs exactly as received. */
void sw_build_parse(sw_wbuf *w, const char *name, const char *query, size_t qlen,
                    uint16_t nparams, const uint8_t *param_types)
{
    sw_msg_begin(w, SW_FE_PARSE);
    sw_wbuf_cstr(w, name);
    sw_wbuf_put(w, query, qlen);
    sw_wbuf_u8(w, 0);
    sw_wbuf_i16(w, (int16_t)nparams);
    if (nparams > 0) sw_wbuf_put(w, param_types, (size_t)nparams * 4);
    sw_msg_end(w);
}

/* Describe ('D') or Close ('C') of a statement ('S') or portal ('P'). */
void sw_build_target(sw_wbuf *w, uint8_t type, char kind, const char *name)
{
    sw_msg_begin(w, type);
    sw_wbuf_u8(w, (uint8_t)kind);
    sw_wbuf_cstr(w, name);
    sw_msg_end(w);
}

/* PasswordMessage with a cleartext or md5 password string. */
void sw_build_password(sw_wbuf *w, const char *password)
{
    sw_msg_begin(w, SW_FE_PASSWORD);
    sw_wbuf_cstr(w, password);
    sw_msg_end(w);
}

/* SASLInitialResponse; a NULL data is sent as length -1 (no initial response). */
void sw_build_sasl_initial(sw_wbuf *w, const char *mechanism, const void *data, size_t len)
{
    sw_msg_begin(w, SW_FE_PASSWORD);
    sw_wbuf_cstr(w, mechanism);
    sw_wbuf_i32(w, data ? (int32_t)len : -1);
    if (data) sw_wbuf_put(w, data, len);
    sw_msg_end(w);
}

/* SASLResponse: the raw mechanism data. */
void sw_build_sasl_response(sw_wbuf *w, const void *data, size_t len)
{
    sw_msg_begin(w, SW_FE_PASSWORD);
    sw_wbuf_put(w, data, len);
    sw_msg_end(w);
}
