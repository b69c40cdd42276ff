/* Internals of the trace readers (workloads/trace.h). Not part of the public contract: only
 * the trace*.c files include this.
 *
 * Layout: trace.c owns the reader (line input, format detection, the checks common to every
 * format, lenient skipping, error stickiness); trace_csv.c splits CSV headers and rows and
 * holds the number parsers; trace_native.c, trace_azure.c, trace_lengths.c and
 * trace_mooncake.c each turn one line of their format into a ss_trace_rec. A format is a
 * const ss_trace_fmt_ops, listed once in trace.c. */
#ifndef SS_WORKLOADS_TRACE_INT_H
#define SS_WORKLOADS_TRACE_INT_H

#include <stdint.h>
#include <zlib.h>

#include "workloads/trace.h"

/* Most columns any CSV format has (native: 7). */
#define SS_TRACE_MAX_COLS 8

/* A CSV column of a format. */
typedef struct ss_trace_col {
    const char *name;
    int required;
    const char *needs; /* another column that must be present with this one, or NULL */
} ss_trace_col;

/* One field of the current CSV row, indexed by the format's column order (not the file's).
 * p is NUL-terminated inside the line buffer. present = 0: the file has no such column. */
typedef struct ss_trace_field {
    const char *p;
    size_t n;
    int present;
} ss_trace_field;

/* A row as a format parser delivers it, before the common checks. Absolute time is kept as
 * (seconds, nanoseconds) so that dates far from 1970 cannot overflow before the difference
 * to the first row is taken. */
typedef struct ss_trace_rec {
    int has_time;
    int64_t sec;  /* absolute seconds in the format's own origin */
    int32_t nsec; /* 0 .. 999,999,999 */
    uint32_t prompt, output;
    char cls[32];
    int64_t prefix_id;
    uint32_t nhashes; /* entries written to t->hashes */
    uint32_t block_tokens;
} ss_trace_rec;

typedef struct ss_trace_fmt_ops {
    ss_trace_format format;
    const char *name;
    const ss_trace_col *cols; /* CSV columns; NULL for JSON Lines */
    int ncols;
    /* Field names used by the common checks' messages. */
    const char *time_field, *prompt_field, *output_field, *hash_field;
    /* 1 if this (first non-blank) line identifies the format. */
    int (*sniff)(const char *line);
    /* Parse the current line (t->line; for CSV formats already split into f). Returns
     * SS_OK, SS_ERR_INVALID for a malformed row (t->rowdiag filled through
     * ss_trace_row_error), or another code for a fatal error (t->rowdiag filled). */
    ss_rc (*parse)(ss_trace *t, const ss_trace_field *f, ss_trace_rec *rec);
} ss_trace_fmt_ops;

extern const ss_trace_fmt_ops ss_trace_native_ops;
extern const ss_trace_fmt_ops ss_trace_azure_ops;
extern const ss_trace_fmt_ops ss_trace_mooncake_ops;
extern const ss_trace_fmt_ops ss_trace_lengths_ops;

struct ss_trace {
    const ss_trace_fmt_ops *ops;
    ss_trace_opts opts;
    char *path;
    gzFile gz;

    /* Decompressed input not yet split into lines. */
    unsigned char *in;
    size_t in_len, in_pos;
    int in_eof;

    /* The current line, NUL-terminated, without its line ending. */
    char *line;
    size_t line_len, line_cap;
    int64_t lineno;
    int line_pending; /* the current line was read at open (detection) and not yet used */

    /* Blank lines seen since the last row: allowed only if nothing but blanks follows. */
    uint64_t blank_count;
    int64_t blank_first;

    /* CSV: file column i holds format column colfmt[i]; fmtcol[c] is the file column of
     * format column c, or -1. */
    int nfilecols;
    int colfmt[SS_TRACE_MAX_COLS];
    int fmtcol[SS_TRACE_MAX_COLS];

    /* Times: the first returned row's absolute time, and the last returned relative time. */
    int have_t0;
    int64_t sec0;
    int32_t nsec0;
    ss_time_ns prev_t;

    /* Hashes of the current row (row->hashes points here). */
    uint64_t *hashes;
    uint32_t hash_cap;

    uint64_t rows, skipped;
    ss_diag rowdiag;    /* error of the row being parsed */
    ss_diag first_skip; /* lenient: the first skipped row's error */
    ss_diag fatal;      /* sticky: once set, ss_trace_next keeps returning it */
};

/* Record a malformed-row error at the current line (first error wins within a row).
 * field may be NULL; the message is then "MSG", else "field 'FIELD': MSG".
 * Returns SS_ERR_INVALID. */
ss_rc ss_trace_row_error(ss_trace *t, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Make room for n hashes in t->hashes; SS_ERR_NOMEM (t->rowdiag filled) on failure. */
ss_rc ss_trace_hash_reserve(ss_trace *t, uint64_t n);

/* Quote a value for a message: printable ASCII kept, other bytes as \xNN, cut after 40
 * characters with "..."; always NUL-terminated. */
void ss_trace_show(const char *p, size_t n, char *buf, size_t cap);

/* Parse a non-negative decimal integer (digits only, at least one) no larger than max.
 * Returns 0 on success, -1 if it is not such an integer, -2 if it is larger than max. */
int ss_trace_parse_uint(const char *p, size_t n, uint64_t max, uint64_t *out);

/* A uint field with the standard messages ("expected a non-negative integer, got 'x'",
 * "value 'N' is out of range (at most MAX)"). f must be present. */
ss_rc ss_trace_uint_field(ss_trace *t, const char *name, const ss_trace_field *f, uint64_t max,
                          uint64_t *out);

/* CSV: 1 if the header line has a column exactly `name` (no allocation, no change). */
int ss_trace_csv_has_column(const char *line, const char *name);

/* CSV: map the header in t->line onto t->ops->cols (fills nfilecols, colfmt, fmtcol).
 * Errors (fatal) go to t->fatal. */
ss_rc ss_trace_csv_header(ss_trace *t);

/* CSV: split t->line in place into f[0 .. ops->ncols-1] (format order). A missing or extra
 * field is a malformed-row error. */
ss_rc ss_trace_csv_split(ss_trace *t, ss_trace_field *f);

#endif
