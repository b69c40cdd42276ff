/* Trace reader core: input, format detection, the checks every format shares, lenient
 * skipping. See trace.h for the contract and trace_int.h for the layout.
 *
 * Input is read with gzread into a 64 KiB block and split into lines here, rather than with
 * gzgets: gzgets cannot tell a NUL byte inside a line from the end of the line, so a binary
 * or damaged file would be silently cut; splitting ourselves lets a NUL be reported, lets
 * the line buffer grow to any length up to opts.max_line_bytes (never truncating), and
 * still reads gzip and plain files through the same zlib calls.
 *
 * Invariants kept by this file:
 *  - memory is the input block + the longest line + the longest hash list: O(1) in rows;
 *  - a row is returned only after every check passed; the reader's state (first time,
 *    previous time, counters) changes only when a row is returned or skipped;
 *  - the first fatal error is kept in t->fatal and returned by every later call. */
#include "workloads/trace_int.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Detection tries the formats in this order; mooncake first because its sniff is the most
 * specific (a JSON object line). Indexed lookups go through by_format. */
static const ss_trace_fmt_ops *const by_format[SS_TRACE_FORMAT_COUNT] = {
    [SS_TRACE_NATIVE] = &ss_trace_native_ops,
    [SS_TRACE_AZURE] = &ss_trace_azure_ops,
    [SS_TRACE_MOONCAKE] = &ss_trace_mooncake_ops,
    [SS_TRACE_LENGTHS] = &ss_trace_lengths_ops,
};
static const ss_trace_fmt_ops *const sniff_order[SS_TRACE_FORMAT_COUNT] = {
    &ss_trace_mooncake_ops, &ss_trace_native_ops, &ss_trace_azure_ops, &ss_trace_lengths_ops};

#define IN_BLOCK ((size_t)64 << 10)
#define LINE_INIT 256 /* small on purpose: real traces exercise the growth path */

/*============================================================ names, options */

const char *ss_trace_format_name(ss_trace_format f)
{
    if ((int)f < 0 || f >= SS_TRACE_FORMAT_COUNT) return "?";
    return by_format[f]->name;
}

int ss_trace_format_from_name(const char *name)
{
    if (!name) return -1;
    for (int i = 0; i < SS_TRACE_FORMAT_COUNT; i++)
        if (strcmp(name, by_format[i]->name) == 0) return i;
    return -1;
}

ss_trace_opts ss_trace_opts_defaults(void)
{
    ss_trace_opts o = {.lenient = 0, .require_sorted = 1, .max_line_bytes = 0};
    return o;
}

/*============================================================ diagnostics */

static int clamp_line(int64_t line) { return line > INT_MAX ? INT_MAX : (int)line; }

static ss_rc row_error_v(ss_trace *t, int64_t line, const char *field, const char *fmt,
                         va_list ap)
{
    char msg[sizeof t->rowdiag.msg];
    int n = 0;
    if (field) n = snprintf(msg, sizeof msg, "field '%s': ", field);
    if (n < 0) n = 0;
    if ((size_t)n < sizeof msg) vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    return ss_diag_set(&t->rowdiag, SS_ERR_INVALID, t->path, clamp_line(line), 0, NULL, "%s",
                       msg);
}

ss_rc ss_trace_row_error(ss_trace *t, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ss_rc rc = row_error_v(t, t->lineno, field, fmt, ap);
    va_end(ap);
    return rc;
}

