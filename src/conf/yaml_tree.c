/*
 * yaml_tree.c - the libyaml event stream turned into a small generic tree of
 * scalars, mappings and sequences, each node carrying the 1-based line and
 * column where it starts.  The schema (conf.c) walks this tree instead of
 * libyaml's own document so every diagnostic can point at the exact key or
 * value, and so new configuration sections reuse it unchanged.
 *
 * Deliberate limits: aliases are refused (a configuration is small enough to
 * repeat a value, and expanding aliases lets a tiny file grow a huge tree),
 * mapping keys must be scalars, only one document per file, and nesting is
 * capped so that a hostile file cannot exhaust the stack of whoever walks it.
 */
#include "conf_int.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* The real schema is three levels deep; this leaves room for any future
 * section while keeping recursive walkers trivially safe. */
#define SW_YTREE_MAX_DEPTH 64

static sw_ynode *ynode_new(sw_ynode_kind kind, const yaml_mark_t *m)
{
    sw_ynode *n = calloc(1, sizeof *n);
    if (!n) return NULL;
    n->kind = kind;
    n->line = (int)m->line + 1;
    n->col = (int)m->column + 1;
    return n;
}

void sw_ynode_free(sw_ynode *n)
{
    if (!n) return;
    for (size_t i = 0; i < n->n_items; i++) sw_ynode_free(n->items[i]);
    free(n->items);
    free(n->str);
    free(n);
}

bool sw_ynode_is_null(const sw_ynode *n)
{
    if (!n || n->kind != SW_YNODE_SCALAR || !n->plain) return false;
    return n->len == 0 || strcmp(n->str, "~") == 0 || strcmp(n->str, "null") == 0 ||
           strcmp(n->str, "Null") == 0 || strcmp(n->str, "NULL") == 0;
}

const sw_ynode *sw_ynode_map_get(const sw_ynode *m, const char *key)
{
    if (!m || m->kind != SW_YNODE_MAP) return NULL;
    for (size_t i = 0; i < sw_ynode_map_size(m); i++) {
        const sw_ynode *k = sw_ynode_map_key(m, i);
        if (k->len == strlen(key) && memcmp(k->str, key, k->len) == 0)
            return sw_ynode_map_value(m, i);
    }
    return NULL;
}

static int ynode_append(sw_ynode *parent, sw_ynode *child)
{
    if (parent->n_items == parent->cap) {
        size_t cap = parent->cap ? parent->cap * 2 : 8;
        sw_ynode **items = realloc(parent->items, cap * sizeof *items);
        if (!items) return -1;
        parent->items = items;
        parent->cap = cap;
    }
    parent->items[parent->n_items++] = child;
    return 0;
}

/* 1-based line and column of a byte offset: libyaml's reader errors carry
 * only the offset. */
static void offset_position(const char *buf, size_t len, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        if (buf[i] == '\n') {
            ++*line;
            *col = 1;
        } else if (((unsigned char)buf[i] & 0xC0) != 0x80) {
            ++*col;
        }
    }
}

/* Whether line (1-based) is indented with a tab: libyaml's message for that
 * ("found character that cannot start any token") does not say so. */
static bool line_indented_with_tab(const char *buf, size_t len, int line)
{
    size_t i = 0;
    for (int l = 1; l < line && i < len; i++)
        if (buf[i] == '\n') l++;
    for (; i < len && (buf[i] == ' ' || buf[i] == '\t'); i++)
        if (buf[i] == '\t') return true;
    return false;
}

