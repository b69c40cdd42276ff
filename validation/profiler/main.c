/* servesim-profile: measure this GPU's operator grid for a model and write a
 * servesim-profile directory (docs/profiler.md) that `servesim calibrate --source
 * servesim:DIR` reads.
 *
 * Order of work: options, model, plan; --dry-run prints the plan and stops before any CUDA
 * call. Otherwise meta.yaml is written first (so even a run that fails half-way leaves its
 * provenance), then gemm.csv + gemm_algo.csv, attn_prefill.csv + attn_decode.csv and
 * allreduce.csv, each row flushed as it is measured. Every error is reported here, once,
 * and the exit status is 1 (2 for bad usage). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "validation/profiler/prof.h"
#include "validation/profiler/prof_cuda.h"

/* One attention implementation, chosen once by --attn-kernel: the profiler's kernel or
 * cuDNN's, behind the same three calls (prof_cuda.h). */
typedef struct attn_impl {
    const char *name;
    int approx; /* the rows' approx column */
    int (*prefill)(ss_prof_dev *, ss_prof_elem, int, int64_t, int64_t, int, int, int, int, int,
                   float *, char *);
    int (*decode)(ss_prof_dev *, ss_prof_elem, int, int64_t, int, int, int, int, int, float *,
                  char *);
    int (*sample)(ss_prof_dev *, ss_prof_elem, int, int, int64_t, int64_t, int, int, int,
                  float *, float *, float *, float *, ss_prof_attn_info *, char *);
} attn_impl;

static const attn_impl ATTN_FA = {"servesim-fa", 1, ss_prof_attn_prefill, ss_prof_attn_decode,
                                  ss_prof_attn_sample};
static const attn_impl ATTN_CUDNN = {"cuDNN", 0, ss_prof_cudnn_prefill, ss_prof_cudnn_decode,
                                     ss_prof_cudnn_sample};

/* Everything main owns, released by run_free. */
typedef struct run {
    ss_prof_opts opts;
    const attn_impl *attn;
    ss_prof_plan *plan;
    ss_prof_dev *dev;
    float *times;   /* scratch: reps x largest grid */
    ss_prof_algo *algo;
    ss_prof_csv csv[SS_PROF_T_COUNT];
} run;

static void run_free(run *r)
{
    for (int t = 0; t < SS_PROF_T_COUNT; t++) ss_prof_csv_close(&r->csv[t], NULL);
    ss_prof_dev_close(r->dev);
    free(r->algo);
    free(r->times);
    free(r->plan);
}

static ss_prof_elem elem_of(ss_dtype t)
{
    return t == SS_DTYPE_FP16 ? SS_PROF_E_FP16 : t == SS_DTYPE_FP8 ? SS_PROF_E_FP8 : SS_PROF_E_BF16;
}

static ss_rc cuda_fail(ss_diag *d, const char *what, const char *err)
{
    return ss_diag_fail(d, SS_ERR_INTERNAL, "%s: %s", what, err);
}

/* The first word of /proc/driver/nvidia/version's first line that looks like a version
 * (digits, a dot, digits): "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64
 * 580.159.04  Release Build ..." -> "580.159.04" (the wording before the number differs
 * between the proprietary and open modules). Empty when the file is absent or has none. */
static void kernel_driver_version(char *buf, size_t n)
{
    buf[0] = '\0';
    FILE *f = fopen("/proc/driver/nvidia/version", "r");
    if (!f) return;
    char line[512];
    if (fgets(line, sizeof line, f)) ss_prof_find_version(line, buf, n);
    fclose(f);
}

