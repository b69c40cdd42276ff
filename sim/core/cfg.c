/* YAML documents with marks, and the generic key-table checker; see cfg.h.
 *
 * libyaml's document API keeps every node's start mark, so any error found after parsing
 * (a bad value, a semantic check in a caller) can still name the file, line and column.
 * All scalar conversion goes through ss_cfg_parse_scalar so that numbers, units and
 * booleans are read the same way in every file servesim accepts. */
#include "sim/core/cfg.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/core/time.h"

#include <sys/stat.h>

/* Configuration files are small; refuse anything that is clearly not one (a device, a
 * multi-megabyte dump) before libyaml reads it. */
#define SS_DOC_MAX_BYTES (16 * 1024 * 1024)

struct ss_doc {
    yaml_document_t doc;
    char *name;
    char *dir;
    char *text;
    size_t len;
};

/* ================================================================== documents */

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return dup_str(".");
    if (slash == path) return dup_str("/");
    size_t n = (size_t)(slash - path);
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, path, n);
        p[n] = '\0';
    }
    return p;
}

ss_rc ss_doc_load_string(const char *name, const char *text, size_t len, ss_doc **out,
                         ss_diag *d)
{
    *out = NULL;
    ss_doc *doc = calloc(1, sizeof *doc);
    if (!doc) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory loading %s", name);
    doc->name = dup_str(name);
    doc->dir = strchr(name, '/') ? dir_of(name) : dup_str(".");
    doc->text = malloc(len + 1);
    if (!doc->name || !doc->dir || !doc->text) {
        free(doc->name);
        free(doc->dir);
        free(doc->text);
        free(doc);
        return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory loading %s", name);
    }
    memcpy(doc->text, text, len);
    doc->text[len] = '\0';
    doc->len = len;

    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        ss_doc_free(doc);
        return ss_diag_fail(d, SS_ERR_NOMEM, "cannot initialise the YAML parser");
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)doc->text, len);
    if (!yaml_parser_load(&parser, &doc->doc)) {
        ss_rc rc = ss_diag_set(d, SS_ERR_INVALID, name, (int)parser.problem_mark.line + 1,
                               (int)parser.problem_mark.column + 1, NULL,
                               "YAML syntax error: %s%s%s", parser.problem ? parser.problem : "?",
                               parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        free(doc->name);
        free(doc->dir);
        free(doc->text);
        free(doc);
        return rc;
    }
    yaml_parser_delete(&parser);
    *out = doc;
    return SS_OK;
}

ss_rc ss_doc_load_file(const char *path, ss_doc **out, ss_diag *d)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0)
        return ss_diag_set(d, SS_ERR_IO, path, 0, 0, NULL, "cannot open file: %s",
                           strerror(errno));
    if (!S_ISREG(st.st_mode))
        return ss_diag_set(d, SS_ERR_IO, path, 0, 0, NULL, "not a regular file");
    if (st.st_size > SS_DOC_MAX_BYTES)
        return ss_diag_set(d, SS_ERR_INVALID, path, 0, 0, NULL,
                           "file too large for a configuration file (%lld bytes, at most %d)",
                           (long long)st.st_size, SS_DOC_MAX_BYTES);
    FILE *f = fopen(path, "rb");
    if (!f)
        return ss_diag_set(d, SS_ERR_IO, path, 0, 0, NULL, "cannot open file: %s",
                           strerror(errno));
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (len < cap) break;
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int err = ferror(f);
    fclose(f);
    if (!buf) return ss_diag_set(d, SS_ERR_NOMEM, path, 0, 0, NULL, "out of memory reading");
    if (err) {
        free(buf);
        return ss_diag_set(d, SS_ERR_IO, path, 0, 0, NULL, "read error");
    }
    ss_rc rc = ss_doc_load_string(path, buf, len, out, d);
    free(buf);
    if (rc == SS_OK) {
        free((*out)->dir);
        (*out)->dir = dir_of(path);
        if (!(*out)->dir) {
            ss_doc_free(*out);
            *out = NULL;
            return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
        }
    }
    return rc;
}

void ss_doc_free(ss_doc *doc)
{
    if (!doc) return;
    yaml_document_delete(&doc->doc);
    free(doc->name);
    free(doc->dir);
    free(doc->text);
    free(doc);
}

