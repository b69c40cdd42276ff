/* Importer for length-only tables (Vidur's arXiv-summarisation stats, Sarathi-Serve's
 * ShareGPT stats): num_prefill_tokens,num_decode_tokens,num_total_tokens,pd_ratio.
 *
 * There are no arrival times (rows have has_time = 0); the caller pairs the lengths with a
 * synthetic arrival process. The two derived columns are optional, but when present they are
 * checked, because a mismatch means the columns are not what their names say:
 * num_total_tokens must equal prefill + decode exactly; pd_ratio (prefill / decode, written by
 * Python with about 16 significant digits) must agree to a relative 1e-6, loose enough for
 * any writer that keeps 7 digits, tight enough to catch a swapped or stale column. */
#include "workloads/trace_int.h"

#include <math.h>
#include <stdlib.h>

enum { C_PREFILL, C_DECODE, C_TOTAL, C_RATIO, C_COUNT };

static const ss_trace_col cols[C_COUNT] = {
    [C_PREFILL] = {"num_prefill_tokens", 1, NULL},
    [C_DECODE] = {"num_decode_tokens", 1, NULL},
    [C_TOTAL] = {"num_total_tokens", 0, NULL},
    [C_RATIO] = {"pd_ratio", 0, NULL},
};

#define RATIO_RTOL 1e-6

static ss_rc parse(ss_trace *t, const ss_trace_field *f, ss_trace_rec *r)
{
    uint64_t pre, dec, tot;
    ss_rc rc;
    char shown[200];
    rc = ss_trace_uint_field(t, cols[C_PREFILL].name, &f[C_PREFILL], UINT32_MAX, &pre);
    if (rc != SS_OK) return rc;
    rc = ss_trace_uint_field(t, cols[C_DECODE].name, &f[C_DECODE], UINT32_MAX, &dec);
    if (rc != SS_OK) return rc;
    /* A zero length is reported by the common check (which names the column); pd_ratio is
     * then "inf" or 0 and would only hide the real problem. */
    if (pre == 0 || dec == 0) goto done;
    if (f[C_TOTAL].present) {
        rc = ss_trace_uint_field(t, cols[C_TOTAL].name, &f[C_TOTAL], UINT64_MAX, &tot);
        if (rc != SS_OK) return rc;
        if (tot != pre + dec)
            return ss_trace_row_error(t, cols[C_TOTAL].name,
                                      "%llu is not num_prefill_tokens + num_decode_tokens = %llu",
                                      (unsigned long long)tot, (unsigned long long)(pre + dec));
    }
    if (f[C_RATIO].present) {
        /* The field is NUL-terminated in the line buffer; strtod must consume all of it, and
         * it must start like a plain decimal (strtod also takes "inf", hex and spaces). */
        const char *p = f[C_RATIO].p;
        char *end = NULL;
        double v = 0;
        int ok = f[C_RATIO].n > 0 && ((p[0] >= '0' && p[0] <= '9') || p[0] == '.');
        if (ok) v = strtod(p, &end);
        ss_trace_show(p, f[C_RATIO].n, shown, sizeof shown);
        if (!ok || end != p + f[C_RATIO].n || !isfinite(v))
            return ss_trace_row_error(t, cols[C_RATIO].name,
                                      "expected a non-negative decimal number, got '%s'", shown);
        double want = (double)pre / (double)dec;
        if (fabs(v - want) > RATIO_RTOL * want)
            return ss_trace_row_error(t, cols[C_RATIO].name,
                                      "%s is not num_prefill_tokens / num_decode_tokens = %.17g",
                                      shown, want);
    }
done:
    r->has_time = 0;
    r->prompt = (uint32_t)pre;
    r->output = (uint32_t)dec;
    return SS_OK;
}

static int sniff(const char *line)
{
    return ss_trace_csv_has_column(line, "num_prefill_tokens") &&
           ss_trace_csv_has_column(line, "num_decode_tokens");
}

const ss_trace_fmt_ops ss_trace_lengths_ops = {
    .format = SS_TRACE_LENGTHS,
    .name = "lengths",
    .cols = cols,
    .ncols = C_COUNT,
    .time_field = "-",
    .prompt_field = "num_prefill_tokens",
    .output_field = "num_decode_tokens",
    .hash_field = "-",
    .sniff = sniff,
    .parse = parse,
};
