/* APEX+'s collective latency tables (microsoft/apex_plus, comm/<GPU>/<collective>.csv),
 * measured with nccl-tests:
 *
 *   gpu,num_nodes,num_gpus_per_node,dtype,size(kb),time(us)
 *
 * dtype is half (fp16) or float (fp32). size(kb) is KiB (bytes = 1024 x size), time is microseconds. The collective is the file
 * name (all_gather, all_reduce, alltoall, reduce_scatter, sendrecv). GPU = the `gpu` column
 * (constant within a file) via the alias table; stack "apex_plus-nccl-tests".
 *
 * A validating reader: nccl-tests sweeps message sizes for each (num_nodes,
 * num_gpus_per_node) configuration, so a row is malformed when its configuration has more
 * than SS_APEX_MAX_GPUS_PER_NODE GPUs per node, repeats an earlier (configuration, size), or
 * is the only row of its configuration in a file where the others are sweeps. The first such
 * row is reported (file:line) with the count and range of all of them; V100-PCIE-16GB/
 * reduce_scatter.csv has 19 (a size written into num_gpus_per_node, lines 135-153). With
 * the lenient option they are left out instead, counted in the source's note. */
#include "hwprofiles/calib/calib_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SS_APEX_MAX_GPUS_PER_NODE 16

typedef struct arow {
    int64_t nodes, gpn, kib;
    int dtype, keep;
    double us;
    uint32_t line;
} arow;

static const struct {
    const char *file;
    ss_fam fam;
} colls[] = {{"all_gather.csv", SS_FAM_ALLGATHER},   {"all_reduce.csv", SS_FAM_ALLREDUCE},
             {"alltoall.csv", SS_FAM_ALLTOALL},      {"reduce_scatter.csv", SS_FAM_REDUCESCATTER},
             {"sendrecv.csv", SS_FAM_SENDRECV}};

static const char *const HEADER = "gpu,num_nodes,num_gpus_per_node,dtype,size(kb),time(us)";

static int coll_of(const char *p)
{
    for (int i = 0; i < (int)(sizeof colls / sizeof *colls); i++)
        if (ss_path_is(p, colls[i].file)) return i;
    return -1;
}

static int detect(const char *p, const char *first)
{
    return coll_of(p) >= 0 && !strcmp(first, HEADER);
}

static size_t config_rows(const arow *r, size_t n, const arow *x)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += r[i].nodes == x->nodes && r[i].gpn == x->gpn && r[i].dtype == x->dtype;
    return c;
}

