/* `servesim calibrate`: measurement tables -> a calibrated hardware profile (the base
 * datasheet profile of the GPU plus a `calibration:` section with the fitted operator models
 * and their provenance). `servesim validate calibration` lives in cmd_validate_calib.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwprofiles/calib/fit.h"
#include "sim/cli/calib_common.h"
#include "sim/cli/cli.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: servesim calibrate --source [FORMAT:]PATH [--source ...] --gpu NAME\n"
            "                          --out PROFILE.yaml [--stack STACK] [--default]\n"
            "                          [--skew FILE] [--no-shapes] [--lenient]\n\n"
            "Fits per-operator cost models (GEMM, attention, elementwise, collectives, LM head,\n"
            "sampler, CPU overhead) to measured kernel times and writes a complete hardware\n"
            "profile: the GPU's datasheet profile plus a `calibration:` section with the fitted\n"
            "coefficients, the measured GEMM curves, the fit quality and the provenance (source\n"
            "files with SHA-256, this command line). Use it with `cost_model: calibrated`.\n\n"
            "  --source [FORMAT:]PATH  measurement file or directory (repeatable); formats:\n"
            "                          `servesim measurements --help`\n"
            "  --gpu NAME              the GPU (any alias); only its files are read\n"
            "  --out PROFILE.yaml      output; by convention hwprofiles/calibrated/GPU@STACK.yaml\n"
            "                          (the profile's name is the file name without .yaml)\n"
            "  --stack STACK           software stack of the kernels to fit, when the sources\n"
            "                          hold more than one (collectives and CPU overhead are\n"
            "                          taken from any stack)\n"
            "  --default               mark it as the GPU's default calibration (what\n"
            "                          `cost_model: calibrated` uses with `hardware: GPU`)\n"
            "  --skew FILE             LLMServingSim skew.csv[.gz] (repeatable): how much a\n"
            "                          decode batch of mixed context lengths costs over a\n"
            "                          uniform one of the same mean\n"
            "  --no-shapes             do not keep the measured GEMM curves and attention\n"
            "                          grids (fitted basis only)\n"
            "  --lenient               read files that lack their header line (see\n"
            "                          `servesim measurements --help`)\n\n"
            "docs/calibration.md explains the fit and the committed profiles.\n\n"
            "Usage: servesim calibrate --transfer-from GPU@STACK --gpu NAME [--out FILE.yaml]\n\n"
            "For a GPU without measurements: its datasheet profile (hwprofiles/data/NAME.yaml)\n"
            "with compute_efficiency, memory_efficiency and kernel_launch transferred from a\n"
            "calibrated profile's fitted bf16 GEMM (8192^3 for compute, the m = 1 GEMV 8192^2\n"
            "less the fixed time for memory, the fixed time of a 1x1x1 GEMM for the launch),\n"
            "each recorded in `sources` with this command (docs/hardware.md). Without --out\n"
            "the profile is printed.\n");
}

#define XFER_N 8192.0

/* The datasheet profile text of `gpu` with the roofline's efficiencies and launch time
 * transferred from the calibrated profile `from` (docs/hardware.md). */
