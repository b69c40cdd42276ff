/* The measurement table, the format table, detection, the directory walk and file hashes.
 * See meas.h for the contract and calib_int.h for the layout. */
#include "hwprofiles/calib/calib_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "hwprofiles/hw.h"

/*============================================================ families */

static const char *const fam_names[SS_FAM_COUNT] = {
#define SS_FAM_NAME(e, name) name,
    SS_FAM_LIST(SS_FAM_NAME)
#undef SS_FAM_NAME
};

const char *ss_fam_name(ss_fam f)
{
    return ((int)f >= 0 && f < SS_FAM_COUNT) ? fam_names[f] : "?";
}

ss_fam ss_fam_from_name(const char *name)
{
    if (!name) return SS_FAM_COUNT;
    for (int i = 0; i < SS_FAM_COUNT; i++)
        if (!strcmp(name, fam_names[i])) return (ss_fam)i;
    return SS_FAM_COUNT;
}

/*============================================================ table */

void ss_meas_table_init(ss_meas_table *t) { memset(t, 0, sizeof *t); }

void ss_meas_table_free(ss_meas_table *t)
{
    free(t->rows);
    free(t->sources);
    free(t->strings);
    memset(t, 0, sizeof *t);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}

ss_rc ss_meas_push(ss_meas_table *t, const ss_meas *row, ss_diag *d)
{
    if (grow((void **)&t->rows, &t->cap, t->n + 1, sizeof *t->rows))
        return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory (%zu measurements)", t->n);
    t->rows[t->n++] = *row;
    return SS_OK;
}

ss_rc ss_meas_add_source(ss_meas_table *t, const ss_meas_source *s, uint32_t *idx, ss_diag *d)
{
    if (grow((void **)&t->sources, &t->cap_sources, t->nsources + 1, sizeof *t->sources))
        return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory (%zu sources)", t->nsources);
    t->sources[t->nsources] = *s;
    if (idx) *idx = (uint32_t)t->nsources;
    t->nsources++;
    return SS_OK;
}

ss_rc ss_meas_intern(ss_meas_table *t, const char *s, uint32_t *off, ss_diag *d)
{
    if (!t->strings) {
        if (grow((void **)&t->strings, &t->strings_cap, 1, 1))
            return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory (strings)");
        t->strings[0] = '\0';
        t->strings_len = 1;
    }
    if (!s || !s[0]) {
        *off = 0;
        return SS_OK;
    }
    /* Few distinct strings (operator and model names): a linear scan is enough. */
    size_t n = strlen(s);
    for (size_t o = 1; o < t->strings_len; o += strlen(t->strings + o) + 1)
        if (!strcmp(t->strings + o, s)) {
            *off = (uint32_t)o;
            return SS_OK;
        }
    if (t->strings_len + n + 1 > UINT32_MAX)
        return ss_diag_fail(d, SS_ERR_INVALID, "too many distinct strings in the table");
    if (grow((void **)&t->strings, &t->strings_cap, t->strings_len + n + 1, 1))
        return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory (strings)");
    memcpy(t->strings + t->strings_len, s, n + 1);
    *off = (uint32_t)t->strings_len;
    t->strings_len += n + 1;
    return SS_OK;
}

void ss_meas_count_families(const ss_meas_table *t, uint32_t src, uint64_t *counts)
{
    memset(counts, 0, SS_FAM_COUNT * sizeof *counts);
    for (size_t i = 0; i < t->n; i++)
        if (t->rows[i].src == src && t->rows[i].family < SS_FAM_COUNT)
            counts[t->rows[i].family]++;
}

/*============================================================ formats */

/* Detection tries the formats in this order: the ones whose files are recognised by their
 * header come before the ones recognised mainly by their path. */
static const ss_meas_reader *const readers[] = {
    &ss_meas_reader_frontier,      &ss_meas_reader_vidur,    &ss_meas_reader_aiconfigurator,
    &ss_meas_reader_llmservingsim, &ss_meas_reader_servesim, &ss_meas_reader_apex_plus,
    &ss_meas_reader_llmcompass,    &ss_meas_reader_infersim, NULL};

const char *ss_meas_format_name(size_t i)
{
    return i < sizeof readers / sizeof *readers - 1 ? readers[i]->name : NULL;
}

const char *ss_meas_format_help(size_t i)
{
    return i < sizeof readers / sizeof *readers - 1 ? readers[i]->help : "";
}

