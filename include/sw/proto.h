/*
 * proto.h - PostgreSQL frontend/backend protocol 3.0 codec.
 *
 * Pure code: no I/O, no event loop, no allocation except inside sw_wbuf.
 * Decoders take a message *body* (the bytes after the 1-byte type and the
 * 4-byte length) and return views that point into that body; they never copy.
 * Builders append whole messages to an sw_wbuf.  Every decoder is bounds
 * checked: a truncated or garbage body yields -EBADMSG, never a read past end.
 *
 * Error convention (libuv style): 0 or a positive count on success, a negative
 * errno value on failure (-EBADMSG malformed, -EMSGSIZE over the size limit,
 * -ENOMEM out of memory).
 */
#ifndef SW_PROTO_H
#define SW_PROTO_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SW_PROTO_V3 196608       /* 3.0 */
#define SW_CODE_CANCEL 80877102  /* CancelRequest */
#define SW_CODE_SSL 80877103     /* SSLRequest */
#define SW_CODE_GSSENC 80877104  /* GSSENCRequest */

#define SW_HDR_LEN 5             /* type byte + int32 length */
#define SW_STARTUP_MAX_PARAMS 64

/* Frontend (client -> server) message types. */
enum {
    SW_FE_BIND = 'B', SW_FE_CLOSE = 'C', SW_FE_COPY_DATA = 'd', SW_FE_COPY_DONE = 'c',
    SW_FE_COPY_FAIL = 'f', SW_FE_DESCRIBE = 'D', SW_FE_EXECUTE = 'E', SW_FE_FLUSH = 'H',
    SW_FE_FUNCTION_CALL = 'F', SW_FE_PARSE = 'P', SW_FE_PASSWORD = 'p', SW_FE_QUERY = 'Q',
    SW_FE_SYNC = 'S', SW_FE_TERMINATE = 'X'
};

/* Backend (server -> client) message types. */
enum {
    SW_BE_AUTH = 'R', SW_BE_BACKEND_KEY = 'K', SW_BE_BIND_COMPLETE = '2',
    SW_BE_CLOSE_COMPLETE = '3', SW_BE_COMMAND_COMPLETE = 'C', SW_BE_COPY_DATA = 'd',
    SW_BE_COPY_DONE = 'c', SW_BE_COPY_IN = 'G', SW_BE_COPY_OUT = 'H', SW_BE_COPY_BOTH = 'W',
    SW_BE_DATA_ROW = 'D', SW_BE_EMPTY_QUERY = 'I', SW_BE_ERROR = 'E',
    SW_BE_FUNCTION_RESULT = 'V', SW_BE_NEGOTIATE = 'v', SW_BE_NO_DATA = 'n',
    SW_BE_NOTICE = 'N', SW_BE_NOTIFICATION = 'A', SW_BE_PARAM_DESC = 't',
    SW_BE_PARAM_STATUS = 'S', SW_BE_PARSE_COMPLETE = '1', SW_BE_PORTAL_SUSPENDED = 's',
    SW_BE_READY = 'Z', SW_BE_ROW_DESC = 'T'
};

/* Authentication request subtypes (the int32 after 'R'). */
enum {
    SW_AUTH_OK = 0, SW_AUTH_CLEARTEXT = 3, SW_AUTH_MD5 = 5, SW_AUTH_SASL = 10,
    SW_AUTH_SASL_CONTINUE = 11, SW_AUTH_SASL_FINAL = 12
};

/* ---------------------------------------------------------------- framing */

/* A framed message header: type and total size on the wire (type byte +
 * length word + body).  For startup-style packets type is 0. */
typedef struct sw_msg_hdr {
    uint8_t type;
    uint32_t total;
} sw_msg_hdr;

/* Peek at a typed message header in p[0..avail).  Returns 1 with *h filled
 * when the 5 header bytes are present, 0 when more bytes are needed,
 * -EBADMSG when the length word is < 4, -EMSGSIZE when total > max_total.
 * Never needs the body to be present. */
int sw_msg_peek(const uint8_t *p, size_t avail, uint32_t max_total, sw_msg_hdr *h);

/* Same for an untyped startup-phase packet (StartupMessage, SSLRequest,
 * CancelRequest...): 4-byte length, minimum 8.  h->type is set to 0. */
int sw_startup_peek(const uint8_t *p, size_t avail, uint32_t max_total, sw_msg_hdr *h);

/* ---------------------------------------------------------------- reader */

/* A bounds-checked cursor.  Any read past end sets err and returns 0/NULL;
 * callers read everything and check err once. */
typedef struct sw_rd {
    const uint8_t *p;
    const uint8_t *end;
    bool err;
} sw_rd;

static inline void sw_rd_init(sw_rd *r, const void *p, size_t n)
{
    r->p = (const uint8_t *)p;
    r->end = r->p + n;
    r->err = false;
}

static inline size_t sw_rd_left(const sw_rd *r) { return (size_t)(r->end - r->p); }