static ss_rc row_error_at(ss_trace *t, int64_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static ss_rc row_error_at(ss_trace *t, int64_t line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ss_rc rc = row_error_v(t, line, NULL, fmt, ap);
    va_end(ap);
    return rc;
}

/* A whole-file error: goes straight to t->fatal (first one wins). */
static ss_rc fatal_error(ss_trace *t, ss_rc rc, int64_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static ss_rc fatal_error(ss_trace *t, ss_rc rc, int64_t line, const char *fmt, ...)
{
    char msg[sizeof t->fatal.msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ss_diag_set(&t->fatal, rc, t->path, clamp_line(line), 0, NULL, "%s", msg);
}

/* Make the current row's error fatal (strict mode, or an error lenient mode cannot skip). */
static ss_rc promote(ss_trace *t)
{
    if (t->fatal.rc == SS_OK) {
        t->fatal = t->rowdiag;
        if (t->fatal.rc == SS_OK) /* a parser returned an error without saying why */
            fatal_error(t, SS_ERR_INTERNAL, t->lineno, "trace reader failed without a message");
    }
    return t->fatal.rc;
}

/* Hand a stored error to the caller's diag (first error wins there too). */
static ss_rc copy_out(ss_diag *d, const ss_diag *src)
{
    if (d && d->rc == SS_OK) *d = *src;
    return src->rc;
}

void ss_trace_show(const char *p, size_t n, char *buf, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0, shown = 0;
    if (!cap) return;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (shown == 40) {
            if (o + 4 <= cap) memcpy(buf + o, "...", 3), o += 3;
            break;
        }
        if (c >= 0x20 && c < 0x7f) {
            if (o + 2 > cap) break;
            buf[o++] = (char)c;
        } else {
            if (o + 5 > cap) break;
            buf[o++] = '\\';
            buf[o++] = 'x';
            buf[o++] = hex[c >> 4];
            buf[o++] = hex[c & 15];
        }
        shown++;
    }
    buf[o] = '\0';
}

/* "+12.0000001" / "-3": a relative time in seconds, exactly, always signed. */
static void fmt_rel(ss_time_ns ns, char *buf, size_t cap)
{
    uint64_t a = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
    char frac[16];
    snprintf(frac, sizeof frac, "%09llu", (unsigned long long)(a % 1000000000u));
    size_t k = strlen(frac);
    while (k > 0 && frac[k - 1] == '0') frac[--k] = '\0';
    snprintf(buf, cap, "%c%llu%s%s", ns < 0 ? '-' : '+', (unsigned long long)(a / 1000000000u),
             k ? "." : "", frac);
}

/*============================================================ line input */

static size_t max_line(const ss_trace *t)
{
    return t->opts.max_line_bytes ? t->opts.max_line_bytes : SS_TRACE_MAX_LINE_DEFAULT;
}

/* zlib's message without the "PATH: " it puts in front (the diag names the file already). */
static const char *zlib_msg(const ss_trace *t, const char *m)
{
    size_t n = strlen(t->path);
    if (!m) return "zlib error";
    if (strncmp(m, t->path, n) == 0 && m[n] == ':' && m[n + 1] == ' ') return m + n + 2;
    return m;
}

/* Refill the input block. Returns 1 with data, 0 at the end, < 0 on a fatal error.
 * Errors name the line being read when the block ran out (the damage is at or after it). */
static int refill(ss_trace *t)
{
    if (t->in_eof) return 0;
    int n = gzread(t->gz, t->in, (unsigned)IN_BLOCK);
    int zerr = Z_OK;
    const char *zmsg = gzerror(t->gz, &zerr);
    if (n < 0 || (zerr != Z_OK && zerr != Z_BUF_ERROR)) {
        if (zerr == Z_ERRNO)
            return fatal_error(t, SS_ERR_IO, t->lineno + 1, "read error: %s", strerror(errno));
        return fatal_error(t, SS_ERR_IO, t->lineno + 1, "corrupt gzip data: %s",
                           zlib_msg(t, zmsg));
    }
    if (zerr == Z_BUF_ERROR) /* zlib's "unexpected end of file": the gzip stream is cut */
        return fatal_error(t, SS_ERR_IO, t->lineno + 1,
                           "truncated gzip file: the compressed data ends early");
    if (n == 0) {
        t->in_eof = 1;
        return 0;
    }
    t->in_len = (size_t)n;
    t->in_pos = 0;
    return 1;
}

static ss_rc line_reserve(ss_trace *t, size_t need)
{
    if (need <= t->line_cap) return SS_OK;
    size_t cap = t->line_cap;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(t->line, cap);
    if (!p)
        return fatal_error(t, SS_ERR_NOMEM, t->lineno + 1, "out of memory for a %zu-byte line",
                           need);
    t->line = p;
    t->line_cap = cap;
    return SS_OK;
}

/* Next line into t->line (without "\n" or "\r\n"). Returns 1, 0 at the end of the file, or
 * < 0 with t->fatal set. A last line without a newline is a line. */
static int read_line(ss_trace *t)
{
    if (t->line_pending) {
        t->line_pending = 0;
        return 1;
    }
    size_t len = 0, lim = max_line(t);
    int any = 0;
    for (;;) {
        if (t->in_pos == t->in_len) {
            int r = refill(t);
            if (r < 0) return r;
            if (r == 0) break;
        }
        const unsigned char *s = t->in + t->in_pos;
        size_t avail = t->in_len - t->in_pos;
        const unsigned char *nl = memchr(s, '\n', avail);
        size_t take = nl ? (size_t)(nl - s) : avail;
        any = 1;
        if (len + take > lim + 1) /* +1: room for the '\r' of "\r\n", removed below */
            return fatal_error(t, SS_ERR_INVALID, t->lineno + 1,
                               "line is longer than %zu bytes (not a trace file?)", lim);
        if (line_reserve(t, len + take + 1) != SS_OK) return t->fatal.rc;
        memcpy(t->line + len, s, take);
        len += take;
        t->in_pos += take + (nl ? 1 : 0);
        if (nl) break;
    }
    if (!any) return 0;
    if (len > 0 && t->line[len - 1] == '\r') len--;
    if (len > lim)
        return fatal_error(t, SS_ERR_INVALID, t->lineno + 1,
                           "line is longer than %zu bytes (not a trace file?)", lim);
    t->line[len] = '\0';
    t->lineno++;
    if (t->lineno == 1 && len >= 3 && memcmp(t->line, "\xEF\xBB\xBF", 3) == 0) {
        memmove(t->line, t->line + 3, len - 2); /* UTF-8 byte-order mark, with the NUL */
        len -= 3;
    }
    t->line_len = len;
    return 1;
}

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t') return 0;
    return 1;
}

/*============================================================ hashes */

ss_rc ss_trace_hash_reserve(ss_trace *t, uint64_t n)
{
    if (n <= t->hash_cap) return SS_OK;
    if (n > UINT32_MAX)
        return ss_diag_set(&t->rowdiag, SS_ERR_INVALID, t->path, clamp_line(t->lineno), 0, NULL,
                           "field '%s': more than %u block hashes", t->ops->hash_field,
                           (unsigned)UINT32_MAX);
    uint64_t cap = t->hash_cap ? t->hash_cap : 64;
    while (cap < n) cap *= 2;
    if (cap > UINT32_MAX) cap = UINT32_MAX;
    uint64_t *p = realloc(t->hashes, (size_t)cap * sizeof *p);
    if (!p)
        return ss_diag_set(&t->rowdiag, SS_ERR_NOMEM, t->path, clamp_line(t->lineno), 0, NULL,
                           "out of memory for %llu block hashes", (unsigned long long)n);
    t->hashes = p;
    t->hash_cap = (uint32_t)cap;
    return SS_OK;
}

/*============================================================ open */

void ss_trace_close(ss_trace *t)
{
    if (!t) return;
    if (t->gz) gzclose(t->gz);
    free(t->in);
    free(t->line);
    free(t->hashes);
    free(t->path);
    free(t);
}

/* Read up to the first non-blank line (counting blanks as ss_trace_next would).
 * Returns 1 with it in t->line, 0 if the file has none, < 0 on a fatal error. */
static int first_nonblank(ss_trace *t)
{
    for (;;) {
        int r = read_line(t);
        if (r <= 0) return r;
        if (!is_blank(t->line, t->line_len)) return 1;
        if (!t->blank_count) t->blank_first = t->lineno;
        t->blank_count++;
    }
}

static ss_rc open_body(ss_trace *t, int format)
{
    int r = first_nonblank(t);
    if (r < 0) return t->fatal.rc;
    const ss_trace_fmt_ops *ops = format >= 0 ? by_format[format] : NULL;
    if (r == 0) {
        if (!ops)
            return fatal_error(t, SS_ERR_INVALID, 0,
                               "empty file: cannot detect the trace format (give it explicitly)");
        if (ops->cols)
            return fatal_error(t, SS_ERR_INVALID, 0,
                               "empty file: expected a CSV header (%s format)", ops->name);
        t->ops = ops; /* an empty JSON Lines file is a trace of zero rows */
        return SS_OK;
    }
    if (!ops) {
        for (int i = 0; i < SS_TRACE_FORMAT_COUNT && !ops; i++)
            if (sniff_order[i]->sniff(t->line)) ops = sniff_order[i];
        if (!ops) {
            char shown[200];
            ss_trace_show(t->line, t->line_len, shown, sizeof shown);
            return fatal_error(
                t, SS_ERR_INVALID, t->lineno,
                "cannot detect the trace format from '%s': expected a CSV header with "
                "arrival_s (native), TIMESTAMP (azure) or num_prefill_tokens and "
                "num_decode_tokens (lengths), or a JSON object with \"timestamp\" (mooncake)",
                shown);
        }
    }
    t->ops = ops;
    if (!ops->cols) { /* JSON Lines: the line is data; ss_trace_next handles it and blanks */
        t->line_pending = 1;
        return SS_OK;
    }
    if (t->blank_count)
        return fatal_error(t, SS_ERR_INVALID, t->blank_first,
                           "blank line before the CSV header (the header must be line 1)");
    ss_diag_clear(&t->rowdiag);
    if (ss_trace_csv_header(t) != SS_OK) return promote(t);
    return SS_OK;
}

ss_rc ss_trace_open(const char *path, int format, const ss_trace_opts *opts, ss_trace **out,
                    ss_diag *d)
{
    if (out) *out = NULL;
    if (!path || !out) return ss_diag_fail(d, SS_ERR_INVALID, "ss_trace_open: NULL argument");
    if (format >= SS_TRACE_FORMAT_COUNT)
        return ss_diag_set(d, SS_ERR_INVALID, path, 0, 0, NULL, "unknown trace format %d",
                           format);
    struct stat st;
    if (stat(path, &st) != 0)
        return ss_diag_set(d, SS_ERR_IO, path, 0, 0, NULL, "cannot open trace: %s",
                           strerror(errno));
    if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode))
        return ss_diag_set(d, SS_ERR_IO, path, 0, 0, NULL, "cannot open trace: not a regular file");

    ss_trace *t = calloc(1, sizeof *t);
    if (!t) return ss_diag_set(d, SS_ERR_NOMEM, path, 0, 0, NULL, "out of memory");
    t->opts = opts ? *opts : ss_trace_opts_defaults();
    t->prev_t = 0;
    size_t plen = strlen(path);
    t->path = malloc(plen + 1);
    t->in = malloc(IN_BLOCK);
    t->line = malloc(LINE_INIT);
    t->line_cap = LINE_INIT;
    if (!t->path || !t->in || !t->line) {
        ss_trace_close(t);
        return ss_diag_set(d, SS_ERR_NOMEM, path, 0, 0, NULL, "out of memory");
    }
    memcpy(t->path, path, plen + 1);
    errno = 0;
    t->gz = gzopen(path, "rb");
    if (!t->gz) {
        ss_rc rc = ss_diag_set(d, errno == ENOMEM || errno == 0 ? SS_ERR_NOMEM : SS_ERR_IO, path,
                               0, 0, NULL, "cannot open trace: %s",
                               errno ? strerror(errno) : "out of memory");
        ss_trace_close(t);
        return rc;
    }
    if (open_body(t, format) != SS_OK) {
        ss_rc rc = copy_out(d, &t->fatal);
        ss_trace_close(t);
        return rc;
    }
    *out = t;
    return SS_OK;
}