const char *ss_doc_name(const ss_doc *doc) { return doc->name; }
const char *ss_doc_text(const ss_doc *doc) { return doc->text; }
const char *ss_doc_dir(const ss_doc *doc) { return doc->dir; }
yaml_node_t *ss_doc_root(ss_doc *doc) { return yaml_document_get_root_node(&doc->doc); }

/* ================================================================== overrides */

static int node_id_get(yaml_document_t *doc, int map_id, const char *key, size_t klen)
{
    yaml_node_t *map = yaml_document_get_node(doc, map_id);
    if (!map || map->type != YAML_MAPPING_NODE) return 0;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == klen &&
            !memcmp(k->data.scalar.value, key, klen))
            return p->value;
    }
    return 0;
}

/* Nodes made by an override have no file position: mark them so (see ss_node_mark). */
static int unplaced(yaml_document_t *doc, int id)
{
    yaml_node_t *n = id ? yaml_document_get_node(doc, id) : NULL;
    if (n) n->start_mark.line = n->start_mark.column = (size_t)-1;
    return id;
}

static int add_scalar(yaml_document_t *doc, const char *text, size_t len)
{
    return unplaced(doc, yaml_document_add_scalar(doc, NULL, (yaml_char_t *)text, (int)len,
                                                  YAML_PLAIN_SCALAR_STYLE));
}

ss_rc ss_doc_set(ss_doc *doc, const char *path, const char *value, ss_diag *d)
{
    yaml_document_t *yd = &doc->doc;
    int cur = yaml_document_get_root_node(yd) ? 1 : 0;
    if (!cur) {
        cur = yaml_document_add_mapping(yd, NULL, YAML_BLOCK_MAPPING_STYLE);
        if (!cur) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    }
    const char *p = path;
    if (!*p) return ss_diag_set(d, SS_ERR_INVALID, doc->name, 0, 0, path, "empty key path");
    if (p[strlen(p) - 1] == ']' || p[strlen(p) - 1] == '.')
        return ss_diag_set(d, SS_ERR_INVALID, doc->name, 0, 0, path,
                           "a key path must end with a key name (set one key of a list item)");
    while (*p) {
        size_t klen = strcspn(p, ".[");
        if (!klen) return ss_diag_set(d, SS_ERR_INVALID, doc->name, 0, 0, path, "malformed key path");
        int child = node_id_get(yd, cur, p, klen);
        const char *next = p + klen;
        int last = !*next;
        if (!child) {
            yaml_node_t *m = yaml_document_get_node(yd, cur);
            if (m->type != YAML_MAPPING_NODE)
                return ss_diag_set(d, SS_ERR_INVALID, doc->name, 0, 0, path,
                                   "cannot set '%.*s': its parent is not a mapping", (int)klen, p);
            int k = add_scalar(yd, p, klen);
            child = last ? add_scalar(yd, value, strlen(value))
                         : unplaced(yd, yaml_document_add_mapping(yd, NULL,
                                                                  YAML_BLOCK_MAPPING_STYLE));
            if (!k || !child || !yaml_document_append_mapping_pair(yd, cur, k, child))
                return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
            if (*next == '[')
                return ss_diag_set(d, SS_ERR_INVALID, doc->name, 0, 0, path,
                                   "'%.*s' does not exist, so it has no items to index", (int)klen, p);
        } else if (last) {
            yaml_node_t *n = yaml_document_get_node(yd, child);
            if (n->type != YAML_SCALAR_NODE)
                return ss_diag_set(d, SS_ERR_INVALID, doc->name, 0, 0, path,
                                   "is %s in the file; only single values can be set", ss_node_kind(n));
            size_t len = strlen(value);
            yaml_char_t *v = malloc(len + 1);
            if (!v) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
            memcpy(v, value, len + 1);
            free(n->data.scalar.value);
            n->data.scalar.value = v;
            n->data.scalar.length = len;
            n->data.scalar.style = YAML_PLAIN_SCALAR_STYLE;
            n->start_mark.line = n->start_mark.column = (size_t)-1; /* no file position */
        }
        cur = child;
        p = next;
        while (*p == '[') {
            char *end;
            unsigned long idx = strtoul(p + 1, &end, 10);
            if (*end != ']')
                return ss_diag_set(d, SS_ERR_INVALID, doc->name, 0, 0, path, "malformed index");
            yaml_node_t *seq = yaml_document_get_node(yd, cur);
            if (seq->type != YAML_SEQUENCE_NODE ||
                idx >= (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start))
                return ss_diag_set(d, SS_ERR_INVALID, doc->name, 0, 0, path,
                                   "index [%lu] is not an item of a list here", idx);
            cur = seq->data.sequence.items.start[idx];
            p = end + 1;
            if (!*p && last) break;
        }
        if (*p == '.') p++;
    }
    return SS_OK;
}