static int transfer(const char *from, const char *gpu_arg, const char *out_path, int argc,
                    char **argv)
{
    ss_diag d;
    ss_diag_clear(&d);
    ss_hw src, dst;
    ss_calib c;
    ss_calib_init(&c);
    char *text = NULL;
    int status = 1;
    const char *gpu = ss_hw_canonical(gpu_arg);
    if (!gpu) {
        ss_diag_fail(&d, SS_ERR_NOTFOUND, "unknown GPU '%s' (servesim list hardware)", gpu_arg);
        goto fail;
    }
    if (ss_hw_load(from, NULL, &src, &d) != SS_OK) goto fail;
    if (!src.calib_doc[0]) {
        ss_diag_fail(&d, SS_ERR_INVALID, "--transfer-from %s: not a calibrated profile (GPU@STACK)",
                     from);
        goto fail;
    }
    if (ss_calib_load(&src, &c, &d) != SS_OK) goto fail;
    if (ss_hw_load(gpu, NULL, &dst, &d) != SS_OK) goto fail;
    const ss_cal_model *gm = ss_calib_find_gemm(&c, SS_DTYPE_BF16, XFER_N, XFER_N);
    if (!gm) gm = ss_calib_find_gemm(&c, SS_DTYPE_FP16, XFER_N, XFER_N);
    if (!gm || !(src.peak_flops_bf16 > 0) || !(src.hbm_bandwidth > 0)) {
        ss_diag_fail(&d, SS_ERR_INVALID, "%s has no bf16/fp16 GEMM model to transfer from", from);
        goto fail;
    }
    double x[SS_CAL_MAX_TERMS], sc[SS_CAL_MAX_TERMS];
    ss_cal_gemm_features(XFER_N, XFER_N, XFER_N, 2, x, sc);
    double t_big = ss_cal_eval(gm, x, sc);
    ss_cal_gemm_features(1, XFER_N, XFER_N, 2, x, sc);
    double t_gemv = ss_cal_eval(gm, x, sc);
    const ss_cal_model *tiny = ss_calib_find_gemm(&c, gm->dtype, 1, 1);
    ss_cal_gemm_features(1, 1, 1, 2, x, sc);
    double t_fixed = tiny ? ss_cal_eval(tiny, x, sc) : 0;
    double ce = 2 * XFER_N * XFER_N * XFER_N / t_big / src.peak_flops_bf16;
    double me = (XFER_N * XFER_N * 2 + 2 * XFER_N * 2) / (t_gemv - t_fixed) / src.hbm_bandwidth;
    if (!(t_big > 0) || !(t_gemv > t_fixed) || !(ce > 0 && ce <= 1) || !(me > 0 && me <= 1) ||
        !(t_fixed >= 0 && t_fixed < 1e-3)) {
        ss_diag_fail(&d, SS_ERR_INVALID,
                     "%s: fitted GEMM gives no usable efficiencies (compute %.3g, memory %.3g, "
                     "fixed time %.3g s)", from, ce, me, t_fixed);
        goto fail;
    }
    /* the command line, for the provenance */
    char cmd[512];
    size_t used = (size_t)snprintf(cmd, sizeof cmd, "servesim calibrate");
    for (int i = 0; i < argc && used < sizeof cmd; i++)
        if (strcmp(argv[i], "--out") && (i == 0 || strcmp(argv[i - 1], "--out")))
            used += (size_t)snprintf(cmd + used, sizeof cmd - used, " %s", argv[i]);
    const ss_embedded_file *e = ss_embed_find(ss_hw_zoo, gpu);
    size_t n = strlen(e->text);
    text = malloc(n + 4096);
    if (!text) {
        ss_diag_fail(&d, SS_ERR_NOMEM, "out of memory");
        goto fail;
    }
    const char *p = e->text;
    used = 0;
    int replaced = 0;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p + 1) : strlen(p);
        if (!strncmp(p, "compute_efficiency:", 19))
            used += (size_t)sprintf(text + used, "compute_efficiency: %.2f\n", ce), replaced++;
        else if (!strncmp(p, "memory_efficiency:", 18))
            used += (size_t)sprintf(text + used, "memory_efficiency: %.2f\n", me), replaced++;
        else if (!strncmp(p, "kernel_launch:", 14))
            used += (size_t)sprintf(text + used, "kernel_launch: %.2fus\n", t_fixed * 1e6), replaced++;
        else if (!strncmp(p, "  compute_efficiency:", 21))
            used += (size_t)sprintf(text + used,
                                    "  compute_efficiency: \"transferred from %s: fitted bf16 GEMM "
                                    "8192^3 %.0f / %.0f TFLOPS (%s)\"\n",
                                    from, 2 * XFER_N * XFER_N * XFER_N / t_big / 1e12,
                                    src.peak_flops_bf16 / 1e12, cmd),
            replaced++;
        else if (!strncmp(p, "  memory_efficiency:", 20))
            used += (size_t)sprintf(text + used,
                                    "  memory_efficiency: \"transferred from %s: fitted bf16 GEMV "
                                    "8192^2 %.1f us less %.2f us fixed -> %.0f / %.0f GB/s\"\n",
                                    from, t_gemv * 1e6, t_fixed * 1e6,
                                    me * src.hbm_bandwidth / 1e9, src.hbm_bandwidth / 1e9),
            replaced++;
        else if (!strncmp(p, "  kernel_launch:", 16))
            used += (size_t)sprintf(text + used,
                                    "  kernel_launch: \"transferred from %s: fitted bf16 GEMM "
                                    "1x1x1 (fixed time)\"\n", from),
            replaced++;
        else
            memcpy(text + used, p, len), used += len;
        p += len;
    }
    text[used] = '\0';
    if (replaced != 6) {
        ss_diag_fail(&d, SS_ERR_INVALID,
                     "hwprofiles/data/%s.yaml: expected compute_efficiency, memory_efficiency "
                     "and kernel_launch with a source line each", gpu);
        goto fail;
    }
    /* it must load as a profile of that name */
    char docname[128];
    snprintf(docname, sizeof docname, "%s.yaml", gpu);
    ss_doc *doc = NULL;
    if (ss_doc_load_string(docname, text, used, &doc, &d) != SS_OK) goto fail;
    ss_hw chk;
    ss_rc prc = ss_hw_parse(doc, &chk, &d);
    ss_doc_free(doc);
    if (prc != SS_OK) goto fail;
    fprintf(stderr, "%s <- %s: compute_efficiency %.2f (was %.2f), memory_efficiency %.2f "
                    "(was %.2f), kernel_launch %.2f us (was %.2f us)\n",
            gpu, from, ce, dst.compute_efficiency, me, dst.memory_efficiency, t_fixed * 1e6,
            dst.kernel_launch_s * 1e6);
    if (out_path) {
        FILE *f = fopen(out_path, "w");
        if (!f || fputs(text, f) < 0) {
            if (f) fclose(f);
            ss_diag_set(&d, SS_ERR_IO, out_path, 0, 0, NULL, "cannot write file");
            goto fail;
        }
        if (fclose(f)) {
            ss_diag_set(&d, SS_ERR_IO, out_path, 0, 0, NULL, "write failed");
            goto fail;
        }
    } else {
        fputs(text, stdout);
    }
    status = 0;