/*============================================================ rows */

/* Checks every format shares, then the row is committed. */
static ss_rc finish(ss_trace *t, const ss_trace_rec *r, ss_trace_row *row)
{
    const ss_trace_fmt_ops *ops = t->ops;
    if (r->prompt == 0)
        return ss_trace_row_error(t, ops->prompt_field,
                                  "prompt length is 0 (servesim needs at least 1 token)");
    if (r->output == 0)
        return ss_trace_row_error(t, ops->output_field,
                                  "output length is 0 (servesim needs at least 1 token)");
    if (r->nhashes && r->block_tokens) {
        uint64_t blocks = ((uint64_t)r->prompt + r->block_tokens - 1) / r->block_tokens;
        if (r->nhashes > blocks)
            return ss_trace_row_error(
                t, ops->hash_field,
                "%u block hashes for %u prompt tokens: more than the %llu blocks of %u tokens "
                "the prompt has",
                (unsigned)r->nhashes, (unsigned)r->prompt, (unsigned long long)blocks,
                (unsigned)r->block_tokens);
    }
    ss_time_ns rel = 0;
    if (r->has_time && t->have_t0) {
        /* |sec| < 2^63 and sec0 >= -2^41 (azure dates), sec >= -2^41: no overflow here. */
        int64_t dsec = r->sec - t->sec0;
        const int64_t lim = (INT64_MAX - SS_NS_PER_S) / SS_NS_PER_S;
        if (dsec > lim || dsec < -lim)
            return ss_trace_row_error(t, ops->time_field,
                                      "time is more than %lld s away from the first row's "
                                      "(out of the int64 nanosecond range)",
                                      (long long)lim);
        rel = dsec * SS_NS_PER_S + (r->nsec - t->nsec0);
        if (t->opts.require_sorted && rel < t->prev_t) {
            char a[40], b[40];
            fmt_rel(rel, a, sizeof a);
            fmt_rel(t->prev_t, b, sizeof b);
            return ss_trace_row_error(t, ops->time_field,
                                      "time goes backwards: %s s is before the previous row's "
                                      "%s s (relative to the first row; rows must be sorted)",
                                      a, b);
        }
    }
    /* Commit. */
    if (r->has_time) {
        if (!t->have_t0) {
            t->have_t0 = 1;
            t->sec0 = r->sec;
            t->nsec0 = r->nsec;
        }
        t->prev_t = rel;
    }
    memset(row, 0, sizeof *row);
    row->line = t->lineno;
    row->has_time = r->has_time;
    row->t = rel;
    row->prompt_tokens = r->prompt;
    row->output_tokens = r->output;
    memcpy(row->cls, r->cls, sizeof row->cls);
    row->prefix_id = r->prefix_id;
    row->nhashes = r->nhashes;
    row->hashes = r->nhashes ? t->hashes : NULL;
    row->hash_block_tokens = r->block_tokens;
    return SS_OK;
}