static void fill_meta(const run *r, const ss_prof_devinfo *info, ss_prof_meta *m)
{
    memset(m, 0, sizeof *m);
    snprintf(m->gpu, sizeof m->gpu, "%s", info->name);
    snprintf(m->gpu_canonical, sizeof m->gpu_canonical, "%s", r->opts.gpu_canonical);
    int with_ar = (r->plan->parts & SS_PROF_PART_ALLREDUCE) && r->plan->nar_gpus &&
                  ss_prof_nccl_built();
    char nccl[32] = "";
    if (with_ar) ss_prof_nccl_version(nccl, sizeof nccl);
    /* Name only the libraries/kernels whose times are in this directory, one '+'-joined
     * part each (the calibration reader takes each table's part): a GEMM-only run is
     * "cublaslt-130100", an attention-only one "cudnn-91900". (hwprofiles/measured holds runs
     * of earlier versions, which named cuBLASLt always and, before cuDNN, servesim-fa.) */
    int with_gemm = (r->plan->parts & SS_PROF_PART_GEMM) && r->plan->ngemm;
    int with_attn = (r->plan->parts & SS_PROF_PART_ATTN) && r->plan->nattn;
    char part[3][48] = {"", "", ""};
    if (with_gemm) snprintf(part[0], sizeof part[0], "cublaslt-%zu", info->cublaslt_version);
    if (with_attn && r->attn == &ATTN_CUDNN)
        snprintf(part[1], sizeof part[1], "cudnn-%zu", ss_prof_cudnn_version());
    else if (with_attn)
        snprintf(part[1], sizeof part[1], "servesim-fa-approx");
    if (with_ar) snprintf(part[2], sizeof part[2], "nccl-%s", nccl);
    m->stack[0] = '\0';
    for (int i = 0; i < 3; i++) {
        size_t used = strlen(m->stack);
        if (part[i][0])
            snprintf(m->stack + used, sizeof m->stack - used, "%s%s", used ? "+" : "", part[i]);
    }
    if (!m->stack[0]) snprintf(m->stack, sizeof m->stack, "none"); /* a run that measured nothing */
    snprintf(m->cuda_version, sizeof m->cuda_version, "%d.%d", info->runtime_version / 1000,
             (info->runtime_version % 1000) / 10);
    char kmod[64];
    kernel_driver_version(kmod, sizeof kmod);
    snprintf(m->driver_version, sizeof m->driver_version, "%s%s(CUDA %d.%d)", kmod,
             kmod[0] ? " " : "", info->driver_version / 1000,
             (info->driver_version % 1000) / 10);
    ss_prof_now_iso(m->date, sizeof m->date);
    if (gethostname(m->host, sizeof m->host - 1) != 0) snprintf(m->host, sizeof m->host, "unknown");
    snprintf(m->command, sizeof m->command, "%s", r->opts.command);
    snprintf(m->model, sizeof m->model, "%s", r->plan->model.name);
    snprintf(m->dtype, sizeof m->dtype, "%s", ss_dtype_name(r->plan->dtype));
}

/* Before any GEMM timing, one small GEMM (37 x 96 x 64, m not a multiple of any tile) in
 * the run's dtype is compared with the double-precision product of the same (quantised)
 * inputs, which catches a wrong operand layout or transpose: a GEMM of another shape or
 * orientation would be timed otherwise. Tolerance: output rounding to bf16/fp16 (2^-8
 * relative) with margin. */
static ss_rc check_gemm(run *r, ss_diag *d)
{
    /* fp8 GEMMs have alignment rules in cuBLASLt; keep that check on a multiple of 16. */
    const int64_t m = r->plan->dtype == SS_DTYPE_FP8 ? 48 : 37, n = 96, k = 64;
    float *X = malloc((size_t)(m * k) * sizeof *X), *W = malloc((size_t)(n * k) * sizeof *W);
    float *D = malloc((size_t)(m * n) * sizeof *D), *R = malloc((size_t)(m * n) * sizeof *R);
    char err[SS_PROF_ERR_LEN];
    ss_rc rc = SS_OK;
    if (!X || !W || !D || !R) {
        rc = ss_diag_fail(d, SS_ERR_NOMEM, "out of memory (gemm check)");
    } else if (ss_prof_gemm_sample(r->dev, elem_of(r->plan->dtype), m, n, k, X, W, D, err)) {
        rc = cuda_fail(d, "gemm check", err);
    } else {
        ss_prof_gemm_reference(X, W, R, m, n, k);
        double big = 0.0;
        for (int64_t i = 0; i < m * n; i++) big = fabs(R[i]) > big ? fabs(R[i]) : big;
        double diff = ss_prof_max_abs_diff(D, R, (size_t)(m * n)), tol = 1e-2 * (1.0 + big);
        fprintf(stderr, "gemm check (%s, %lldx%lldx%lld): max |error| %.2e (tolerance %.2e)\n",
                ss_dtype_name(r->plan->dtype), (long long)m, (long long)n, (long long)k, diff,
                tol);
        if (!(diff <= tol))
            rc = ss_diag_fail(d, SS_ERR_INTERNAL,
                              "cuBLASLt GEMM disagrees with the reference (max |error| %.3g > "
                              "%.3g); no GEMM times written",
                              diff, tol);
    }
    free(X);
    free(W);
    free(D);
    free(R);
    return rc;
}