static const ss_meas_reader *reader_by_name(const char *name, size_t n)
{
    for (size_t i = 0; readers[i]; i++)
        if (strlen(readers[i]->name) == n && !strncmp(readers[i]->name, name, n)) return readers[i];
    return NULL;
}

static void format_list(char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; readers[i] && o < cap; i++) {
        int w = snprintf(buf + o, cap - o, "%s%s", i ? ", " : "", readers[i]->name);
        if (w < 0) break;
        o += (size_t)w;
    }
}

/*============================================================ helpers for readers */

void ss_calib_set_gpu(ss_calib_ctx *c, const char *raw)
{
    const char *canon = ss_hw_canonical(raw);
    if (canon) {
        snprintf(c->s->gpu, sizeof c->s->gpu, "%s", canon);
    } else {
        snprintf(c->s->gpu, sizeof c->s->gpu, "%s", raw);
        ss_calib_note(c, "GPU '%s' is not in the alias table (hwprofiles/data/aliases.yaml); "
                         "kept as given", raw);
    }
    if (c->want_gpu && strcasecmp(c->want_gpu, c->s->gpu) != 0) c->skipped_gpu = 1;
}

void ss_calib_note(ss_calib_ctx *c, const char *fmt, ...)
{
    char *note = c->s->note;
    size_t used = strlen(note), cap = sizeof c->s->note;
    if (used && used + 2 < cap) {
        memcpy(note + used, "; ", 3);
        used += 2;
    }
    if (used + 1 >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(note + used, cap - used, fmt, ap);
    va_end(ap);
}

ss_rc ss_calib_push(ss_calib_ctx *c, ss_meas *m)
{
    m->src = c->src;
    return ss_meas_push(c->t, m, c->d);
}

uint32_t ss_calib_str(ss_calib_ctx *c, const char *s, ss_rc *rc)
{
    uint32_t off = 0;
    if (*rc == SS_OK) *rc = ss_meas_intern(c->t, s, &off, c->d);
    return off;
}

const char *ss_path_base(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

int ss_path_is(const char *p, const char *name)
{
    const char *b = ss_path_base(p);
    size_t n = strlen(name);
    return !strncmp(b, name, n) && (!b[n] || !strcmp(b + n, ".gz"));
}

int ss_path_up(const char *p, int k, char *out, size_t n)
{
    const char *end = strrchr(p, '/');
    for (int i = 1; end && i <= k; i++) {
        const char *start = end;
        while (start > p && start[-1] != '/') start--;
        if (i == k) {
            size_t len = (size_t)(end - start);
            if (len == 0 || len >= n) return 0;
            memcpy(out, start, len);
            out[len] = '\0';
            return 1;
        }
        if (start == p) return 0;
        end = start - 1;
    }
    return 0;
}

int ss_path_find_up(const char *p, const char *dir)
{
    char buf[256];
    for (int k = 1; ss_path_up(p, k, buf, sizeof buf); k++)
        if (!strcmp(buf, dir)) return k;
    return 0;
}

void ss_path_dir(const char *p, char *out, size_t n)
{
    const char *s = strrchr(p, '/');
    if (!s) {
        snprintf(out, n, ".");
        return;
    }
    size_t len = (size_t)(s - p);
    if (len == 0) len = 1; /* "/x" */
    snprintf(out, n, "%.*s", (int)len, p);
}

/*============================================================ SHA-256 */

ss_rc ss_meas_sha256(const char *path, char out[65], ss_diag *d)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return ss_diag_set(d, SS_ERR_IO, path, 0, 0, NULL, "cannot open file: %s", strerror(errno));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char buf[1 << 15], md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0) ok = EVP_DigestUpdate(ctx, buf, n) == 1;
    int rerr = ferror(f);
    fclose(f);
    ok = ok && !rerr && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 32;
    EVP_MD_CTX_free(ctx);
    if (!ok) return ss_diag_set(d, SS_ERR_IO, path, 0, 0, NULL, "cannot read file to hash it");
    for (unsigned i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", md[i]);
    return SS_OK;
}

/*============================================================ detection */

/* First non-blank line of a file ("" for an empty one). Damaged gzip data is an error; a
 * first line that is not text (a NUL byte) gives "" and *binary = 1. */
static ss_rc first_line(const char *path, char *buf, size_t n, int *binary, ss_diag *d)
{
    ss_cf cf;
    ss_diag local;
    ss_diag_clear(&local);
    ss_rc rc = ss_cf_open(&cf, path, d);
    if (rc) return rc;
    buf[0] = '\0';
    *binary = 0;
    cf.d = &local;
    int r = ss_cf_next(&cf);
    if (r == 1) snprintf(buf, n, "%s", cf.line);
    ss_cf_close(&cf);
    if (r < 0 && local.rc == SS_ERR_IO) {
        if (d && d->rc == SS_OK) *d = local;
        return local.rc;
    }
    if (r < 0) *binary = 1;
    return SS_OK;
}

static const ss_meas_reader *detect_with(const char *path, const char *line)
{
    for (size_t i = 0; readers[i]; i++)
        if (readers[i]->detect(path, line)) return readers[i];
    return NULL;
}

ss_rc ss_meas_detect(const char *path, const char **format, ss_diag *d)
{
    char line[4096];
    int binary;
    ss_rc rc = first_line(path, line, sizeof line, &binary, d);
    if (rc) return rc;
    const ss_meas_reader *r = detect_with(path, line);
    *format = r ? r->name : NULL;
    return SS_OK;
}

/*============================================================ reading */

typedef struct walk {
    ss_meas_table *t;
    int lenient;
    const ss_meas_reader *forced;
    const char *want_gpu;
    uint64_t files_read;
    ss_diag *d;
} walk;

static ss_rc add_note(walk *w, const char *path, const char *format, const char *note)
{
    ss_meas_source s;
    memset(&s, 0, sizeof s);
    snprintf(s.path, sizeof s.path, "%s", path);
    snprintf(s.format, sizeof s.format, "%s", format);
    snprintf(s.note, sizeof s.note, "%s", note);
    return ss_meas_add_source(w->t, &s, NULL, w->d);
}

static ss_rc read_file(walk *w, const char *path, const ss_meas_reader *r)
{
    ss_meas_source s;
    memset(&s, 0, sizeof s);
    if (strlen(path) >= sizeof s.path)
        return ss_diag_set(w->d, SS_ERR_INVALID, path, 0, 0, NULL, "path is too long (max %zu)",
                           sizeof s.path - 1);
    snprintf(s.path, sizeof s.path, "%s", path);
    snprintf(s.format, sizeof s.format, "%s", r->name);
    ss_rc rc = ss_meas_sha256(path, s.sha256, w->d);
    if (rc) return rc;
    ss_calib_ctx c = {.t = w->t, .s = &s, .src = (uint32_t)w->t->nsources,
                      .want_gpu = w->want_gpu, .skipped_gpu = 0, .lenient = w->lenient,
                      .d = w->d};
    size_t n0 = w->t->n;
    rc = r->read(&c);
    if (rc || c.skipped_gpu) {
        w->t->n = n0; /* the table keeps only whole files */
        return rc;
    }
    s.rows = w->t->n - n0;
    if (s.rows == 0 && !s.note[0])
        return ss_diag_set(w->d, SS_ERR_INVALID, path, 0, 0, NULL,
                           "no measurement rows in the file (%s format)", r->name);
    w->files_read++;
    return ss_meas_add_source(w->t, &s, NULL, w->d);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static ss_rc walk_path(walk *w, const char *path, int top);

static ss_rc walk_dir(walk *w, const char *path)
{
    DIR *dir = opendir(path);
    if (!dir)
        return ss_diag_set(w->d, SS_ERR_IO, path, 0, 0, NULL, "cannot open directory: %s",
                           strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    ss_rc rc = SS_OK;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.') continue; /* ., .., hidden files (documented) */
        if (grow((void **)&names, &cap, n + 1, sizeof *names) ||
            !(names[n] = strdup(e->d_name))) {
            rc = ss_diag_fail(w->d, SS_ERR_NOMEM, "out of memory listing %s", path);
            break;
        }
        n++;
    }
    closedir(dir);
    if (!rc) qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n && !rc; i++) {
        char child[1024];
        int len = snprintf(child, sizeof child, "%s%s%s", path,
                           path[strlen(path) - 1] == '/' ? "" : "/", names[i]);
        if (len < 0 || (size_t)len >= sizeof child)
            rc = ss_diag_set(w->d, SS_ERR_INVALID, path, 0, 0, NULL, "path too long: %s/%s", path,
                             names[i]);
        else
            rc = walk_path(w, child, 0);
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc;
}

static ss_rc walk_path(walk *w, const char *path, int top)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return ss_diag_set(w->d, SS_ERR_IO, path, 0, 0, NULL, "cannot open: %s", strerror(errno));
    if (S_ISDIR(st.st_mode)) return walk_dir(w, path);
    if (!S_ISREG(st.st_mode)) {
        if (top)
            return ss_diag_set(w->d, SS_ERR_INVALID, path, 0, 0, NULL,
                               "not a regular file or directory");
        return add_note(w, path, "", "not read: not a regular file");
    }
    const ss_meas_reader *r = w->forced;
    char line[4096];
    int binary;
    ss_rc rc = first_line(path, line, sizeof line, &binary, w->d);
    if (rc) return rc;
    if (binary && !top) return add_note(w, path, "", "not read: not a text file (NUL byte)");
    if (binary && !r)
        return ss_diag_set(w->d, SS_ERR_INVALID, path, 1, 0, NULL,
                           "not a text file (NUL byte in the first line)");
    if (!top || !r) {
        const ss_meas_reader *found = r ? (r->detect(path, line) ? r : NULL)
                                        : detect_with(path, line);
        if (!found) {
            char list[256];
            format_list(list, sizeof list);
            if (top && !r)
                return ss_diag_set(w->d, SS_ERR_INVALID, path, 0, 0, NULL,
                                   "no calibration format recognises this file; name one as "
                                   "FORMAT:PATH (formats: %s; docs/calibration-data.md)",
                                   list);
            /* a file some format knows as its companion gets that format's reason */
            for (size_t i = 0; readers[i]; i++) {
                if (r && readers[i] != r) continue;
                const char *why = readers[i]->companion ? readers[i]->companion(path, line) : NULL;
                if (why) {
                    char note[192];
                    snprintf(note, sizeof note, "not read: %s", why);
                    return add_note(w, path, readers[i]->name, note);
                }
            }
            char note[160];
            snprintf(note, sizeof note, "not read: %s", r ? "not a file of this format"
                                                           : "no calibration format recognises it");
            return add_note(w, path, r ? r->name : "", note);
        }
        r = found;
    }
    return read_file(w, path, r);
}

ss_rc ss_meas_read_source(ss_meas_table *t, const char *spec, const char *gpu, ss_diag *d)
{
    return ss_meas_read_source_opts(t, spec, gpu, NULL, d);
}

ss_rc ss_meas_read_source_opts(ss_meas_table *t, const char *spec, const char *gpu,
                               const ss_meas_opts *o, ss_diag *d)
{
    if (!spec || !spec[0]) return ss_diag_fail(d, SS_ERR_INVALID, "empty --source");
    const ss_meas_reader *forced = NULL;
    const char *path = spec;
    const char *colon = strchr(spec, ':');
    const char *slash = strchr(spec, '/');
    /* "FORMAT:" is a prefix without '/'; write ./a:b for a path that has a colon. */
    if (colon && (!slash || colon < slash)) {
        forced = reader_by_name(spec, (size_t)(colon - spec));
        if (!forced) {
            char list[256];
            format_list(list, sizeof list);
            return ss_diag_fail(d, SS_ERR_INVALID,
                                "unknown calibration format '%.*s' in --source '%s' (formats: %s)",
                                (int)(colon - spec), spec, spec, list);
        }
        path = colon + 1;
        if (!path[0]) return ss_diag_fail(d, SS_ERR_INVALID, "no path after '%s'", spec);
    }
    char want[64] = "";
    if (gpu && gpu[0]) {
        const char *canon = ss_hw_canonical(gpu);
        snprintf(want, sizeof want, "%s", canon ? canon : gpu);
    }
    if (!t->strings) {
        uint32_t off;
        ss_rc rc = ss_meas_intern(t, "", &off, d);
        if (rc) return rc;
    }
    walk w = {.t = t, .lenient = o ? o->lenient : 0, .forced = forced, .want_gpu = want[0] ? want : NULL, .files_read = 0,
              .d = d};
    size_t n0 = t->n, s0 = t->nsources;
    ss_rc rc = walk_path(&w, path, 1);
    if (!rc && w.files_read == 0) {
        if (want[0])
            rc = ss_diag_set(d, SS_ERR_NOTFOUND, path, 0, 0, NULL,
                             "no measurement file for GPU '%s' here", want);
        else
            rc = ss_diag_set(d, SS_ERR_NOTFOUND, path, 0, 0, NULL,
                             "no measurement file found%s", forced ? " of this format" : "");
    }
    if (rc) {
        t->n = n0;
        t->nsources = s0;
    }
    return rc;
}
