/* Internals of the calibration readers (hwprofiles/calib/meas.h). Only the files of
 * hwprofiles/calib include this.
 *
 * Layout: meas.c owns the table, the format table, detection, the directory walk and the
 * SHA-256 of each file; csv.c is the line/CSV input every reader shares (gzip or plain via
 * zlib, exact "file:line: column 'x': message" errors, number parsers); read_<format>.c
 * turns one file of its format into ss_meas rows. A format is a const ss_meas_reader listed
 * once in meas.c (NULL-terminated). */
#ifndef SS_HWPROFILES_CALIB_INT_H
#define SS_HWPROFILES_CALIB_INT_H

#include <stdint.h>
#include <zlib.h>

#include "hwprofiles/calib/meas.h"

/*------------------------------------------------------------------ line / CSV input */

/* One open input file, read through gzread (plain files pass through unchanged). The
 * current line is NUL-terminated without its line ending; after ss_cf_split, f[0..nf-1]
 * point into it. Memory is O(longest line + widest row). */
typedef struct ss_cf {
    const char *path;
    ss_diag *d;
    gzFile gz;
    unsigned char *in;
    size_t in_len, in_pos;
    int in_eof;
    char *line;
    size_t line_len, line_cap;
    uint32_t lineno;
    uint32_t blank_line; /* first blank line since the last non-blank one, 0 = none */
    /* Header: copy of the header line, split into names. */
    char *hdr;      /* split in place: the names */
    char *hdr_text; /* the header line as read */
    char **cols;
    int ncols;
    /* Current row fields. */
    char **f;
    int nf, fcap;
} ss_cf;

ss_rc ss_cf_open(ss_cf *cf, const char *path, ss_diag *d);
void ss_cf_close(ss_cf *cf);
/* Next non-blank line into cf->line: 1 = a line, 0 = end of file, < 0 = error (diag set).
 * Blank lines are allowed only at the end of the file. A NUL byte is an error. */
int ss_cf_next(ss_cf *cf);
/* Split cf->line at ',' into cf->f / cf->nf; trim = 1 strips spaces around each field. */
ss_rc ss_cf_split(ss_cf *cf, int trim);
/* Read the first line as a header (error if the file is empty). Column names must be unique;
 * an empty name is allowed only as the first column (pandas' index). */
ss_rc ss_cf_header(ss_cf *cf);
/* Index of a header column, -1 if absent. */
int ss_cf_col(const ss_cf *cf, const char *name);
/* Use `text` as the header (a file without its header line, read leniently). */
ss_rc ss_cf_set_header(ss_cf *cf, const char *text);
/* Index of a required column; error "missing column 'x' in the header" otherwise. */
ss_rc ss_cf_need(ss_cf *cf, const char *name, int *idx);
/* Split the current line and check it has as many fields as the header. */
ss_rc ss_cf_row(ss_cf *cf);
/* "file:line: column 'col': message" (col may be NULL). Returns SS_ERR_INVALID. */
ss_rc ss_cf_err(ss_cf *cf, const char *col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Field parsers for the current row (index into cf->f, name for the message = header name,
 * or `name` when given). */
ss_rc ss_cf_int(ss_cf *cf, int i, const char *name, int64_t min, int64_t max, int64_t *out);
/* A finite number >= min (integers and decimals, exponent allowed). */
ss_rc ss_cf_num(ss_cf *cf, int i, const char *name, double min, double *out);
/* True/False, true/false, 1/0. */
ss_rc ss_cf_bool(ss_cf *cf, int i, const char *name, int *out);
/* Parse a whole string as int64 / double; 0 on success. */
int ss_parse_i64(const char *s, int64_t *out);
int ss_parse_f64(const char *s, double *out);

/*------------------------------------------------------------------ readers */

/* What a reader gets for one file. */
typedef struct ss_calib_ctx {
    ss_meas_table *t;
    ss_meas_source *s;    /* being filled: path, format, sha256 set; reader sets gpu, stack */
    uint32_t src;         /* index the source will get (rows carry it) */
    const char *want_gpu; /* canonical GPU filter or NULL */
    int skipped_gpu;      /* set by ss_calib_set_gpu when the file is another GPU's */
    int lenient;          /* ss_meas_opts.lenient */
    ss_diag *d;
} ss_calib_ctx;

typedef struct ss_meas_reader {
    const char *name;
    const char *help;
    /* 1 if the file belongs to this format: `path` as found, `first` its first line
     * (decompressed; "" for an empty file). */
    int (*detect)(const char *path, const char *first);
    /* Read one file; rows go to c->t with src = c->src. Return SS_OK with no rows and
     * c->s->note set for a file the format knows but deliberately does not read. */
    ss_rc (*read)(ss_calib_ctx *c);
    /* Optional: for a file detect() refuses, why it is there (e.g. "metadata, read with the
     * tables beside it"), or NULL. Lets a directory listing explain its files. */
    const char *(*companion)(const char *path, const char *first);
} ss_meas_reader;

extern const ss_meas_reader ss_meas_reader_vidur;
extern const ss_meas_reader ss_meas_reader_frontier;
extern const ss_meas_reader ss_meas_reader_aiconfigurator;
extern const ss_meas_reader ss_meas_reader_llmservingsim;
extern const ss_meas_reader ss_meas_reader_infersim;
extern const ss_meas_reader ss_meas_reader_apex_plus;
extern const ss_meas_reader ss_meas_reader_llmcompass;
extern const ss_meas_reader ss_meas_reader_servesim;

/* Map a raw GPU name (folder, column, meta field) to the canonical servesim name via the
 * alias table and store it in c->s->gpu. A name the table does not know is kept as given
 * and said so in c->s->note (never guessed). Sets c->skipped_gpu when c->want_gpu is set and
 * differs; the reader then returns SS_OK at once. */
void ss_calib_set_gpu(ss_calib_ctx *c, const char *raw);
/* Append to c->s->note ("; " between notes). */
void ss_calib_note(ss_calib_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Push one row (src filled in). */
ss_rc ss_calib_push(ss_calib_ctx *c, ss_meas *m);
/* Intern helper. */
uint32_t ss_calib_str(ss_calib_ctx *c, const char *s, ss_rc *rc);

/* Path helpers. Base name of p (after the last '/'). */
const char *ss_path_base(const char *p);
/* 1 if the base name equals name, name".gz" (exact). */
int ss_path_is(const char *p, const char *name);
/* Copy the k-th directory component counted back from the file (k = 1: the folder holding
 * the file) into out; 0 if there is none. */
int ss_path_up(const char *p, int k, char *out, size_t n);
/* Index (counted back as ss_path_up does) of the nearest folder named `dir`, or 0. */
int ss_path_find_up(const char *p, const char *dir);
/* Dirname of p into out (without the trailing '/'; "." when p has none). */
void ss_path_dir(const char *p, char *out, size_t n);

#endif
