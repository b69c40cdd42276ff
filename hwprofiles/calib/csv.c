/* Line and CSV input shared by every calibration reader.
 *
 * Follows workloads/trace.c: input is read with gzread in 64 KiB blocks and split into lines
 * here (gzgets cannot tell a NUL inside a line from its end), so gzip and plain files go
 * through the same code, lines of any length are kept whole, and a NUL byte is reported.
 * The dialect is plain CSV without quoting (none of the sources quotes a field); a stray
 * quote or space therefore shows up in an error message instead of being guessed away. */
#include "hwprofiles/calib/calib_int.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IN_BLOCK ((size_t)64 << 10)
#define MAX_LINE ((size_t)16 << 20)

ss_rc ss_cf_err(ss_cf *cf, const char *col, const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (col)
        return ss_diag_set(cf->d, SS_ERR_INVALID, cf->path, (int)cf->lineno, 0, NULL,
                           "column '%s': %s", col, msg);
    return ss_diag_set(cf->d, SS_ERR_INVALID, cf->path, (int)cf->lineno, 0, NULL, "%s", msg);
}

ss_rc ss_cf_open(ss_cf *cf, const char *path, ss_diag *d)
{
    memset(cf, 0, sizeof *cf);
    cf->path = path;
    cf->d = d;
    cf->gz = gzopen(path, "rb");
    if (!cf->gz)
        return ss_diag_set(d, SS_ERR_IO, path, 0, 0, NULL, "cannot open file: %s",
                           errno ? strerror(errno) : "out of memory");
    cf->in = malloc(IN_BLOCK);
    cf->line_cap = 256;
    cf->line = malloc(cf->line_cap);
    if (!cf->in || !cf->line) {
        ss_cf_close(cf);
        return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory opening %s", path);
    }
    return SS_OK;
}

void ss_cf_close(ss_cf *cf)
{
    if (cf->gz) gzclose(cf->gz);
    free(cf->in);
    free(cf->line);
    free(cf->hdr);
    free(cf->hdr_text);
    free(cf->cols);
    free(cf->f);
    memset(cf, 0, sizeof *cf);
}

/* One raw line (may be blank): 1, 0 at EOF, < 0 error. */
static int raw_line(ss_cf *cf)
{
    cf->line_len = 0;
    int got = 0;
    for (;;) {
        if (cf->in_pos == cf->in_len) {
            if (cf->in_eof) break;
            int n = gzread(cf->gz, cf->in, (unsigned)IN_BLOCK);
            int zerr = Z_OK;
            const char *m = gzerror(cf->gz, &zerr);
            /* as workloads/trace.c: Z_BUF_ERROR is zlib's "unexpected end of file", a gzip
             * stream cut short, which gzread otherwise reports as a clean end */
            if (n < 0 || (zerr != Z_OK && zerr != Z_BUF_ERROR)) {
                cf->lineno++;
                return ss_diag_set(cf->d, SS_ERR_IO, cf->path, (int)cf->lineno, 0, NULL,
                                   "read error (damaged gzip data?): %s",
                                   zerr == Z_ERRNO ? strerror(errno) : m);
            }
            if (zerr == Z_BUF_ERROR) {
                cf->lineno++;
                return ss_diag_set(cf->d, SS_ERR_IO, cf->path, (int)cf->lineno, 0, NULL,
                                   "truncated gzip file: the compressed data ends early");
            }
            if (n == 0) {
                cf->in_eof = 1;
                break;
            }
            cf->in_len = (size_t)n;
            cf->in_pos = 0;
        }
        got = 1;
        unsigned char *s = cf->in + cf->in_pos;
        size_t avail = cf->in_len - cf->in_pos;
        unsigned char *nl = memchr(s, '\n', avail);
        size_t take = nl ? (size_t)(nl - s) : avail;
        if (cf->line_len + take + 1 > cf->line_cap) {
            size_t cap = cf->line_cap;
            while (cap < cf->line_len + take + 1) cap *= 2;
            if (cap > MAX_LINE + 1) {
                cf->lineno++;
                return ss_cf_err(cf, NULL, "line longer than %zu bytes (not a text table?)",
                                 (size_t)MAX_LINE);
            }
            char *p = realloc(cf->line, cap);
            if (!p) return ss_diag_fail(cf->d, SS_ERR_NOMEM, "out of memory reading %s", cf->path);
            cf->line = p;
            cf->line_cap = cap;
        }
        memcpy(cf->line + cf->line_len, s, take);
        cf->line_len += take;
        cf->in_pos += take + (nl ? 1 : 0);
        if (nl) break;
    }
    if (!got) return 0;
    cf->lineno++;
    cf->line[cf->line_len] = '\0';
    if (cf->line_len && cf->line[cf->line_len - 1] == '\r') cf->line[--cf->line_len] = '\0';
    if (strlen(cf->line) != cf->line_len)
        return ss_cf_err(cf, NULL, "NUL byte in the line (binary or damaged file?)");
    return 1;
}

static int blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t') return 0;
    return 1;
}

int ss_cf_next(ss_cf *cf)
{
    for (;;) {
        int r = raw_line(cf);
        if (r <= 0) return r;
        if (blank(cf->line)) {
            if (!cf->blank_line) cf->blank_line = cf->lineno;
            continue;
        }
        if (cf->blank_line) {
            cf->lineno = cf->blank_line;
            return ss_cf_err(cf, NULL, "blank line inside the table");
        }
        return 1;
    }
}

