/* LLMCompass's GEMM measurements on real hardware (PrincetonUniversity/LLMCompass,
 * matmul_<GPU>.csv). No header; each line is
 *
 *   M, N, K, <latency>ms, <throughput>Tflops
 *
 * with the literal unit suffixes. Latency is milliseconds. GPU = the file-name suffix via
 * the alias table (A100; MI210 has no servesim profile and is kept as given, with a note).
 * The operands are fp16. Each row's throughput is checked against 2*M*N*K / latency (within
 * 1 %, the rounding of the 4-decimal latency), which catches shifted or swapped columns. */
#include "hwprofiles/calib/calib_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int suffix_num(const char *s, const char *unit, double *out)
{
    size_t n = strlen(s), u = strlen(unit);
    if (n <= u || strcmp(s + n - u, unit)) return -1;
    char buf[64];
    if (n - u >= sizeof buf) return -1;
    memcpy(buf, s, n - u);
    buf[n - u] = '\0';
    return ss_parse_f64(buf, out);
}

static int detect(const char *p, const char *first)
{
    const char *b = ss_path_base(p);
    if (strncmp(b, "matmul_", 7)) return 0;
    long long m, n, k;
    double t, f;
    char ms[3], tf[7];
    return sscanf(first, "%lld, %lld, %lld, %lf%2s, %lf%6s", &m, &n, &k, &t, ms, &f, tf) == 7 &&
           !strcmp(ms, "ms") && !strcmp(tf, "Tflops");
}

static ss_rc read_file(ss_calib_ctx *c)
{
    const char *b = ss_path_base(c->s->path);
    char gpu[64];
    int n = 0;
    if (sscanf(b, "matmul_%63[^.]%n", gpu, &n) != 1 || (strcmp(b + n, ".csv") && strcmp(b + n, ".csv.gz")))
        return ss_diag_set(c->d, SS_ERR_INVALID, c->s->path, 0, 0, NULL,
                           "expected a file named matmul_<GPU>.csv");
    ss_calib_set_gpu(c, gpu);
    if (c->skipped_gpu) return SS_OK;
    snprintf(c->s->stack, sizeof c->s->stack, "llmcompass");
    ss_cf cf;
    ss_rc rc = ss_cf_open(&cf, c->s->path, c->d);
    if (rc) return rc;
    static const char *const names[] = {"M", "N", "K", "latency", "throughput"};
    uint32_t op = ss_calib_str(c, "matmul", &rc);
    int r = 0;
    while (!rc && (r = ss_cf_next(&cf)) == 1) {
        if ((rc = ss_cf_split(&cf, 1))) break;
        if (cf.nf != 5) {
            rc = ss_cf_err(&cf, NULL, "the row has %d fields, expected 5 (M, N, K, latency ms, "
                           "throughput Tflops; the file has no header)", cf.nf);
            break;
        }
        ss_meas m;
        memset(&m, 0, sizeof m);
        double ms, tflops;
        if ((rc = ss_cf_int(&cf, 0, names[0], 1, INT64_MAX / 2, &m.m)) ||
            (rc = ss_cf_int(&cf, 1, names[1], 1, INT64_MAX / 2, &m.n)) ||
            (rc = ss_cf_int(&cf, 2, names[2], 1, INT64_MAX / 2, &m.k)))
            break;
        if (suffix_num(cf.f[3], "ms", &ms) || ms <= 0) {
            rc = ss_cf_err(&cf, names[3], "expected a positive number with 'ms', got '%.40s'",
                           cf.f[3]);
            break;
        }
        if (suffix_num(cf.f[4], "Tflops", &tflops) || tflops <= 0) {
            rc = ss_cf_err(&cf, names[4], "expected a positive number with 'Tflops', got '%.40s'",
                           cf.f[4]);
            break;
        }
        double implied = 2.0 * (double)m.m * (double)m.n * (double)m.k / (ms * 1e-3) / 1e12;
        if (fabs(implied - tflops) > 0.01 * tflops) {
            rc = ss_cf_err(&cf, names[4], "%g Tflops does not match 2*M*N*K/latency = %g",
                           tflops, implied);
            break;
        }
        m.family = SS_FAM_GEMM;
        m.dtype = SS_DTYPE_FP16;
        m.gpus = 1;
        m.time_s = ms * 1e-3;
        m.op = op;
        m.line = cf.lineno;
        rc = ss_calib_push(c, &m);
    }
    if (!rc && r < 0) rc = (ss_rc)r;
    ss_cf_close(&cf);
    return rc;
}

const ss_meas_reader ss_meas_reader_llmcompass = {
    "llmcompass", "LLMCompass GEMM on real GPUs: matmul_<GPU>.csv, no header, 'ms'/'Tflops' (ms)",
    detect, read_file, NULL};