static ss_rc read_file(ss_calib_ctx *c)
{
    int ci = coll_of(c->s->path);
    if (ci < 0)
        return ss_diag_set(c->d, SS_ERR_INVALID, c->s->path, 0, 0, NULL,
                           "not an APEX+ collective table (all_gather, all_reduce, alltoall, "
                           "reduce_scatter, sendrecv .csv)");
    ss_cf cf;
    ss_rc rc = ss_cf_open(&cf, c->s->path, c->d);
    if (rc) return rc;
    arow *rows = NULL;
    size_t n = 0, cap = 0;
    char gpu0[128] = "";
    rc = ss_cf_header(&cf);
    if (!rc && strcmp(cf.hdr_text, HEADER)) {
        cf.lineno = 1;
        rc = ss_cf_err(&cf, NULL, "unexpected header (expected '%s')", HEADER);
    }
    int r = 0;
    while (!rc && (r = ss_cf_next(&cf)) == 1) {
        if ((rc = ss_cf_row(&cf))) break;
        arow a;
        if ((rc = ss_cf_int(&cf, 1, NULL, 1, 1 << 20, &a.nodes)) ||
            (rc = ss_cf_int(&cf, 2, NULL, 1, INT32_MAX, &a.gpn)) ||
            (rc = ss_cf_int(&cf, 4, NULL, 0, INT64_MAX / 2048, &a.kib)) ||
            (rc = ss_cf_num(&cf, 5, NULL, 0.0, &a.us)))
            break;
        if (!strcmp(cf.f[3], "half")) a.dtype = SS_DTYPE_FP16;
        else if (!strcmp(cf.f[3], "float")) a.dtype = SS_DTYPE_FP32;
        else {
            rc = ss_cf_err(&cf, "dtype", "expected half or float, got '%.40s'", cf.f[3]);
            break;
        }
        if (!gpu0[0]) {
            if (!cf.f[0][0]) {
                rc = ss_cf_err(&cf, "gpu", "empty");
                break;
            }
            snprintf(gpu0, sizeof gpu0, "%s", cf.f[0]);
            ss_calib_set_gpu(c, gpu0);
            if (c->skipped_gpu) break;
        } else if (strcmp(cf.f[0], gpu0)) {
            rc = ss_cf_err(&cf, "gpu", "'%.60s' differs from the first row's '%s'", cf.f[0], gpu0);
            break;
        }
        a.line = cf.lineno;
        if (n == cap) {
            cap = cap ? cap * 2 : 128;
            arow *p = realloc(rows, cap * sizeof *p);
            if (!p) {
                rc = ss_diag_fail(c->d, SS_ERR_NOMEM, "out of memory");
                break;
            }
            rows = p;
        }
        rows[n++] = a;
    }
    if (!rc && r < 0) rc = (ss_rc)r;
    /* Validation over the whole file. */
    size_t bad = 0, first = 0, last = 0, max_cfg = 0;
    const char *why = NULL;
    for (size_t i = 0; !rc && i < n; i++) {
        size_t k = config_rows(rows, n, &rows[i]);
        if (k > max_cfg) max_cfg = k;
    }
    for (size_t i = 0; !rc && !c->skipped_gpu && i < n; i++) {
        const arow *a = &rows[i];
        const char *w = NULL;
        if (a->gpn > SS_APEX_MAX_GPUS_PER_NODE)
            w = "num_gpus_per_node is larger than any node has (a size in the wrong column?)";
        for (size_t j = 0; !w && j < i; j++)
            if (rows[j].nodes == a->nodes && rows[j].gpn == a->gpn && rows[j].kib == a->kib &&
                rows[j].dtype == a->dtype)
                w = "repeats the configuration and size of an earlier row";
        if (!w && max_cfg > 1 && config_rows(rows, n, a) == 1)
            w = "the only row of its (num_nodes, num_gpus_per_node) configuration, where the "
                "others sweep sizes";
        if (w) {
            rows[i].line |= 0x80000000u; /* marked; cleared before use */
            if (!bad++) {
                first = i;
                why = w;
            }
            last = i;
        }
    }
    for (size_t i = 0; i < n; i++) rows[i].keep = !(rows[i].line & 0x80000000u);
    for (size_t i = 0; i < n; i++) rows[i].line &= 0x7fffffffu;
    if (!rc && bad && c->lenient) {
        ss_calib_note(c, "lenient: %zu malformed rows left out (lines %u-%u)", bad,
                 rows[first].line, rows[last].line);
    } else if (!rc && bad) {
        cf.lineno = rows[first].line;
        rc = ss_cf_err(&cf, "num_gpus_per_node",
                       "malformed row: %s; %zu malformed rows in this file (lines %u-%u)", why, bad,
                       rows[first].line, rows[last].line);
    }
    if (!rc && !c->skipped_gpu) {
        snprintf(c->s->stack, sizeof c->s->stack, "apex_plus-nccl-tests");
        char opname[32];
        snprintf(opname, sizeof opname, "%.*s", (int)(strlen(colls[ci].file) - 4), colls[ci].file);
        uint32_t op = ss_calib_str(c, opname, &rc);
        for (size_t i = 0; !rc && i < n; i++) {
            if (!rows[i].keep) continue;
            ss_meas m;
            memset(&m, 0, sizeof m);
            m.family = (uint8_t)colls[ci].fam;
            m.dtype = (uint8_t)rows[i].dtype;
            m.gpus = (int32_t)(rows[i].nodes * rows[i].gpn); /* participants */
            m.flags = rows[i].nodes > 1 ? SS_MEAS_CROSS_NODE : 0;
            m.bytes = rows[i].kib * 1024;
            m.time_s = rows[i].us * 1e-6;
            m.op = op;
            m.line = rows[i].line;
            rc = ss_calib_push(c, &m);
        }
    }
    free(rows);
    ss_cf_close(&cf);
    return rc;
}

const ss_meas_reader ss_meas_reader_apex_plus = {
    "apex_plus",
    "APEX+ nccl-tests latency: comm/<GPU>/<collective>.csv (size KiB, us)", detect, read_file,
    NULL};