ss_rc ss_cf_split(ss_cf *cf, int trim)
{
    cf->nf = 0;
    char *p = cf->line;
    for (;;) {
        if (cf->nf == cf->fcap) {
            int cap = cf->fcap ? cf->fcap * 2 : 32;
            char **f = realloc(cf->f, (size_t)cap * sizeof *f);
            if (!f) return ss_diag_fail(cf->d, SS_ERR_NOMEM, "out of memory reading %s", cf->path);
            cf->f = f;
            cf->fcap = cap;
        }
        char *c = strchr(p, ',');
        if (c) *c = '\0';
        if (trim) {
            while (*p == ' ') p++;
            size_t n = strlen(p);
            while (n && p[n - 1] == ' ') p[--n] = '\0';
        }
        cf->f[cf->nf++] = p;
        if (!c) break;
        p = c + 1;
    }
    return SS_OK;
}

ss_rc ss_cf_set_header(ss_cf *cf, const char *text)
{
    free(cf->hdr);
    free(cf->hdr_text);
    free(cf->cols);
    cf->cols = NULL;
    cf->ncols = 0;
    cf->hdr = strdup(text);
    cf->hdr_text = strdup(text);
    if (!cf->hdr || !cf->hdr_text)
        return ss_diag_fail(cf->d, SS_ERR_NOMEM, "out of memory reading %s", cf->path);
    /* split the copy: the row buffer cf->f is reused for the names, then copied */
    char *save = cf->line;
    cf->line = cf->hdr;
    ss_rc rc = ss_cf_split(cf, 0);
    cf->line = save;
    if (rc) return rc;
    cf->cols = malloc((size_t)cf->nf * sizeof *cf->cols);
    if (!cf->cols) return ss_diag_fail(cf->d, SS_ERR_NOMEM, "out of memory reading %s", cf->path);
    memcpy(cf->cols, cf->f, (size_t)cf->nf * sizeof *cf->cols);
    cf->ncols = cf->nf;
    for (int i = 0; i < cf->ncols; i++) {
        if (!cf->cols[i][0] && i > 0)
            return ss_cf_err(cf, NULL, "header column %d has no name", i + 1);
        for (int j = 0; j < i; j++)
            if (!strcmp(cf->cols[i], cf->cols[j]))
                return ss_cf_err(cf, NULL, "column '%s' appears twice in the header",
                                 cf->cols[i]);
    }
    return SS_OK;
}

ss_rc ss_cf_header(ss_cf *cf)
{
    int r = ss_cf_next(cf);
    if (r < 0) return (ss_rc)r;
    if (r == 0) {
        cf->lineno = 1;
        return ss_cf_err(cf, NULL, "empty file (expected a header line)");
    }
    return ss_cf_set_header(cf, cf->line);
}

int ss_cf_col(const ss_cf *cf, const char *name)
{
    for (int i = 0; i < cf->ncols; i++)
        if (!strcmp(cf->cols[i], name)) return i;
    return -1;
}

ss_rc ss_cf_need(ss_cf *cf, const char *name, int *idx)
{
    *idx = ss_cf_col(cf, name);
    if (*idx >= 0) return SS_OK;
    uint32_t l = cf->lineno;
    cf->lineno = 1;
    ss_rc rc = ss_cf_err(cf, name, "missing in the header");
    cf->lineno = l;
    return rc;
}

ss_rc ss_cf_row(ss_cf *cf)
{
    ss_rc rc = ss_cf_split(cf, 0);
    if (rc) return rc;
    if (cf->nf != cf->ncols)
        return ss_cf_err(cf, NULL, "the row has %d fields, the header %d", cf->nf, cf->ncols);
    return SS_OK;
}

int ss_parse_i64(const char *s, int64_t *out)
{
    if (!*s || *s == ' ' || *s == '+') return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end) return -1;
    *out = v;
    return 0;
}

int ss_parse_f64(const char *s, double *out)
{
    if (!*s || *s == ' ') return -1;
    /* Only decimal notation: no hex, inf or nan. */
    for (const char *p = s; *p; p++)
        if (!strchr("0123456789+-.eE", *p)) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || !isfinite(v) || errno == ERANGE) return -1;
    *out = v;
    return 0;
}

static const char *colname(const ss_cf *cf, int i, const char *name)
{
    if (name) return name;
    return (i >= 0 && i < cf->ncols) ? cf->cols[i] : "?";
}

ss_rc ss_cf_int(ss_cf *cf, int i, const char *name, int64_t min, int64_t max, int64_t *out)
{
    const char *s = cf->f[i];
    int64_t v;
    if (ss_parse_i64(s, &v))
        return ss_cf_err(cf, colname(cf, i, name), "expected an integer, got '%.60s'", s);
    if (v < min || v > max)
        return ss_cf_err(cf, colname(cf, i, name), "value %lld is out of range (%lld to %lld)",
                         (long long)v, (long long)min, (long long)max);
    *out = v;
    return SS_OK;
}

ss_rc ss_cf_num(ss_cf *cf, int i, const char *name, double min, double *out)
{
    const char *s = cf->f[i];
    double v;
    if (ss_parse_f64(s, &v))
        return ss_cf_err(cf, colname(cf, i, name), "expected a number, got '%.60s'", s);
    if (v < min)
        return ss_cf_err(cf, colname(cf, i, name), "value %g is below %g", v, min);
    *out = v;
    return SS_OK;
}

ss_rc ss_cf_bool(ss_cf *cf, int i, const char *name, int *out)
{
    const char *s = cf->f[i];
    if (!strcmp(s, "True") || !strcmp(s, "true") || !strcmp(s, "1")) *out = 1;
    else if (!strcmp(s, "False") || !strcmp(s, "false") || !strcmp(s, "0")) *out = 0;
    else return ss_cf_err(cf, colname(cf, i, name), "expected True or False, got '%.60s'", s);
    return SS_OK;
}
