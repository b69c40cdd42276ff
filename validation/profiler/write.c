/* Writer of the servesim-profile directory: meta.yaml (provenance) and one CSV per table.
 * The format is specified in docs/profiler.md; the column lists below are its single source
 * in code (ss_prof_table_header), and tests/unit/test_profiler.c reads files back.
 *
 * Times are written in microseconds with three decimals (nanosecond resolution, more than
 * CUDA events resolve), dtypes by servesim's names (bf16, fp16, fp8). A write error is
 * remembered by stdio and reported once, at close. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "validation/profiler/prof.h"

static const struct {
    const char *file, *header;
} tables[SS_PROF_T_COUNT] = {
    [SS_PROF_T_GEMM] = {"gemm.csv", "m,n,k,dtype,time_us,reps"},
    [SS_PROF_T_GEMM_ALGO] = {"gemm_algo.csv",
                             "m,n,k,dtype,algo_id,tile,stages,splitk,reduction,swizzle,custom,"
                             "waves"},
    [SS_PROF_T_ATTN_PREFILL] = {"attn_prefill.csv",
                                "batch,q,kv,heads,kv_heads,head_dim,dtype,kv_dtype,time_us,"
                                "approx"},
    [SS_PROF_T_ATTN_DECODE] = {"attn_decode.csv",
                               "batch,kv,heads,kv_heads,head_dim,dtype,kv_dtype,time_us,approx"},
    [SS_PROF_T_ALLREDUCE] = {"allreduce.csv", "gpus,bytes,dtype,time_us"},
};

const char *ss_prof_table_file(ss_prof_table t)
{
    return t < SS_PROF_T_COUNT ? tables[t].file : "?";
}

const char *ss_prof_table_header(ss_prof_table t)
{
    return t < SS_PROF_T_COUNT ? tables[t].header : "?";
}

/* ================================================================== YAML and dirs */

ss_rc ss_prof_yaml_quote(const char *s, char *buf, size_t n)
{
    size_t w = 0;
#define PUT(c)                                   \
    do {                                         \
        if (w + 1 >= n) return SS_ERR_INVALID;   \
        buf[w++] = (c);                          \
    } while (0)
    PUT('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            PUT('\\');
            PUT((char)*p);
        } else if (*p < 0x20 || *p == 0x7f) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\x%02x", *p);
            for (char *e = esc; *e; e++) PUT(*e);
        } else {
            PUT((char)*p);
        }
    }
    PUT('"');
#undef PUT
    buf[w] = '\0';
    return SS_OK;
}