static ss_rc parse_line(ss_trace *t, ss_trace_row *row)
{
    const char *nul = memchr(t->line, '\0', t->line_len);
    if (nul)
        return ss_trace_row_error(t, NULL, "NUL byte at column %zu (binary data?)",
                                  (size_t)(nul - t->line) + 1);
    ss_trace_field f[SS_TRACE_MAX_COLS];
    ss_trace_rec rec;
    memset(&rec, 0, sizeof rec);
    rec.prefix_id = -1;
    if (t->ops->cols) {
        ss_rc rc = ss_trace_csv_split(t, f);
        if (rc != SS_OK) return rc;
    }
    ss_rc rc = t->ops->parse(t, f, &rec);
    if (rc != SS_OK) return rc;
    return finish(t, &rec, row);
}

/* Lenient: count n skipped rows whose error is in t->rowdiag. */
static void skip(ss_trace *t, uint64_t n)
{
    if (t->skipped == 0) t->first_skip = t->rowdiag;
    t->skipped += n;
}

int ss_trace_next(ss_trace *t, ss_trace_row *row, ss_diag *d)
{
    if (!t || !row) return ss_diag_fail(d, SS_ERR_INVALID, "ss_trace_next: NULL argument");
    if (t->fatal.rc != SS_OK) return copy_out(d, &t->fatal);
    for (;;) {
        int r = read_line(t);
        if (r < 0) return copy_out(d, &t->fatal);
        if (r == 0) return 0; /* blank lines at the end are fine */
        if (is_blank(t->line, t->line_len)) {
            if (!t->blank_count) t->blank_first = t->lineno;
            t->blank_count++;
            continue;
        }
        ss_diag_clear(&t->rowdiag);
        if (t->blank_count) {
            uint64_t n = t->blank_count;
            t->blank_count = 0;
            row_error_at(t, t->blank_first,
                         "blank line before more data (blank lines are allowed only at the "
                         "end of the file)");
            if (!t->opts.lenient) {
                promote(t);
                return copy_out(d, &t->fatal);
            }
            skip(t, n);
            ss_diag_clear(&t->rowdiag);
        }
        ss_rc rc = parse_line(t, row);
        if (rc == SS_OK) {
            t->rows++;
            return 1;
        }
        if (rc == SS_ERR_INVALID && t->opts.lenient) {
            skip(t, 1);
            continue;
        }
        promote(t);
        return copy_out(d, &t->fatal);
    }
}

/*============================================================ accessors */

ss_trace_format ss_trace_get_format(const ss_trace *t) { return t->ops->format; }
const char *ss_trace_path(const ss_trace *t) { return t->path; }
uint64_t ss_trace_rows(const ss_trace *t) { return t->rows; }
uint64_t ss_trace_skipped(const ss_trace *t) { return t->skipped; }
const ss_diag *ss_trace_first_skipped(const ss_trace *t)
{
    return t->skipped ? &t->first_skip : NULL;
}