static inline uint8_t sw_rd_u8(sw_rd *r)
{
    if (r->err || r->p + 1 > r->end) { r->err = true; return 0; }
    return *r->p++;
}

static inline uint16_t sw_rd_u16(sw_rd *r)
{
    if (r->err || r->p + 2 > r->end) { r->err = true; return 0; }
    uint16_t v = (uint16_t)((uint16_t)r->p[0] << 8 | r->p[1]);
    r->p += 2;
    return v;
}

static inline int16_t sw_rd_i16(sw_rd *r)
{
    if (r->err || r->p + 2 > r->end) { r->err = true; return 0; }
    uint16_t v = (uint16_t)((uint16_t)r->p[0] << 8 | r->p[1]);
    r->p += 2;
    return (int16_t)v;
}

static inline int32_t sw_rd_i32(sw_rd *r)
{
    if (r->err || r->p + 4 > r->end) { r->err = true; return 0; }
    uint32_t v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
                 (uint32_t)r->p[2] << 8 | (uint32_t)r->p[3];
    r->p += 4;
    return (int32_t)v;
}

/* A NUL-terminated string inside the buffer; *len (optional) excludes NUL. */
static inline const char *sw_rd_cstr(sw_rd *r, size_t *len)
{
    if (r->err) return NULL;
    const uint8_t *nul = memchr(r->p, 0, (size_t)(r->end - r->p));
    if (!nul) { r->err = true; return NULL; }
    const char *s = (const char *)r->p;
    if (len) *len = (size_t)(nul - r->p);
    r->p = nul + 1;
    return s;
}

static inline const uint8_t *sw_rd_bytes(sw_rd *r, size_t n)
{
    if (r->err || n > (size_t)(r->end - r->p)) { r->err = true; return NULL; }
    const uint8_t *s = r->p;
    r->p += n;
    return s;
}

static inline uint32_t sw_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline void sw_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* ---------------------------------------------------------------- writer */

/* A growable output buffer.  data[0..len) holds finished messages plus the
 * one under construction (which starts at msg_start).  On allocation failure
 * oom is set, further appends are ignored, and the caller checks oom. */
typedef struct sw_wbuf {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t msg_start;
    bool oom;
} sw_wbuf;

void sw_wbuf_init(sw_wbuf *w);                 /* empty, no allocation */
void sw_wbuf_free(sw_wbuf *w);                 /* releases data */
static inline void sw_wbuf_reset(sw_wbuf *w) { w->len = 0; w->msg_start = 0; w->oom = false; }
int sw_wbuf_reserve(sw_wbuf *w, size_t extra); /* 0 or -ENOMEM */
void sw_wbuf_put(sw_wbuf *w, const void *p, size_t n);
void sw_wbuf_u8(sw_wbuf *w, uint8_t v);
void sw_wbuf_i16(sw_wbuf *w, int16_t v);
void sw_wbuf_i32(sw_wbuf *w, int32_t v);
void sw_wbuf_cstr(sw_wbuf *w, const char *s);  /* string plus NUL */

/* Start a message of the given type (0 = untyped startup packet); finish it
 * with sw_msg_end, which patches the length word. */
void sw_msg_begin(sw_wbuf *w, uint8_t type);
void sw_msg_end(sw_wbuf *w);

/* Write only a header whose length covers body_len bytes the caller will
 * send separately (zero-copy tail, e.g. a renamed Bind). */
void sw_msg_header(sw_wbuf *w, uint8_t type, size_t body_len);

/* ---------------------------------------------------------------- startup */

typedef struct sw_startup {
    int32_t code;        /* SW_PROTO_V3, SW_CODE_SSL, SW_CODE_GSSENC, SW_CODE_CANCEL or other */
    int32_t cancel_pid;  /* CancelRequest only */
    int32_t cancel_key;
    int nparams;         /* StartupMessage key/value pairs, pointing into the packet */
    const char *keys[SW_STARTUP_MAX_PARAMS];
    const char *vals[SW_STARTUP_MAX_PARAMS];
} sw_startup;

/* Decode a whole startup-phase packet (including its 4-byte length).
 * Returns 0, or -EBADMSG (bad layout, missing terminator, too many params).
 * Unknown protocol versions decode with code set and nparams 0; the caller
 * rejects them. */
int sw_startup_decode(const uint8_t *pkt, size_t len, sw_startup *out);

/* Value of a startup parameter by exact key, or NULL. */
const char *sw_startup_get(const sw_startup *s, const char *key);

/* ---------------------------------------------------------------- frontend decoders */

typedef struct sw_query_msg {
    const char *sql;   /* NUL-terminated inside the body */
    size_t len;
} sw_query_msg;

typedef struct sw_parse_msg {
    const char *name;
    const char *query;
    size_t query_len;
    uint16_t nparams;            /* 0..65535, as PostgreSQL reads it */
    const uint8_t *param_types;  /* nparams big-endian uint32 OIDs */
} sw_parse_msg;