static ss_rc measure_gemm(run *r, ss_diag *d)
{
    const ss_prof_plan *p = r->plan;
    const int reps = r->opts.reps;
    char err[SS_PROF_ERR_LEN];
    ss_rc rc;
    if ((rc = check_gemm(r, d))) return rc;
    if ((rc = ss_prof_csv_open(&r->csv[SS_PROF_T_GEMM], r->opts.out, SS_PROF_T_GEMM, d)) ||
        (rc = ss_prof_csv_open(&r->csv[SS_PROF_T_GEMM_ALGO], r->opts.out, SS_PROF_T_GEMM_ALGO, d)))
        return rc;
    for (size_t i = 0; i < p->ngemm; i++) {
        const ss_prof_gemm *g = &p->gemm[i];
        fprintf(stderr, "gemm %zu/%zu: %s (tp %d) n=%lld k=%lld, %zu token counts\n", i + 1,
                p->ngemm, g->op, g->tp, (long long)g->n, (long long)g->k, p->tokens.n);
        if (ss_prof_gemm_sweep(r->dev, elem_of(p->dtype), g->n, g->k, p->tokens.v, p->tokens.n,
                               r->opts.warmup, reps, r->times, r->algo, err))
            return cuda_fail(d, "gemm", err);
        for (size_t j = 0; j < p->tokens.n; j++) {
            if (r->algo[j].cfg[0] < 0) {
                fprintf(stderr, "  m=%lld: cuBLASLt has no algorithm for this shape; no row\n",
                        (long long)p->tokens.v[j]);
                continue;
            }
            double med = ss_prof_median(r->times + j * (size_t)reps, (size_t)reps);
            ss_prof_csv_gemm(&r->csv[SS_PROF_T_GEMM], p->tokens.v[j], g->n, g->k, p->dtype, med,
                             reps);
            ss_prof_csv_gemm_algo(&r->csv[SS_PROF_T_GEMM_ALGO], p->tokens.v[j], g->n, g->k,
                                  p->dtype, r->algo[j].cfg, (double)r->algo[j].waves);
        }
    }
    if ((rc = ss_prof_csv_close(&r->csv[SS_PROF_T_GEMM], d))) return rc;
    return ss_prof_csv_close(&r->csv[SS_PROF_T_GEMM_ALGO], d);
}

/* Before any attention timing, each head shape's kernels are run once on small inputs and
 * compared with the double-precision reference (ss_prof_attn_reference): prefill on 2
 * requests x 100 new tokens over a 37-token prefix (two query tiles, a partial one, a prefix
 * not aligned to a key tile) and over none (cuDNN builds another mask for it), decode on 3
 * requests x 700 keys (several splits). A kernel that disagrees stops the run: no attention
 * time is written for a kernel that computes the wrong thing. The tolerance covers
 * bf16/fp16 rounding of the probabilities and of the output. */
#define ATTN_CHECK_TOL 5e-3

static ss_rc check_attn(run *r, const ss_prof_attn_shape *a, ss_diag *d)
{
    const ss_prof_elem e = elem_of(r->plan->attn_dtype);
    static const struct {
        int decode, batch;
        int64_t q, kv; /* decode: kv keys, q unused */
    } cases[] = {{0, 2, 100, 37}, {0, 2, 100, 0}, {1, 3, 1, 700}};
    const int64_t D = a->head_dim;
    const size_t nq = (size_t)3 * a->heads * 100 * D;
    const size_t nk = (size_t)3 * a->kv_heads * 700 * D; /* >= prefill's 137 keys x 2 */
    float *Q = malloc(nq * sizeof *Q), *K = malloc(nk * sizeof *K), *V = malloc(nk * sizeof *V);
    float *O = malloc(nq * sizeof *O), *R = malloc(nq * sizeof *R);
    char err[SS_PROF_ERR_LEN];
    ss_rc rc = SS_OK;
    if (!Q || !K || !V || !O || !R) {
        rc = ss_diag_fail(d, SS_ERR_NOMEM, "out of memory (attention check)");
        goto done;
    }
    for (size_t c = 0; c < sizeof cases / sizeof cases[0] && rc == SS_OK; c++) {
        const int decode = cases[c].decode, batch = cases[c].batch;
        const int64_t q = cases[c].q, kv = cases[c].kv;
        const char *kind = decode ? "decode" : kv ? "prefill on a prefix" : "prefill";
        ss_prof_attn_info info;
        if (r->attn->sample(r->dev, e, decode, batch, q, kv, a->heads, a->kv_heads,
                            a->head_dim, Q, K, V, O, &info, err)) {
            rc = cuda_fail(d, "attention check", err);
            break;
        }
        ss_prof_attn_reference(Q, K, V, R, batch, q, decode ? kv - 1 : kv, a->heads,
                               a->kv_heads, a->head_dim);
        double diff = ss_prof_max_abs_diff(O, R, (size_t)batch * a->heads * q * D);
        char engine[48] = "";
        if (info.engine >= 0) snprintf(engine, sizeof engine, ", cuDNN engine %d", info.engine);
        fprintf(stderr, "attention check (%s %s, heads %d, kv_heads %d, head_dim %d%s): max "
                        "|error| %.2e vs the fp64 reference\n",
                r->attn->name, kind, a->heads, a->kv_heads, a->head_dim, engine, diff);
        if (info.fallback)
            fprintf(stderr, "warning: cuDNN's heuristics offered no engine for this %s graph; "
                            "engine %d is from its fallback list and may not be the fused "
                            "kernel (its times may overstate production attention)\n",
                    kind, info.engine);
        if (!(diff <= ATTN_CHECK_TOL))
            rc = ss_diag_fail(d, SS_ERR_INTERNAL,
                              "%s %s attention disagrees with the reference on this GPU "
                              "(max |error| %.3g > %.0e); no attention times written",
                              r->attn->name, kind, diff, ATTN_CHECK_TOL);
    }
done:
    free(Q);
    free(K);
    free(V);
    free(O);
    free(R);
    return rc;
}