yaml_node_t *ss_doc_get(ss_doc *doc, const char *path)
{
    yaml_node_t *n = ss_doc_root(doc);
    const char *p = path;
    while (n && *p) {
        size_t klen = strcspn(p, ".[");
        if (!klen || klen >= 256) return NULL;
        char key[256];
        memcpy(key, p, klen);
        key[klen] = '\0';
        n = ss_node_get(doc, n, key);
        p += klen;
        while (n && *p == '[') {
            char *end;
            unsigned long i = strtoul(p + 1, &end, 10);
            if (*end != ']') return NULL;
            n = ss_node_seq_at(doc, n, i);
            p = end + 1;
        }
        if (*p == '.') {
            p++;
            if (!*p) return NULL;
        } else if (*p) {
            return NULL;
        }
    }
    return n;
}

/* ================================================================== node helpers */

void ss_node_mark(const yaml_node_t *node, int *line, int *col)
{
    /* overridden values (ss_doc_set) carry (size_t)-1: no position, so 0 */
    *line = node && node->start_mark.line != (size_t)-1 ? (int)node->start_mark.line + 1 : 0;
    *col = node && node->start_mark.line != (size_t)-1 ? (int)node->start_mark.column + 1 : 0;
}

const char *ss_node_scalar(const yaml_node_t *node)
{
    return node && node->type == YAML_SCALAR_NODE ? (const char *)node->data.scalar.value
                                                  : NULL;
}

const char *ss_node_kind(const yaml_node_t *node)
{
    if (!node) return "nothing";
    switch (node->type) {
    case YAML_MAPPING_NODE: return "a mapping";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_SCALAR_NODE: return "a scalar";
    default: return "an empty node";
    }
}

yaml_node_t *ss_node_get(ss_doc *doc, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const char *k = ss_node_scalar(yaml_document_get_node(&doc->doc, p->key));
        if (k && strcmp(k, key) == 0) return yaml_document_get_node(&doc->doc, p->value);
    }
    return NULL;
}