static void report_parser_error(sw_diag *d, const yaml_parser_t *p, const char *buf, size_t len)
{
    int line, col;
    switch (p->error) {
    case YAML_MEMORY_ERROR:
        sw_diag_error(d, 0, 0, "out of memory while parsing YAML");
        return;
    case YAML_READER_ERROR:
        offset_position(buf, len, p->problem_offset, &line, &col);
        if (p->problem_value != -1)
            sw_diag_error(d, line, col, "%s (byte 0x%02X)", p->problem, (unsigned)p->problem_value);
        else
            sw_diag_error(d, line, col, "%s", p->problem);
        sw_diag_hint(d, "the configuration must be UTF-8 text");
        return;
    default:
        line = (int)p->problem_mark.line + 1;
        col = (int)p->problem_mark.column + 1;
        sw_diag_error(d, line, col, "%s", p->problem ? p->problem : "invalid YAML");
        if (p->error == YAML_SCANNER_ERROR && line_indented_with_tab(buf, len, line))
            sw_diag_hint(d, "YAML does not allow tabs for indentation; use spaces");
        else if (p->context)
            sw_diag_hint(d, "%s that starts at line %d, column %d", p->context,
                         (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
        return;
    }
}

int sw_ytree_parse(sw_diag *d, const char *buf, size_t len, sw_ynode **rootp)
{
    yaml_parser_t parser;
    sw_ynode *stack[SW_YTREE_MAX_DEPTH];
    int depth = 0, documents = 0, rc = -1;
    sw_ynode *root = NULL;

    *rootp = NULL;
    if (!yaml_parser_initialize(&parser)) {
        sw_diag_error(d, 0, 0, "out of memory while parsing YAML");
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);

    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            report_parser_error(d, &parser, buf, len);
            goto out;
        }
        const yaml_mark_t *m = &ev.start_mark;
        sw_ynode *n = NULL;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            yaml_event_delete(&ev);
            rc = 0;
            goto out;
        case YAML_DOCUMENT_START_EVENT:
            if (++documents > 1) {
                sw_diag_error(d, (int)m->line + 1, (int)m->column + 1,
                              "a configuration file must hold a single YAML document");
                sw_diag_hint(d, "remove this \"---\" and everything after it");
                yaml_event_delete(&ev);
                goto out;
            }
            break;
        case YAML_ALIAS_EVENT:
            sw_diag_error(d, (int)m->line + 1, (int)m->column + 1,
                          "YAML aliases are not supported (*%s)",
                          (const char *)ev.data.alias.anchor);
            sw_diag_hint(d, "write the value out in full");
            yaml_event_delete(&ev);
            goto out;
        case YAML_SCALAR_EVENT:
            n = ynode_new(SW_YNODE_SCALAR, m);
            if (n) {
                n->len = ev.data.scalar.length;
                n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
                n->str = malloc(n->len + 1);
                if (n->str) {
                    memcpy(n->str, ev.data.scalar.value, n->len);
                    n->str[n->len] = '\0';
                } else {
                    free(n);
                    n = NULL;
                }
            }
            break;
        case YAML_SEQUENCE_START_EVENT:
            n = ynode_new(SW_YNODE_SEQ, m);
            break;
        case YAML_MAPPING_START_EVENT:
            n = ynode_new(SW_YNODE_MAP, m);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            break;
        default:
            break;
        }
        bool opens = ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT;
        bool makes = opens || ev.type == YAML_SCALAR_EVENT;
        yaml_event_delete(&ev);
        if (!makes) continue;
        if (!n) {
            sw_diag_error(d, 0, 0, "out of memory while parsing YAML");
            goto out;
        }

        if (depth == 0) {
            root = n;
        } else {
            sw_ynode *parent = stack[depth - 1];
            if (parent->kind == SW_YNODE_MAP && parent->n_items % 2 == 0 &&
                n->kind != SW_YNODE_SCALAR) {
                sw_diag_error(d, n->line, n->col, "mapping keys must be scalars, not a %s",
                              n->kind == SW_YNODE_MAP ? "mapping" : "sequence");
                sw_ynode_free(n);
                goto out;
            }
            if (ynode_append(parent, n) != 0) {
                sw_ynode_free(n);
                sw_diag_error(d, 0, 0, "out of memory while parsing YAML");
                goto out;
            }
        }
        if (opens) {
            if (depth == SW_YTREE_MAX_DEPTH) {
                sw_diag_error(d, n->line, n->col, "YAML nesting deeper than %d levels",
                              SW_YTREE_MAX_DEPTH);
                goto out;
            }
            stack[depth++] = n;
        }
    }

out:
    yaml_parser_delete(&parser);
    if (rc == 0)
        *rootp = root;
    else
        sw_ynode_free(root);
    return rc;
}
