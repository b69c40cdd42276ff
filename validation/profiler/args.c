/* Command-line options of servesim-profile. One table drives parsing and --help, so an
 * option cannot be parsed without being documented (the Redis config-table idea, small). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "validation/profiler/prof.h"

typedef enum opt_kind {
    OPT_STR, OPT_INT, OPT_INT0, OPT_I64, OPT_LIST, OPT_LIST0, OPT_TP, OPT_DTYPE, OPT_PARTS, OPT_ATTN,
    OPT_FLAG
} opt_kind;

typedef struct opt_spec {
    const char *name;
    opt_kind kind;
    size_t offset;   /* into ss_prof_opts */
    size_t size;     /* of a string field */
    const char *arg;
    const char *help;
} opt_spec;

#define OFF(f) offsetof(ss_prof_opts, f)
#define SZ(f) sizeof(((ss_prof_opts *)0)->f)

static const opt_spec opt_table[] = {
    {"--model", OPT_STR, OFF(model), SZ(model), "NAME|FILE",
     "built-in model (servesim list models) or model YAML file [llama-3.1-8b]"},
    {"--tp", OPT_TP, OFF(tp), 0, "LIST",
     "tensor-parallel degrees whose per-GPU shapes to measure [1]"},
    {"--dtype", OPT_DTYPE, OFF(dtype), 0, "bf16|fp16|fp8",
     "GEMM dtype; fp8 (E4M3, compute capability >= 8.9) runs attention in bf16 [bf16]"},
    {"--tokens", OPT_LIST, OFF(tokens), 0, "LIST", "GEMM token counts m [default grid]"},
    {"--max-tokens", OPT_I64, OFF(max_tokens), 0, "N",
     "top of the default token and prefill-q grids [16384]"},
    {"--prefill-q", OPT_LIST, OFF(prefill_q), 0, "LIST",
     "prefill new tokens per request [16,32,..,max-tokens]"},
    {"--prefill-kv", OPT_LIST0, OFF(prefill_kv), 0, "LIST",
     "prefill cached prefix [0,256,1024,4096,16384]"},
    {"--decode-batch", OPT_LIST, OFF(decode_batch), 0, "LIST", "decode batch sizes [1,2,..,256]"},
    {"--decode-kv", OPT_LIST, OFF(decode_kv), 0, "LIST",
     "decode context lengths [128,256,..,max-ctx]"},
    {"--max-ctx", OPT_I64, OFF(max_ctx), 0, "N",
     "prefill points keep q+kv <= N; top of decode kv [32768]"},
    {"--max-kv-tokens", OPT_I64, OFF(max_kv_tokens), 0, "N",
     "decode points keep batch*kv <= N [1048576]"},
    {"--reps", OPT_INT, OFF(reps), 0, "N",
     "timed repetitions per point; the median is written [20]"},
    {"--warmup", OPT_INT0, OFF(warmup), 0, "N", "untimed repetitions before them [5]"},
    {"--flush-l2", OPT_FLAG, OFF(flush_l2), 0, NULL,
     "overwrite 2 x L2 bytes before every repetition"},
    {"--attn-kernel", OPT_ATTN, OFF(attn_kernel), 0, "auto|cudnn|servesim-fa",
     "attention kernel: cuDNN fused attention, or servesim's approximate one [auto: cudnn "
     "if built with it]"},
    {"--gpus", OPT_INT, OFF(gpus), 0, "N",
     "GPUs for the NCCL all-reduce (needs NCCL at build) [1]"},
    {"--device", OPT_INT0, OFF(device), 0, "N", "CUDA device for GEMM and attention [0]"},
    {"--gpu", OPT_STR, OFF(gpu_canonical), SZ(gpu_canonical), "NAME",
     "servesim hardware name of this GPU, written to meta.yaml (e.g. h100-sxm)"},
    {"--only", OPT_PARTS, OFF(parts), 0, "LIST", "parts to run: gemm,attn,allreduce [all]"},
    {"--out", OPT_STR, OFF(out), SZ(out), "DIR", "output directory [profile-out]"},
    {"--dry-run", OPT_FLAG, OFF(dry_run), 0, NULL, "print the plan; no CUDA call is made"},
    {"--help", OPT_FLAG, OFF(help), 0, NULL, "this text"},
};

