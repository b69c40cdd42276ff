/* Importer for the Mooncake traces (Qin et al., Mooncake, FAST 2025; kvcache-ai/Mooncake,
 * Apache-2.0): JSON Lines, one object per request:
 *   {"timestamp": ms, "input_length": n, "output_length": n, "hash_ids": [h0, h1, ...]}
 *
 * timestamp is integer milliseconds from trace start (→ ns exactly: ms * 10^6); hash_ids
 * has one remapped hash per 512-token prompt block (equal ids at equal positions = same
 * prefix), kept as uint64 with hash_block_tokens = 512. Exactly these four keys: a missing,
 * repeated or unknown key, a wrong type, or trailing text after the object is a malformed
 * row. Each line is parsed with cJSON, which stores numbers as doubles, so a number is
 * judged by its double value: it must be integral, >= 0 and below 2^53 (where every integer
 * is still exact; 9007199254740993 would otherwise silently become ...992). "1e3" and "1000.0"
 * therefore read as 1000; JSON gives them the same meaning. */
#include "workloads/trace_int.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define BLOCK_TOKENS 512u
#define EXACT_MAX 9007199254740991.0 /* 2^53 - 1 */

enum { K_TIME, K_INPUT, K_OUTPUT, K_HASHES, K_COUNT };
static const char *const keys[K_COUNT] = {"timestamp", "input_length", "output_length",
                                          "hash_ids"};

static const char *type_name(const cJSON *v)
{
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsObject(v)) return "an object";
    return "a number";
}

/* A non-negative integral number no larger than max (<= EXACT_MAX). `what` names the value
 * in the message after the field: "" or "element 3: ". */
static ss_rc json_uint(ss_trace *t, const char *field, const char *what, const cJSON *v,
                       double max, uint64_t *out)
{
    if (!cJSON_IsNumber(v)) {
        if (cJSON_IsString(v)) {
            char shown[200];
            ss_trace_show(v->valuestring, strlen(v->valuestring), shown, sizeof shown);
            return ss_trace_row_error(t, field,
                                      "%sexpected a non-negative integer, got the string \"%s\"",
                                      what, shown);
        }
        return ss_trace_row_error(t, field, "%sexpected a non-negative integer, got %s", what,
                                  type_name(v));
    }
    double x = v->valuedouble;
    if (!(x >= 0) || x != floor(x))
        return ss_trace_row_error(t, field, "%sexpected a non-negative integer, got %.17g", what,
                                  x);
    if (x > max)
        return ss_trace_row_error(t, field, "%svalue %.17g is out of range (at most %.17g)",
                                  what, x, max);
    *out = (uint64_t)x;
    return SS_OK;
}

static ss_rc parse_hashes(ss_trace *t, const cJSON *arr, uint32_t *count)
{
    if (!cJSON_IsArray(arr))
        return ss_trace_row_error(t, keys[K_HASHES], "expected an array of integers, got %s",
                                  type_name(arr));
    int n = cJSON_GetArraySize(arr);
    ss_rc rc = ss_trace_hash_reserve(t, (uint64_t)n);
    if (rc != SS_OK) return rc;
    uint32_t k = 0;
    for (const cJSON *e = arr->child; e; e = e->next, k++) {
        char what[40];
        snprintf(what, sizeof what, "element %u: ", (unsigned)k + 1);
        if ((rc = json_uint(t, keys[K_HASHES], what, e, EXACT_MAX, &t->hashes[k])) != SS_OK)
            return rc;
    }
    *count = k;
    return SS_OK;
}

static ss_rc parse_object(ss_trace *t, const cJSON *root, ss_trace_rec *r)
{
    const cJSON *val[K_COUNT] = {NULL};
    char shown[200];
    if (!cJSON_IsObject(root))
        return ss_trace_row_error(t, NULL, "expected a JSON object, got %s", type_name(root));
    for (const cJSON *m = root->child; m; m = m->next) {
        int k = 0;
        while (k < K_COUNT && strcmp(m->string, keys[k]) != 0) k++;
        ss_trace_show(m->string, strlen(m->string), shown, sizeof shown);
        if (k == K_COUNT)
            return ss_trace_row_error(t, NULL,
                                      "unknown field '%s' (mooncake fields: timestamp, "
                                      "input_length, output_length, hash_ids)",
                                      shown);
        if (val[k]) return ss_trace_row_error(t, NULL, "field '%s' appears twice", shown);
        val[k] = m;
    }
    for (int k = 0; k < K_COUNT; k++)
        if (!val[k]) return ss_trace_row_error(t, NULL, "missing field '%s'", keys[k]);
    uint64_t ms, in, out;
    ss_rc rc;
    /* ms below 2^53 → ns below 2^53 * 10^6 / 10^3 s: sec and nsec cannot overflow. */
    if ((rc = json_uint(t, keys[K_TIME], "", val[K_TIME], EXACT_MAX, &ms)) != SS_OK) return rc;
    if ((rc = json_uint(t, keys[K_INPUT], "", val[K_INPUT], UINT32_MAX, &in)) != SS_OK) return rc;
    if ((rc = json_uint(t, keys[K_OUTPUT], "", val[K_OUTPUT], UINT32_MAX, &out)) != SS_OK)
        return rc;
    if ((rc = parse_hashes(t, val[K_HASHES], &r->nhashes)) != SS_OK) return rc;
    r->has_time = 1;
    r->sec = (int64_t)(ms / 1000);
    r->nsec = (int32_t)(ms % 1000) * 1000000;
    r->prompt = (uint32_t)in;
    r->output = (uint32_t)out;
    r->block_tokens = BLOCK_TOKENS;
    return SS_OK;
}

static ss_rc parse(ss_trace *t, const ss_trace_field *f, ss_trace_rec *r)
{
    (void)f;
    /* The line has no NUL inside (checked by the caller), so the NUL-terminated parse sees
     * all of it; require_null_terminated rejects text after the object. The error position
     * comes from return_end, not cJSON_GetErrorPtr: cJSON keeps its last error in a
     * process-global (which it still writes on failure; harmless here, as we never read it). */
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(t->line, &end, 1);
    if (!root) {
        size_t col = end && end >= t->line ? (size_t)(end - t->line) + 1 : 1;
        char shown[200];
        const char *at = end && end >= t->line ? end : t->line;
        if (*at == '\0')
            return ss_trace_row_error(t, NULL,
                                      "invalid JSON at column %zu: the line ends before the "
                                      "value is complete",
                                      col);
        ss_trace_show(at, strlen(at), shown, sizeof shown);
        return ss_trace_row_error(t, NULL, "invalid JSON at column %zu, near '%s'", col, shown);
    }
    ss_rc rc = parse_object(t, root, r);
    cJSON_Delete(root);
    return rc;
}

/* A JSON object line that has a "timestamp" key (a cheap look; parsing checks the rest). */
static int sniff(const char *line)
{
    while (*line == ' ' || *line == '\t') line++;
    return *line == '{' && strstr(line, "\"timestamp\"") != NULL;
}

const ss_trace_fmt_ops ss_trace_mooncake_ops = {
    .format = SS_TRACE_MOONCAKE,
    .name = "mooncake",
    .cols = NULL,
    .ncols = 0,
    .time_field = "timestamp",
    .prompt_field = "input_length",
    .output_field = "output_length",
    .hash_field = "hash_ids",
    .sniff = sniff,
    .parse = parse,
};
