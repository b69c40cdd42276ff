/* servesim's native trace format: a CSV whose header names its columns (any order).
 *
 *   arrival_s      required  decimal seconds, >= 0, at most 9 fractional digits; converted
 *                            to integer nanoseconds by string arithmetic (exact: "1234.5" is
 *                            1,234,500,000,000 ns, "0.000000001" is 1 ns)
 *   prompt_tokens  required  integer >= 1
 *   output_tokens  required  integer >= 1
 *   class          optional  request class name, 1-31 printable non-space characters, or empty
 *   prefix_id      optional  integer >= 0 naming a shared prefix, or empty (-1)
 *   block_hashes   optional  space-separated unsigned 64-bit block hashes, block 0 first
 *   block_tokens   optional  prompt tokens per hashed block (>= 1); required with block_hashes
 *
 * Why a per-row block_tokens column rather than a fixed size or a header directive: a CSV
 * header carries names only, a comment line would make the file non-CSV for other tools, and
 * a fixed size would bake one tokenizer/cache layout into the format. See docs/traces.md. */
#include "workloads/trace_int.h"

#include <string.h>

enum { C_ARRIVAL, C_PROMPT, C_OUTPUT, C_CLASS, C_PREFIX, C_HASHES, C_BLOCK, C_COUNT };

static const ss_trace_col cols[C_COUNT] = {
    [C_ARRIVAL] = {"arrival_s", 1, NULL},
    [C_PROMPT] = {"prompt_tokens", 1, NULL},
    [C_OUTPUT] = {"output_tokens", 1, NULL},
    [C_CLASS] = {"class", 0, NULL},
    [C_PREFIX] = {"prefix_id", 0, NULL},
    [C_HASHES] = {"block_hashes", 0, "block_tokens"},
    [C_BLOCK] = {"block_tokens", 0, "block_hashes"},
};

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* arrival_s → (sec, nsec), exactly. */
static ss_rc parse_seconds(ss_trace *t, const ss_trace_field *f, int64_t *sec, int32_t *nsec)
{
    const char *p = f->p, *name = cols[C_ARRIVAL].name;
    size_t n = f->n, i = 0, ndig = 0, nfrac = 0;
    char shown[200];
    ss_trace_show(p, n, shown, sizeof shown);
    int neg = n > 0 && p[0] == '-';
    if (neg) i = 1;
    while (i < n && is_digit(p[i])) i++, ndig++;
    if (i < n && p[i] == '.') {
        i++;
        while (i < n && is_digit(p[i])) i++, nfrac++;
        if (nfrac == 0) ndig = 0; /* "1." is not accepted: say so below */
    }
    if (i != n || ndig == 0)
        return ss_trace_row_error(t, name,
                                  "expected a decimal number of seconds (digits, optionally '.' "
                                  "and 1 to 9 digits), got '%s'",
                                  shown);
    if (neg) return ss_trace_row_error(t, name, "negative time '%s' (times are >= 0)", shown);
    if (nfrac > 9)
        return ss_trace_row_error(t, name,
                                  "'%s' has %zu fractional digits; at most 9 (1 ns resolution)",
                                  shown, nfrac);
    int64_t s = 0;
    for (i = 0; i < ndig; i++) {
        int64_t dgt = p[i] - '0';
        if (s > (INT64_MAX - dgt) / 10)
            return ss_trace_row_error(t, name, "'%s' is out of range", shown);
        s = s * 10 + dgt;
    }
    int32_t frac = 0;
    size_t k = 0;
    for (i = ndig + 1; k < nfrac; i++, k++) frac = frac * 10 + (p[i] - '0');
    for (; k < 9; k++) frac *= 10;
    *sec = s;
    *nsec = frac;
    return SS_OK;
}

static ss_rc parse_class(ss_trace *t, const ss_trace_field *f, char out[32])
{
    char shown[200];
    ss_trace_show(f->p, f->n, shown, sizeof shown);
    if (f->n >= 32)
        return ss_trace_row_error(t, cols[C_CLASS].name,
                                  "class name '%s' is longer than 31 characters", shown);
    for (size_t i = 0; i < f->n; i++) {
        unsigned char c = (unsigned char)f->p[i];
        if (c <= 0x20 || c >= 0x7f)
            return ss_trace_row_error(t, cols[C_CLASS].name,
                                      "class name '%s' has a space or a non-printable character "
                                      "at position %zu",
                                      shown, i + 1);
    }
    memcpy(out, f->p, f->n);
    out[f->n] = '\0';
    return SS_OK;
}