void ss_prof_opts_default(ss_prof_opts *o)
{
    memset(o, 0, sizeof *o);
    snprintf(o->model, sizeof o->model, "llama-3.1-8b");
    o->tp[0] = 1;
    o->ntp = 1;
    o->dtype = SS_DTYPE_BF16;
    o->max_tokens = 16384;
    o->max_ctx = 32768;
    o->max_kv_tokens = (int64_t)1 << 20;
    o->reps = 20;
    o->warmup = 5;
    o->gpus = 1;
    o->parts = SS_PROF_PART_ALL;
    snprintf(o->out, sizeof o->out, "profile-out");
}

void ss_prof_usage(FILE *f)
{
    fprintf(f, "usage: servesim-profile [options]\n"
               "Measures GEMM, attention and all-reduce times on this GPU and writes a\n"
               "servesim-profile directory for `servesim calibrate --source servesim:DIR`.\n"
               "LIST is comma-separated positive integers. Options:\n");
    for (size_t i = 0; i < sizeof opt_table / sizeof opt_table[0]; i++) {
        char lhs[64];
        snprintf(lhs, sizeof lhs, "%s%s%s", opt_table[i].name, opt_table[i].arg ? " " : "",
                 opt_table[i].arg ? opt_table[i].arg : "");
        fprintf(f, "  %-26s %s\n", lhs, opt_table[i].help);
    }
}

/* An integer in min..max, the whole string. */
static int parse_range(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!s || !*s) return -1;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max) return -1;
    *out = v;
    return 0;
}

static int parse_pos(const char *s, int64_t max, int64_t *out)
{
    return parse_range(s, 1, max, out);
}

static ss_rc parse_list(const char *name, const char *s, int64_t min, int64_t max,
                        ss_prof_list *l, size_t cap, ss_diag *d)
{
    l->n = 0;
    char buf[8192];
    if (snprintf(buf, sizeof buf, "%s", s) >= (int)sizeof buf)
        return ss_diag_fail(d, SS_ERR_INVALID, "%s: list too long", name);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int64_t v;
        if (parse_range(tok, min, max, &v))
            return ss_diag_fail(d, SS_ERR_INVALID, "%s: '%s' is not an integer in %lld..%lld",
                                name, tok, (long long)min, (long long)max);
        if (l->n >= cap)
            return ss_diag_fail(d, SS_ERR_INVALID, "%s: more than %zu values", name, cap);
        l->v[l->n++] = v;
    }
    if (!l->n) return ss_diag_fail(d, SS_ERR_INVALID, "%s: empty list", name);
    return SS_OK;
}

static ss_rc parse_parts(const char *s, unsigned *parts, ss_diag *d)
{
    char buf[256];
    if (snprintf(buf, sizeof buf, "%s", s) >= (int)sizeof buf)
        return ss_diag_fail(d, SS_ERR_INVALID, "--only: value too long");
    *parts = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (!strcmp(tok, "gemm")) *parts |= SS_PROF_PART_GEMM;
        else if (!strcmp(tok, "attn")) *parts |= SS_PROF_PART_ATTN;
        else if (!strcmp(tok, "allreduce")) *parts |= SS_PROF_PART_ALLREDUCE;
        else
            return ss_diag_fail(d, SS_ERR_INVALID,
                                "--only: unknown part '%s' (valid: gemm, attn, allreduce)", tok);
    }
    if (!*parts) return ss_diag_fail(d, SS_ERR_INVALID, "--only: empty list");
    return SS_OK;
}

const char *ss_prof_attn_kernel_name(ss_prof_attn_kernel k)
{
    switch (k) {
    case SS_PROF_ATTN_CUDNN: return "cudnn";
    case SS_PROF_ATTN_SERVESIM_FA: return "servesim-fa";
    case SS_PROF_ATTN_AUTO: break;
    }
    return "auto";
}

ss_rc ss_prof_attn_resolve(ss_prof_opts *o, int cudnn_built, ss_diag *d)
{
    if (o->attn_kernel == SS_PROF_ATTN_AUTO)
        o->attn_kernel = cudnn_built ? SS_PROF_ATTN_CUDNN : SS_PROF_ATTN_SERVESIM_FA;
    else if (o->attn_kernel == SS_PROF_ATTN_CUDNN && !cudnn_built)
        return ss_diag_fail(d, SS_ERR_INVALID,
                            "--attn-kernel cudnn: this servesim-profile was built without cuDNN 9 "
                            "(use --attn-kernel servesim-fa, or rebuild where CMake finds "
                            "cudnn_graph.h and libcudnn)");
    return SS_OK;
}