size_t ss_node_seq_len(const yaml_node_t *seq)
{
    if (!seq || seq->type != YAML_SEQUENCE_NODE) return 0;
    return (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

size_t ss_node_map_len(const yaml_node_t *map)
{
    if (!map || map->type != YAML_MAPPING_NODE) return 0;
    return (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
}

void ss_node_map_at(ss_doc *doc, yaml_node_t *map, size_t i, yaml_node_t **key,
                    yaml_node_t **value)
{
    *key = *value = NULL;
    if (i >= ss_node_map_len(map)) return;
    yaml_node_pair_t *p = &map->data.mapping.pairs.start[i];
    *key = yaml_document_get_node(&doc->doc, p->key);
    *value = yaml_document_get_node(&doc->doc, p->value);
}

yaml_node_t *ss_node_seq_at(ss_doc *doc, yaml_node_t *seq, size_t i)
{
    if (i >= ss_node_seq_len(seq)) return NULL;
    return yaml_document_get_node(&doc->doc, seq->data.sequence.items.start[i]);
}

ss_rc ss_cfg_error(ss_diag *d, ss_rc rc, ss_doc *doc, const yaml_node_t *node,
                   const char *keypath, const char *fmt, ...)
{
    if (!d || d->rc != SS_OK) return rc;
    int line, col;
    ss_node_mark(node, &line, &col);
    char msg[sizeof d->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (node && node->start_mark.line == (size_t)-1) /* the value came from an override */
        return ss_diag_set(d, rc, "--set", 0, 0, keypath, "%s", msg);
    return ss_diag_set(d, rc, doc ? doc->name : NULL, line, col, keypath, "%s", msg);
}

/* ================================================================== scalars */

static const char *type_name(ss_key_type t)
{
    switch (t) {
    case SS_KEY_INT:
    case SS_KEY_INT64: return "an integer";
    case SS_KEY_DOUBLE: return "a number";
    case SS_KEY_BOOL: return "true or false";
    case SS_KEY_STRING: return "a string";
    case SS_KEY_BYTES: return "a size in bytes (e.g. 80GiB)";
    case SS_KEY_DURATION: return "a duration (e.g. 1.5s, 200ms)";
    case SS_KEY_ENUM: return "one of the listed names";
    case SS_KEY_NODE: return "a section";
    }
    return "?";
}

/* Parse a finite number followed by an optional unit suffix (returned in *unit). */
static bool parse_number(const char *text, double *v, const char **unit)
{
    char *end;
    while (isspace((unsigned char)*text)) text++;
    if (!*text) return false;
    errno = 0;
    *v = strtod(text, &end);
    if (end == text || errno == ERANGE || !isfinite(*v)) return false;
    while (isspace((unsigned char)*end)) end++;
    *unit = end;
    return true;
}

static bool parse_int64(const char *text, int64_t *v)
{
    char *end;
    while (isspace((unsigned char)*text)) text++;
    errno = 0;
    long long x = strtoll(text, &end, 10);
    if (end == text || errno == ERANGE) {
        /* Accept integral numbers written in exponent form (1e6). */
        double dv;
        const char *unit;
        if (!parse_number(text, &dv, &unit) || *unit || dv != floor(dv) || fabs(dv) > 9e18)
            return false;
        *v = (int64_t)dv;
        return true;
    }
    while (isspace((unsigned char)*end)) end++;
    if (*end) {
        double dv;
        const char *unit;
        if (!parse_number(text, &dv, &unit) || *unit || dv != floor(dv) || fabs(dv) > 9e18)
            return false;
        *v = (int64_t)dv;
        return true;
    }
    *v = x;
    return true;
}

static bool unit_factor(const char *unit, const char *const *names, const double *factors,
                        double *f)
{
    for (size_t i = 0; names[i]; i++)
        if (strcmp(unit, names[i]) == 0) {
            *f = factors[i];
            return true;
        }
    return false;
}

static bool check_bounds(const ss_key *k, double v, char *why, size_t why_n)
{
    if (k->flags & SS_KEY_NO_BOUNDS) return true;
    bool lo_ok = (k->flags & SS_KEY_MIN_EXCL) ? v > k->min : v >= k->min;
    bool hi_ok = (k->flags & SS_KEY_MAX_EXCL) ? v < k->max : v <= k->max;
    if (lo_ok && hi_ok) return true;
    snprintf(why, why_n, "value %g is out of range: must be %s %g and %s %g", v,
             (k->flags & SS_KEY_MIN_EXCL) ? ">" : ">=", k->min,
             (k->flags & SS_KEY_MAX_EXCL) ? "<" : "<=", k->max);
    return false;
}

ss_rc ss_cfg_parse_scalar(const ss_key *k, const char *text, void *obj, char *why,
                          size_t why_n)
{
    char *field = (char *)obj + k->offset;
    double v;
    const char *unit;
    switch (k->type) {
    case SS_KEY_INT:
    case SS_KEY_INT64: {
        int64_t x;
        if (!parse_int64(text, &x)) goto bad_type;
        if (k->type == SS_KEY_INT && (x > 2147483647LL || x < -2147483647LL - 1)) {
            snprintf(why, why_n, "value %s does not fit in a 32-bit integer", text);
            return SS_ERR_INVALID;
        }
        if (!check_bounds(k, (double)x, why, why_n)) return SS_ERR_INVALID;
        if (k->type == SS_KEY_INT) *(int *)field = (int)x;
        else *(int64_t *)field = x;
        return SS_OK;
    }
    case SS_KEY_DOUBLE:
        if (!parse_number(text, &v, &unit) || *unit) goto bad_type;
        if (!check_bounds(k, v, why, why_n)) return SS_ERR_INVALID;
        *(double *)field = v;
        return SS_OK;
    case SS_KEY_BOOL:
        if (!strcmp(text, "true") || !strcmp(text, "True") || !strcmp(text, "yes"))
            *(bool *)field = true;
        else if (!strcmp(text, "false") || !strcmp(text, "False") || !strcmp(text, "no"))
            *(bool *)field = false;
        else
            goto bad_type;
        return SS_OK;
    case SS_KEY_STRING:
        if (strlen(text) >= k->size) {
            snprintf(why, why_n, "string is too long (at most %zu characters)", k->size - 1);
            return SS_ERR_INVALID;
        }
        memcpy(field, text, strlen(text) + 1);
        return SS_OK;
    case SS_KEY_BYTES: {
        static const char *const names[] = {"", "B", "KB", "MB", "GB", "TB", "KiB",
                                            "MiB", "GiB", "TiB", NULL};
        static const double f[] = {1, 1, 1e3, 1e6, 1e9, 1e12, 1024.0, 1048576.0,
                                   1073741824.0, 1099511627776.0};
        double fac;
        if (!parse_number(text, &v, &unit)) goto bad_type;
        if (!unit_factor(unit, names, f, &fac)) {
            snprintf(why, why_n, "unknown size unit '%s' (use B, KB, MB, GB, TB, KiB, MiB, "
                                 "GiB or TiB)", unit);
            return SS_ERR_INVALID;
        }
        v *= fac;
        if (!check_bounds(k, v, why, why_n)) return SS_ERR_INVALID;
        if (v < 0 || v > 1.8e19) goto bad_type;
        *(uint64_t *)field = (uint64_t)llround(v);
        return SS_OK;
    }
    case SS_KEY_DURATION: {
        static const char *const names[] = {"", "s", "ns", "us", "ms", "min", "h", NULL};
        static const double f[] = {1, 1, 1e-9, 1e-6, 1e-3, 60, 3600};
        double fac;
        if (!parse_number(text, &v, &unit)) goto bad_type;
        if (!unit_factor(unit, names, f, &fac)) {
            snprintf(why, why_n, "unknown time unit '%s' (use ns, us, ms, s, min or h)", unit);
            return SS_ERR_INVALID;
        }
        v *= fac;
        if (!check_bounds(k, v, why, why_n)) return SS_ERR_INVALID;
        *(ss_time_ns *)field = ss_time_from_s(v);
        return SS_OK;
    }
    case SS_KEY_ENUM:
        for (int i = 0; k->choices[i]; i++)
            if (strcmp(k->choices[i], text) == 0) {
                *(int *)field = i;
                return SS_OK;
            }
        {
            size_t used = (size_t)snprintf(why, why_n, "unknown value '%s' (valid: ", text);
            for (int i = 0; k->choices[i] && used < why_n; i++)
                used += (size_t)snprintf(why + used, why_n - used, "%s%s", i ? ", " : "",
                                         k->choices[i]);
            if (used < why_n) snprintf(why + used, why_n - used, ")");
        }
        return SS_ERR_INVALID;
    case SS_KEY_NODE:
        break;
    }
bad_type:
    snprintf(why, why_n, "expected %s, got '%s'", type_name(k->type), text);
    return SS_ERR_INVALID;
}

/* ================================================================== key tables */

static void join_path(char *buf, size_t n, const char *path, const char *key)
{
    if (path && path[0]) snprintf(buf, n, "%s.%s", path, key);
    else snprintf(buf, n, "%s", key);
}

static void valid_keys(const ss_key *keys, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; keys[i].name && used + 1 < n; i++) {
        int w = snprintf(buf + used, n - used, "%s%s", i ? ", " : "", keys[i].name);
        if (w < 0) break;
        used += (size_t)w;
    }
}

ss_rc ss_cfg_apply(ss_doc *doc, yaml_node_t *map, yaml_node_t *parent, const char *path,
                   const ss_key *keys, void *obj, ss_diag *d)
{
    char kp[256], why[512];
    size_t nkeys = 0;
    while (keys[nkeys].name) nkeys++;
    bool seen[128] = {false};
    if (nkeys > 128) return ss_diag_fail(d, SS_ERR_INTERNAL, "key table too large");

    if (map && map->type != YAML_MAPPING_NODE) {
        /* An empty value ("key:" with nothing) is a null scalar: treat as absent. */
        const char *s = ss_node_scalar(map);
        if (s && (!s[0] || !strcmp(s, "~") || !strcmp(s, "null"))) map = NULL;
        else
            return ss_cfg_error(d, SS_ERR_INVALID, doc, map, path[0] ? path : NULL,
                                "expected a mapping of keys, got %s", ss_node_kind(map));
    }

    if (map) {
        for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
             p < map->data.mapping.pairs.top; p++) {
            yaml_node_t *kn = yaml_document_get_node(&doc->doc, p->key);
            yaml_node_t *vn = yaml_document_get_node(&doc->doc, p->value);
            const char *name = ss_node_scalar(kn);
            if (!name)
                return ss_cfg_error(d, SS_ERR_INVALID, doc, kn, path[0] ? path : NULL,
                                    "keys must be plain names, got %s", ss_node_kind(kn));
            join_path(kp, sizeof kp, path, name);
            size_t i = 0;
            while (i < nkeys && strcmp(keys[i].name, name) != 0) i++;
            if (i == nkeys) {
                char list[1024];
                valid_keys(keys, list, sizeof list);
                return ss_cfg_error(d, SS_ERR_INVALID, doc, kn, kp,
                                    "unknown key (valid keys here: %s)", list);
            }
            if (seen[i])
                return ss_cfg_error(d, SS_ERR_INVALID, doc, kn, kp, "duplicate key");
            seen[i] = true;
            const ss_key *k = &keys[i];
            if (k->type == SS_KEY_NODE) {
                *(yaml_node_t **)((char *)obj + k->offset) = vn;
                continue;
            }
            const char *text = ss_node_scalar(vn);
            if (!text)
                return ss_cfg_error(d, SS_ERR_INVALID, doc, vn, kp, "expected %s, got %s",
                                    type_name(k->type), ss_node_kind(vn));
            if (!text[0] && vn->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
                return ss_cfg_error(d, SS_ERR_INVALID, doc, vn, kp,
                                    "missing value (expected %s)", type_name(k->type));
            if (ss_cfg_parse_scalar(k, text, obj, why, sizeof why) != SS_OK)
                return ss_cfg_error(d, SS_ERR_INVALID, doc, vn, kp, "%s", why);
        }
    }

    for (size_t i = 0; i < nkeys; i++) {
        if (seen[i]) continue;
        const ss_key *k = &keys[i];
        join_path(kp, sizeof kp, path, k->name);
        if (k->type == SS_KEY_NODE) {
            if (!k->def) {
                return ss_cfg_error(d, SS_ERR_INVALID, doc, map ? map : parent, kp,
                                    "missing required section");
            }
            *(yaml_node_t **)((char *)obj + k->offset) = NULL;
            continue;
        }
        if (!k->def)
            return ss_cfg_error(d, SS_ERR_INVALID, doc, map ? map : parent, kp,
                                "missing required key (%s)", k->help ? k->help : "");
        if (!k->def[0]) continue;
        if (ss_cfg_parse_scalar(k, k->def, obj, why, sizeof why) != SS_OK)
            return ss_diag_fail(d, SS_ERR_INTERNAL, "bad built-in default for '%s': %s", kp,
                                why);
    }
    return SS_OK;
}

void ss_cfg_doc_markdown(const ss_key *keys, const char *prefix, FILE *out)
{
    for (size_t i = 0; keys[i].name; i++) {
        const ss_key *k = &keys[i];
        char def[96];
        if (!k->def) snprintf(def, sizeof def, "**required**");
        else if (!k->def[0]) snprintf(def, sizeof def, "(none)");
        else snprintf(def, sizeof def, "`%s`", k->def);
        fprintf(out, "| `%s%s` | %s | %s | %s | %s", prefix ? prefix : "", k->name,
                k->type == SS_KEY_ENUM ? "enum" : type_name(k->type), def,
                k->unit ? k->unit : "", k->help ? k->help : "");
        if (k->type == SS_KEY_ENUM) {
            fprintf(out, " One of:");
            for (int c = 0; k->choices[c]; c++) fprintf(out, "%s `%s`", c ? "," : "", k->choices[c]);
            fprintf(out, ".");
        }
        if (!(k->flags & SS_KEY_NO_BOUNDS) &&
            (k->type == SS_KEY_INT || k->type == SS_KEY_INT64 || k->type == SS_KEY_DOUBLE ||
             k->type == SS_KEY_BYTES || k->type == SS_KEY_DURATION)) {
            fprintf(out, " Range: %s%g, %g%s.", (k->flags & SS_KEY_MIN_EXCL) ? "(" : "[", k->min,
                    k->max, (k->flags & SS_KEY_MAX_EXCL) ? ")" : "]");
        }
        fprintf(out, " |\n");
    }
}
