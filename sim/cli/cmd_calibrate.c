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
            "docs/calibration.md explains the fit and the committed profiles.\n");
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
    ss_calib c;
    ss_calib_init(&c);
    int status = 1;
    char *text = NULL;
    if (ss_calib_read(&a, &t, &d) != SS_OK) goto fail;
    if (ss_calib_fit(&a, &t, 1, &c, &d) != SS_OK) goto fail;
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
    if (ss_hw_load(a.out, NULL, &hw, &d) != SS_OK || ss_calib_load(&hw, &back, &d) != SS_OK)
        goto fail;
    ss_calib_free(&back);
    ss_calib_print_summary(&c, stdout);
    printf("wrote %s (%s@%s, %d operator models, %d measured GEMM shapes)\n", a.out, c.gpu,
           c.stack, c.nmodels, c.nshapes);
    status = 0;
fail:
    if (status) ss_cli_report(&d);
    free(text);
    ss_calib_free(&c);
    ss_meas_table_free(&t);
    return status;
}