/* The command line as one string, arguments with spaces or quotes single-quoted. */
static void join_command(int argc, char **argv, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < argc && used + 1 < n; i++) {
        const char *a = argv[i];
        int quote = !*a || strpbrk(a, " \t\"'\\$") != NULL;
        int w = snprintf(out + used, n - used, "%s%s%s%s", i ? " " : "", quote ? "'" : "",
                         a, quote ? "'" : "");
        if (w < 0) break;
        used += (size_t)w;
        if (used >= n) used = n - 1;
    }
}

ss_rc ss_prof_opts_parse(int argc, char **argv, ss_prof_opts *o, ss_diag *d)
{
    join_command(argc, argv, o->command, sizeof o->command);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const opt_spec *s = NULL;
        for (size_t j = 0; j < sizeof opt_table / sizeof opt_table[0] && !s; j++)
            if (!strcmp(a, opt_table[j].name)) s = &opt_table[j];
        if (!s)
            return ss_diag_fail(d, SS_ERR_INVALID, "unknown option '%s' (see --help)", a);
        char *field = (char *)o + s->offset;
        if (s->kind == OPT_FLAG) {
            *(int *)field = 1;
            continue;
        }
        if (i + 1 >= argc)
            return ss_diag_fail(d, SS_ERR_INVALID, "%s needs a value (%s)", s->name, s->arg);
        const char *v = argv[++i];
        int64_t x;
        ss_rc rc = SS_OK;
        switch (s->kind) {
        case OPT_STR:
            if (!*v) return ss_diag_fail(d, SS_ERR_INVALID, "%s: empty value", s->name);
            if (snprintf(field, s->size, "%s", v) >= (int)s->size)
                return ss_diag_fail(d, SS_ERR_INVALID, "%s: value longer than %zu characters",
                                    s->name, s->size - 1);
            break;
        case OPT_INT:
            if (parse_pos(v, 1000000, &x))
                return ss_diag_fail(d, SS_ERR_INVALID, "%s: '%s' is not an integer in 1..1000000",
                                    s->name, v);
            *(int *)field = (int)x;
            break;
        case OPT_INT0:
            if (parse_range(v, 0, 1000000, &x))
                return ss_diag_fail(d, SS_ERR_INVALID, "%s: '%s' is not an integer in 0..1000000",
                                    s->name, v);
            *(int *)field = (int)x;
            break;
        case OPT_I64:
            if (parse_pos(v, (int64_t)1 << 40, &x))
                return ss_diag_fail(d, SS_ERR_INVALID, "%s: '%s' is not a positive integer",
                                    s->name, v);
            *(int64_t *)field = x;
            break;
        case OPT_LIST:
        case OPT_LIST0:
            rc = parse_list(s->name, v, s->kind == OPT_LIST0 ? 0 : 1, (int64_t)1 << 30,
                            (ss_prof_list *)(void *)field, SS_PROF_MAX_LIST, d);
            break;
        case OPT_TP: {
            ss_prof_list l;
            rc = parse_list(s->name, v, 1, 1024, &l, SS_PROF_MAX_TP, d);
            if (rc) return rc;
            for (size_t k = 0; k < l.n; k++) o->tp[k] = (int)l.v[k];
            o->ntp = l.n;
            break;
        }
        case OPT_DTYPE:
            if (!strcasecmp(v, "bf16")) o->dtype = SS_DTYPE_BF16;
            else if (!strcasecmp(v, "fp16")) o->dtype = SS_DTYPE_FP16;
            else if (!strcasecmp(v, "fp8")) o->dtype = SS_DTYPE_FP8;
            else
                return ss_diag_fail(d, SS_ERR_INVALID,
                                    "--dtype: '%s' is not one of bf16, fp16, fp8", v);
            break;
        case OPT_PARTS:
            rc = parse_parts(v, &o->parts, d);
            break;
        case OPT_ATTN:
            if (!strcmp(v, "auto")) o->attn_kernel = SS_PROF_ATTN_AUTO;
            else if (!strcmp(v, "cudnn")) o->attn_kernel = SS_PROF_ATTN_CUDNN;
            else if (!strcmp(v, "servesim-fa")) o->attn_kernel = SS_PROF_ATTN_SERVESIM_FA;
            else
                return ss_diag_fail(d, SS_ERR_INVALID,
                                    "--attn-kernel: '%s' is not one of auto, cudnn, servesim-fa",
                                    v);
            break;
        case OPT_FLAG:
            break;
        }
        if (rc) return rc;
    }
    return SS_OK;
}