fail:
    if (status) ss_cli_report(&d);
    free(text);
    ss_calib_free(&c);
    return status;
}

/* The datasheet profile text of `gpu` with its name line replaced. */
static char *base_profile(const char *gpu, const char *name, ss_diag *d)
{
    const ss_embedded_file *e = ss_embed_find(ss_hw_zoo, gpu);
    if (!e) {
        ss_diag_fail(d, SS_ERR_NOTFOUND, "GPU '%s' has no datasheet profile in hwprofiles/data",
                     gpu);
        return NULL;
    }
    size_t n = strlen(e->text);
    char *out = malloc(n + strlen(name) + 64);
    if (!out) {
        ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    const char *p = e->text;
    size_t used = 0;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p + 1) : strlen(p);
        if (!strncmp(p, "name:", 5))
            used += (size_t)sprintf(out + used, "name: %s\n", name);
        else
            memcpy(out + used, p, len), used += len;
        p += len;
    }
    out[used] = '\0';
    return out;
}

int ss_cmd_calibrate(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--transfer-from")) {
            const char *from = NULL, *gpu = NULL, *out = NULL;
            for (int j = 1; j < argc; j++) {
                const char *v = j + 1 < argc ? argv[j + 1] : NULL;
                if (!strcmp(argv[j], "--transfer-from") && v) from = v, j++;
                else if (!strcmp(argv[j], "--gpu") && v) gpu = v, j++;
                else if (!strcmp(argv[j], "--out") && v) out = v, j++;
                else {
                    fprintf(stderr, "servesim calibrate: with --transfer-from only --gpu NAME "
                                    "and --out FILE are accepted, not '%s'\n", argv[j]);
                    return 2;
                }
            }
            if (!from || !gpu) {
                fprintf(stderr, "servesim calibrate: --transfer-from GPU@STACK needs --gpu NAME\n");
                return 2;
            }
            return transfer(from, gpu, out, argc - 1, argv + 1);
        }
    ss_calib_args a;
    int rc = ss_calib_parse_args(argc, argv, &a, 1, usage);
    if (rc >= 0) return rc;
    ss_diag d;
    ss_diag_clear(&d);
    if (!a.out) {
        fprintf(stderr, "servesim calibrate: --out PROFILE.yaml is required\n");
        return 2;
    }
    /* the profile's name is the file's stem (ss_hw_parse checks they agree) */
    char name[160];
    const char *base = strrchr(a.out, '/');
    base = base ? base + 1 : a.out;
    size_t bl = strlen(base);
    if (bl < 6 || strcmp(base + bl - 5, ".yaml") != 0 || bl - 5 >= sizeof name) {
        fprintf(stderr, "servesim calibrate: --out must name a .yaml file (GPU@STACK.yaml)\n");
        return 2;
    }
    snprintf(name, sizeof name, "%.*s", (int)(bl - 5), base);

    ss_meas_table t;
    ss_meas_table_init(&t); /* freed on every path, also before the sources are read */
    ss_calib c;
    ss_calib_init(&c);
    int status = 1;
    char *text = NULL;
    if (ss_calib_read(&a, &t, &d) != SS_OK) goto fail;
    if (ss_calib_fit(&a, &t, 1, &c, &d) != SS_OK) goto fail;
    if (!ss_calib_kernel_rows(&a, &t)) { /* a profile is of its kernels' stack */
        ss_diag_fail(&d, SS_ERR_INVALID,
                     "calibrate: no kernel row (GEMM, attention, MoE, ...) of the sources for "
                     "GPU '%s'%s%s can be fitted: none was measured, or each is approximate, a "
                     "variant or faster than the GPU's peak (notes above)",
                     a.gpu, a.stack ? " and stack " : "", a.stack ? a.stack : "");
        goto fail;
    }
    c.is_default = a.is_default;
    if (ss_calib_provenance(&a, argc, argv, &t, &c, &d) != SS_OK) goto fail;
    if (ss_calib_skew(&a, &c, &d) != SS_OK) goto fail;
    ss_calib_sort_sources(&c);
    text = base_profile(a.gpu, name, &d);
    if (!text) goto fail;
    FILE *f = fopen(a.out, "w");
    if (!f) {
        ss_diag_set(&d, SS_ERR_IO, a.out, 0, 0, NULL, "cannot create file");
        goto fail;
    }
    fprintf(f, "# Calibrated profile written by `servesim calibrate` (command below); do not edit:\n"
               "# regenerate it (hwprofiles/calibrated/REGENERATE.md). The datasheet part is a\n"
               "# copy of hwprofiles/data/%s.yaml.\n",
            a.gpu);
    fputs(text, f);
    if (text[0] && text[strlen(text) - 1] != '\n') fputc('\n', f);
    fputc('\n', f);
    ss_calib_write_yaml(&c, f);
    int bad = ferror(f);
    if (fclose(f) || bad) {
        ss_diag_set(&d, SS_ERR_IO, a.out, 0, 0, NULL, "write failed");
        goto fail;
    }
    /* the file must load back as a profile with a calibration */
    ss_hw hw;
    ss_calib back;
    if (ss_hw_load(a.out, NULL, &hw, &d) != SS_OK || ss_calib_load_file(a.out, &back, &d) != SS_OK)
        goto fail;
    ss_calib_free(&back);
    ss_calib_print_summary(&c, stdout);
    printf("wrote %s (%s@%s, %d operator models, %d measured GEMM shapes", a.out, c.gpu,
           c.stack, c.nmodels, c.nshapes);
    if (c.ngrids) printf(", %d attention grids", c.ngrids);
    if (c.nmoe) printf(", %d measured MoE configurations", c.nmoe);
    printf(")\n");
    if (c.grids_refused)
        fprintf(stderr,
                "servesim: note: %d attention table%s (%ld rows) made no grid (under half the "
                "cells measured or between measured cells, over %d values on an axis, or over "
                "%d cells): the fitted basis prices %s\n",
                c.grids_refused, c.grids_refused == 1 ? "" : "s", c.grids_refused_rows,
                SS_CAL_GRID_MAXAXIS, SS_CAL_GRID_MAXCELLS,
                c.grids_refused == 1 ? "its head configuration" : "their head configurations");
    status = 0;
fail:
    if (status) ss_cli_report(&d);
    free(text);
    ss_calib_free(&c);
    ss_meas_table_free(&t);
    return status;
}