static ss_rc measure_attn(run *r, ss_diag *d)
{
    const ss_prof_plan *p = r->plan;
    const int reps = r->opts.reps, warm = r->opts.warmup;
    const ss_prof_elem e = elem_of(p->attn_dtype);
    char err[SS_PROF_ERR_LEN];
    ss_rc rc;
    ss_prof_csv *pc = &r->csv[SS_PROF_T_ATTN_PREFILL], *dc = &r->csv[SS_PROF_T_ATTN_DECODE];
    for (size_t s = 0; s < p->nattn; s++)
        if ((rc = check_attn(r, &p->attn[s], d))) return rc;
    if ((rc = ss_prof_csv_open(pc, r->opts.out, SS_PROF_T_ATTN_PREFILL, d)) ||
        (rc = ss_prof_csv_open(dc, r->opts.out, SS_PROF_T_ATTN_DECODE, d)))
        return rc;
    for (size_t s = 0; s < p->nattn; s++) {
        const ss_prof_attn_shape *a = &p->attn[s];
        fprintf(stderr, "attention %zu/%zu: heads %d, kv_heads %d, head_dim %d: %zu prefill, "
                        "%zu decode points\n",
                s + 1, p->nattn, a->heads, a->kv_heads, a->head_dim, p->nprefill, p->ndecode);
        for (size_t i = 0; i < p->nprefill; i++) {
            const ss_prof_prefill_pt *pt = &p->prefill[i];
            if (r->attn->prefill(r->dev, e, pt->batch, pt->q, pt->kv, a->heads, a->kv_heads,
                                 a->head_dim, warm, reps, r->times, err))
                return cuda_fail(d, "attention prefill", err);
            ss_prof_csv_prefill(pc, pt, a, p->attn_dtype, p->attn_dtype,
                                ss_prof_median(r->times, (size_t)reps), r->attn->approx);
        }
        for (size_t i = 0; i < p->ndecode; i++) {
            const ss_prof_decode_pt *pt = &p->decode[i];
            if (r->attn->decode(r->dev, e, pt->batch, pt->kv, a->heads, a->kv_heads,
                                a->head_dim, warm, reps, r->times, err))
                return cuda_fail(d, "attention decode", err);
            ss_prof_csv_decode(dc, pt, a, p->attn_dtype, p->attn_dtype,
                               ss_prof_median(r->times, (size_t)reps), r->attn->approx);
        }
    }
    if ((rc = ss_prof_csv_close(pc, d))) return rc;
    return ss_prof_csv_close(dc, d);
}

