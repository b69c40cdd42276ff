/* CSV plumbing shared by the native, azure and lengths readers: header → column map, row
 * splitting, and the integer parser with its standard messages.
 *
 * The dialect is deliberately plain: fields are separated by ',', there is no quoting and no
 * trimming (none of the formats has a comma inside a field, and a stray space or quote shows
 * up in the error message rather than being guessed away). A header names each column once;
 * a column the format does not know is an error, so a typo never silently drops data. */
#include "workloads/trace_int.h"

#include <stdio.h>
#include <string.h>

/*============================================================ numbers */

int ss_trace_parse_uint(const char *p, size_t n, uint64_t max, uint64_t *out)
{
    if (n == 0) return -1;
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9') return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned dgt = (unsigned)(p[i] - '0');
        if (v > (max - dgt) / 10) return -2;
        v = v * 10 + dgt;
    }
    *out = v;
    return 0;
}

ss_rc ss_trace_uint_field(ss_trace *t, const char *name, const ss_trace_field *f, uint64_t max,
                          uint64_t *out)
{
    char shown[200];
    int r = ss_trace_parse_uint(f->p, f->n, max, out);
    if (r == 0) return SS_OK;
    ss_trace_show(f->p, f->n, shown, sizeof shown);
    if (r == -2)
        return ss_trace_row_error(t, name, "value '%s' is out of range (at most %llu)", shown,
                                  (unsigned long long)max);
    return ss_trace_row_error(t, name, "expected a non-negative integer, got '%s'", shown);
}

/*============================================================ header */

int ss_trace_csv_has_column(const char *line, const char *name)
{
    size_t nlen = strlen(name);
    const char *p = line;
    for (;;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (len == nlen && memcmp(p, name, nlen) == 0) return 1;
        if (!c) return 0;
        p = c + 1;
    }
}

static int find_col(const ss_trace_fmt_ops *ops, const char *p, size_t n)
{
    for (int c = 0; c < ops->ncols; c++)
        if (strlen(ops->cols[c].name) == n && memcmp(ops->cols[c].name, p, n) == 0) return c;
    return -1;
}

static void list_cols(const ss_trace_fmt_ops *ops, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int c = 0; c < ops->ncols && o < cap; c++) {
        int w = snprintf(buf + o, cap - o, "%s%s", c ? ", " : "", ops->cols[c].name);
        if (w < 0) break;
        o += (size_t)w;
    }
}

ss_rc ss_trace_csv_header(ss_trace *t)
{
    const ss_trace_fmt_ops *ops = t->ops;
    char shown[200], cols[256];
    for (int c = 0; c < SS_TRACE_MAX_COLS; c++) t->fmtcol[c] = -1;
    t->nfilecols = 0;
    const char *p = t->line;
    for (int i = 0;; i++) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        int c = find_col(ops, p, len);
        ss_trace_show(p, len, shown, sizeof shown);
        if (len == 0)
            return ss_trace_row_error(t, NULL, "header column %d has no name", i + 1);
        if (c < 0) {
            list_cols(ops, cols, sizeof cols);
            return ss_trace_row_error(t, NULL, "unknown column '%s' in the header (%s columns: %s)",
                                      shown, ops->name, cols);
        }
        if (t->fmtcol[c] >= 0)
            return ss_trace_row_error(t, NULL, "column '%s' appears twice in the header", shown);
        t->fmtcol[c] = i; /* distinct known columns: i < ops->ncols <= SS_TRACE_MAX_COLS */
        t->colfmt[i] = c;
        t->nfilecols = i + 1;
        if (!comma) break;
        p = comma + 1;
    }
    for (int c = 0; c < ops->ncols; c++) {
        const ss_trace_col *col = &ops->cols[c];
        if (col->required && t->fmtcol[c] < 0)
            return ss_trace_row_error(t, NULL, "missing required column '%s' in the header",
                                      col->name);
        if (col->needs && t->fmtcol[c] >= 0) {
            int other = find_col(ops, col->needs, strlen(col->needs));
            if (other >= 0 && t->fmtcol[other] < 0)
                return ss_trace_row_error(t, NULL, "column '%s' needs column '%s' in the header",
                                          col->name, col->needs);
        }
    }
    return SS_OK;
}

/*============================================================ rows */

ss_rc ss_trace_csv_split(ss_trace *t, ss_trace_field *f)
{
    const ss_trace_fmt_ops *ops = t->ops;
    for (int c = 0; c < ops->ncols; c++) {
        f[c].p = "";
        f[c].n = 0;
        f[c].present = t->fmtcol[c] >= 0;
    }
    char *p = t->line;
    for (int i = 0; i < t->nfilecols; i++) {
        if (!p) {
            return ss_trace_row_error(t, NULL,
                                      "missing field '%s' (the row has %d fields, the header %d)",
                                      ops->cols[t->colfmt[i]].name, i, t->nfilecols);
        }
        char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        f[t->colfmt[i]].p = p;
        f[t->colfmt[i]].n = len;
        if (comma) *comma = '\0';
        p = comma ? comma + 1 : NULL;
    }
    if (p) {
        int n = t->nfilecols + 1;
        for (const char *q = p; (q = strchr(q, ',')) != NULL; q++) n++;
        return ss_trace_row_error(t, NULL, "extra field %d (the row has %d fields, the header %d)",
                                  t->nfilecols + 1, n, t->nfilecols);
    }
    return SS_OK;
}
