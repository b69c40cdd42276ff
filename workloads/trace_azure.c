/* Importer for the Azure LLM inference trace 2023 (Patel et al., Splitwise, ISCA 2024; Azure
 * Public Dataset, CC-BY-4.0): TIMESTAMP,ContextTokens,GeneratedTokens.
 *
 * TIMESTAMP is a wall-clock time "YYYY-MM-DD HH:MM:SS.fffffff" (seven fractional digits in
 * the published files, no time zone). It is parsed exactly: the date becomes a day number
 * with the days-from-civil algorithm (proleptic Gregorian calendar; H. Hinnant, "chrono-
 * compatible low-level date algorithms"), the fraction is read as digits, and nothing goes
 * through mktime, a time zone or a double. Only differences between rows matter (times are
 * made relative to the first row), so treating the wall clock as UTC is exact as long as no
 * daylight-saving change falls inside the trace; the published hour has none. We accept 0 to 9
 * fractional digits (none means whole seconds) and reject everything else, including a 'T'
 * separator, a zone suffix and leap seconds. */
#include "workloads/trace_int.h"

#include <string.h>

enum { C_TIME, C_PROMPT, C_OUTPUT, C_COUNT };

static const ss_trace_col cols[C_COUNT] = {
    [C_TIME] = {"TIMESTAMP", 1, NULL},
    [C_PROMPT] = {"ContextTokens", 1, NULL},
    [C_OUTPUT] = {"GeneratedTokens", 1, NULL},
};

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);                        /* [0, 399] */
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + (int64_t)doe - 719468;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

/* n digits at p as a number, or -1 if any is not a digit. */
static int digits(const char *p, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

static ss_rc parse_timestamp(ss_trace *t, const ss_trace_field *f, int64_t *sec, int32_t *nsec)
{
    const char *p = f->p, *name = cols[C_TIME].name;
    size_t n = f->n;
    char shown[200];
    ss_trace_show(p, n, shown, sizeof shown);
    /* "YYYY-MM-DD HH:MM:SS" is 19 characters; then optionally '.' and 1-9 digits. */
    int y = -1, mo = -1, d = -1, h = -1, mi = -1, s = -1;
    size_t nfrac = 0;
    if (n >= 19 && p[4] == '-' && p[7] == '-' && p[10] == ' ' && p[13] == ':' && p[16] == ':') {
        y = digits(p, 4), mo = digits(p + 5, 2), d = digits(p + 8, 2);
        h = digits(p + 11, 2), mi = digits(p + 14, 2), s = digits(p + 17, 2);
        if (n > 19) {
            nfrac = n - 20;
            if (p[19] != '.' || nfrac == 0 || nfrac > 9 || digits(p + 20, nfrac) < 0) y = -1;
        }
    }
    if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0)
        return ss_trace_row_error(t, name, "expected 'YYYY-MM-DD HH:MM:SS.fffffff', got '%s'",
                                  shown);
    if (mo < 1 || mo > 12 || d < 1 || (unsigned)d > days_in_month((unsigned)y, (unsigned)mo))
        return ss_trace_row_error(t, name, "no such date in '%s'", shown);
    if (h > 23 || mi > 59 || s > 59)
        return ss_trace_row_error(t, name, "no such time of day in '%s'", shown);
    int32_t frac = nfrac ? digits(p + 20, nfrac) : 0;
    for (size_t k = nfrac; k < 9; k++) frac *= 10;
    *sec = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s;
    *nsec = frac;
    return SS_OK;
}

static ss_rc parse(ss_trace *t, const ss_trace_field *f, ss_trace_rec *r)
{
    uint64_t v;
    ss_rc rc;
    r->has_time = 1;
    if ((rc = parse_timestamp(t, &f[C_TIME], &r->sec, &r->nsec)) != SS_OK) return rc;
    if ((rc = ss_trace_uint_field(t, cols[C_PROMPT].name, &f[C_PROMPT], UINT32_MAX, &v)) != SS_OK)
        return rc;
    r->prompt = (uint32_t)v;
    if ((rc = ss_trace_uint_field(t, cols[C_OUTPUT].name, &f[C_OUTPUT], UINT32_MAX, &v)) != SS_OK)
        return rc;
    r->output = (uint32_t)v;
    return SS_OK;
}

static int sniff(const char *line) { return ss_trace_csv_has_column(line, "TIMESTAMP"); }

const ss_trace_fmt_ops ss_trace_azure_ops = {
    .format = SS_TRACE_AZURE,
    .name = "azure",
    .cols = cols,
    .ncols = C_COUNT,
    .time_field = "TIMESTAMP",
    .prompt_field = "ContextTokens",
    .output_field = "GeneratedTokens",
    .hash_field = "-",
    .sniff = sniff,
    .parse = parse,
};