typedef struct sw_bind_msg {
    const char *portal;
    const char *stmt;
    size_t tail_off;             /* offset in body of the bytes after the stmt name */
    uint16_t nformats;           /* counts are unsigned 16-bit on the wire */
    const uint8_t *formats;      /* nformats big-endian int16 */
    uint16_t nparams;
    const uint8_t *params;       /* first parameter's length word */
    uint16_t nresult_formats;
    const uint8_t *result_formats;
} sw_bind_msg;

typedef struct sw_target_msg {   /* Describe and Close */
    char kind;                   /* 'S' statement or 'P' portal */
    const char *name;
} sw_target_msg;

typedef struct sw_execute_msg {
    const char *portal;
    int32_t max_rows;
} sw_execute_msg;

int sw_query_decode(const uint8_t *body, size_t len, sw_query_msg *out);
int sw_parse_decode(const uint8_t *body, size_t len, sw_parse_msg *out);
int sw_bind_decode(const uint8_t *body, size_t len, sw_bind_msg *out);
int sw_target_decode(const uint8_t *body, size_t len, sw_target_msg *out);
int sw_execute_decode(const uint8_t *body, size_t len, sw_execute_msg *out);

/* Parameter i of a decoded Bind: *val points at the value (NULL for SQL NULL,
 * then *vlen is -1), *format is 0 text / 1 binary.  Returns 0 or -EBADMSG.
 * O(i): walks the length words. */
int sw_bind_param(const sw_bind_msg *b, const uint8_t *body_end, int i,
                  const uint8_t **val, int32_t *vlen, int16_t *format);

/* ---------------------------------------------------------------- backend decoders */

/* ErrorResponse / NoticeResponse fields; absent fields are NULL. */
typedef struct sw_error_fields {
    const char *severity;    /* 'S' localized */
    const char *severity_v;  /* 'V' never localized */
    const char *code;        /* 'C' SQLSTATE */
    const char *message;     /* 'M' */
    const char *detail;      /* 'D' */
    const char *hint;        /* 'H' */
} sw_error_fields;

int sw_error_decode(const uint8_t *body, size_t len, sw_error_fields *out);
int sw_param_status_decode(const uint8_t *body, size_t len, const char **name, const char **value);
int sw_backend_key_decode(const uint8_t *body, size_t len, int32_t *pid, int32_t *key);
int sw_ready_decode(const uint8_t *body, size_t len, char *status);  /* 'I', 'T' or 'E' */
int sw_command_complete_decode(const uint8_t *body, size_t len, const char **tag);
/* Authentication: *subtype, and the bytes after it in *data and *dlen. */
int sw_auth_decode(const uint8_t *body, size_t len, int32_t *subtype, const uint8_t **data, size_t *dlen);

/* ---------------------------------------------------------------- builders */

/* ErrorResponse ('E') or NoticeResponse ('N'); detail and hint may be NULL.
 * severity is e.g. "ERROR" or "FATAL" and is sent as both S and V. */
void sw_build_error(sw_wbuf *w, uint8_t type, const char *severity, const char *sqlstate,
                    const char *message, const char *detail, const char *hint);
void sw_build_param_status(sw_wbuf *w, const char *name, const char *value);
void sw_build_backend_key(sw_wbuf *w, int32_t pid, int32_t key);
void sw_build_ready(sw_wbuf *w, char status);
void sw_build_auth(sw_wbuf *w, int32_t subtype, const void *data, size_t len);
/* AuthenticationSASL advertising exactly the NULL-terminated mechanism list. */
void sw_build_auth_sasl(sw_wbuf *w, const char *const *mechanisms);
void sw_build_command_complete(sw_wbuf *w, const char *tag);
/* A body-less message: ParseComplete, BindComplete, CloseComplete, NoData,
 * EmptyQueryResponse, Sync, Flush, Terminate, CopyDone. */
void sw_build_empty(sw_wbuf *w, uint8_t type);

/* Frontend messages shardwire sends to servers. */
void sw_build_startup(sw_wbuf *w, const char *const *kv);  /* NULL-terminated key,value,... */
void sw_build_cancel(sw_wbuf *w, int32_t pid, int32_t key);
void sw_build_ssl_request(sw_wbuf *w);
void sw_build_query(sw_wbuf *w, const char *sql, size_t len);
void sw_build_parse(sw_wbuf *w, const char *name, const char *query, size_t qlen,
                    uint16_t nparams, const uint8_t *param_types);
void sw_build_target(sw_wbuf *w, uint8_t type, char kind, const char *name); /* Describe/Close */
void sw_build_password(sw_wbuf *w, const char *password);                     /* 'p' + cstr */
void sw_build_sasl_initial(sw_wbuf *w, const char *mechanism, const void *data, size_t len);
void sw_build_sasl_response(sw_wbuf *w, const void *data, size_t len);

#endif
