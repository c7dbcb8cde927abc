/*
 * buf.c - the growable string and aborting allocators of sw_oracle.  A
 * test tool has nothing better to do on out-of-memory than stop loudly.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oracle.h"

void *or_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fputs("sw_oracle: out of memory\n", stderr);
        abort();
    }
    return p;
}

char *or_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(or_xmalloc(n), s, n);
}

static void reserve(or_buf *b, size_t more)
{
    if (b->len + more + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
        fputs("sw_oracle: out of memory\n", stderr);
        abort();
    }
    b->s = s;
    b->cap = cap;
}

void or_buf_add(or_buf *b, const char *s, size_t n)
{
    reserve(b, n);
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void or_buf_printf(or_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

const char *or_buf_str(const or_buf *b)
{
    return b->s ? b->s : "";
}

void or_buf_free(or_buf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}