static ss_rc measure_allreduce(run *r, ss_diag *d)
{
    const ss_prof_plan *p = r->plan;
    const int reps = r->opts.reps;
    char err[SS_PROF_ERR_LEN];
    ss_prof_csv *c = &r->csv[SS_PROF_T_ALLREDUCE];
    ss_rc rc = ss_prof_csv_open(c, r->opts.out, SS_PROF_T_ALLREDUCE, d);
    if (rc) return rc;
    /* fp8 runs keep activations in bf16, so the all-reduce is in the attention dtype. */
    for (size_t g = 0; g < p->nar_gpus; g++) {
        fprintf(stderr, "allreduce on %d GPUs: %zu sizes\n", p->ar_gpus[g], p->nar_bytes);
        if (ss_prof_allreduce(p->ar_gpus[g], elem_of(p->attn_dtype), p->ar_bytes, p->nar_bytes,
                              r->opts.warmup, reps, r->times, err))
            return cuda_fail(d, "allreduce", err);
        for (size_t i = 0; i < p->nar_bytes; i++)
            ss_prof_csv_allreduce(c, p->ar_gpus[g], p->ar_bytes[i], p->attn_dtype,
                                  ss_prof_median(r->times + i * (size_t)reps, (size_t)reps));
    }
    return ss_prof_csv_close(c, d);
}

static ss_rc run_main(run *r, int argc, char **argv, ss_diag *d)
{
    ss_prof_opts_default(&r->opts);
    ss_rc rc = ss_prof_opts_parse(argc, argv, &r->opts, d);
    if (rc) return rc;
    if (r->opts.help) {
        ss_prof_usage(stdout);
        return SS_OK;
    }
    if ((rc = ss_prof_attn_resolve(&r->opts, ss_prof_cudnn_built(), d))) return rc;
    r->attn = r->opts.attn_kernel == SS_PROF_ATTN_CUDNN ? &ATTN_CUDNN : &ATTN_FA;
    ss_model model;
    if ((rc = ss_model_load(r->opts.model, ".", &model, d))) return rc;
    r->plan = calloc(1, sizeof *r->plan);
    if (!r->plan) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory (plan)");
    if ((rc = ss_prof_plan_build(&r->opts, &model, r->plan, d))) return rc;
    if (r->opts.dry_run) {
        ss_prof_plan_print(r->plan, &r->opts, ss_prof_nccl_built(), stdout);
        return SS_OK;
    }

    size_t most = r->plan->tokens.n > r->plan->nar_bytes ? r->plan->tokens.n : r->plan->nar_bytes;
    if (most < 1) most = 1;
    r->times = calloc(most * (size_t)r->opts.reps, sizeof *r->times);
    r->algo = calloc(most, sizeof *r->algo);
    if (!r->times || !r->algo) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory (timings)");

    char err[SS_PROF_ERR_LEN];
    ss_prof_devinfo info;
    if (ss_prof_dev_open(r->opts.device, r->opts.flush_l2, &r->dev, &info, err))
        return cuda_fail(d, "device", err);
    fprintf(stderr, "servesim-profile: %s (compute capability %d.%d, %d SMs), model %s, %s\n",
            info.name, info.cc_major, info.cc_minor, info.sms, r->plan->model.name,
            ss_dtype_name(r->plan->dtype));
    if ((rc = ss_prof_mkdir_p(r->opts.out, d))) return rc;
    ss_prof_meta meta;
    fill_meta(r, &info, &meta);
    if ((rc = ss_prof_write_meta(r->opts.out, &meta, d))) return rc;

    if ((r->plan->parts & SS_PROF_PART_GEMM) && (rc = measure_gemm(r, d))) return rc;
    if ((r->plan->parts & SS_PROF_PART_ATTN) && (rc = measure_attn(r, d))) return rc;
    if (r->plan->parts & SS_PROF_PART_ALLREDUCE) {
        if (!ss_prof_nccl_built())
            fprintf(stderr, "allreduce: not measured (built without NCCL)\n");
        else if (!r->plan->nar_gpus)
            fprintf(stderr, "allreduce: not measured (--gpus 1)%s\n",
                    info.device_count > 1 ? "; this machine has more GPUs, see --gpus" : "");
        else if ((rc = measure_allreduce(r, d)))
            return rc;
    }
    fprintf(stderr, "servesim-profile: wrote %s\n", r->opts.out);
    return SS_OK;
}

int main(int argc, char **argv)
{
    run r;
    memset(&r, 0, sizeof r);
    ss_diag d;
    ss_diag_clear(&d);
    ss_rc rc = run_main(&r, argc, argv, &d);
    int usage = rc == SS_ERR_INVALID && !r.plan;
    run_free(&r);
    if (rc != SS_OK) {
        char msg[2048];
        ss_diag_format(&d, msg, sizeof msg);
        fprintf(stderr, "servesim-profile: %s\n", msg);
        return usage ? 2 : 1;
    }
    return 0;
}