static ss_rc parse_hashes(ss_trace *t, const ss_trace_field *f, uint32_t *count)
{
    const char *p = f->p, *end = f->p + f->n, *name = cols[C_HASHES].name;
    uint64_t n = 0;
    for (const char *q = p; q < end;) { /* count the space-separated tokens */
        while (q < end && *q == ' ') q++;
        if (q == end) break;
        n++;
        while (q < end && *q != ' ') q++;
    }
    ss_rc rc = ss_trace_hash_reserve(t, n);
    if (rc != SS_OK) return rc;
    uint64_t k = 0;
    for (const char *q = p; q < end;) {
        while (q < end && *q == ' ') q++;
        if (q == end) break;
        const char *tok = q;
        while (q < end && *q != ' ') q++;
        int r = ss_trace_parse_uint(tok, (size_t)(q - tok), UINT64_MAX, &t->hashes[k]);
        if (r != 0) {
            char shown[200];
            ss_trace_show(tok, (size_t)(q - tok), shown, sizeof shown);
            return ss_trace_row_error(t, name,
                                      r == -2 ? "hash %llu: '%s' is larger than 2^64-1"
                                              : "hash %llu: expected a non-negative integer, "
                                                "got '%s'",
                                      (unsigned long long)k + 1, shown);
        }
        k++;
    }
    *count = (uint32_t)n;
    return SS_OK;
}

static ss_rc parse(ss_trace *t, const ss_trace_field *f, ss_trace_rec *r)
{
    uint64_t v;
    ss_rc rc;
    r->has_time = 1;
    if ((rc = parse_seconds(t, &f[C_ARRIVAL], &r->sec, &r->nsec)) != SS_OK) return rc;
    if ((rc = ss_trace_uint_field(t, cols[C_PROMPT].name, &f[C_PROMPT], UINT32_MAX, &v)) != SS_OK)
        return rc;
    r->prompt = (uint32_t)v;
    if ((rc = ss_trace_uint_field(t, cols[C_OUTPUT].name, &f[C_OUTPUT], UINT32_MAX, &v)) != SS_OK)
        return rc;
    r->output = (uint32_t)v;
    if (f[C_CLASS].n && (rc = parse_class(t, &f[C_CLASS], r->cls)) != SS_OK) return rc;
    if (f[C_PREFIX].n) {
        rc = ss_trace_uint_field(t, cols[C_PREFIX].name, &f[C_PREFIX], INT64_MAX, &v);
        if (rc != SS_OK) return rc;
        r->prefix_id = (int64_t)v;
    }
    if (f[C_BLOCK].n) {
        if ((rc = ss_trace_uint_field(t, cols[C_BLOCK].name, &f[C_BLOCK], UINT32_MAX, &v)) != SS_OK)
            return rc;
        if (v == 0)
            return ss_trace_row_error(t, cols[C_BLOCK].name, "must be at least 1, got 0");
        r->block_tokens = (uint32_t)v;
    }
    if (f[C_HASHES].n) {
        if ((rc = parse_hashes(t, &f[C_HASHES], &r->nhashes)) != SS_OK) return rc;
        if (r->nhashes && !r->block_tokens)
            return ss_trace_row_error(t, cols[C_BLOCK].name,
                                      "is empty but the row has block hashes");
    }
    return SS_OK;
}

static int sniff(const char *line) { return ss_trace_csv_has_column(line, "arrival_s"); }

const ss_trace_fmt_ops ss_trace_native_ops = {
    .format = SS_TRACE_NATIVE,
    .name = "native",
    .cols = cols,
    .ncols = C_COUNT,
    .time_field = "arrival_s",
    .prompt_field = "prompt_tokens",
    .output_field = "output_tokens",
    .hash_field = "block_hashes",
    .sniff = sniff,
    .parse = parse,
};