ss_rc ss_prof_mkdir_p(const char *dir, ss_diag *d)
{
    char path[1024];
    if (!dir || !*dir) return ss_diag_fail(d, SS_ERR_INVALID, "empty output directory");
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return ss_diag_fail(d, SS_ERR_INVALID, "output directory name too long: %s", dir);
    for (char *p = path + 1;; p++) {
        char c = *p;
        if (c != '/' && c != '\0') continue;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return ss_diag_fail(d, SS_ERR_IO, "cannot create directory %s: %s", path,
                                strerror(errno));
        *p = c;
        if (!c) break;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return ss_diag_fail(d, SS_ERR_IO, "%s is not a directory", dir);
    return SS_OK;
}

void ss_prof_now_iso(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

ss_rc ss_prof_write_meta(const char *dir, const ss_prof_meta *m, ss_diag *d)
{
    char path[1024];
    if (snprintf(path, sizeof path, "%s/meta.yaml", dir) >= (int)sizeof path)
        return ss_diag_fail(d, SS_ERR_INVALID, "output path too long: %s", dir);
    FILE *f = fopen(path, "w");
    if (!f) return ss_diag_fail(d, SS_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    const struct {
        const char *key, *val;
    } kv[] = {
        {"gpu", m->gpu},
        {"gpu_canonical", m->gpu_canonical},
        {"stack", m->stack},
        {"cuda_version", m->cuda_version},
        {"driver_version", m->driver_version},
        {"date", m->date},
        {"host", m->host},
        {"command", m->command},
        {"model", m->model},
        {"dtype", m->dtype},
    };
    fprintf(f, "# Written by servesim-profile; format: docs/profiler.md\n"
               "format: servesim-profile\nversion: 1\n");
    ss_rc rc = SS_OK;
    for (size_t i = 0; i < sizeof kv / sizeof kv[0] && rc == SS_OK; i++) {
        char q[8400];
        rc = ss_prof_yaml_quote(kv[i].val, q, sizeof q);
        if (rc == SS_OK) fprintf(f, "%s: %s\n", kv[i].key, q);
    }
    int bad = ferror(f);
    if (fclose(f) != 0) bad = 1;
    if (rc) return ss_diag_fail(d, rc, "%s: a value is too long to quote", path);
    if (bad) return ss_diag_fail(d, SS_ERR_IO, "error writing %s", path);
    return SS_OK;
}

/* ================================================================== CSV */

ss_rc ss_prof_csv_open(ss_prof_csv *c, const char *dir, ss_prof_table t, ss_diag *d)
{
    memset(c, 0, sizeof *c);
    if (t >= SS_PROF_T_COUNT) return ss_diag_fail(d, SS_ERR_INTERNAL, "bad table %d", (int)t);
    c->table = t;
    if (snprintf(c->path, sizeof c->path, "%s/%s", dir, tables[t].file) >= (int)sizeof c->path)
        return ss_diag_fail(d, SS_ERR_INVALID, "output path too long: %s", dir);
    c->f = fopen(c->path, "w");
    if (!c->f)
        return ss_diag_fail(d, SS_ERR_IO, "cannot write %s: %s", c->path, strerror(errno));
    /* Line-buffered: every row reaches the file as it is measured, so a run stopped (by a
     * time limit, say) leaves a readable partial table. */
    setvbuf(c->f, NULL, _IOLBF, 0);
    fprintf(c->f, "%s\n", tables[t].header);
    return SS_OK;
}

void ss_prof_csv_gemm(ss_prof_csv *c, int64_t m, int64_t n, int64_t k, ss_dtype dt,
                      double time_us, int reps)
{
    fprintf(c->f, "%" PRId64 ",%" PRId64 ",%" PRId64 ",%s,%.3f,%d\n", m, n, k,
            ss_dtype_name(dt), time_us, reps);
}

void ss_prof_csv_gemm_algo(ss_prof_csv *c, int64_t m, int64_t n, int64_t k, ss_dtype dt,
                           const int algo[7], double waves)
{
    fprintf(c->f, "%" PRId64 ",%" PRId64 ",%" PRId64 ",%s,%d,%d,%d,%d,%d,%d,%d,%.3f\n", m, n,
            k, ss_dtype_name(dt), algo[0], algo[1], algo[2], algo[3], algo[4], algo[5],
            algo[6], waves);
}

void ss_prof_csv_prefill(ss_prof_csv *c, const ss_prof_prefill_pt *pt,
                         const ss_prof_attn_shape *s, ss_dtype dt, ss_dtype kv_dt,
                         double time_us, int approx)
{
    fprintf(c->f, "%d,%" PRId64 ",%" PRId64 ",%d,%d,%d,%s,%s,%.3f,%d\n", pt->batch, pt->q,
            pt->kv, s->heads, s->kv_heads, s->head_dim, ss_dtype_name(dt),
            ss_dtype_name(kv_dt), time_us, approx);
}

void ss_prof_csv_decode(ss_prof_csv *c, const ss_prof_decode_pt *pt,
                        const ss_prof_attn_shape *s, ss_dtype dt, ss_dtype kv_dt,
                        double time_us, int approx)
{
    fprintf(c->f, "%d,%" PRId64 ",%d,%d,%d,%s,%s,%.3f,%d\n", pt->batch, pt->kv, s->heads,
            s->kv_heads, s->head_dim, ss_dtype_name(dt), ss_dtype_name(kv_dt), time_us,
            approx);
}

void ss_prof_csv_allreduce(ss_prof_csv *c, int gpus, int64_t bytes, ss_dtype dt,
                           double time_us)
{
    fprintf(c->f, "%d,%" PRId64 ",%s,%.3f\n", gpus, bytes, ss_dtype_name(dt), time_us);
}

ss_rc ss_prof_csv_close(ss_prof_csv *c, ss_diag *d)
{
    if (!c->f) return SS_OK;
    int bad = ferror(c->f);
    if (fclose(c->f) != 0) bad = 1;
    c->f = NULL;
    if (bad) return ss_diag_fail(d, SS_ERR_IO, "error writing %s", c->path);
    return SS_OK;
}
