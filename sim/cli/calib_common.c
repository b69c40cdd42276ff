/* Options, reading and provenance shared by `calibrate` and `validate calibration`. */
#include "sim/cli/calib_common.h"

#include <stdlib.h>
#include <string.h>

#include "sim/cli/cli.h"

static int need(int i, int argc, const char *opt)
{
    if (i + 1 >= argc) {
        fprintf(stderr, "servesim: option %s needs a value\n", opt);
        return 0;
    }
    return 1;
}

int ss_calib_parse_args(int argc, char **argv, ss_calib_args *a, int is_calibrate,
                        void (*usage)(FILE *))
{
    memset(a, 0, sizeof *a);
    a->folds = 5;
    a->seed = 1;
    const char *gpu = NULL;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(o, "--source")) {
            if (!need(i, argc, o)) return 2;
            if (a->nsources == SS_CALIB_MAX_SOURCES) {
                fprintf(stderr, "servesim: at most %d --source options\n", SS_CALIB_MAX_SOURCES);
                return 2;
            }
            a->sources[a->nsources++] = argv[++i];
        } else if (is_calibrate && !strcmp(o, "--skew")) {
            if (!need(i, argc, o)) return 2;
            if (a->nskew == SS_CALIB_MAX_SOURCES) {
                fprintf(stderr, "servesim: at most %d --skew options\n", SS_CALIB_MAX_SOURCES);
                return 2;
            }
            a->skew[a->nskew++] = argv[++i];
        } else if (!strcmp(o, "--gpu")) {
            if (!need(i, argc, o)) return 2;
            gpu = argv[++i];
        } else if (!strcmp(o, "--stack")) {
            if (!need(i, argc, o)) return 2;
            a->stack = argv[++i];
        } else if (is_calibrate && !strcmp(o, "--out")) {
            if (!need(i, argc, o)) return 2;
            a->out = argv[++i];
        } else if (!strcmp(o, "--lenient")) {
            a->lenient = 1;
        } else if (is_calibrate && !strcmp(o, "--default")) {
            a->is_default = 1;
        } else if (is_calibrate && !strcmp(o, "--no-shapes")) {
            a->no_shapes = 1;
        } else if (!is_calibrate && !strcmp(o, "--json")) {
            if (!need(i, argc, o)) return 2;
            a->json = argv[++i];
        } else if (!is_calibrate && !strcmp(o, "--db")) {
            if (!need(i, argc, o)) return 2;
            a->db = argv[++i];
        } else if (!is_calibrate && !strcmp(o, "--rows")) {
            if (!need(i, argc, o)) return 2;
            a->rows = argv[++i];
        } else if (!is_calibrate && !strcmp(o, "--profile")) {
            if (!need(i, argc, o)) return 2;
            a->profile = argv[++i];
        } else if (!is_calibrate && !strcmp(o, "--folds")) {
            if (!need(i, argc, o)) return 2;
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 2 || v > 50) {
                fprintf(stderr, "servesim: --folds expects an integer from 2 to 50\n");
                return 2;
            }
            a->folds = (int)v;
        } else if (!is_calibrate && !strcmp(o, "--seed")) {
            if (!need(i, argc, o)) return 2;
            char *end;
            a->seed = strtoull(argv[++i], &end, 10);
            if (*end || argv[i][0] == '-') {
                fprintf(stderr, "servesim: --seed expects a non-negative integer\n");
                return 2;
            }
        } else if (!is_calibrate && !strcmp(o, "--assert")) {
            /* FAMILY:SCHEME=MEDIAN,P90 (fractions: 0.05 = 5 %) */
            if (!need(i, argc, o)) return 2;
            const char *v = argv[++i];
            ss_calib_assert *as = &a->asserts[a->nasserts];
            char fam[32] = "", sch[32] = "";
            if (a->nasserts == SS_CALIB_MAX_ASSERTS ||
                sscanf(v, "%31[^:]:%31[^=]=%lf,%lf", fam, sch, &as->median, &as->p90) != 4 ||
                ss_fam_from_name(fam) == SS_FAM_COUNT ||
                (strcmp(sch, "kfold") && strcmp(sch, "shapes") && strcmp(sch, "extrapolate") &&
                 strcmp(sch, "profile") && strcmp(sch, "profile-unseen"))) {
                fprintf(stderr, "servesim: --assert expects FAMILY:SCHEME=MEDIAN,P90 with a "
                                "family of `servesim measurements` and SCHEME kfold, shapes, "
                                "extrapolate, profile or profile-unseen (got '%s')\n", v);
                return 2;
            }
            snprintf(as->family, sizeof as->family, "%s", fam);
            snprintf(as->scheme, sizeof as->scheme, "%s", sch);
            a->nasserts++;
        } else {
            fprintf(stderr, "servesim: unknown or incomplete option '%s'\n", o);
            usage(stderr);
            return 2;
        }
    }
    if (a->nsources == 0 || (!gpu && !a->profile)) {
        fprintf(stderr, "servesim: --source and --gpu are required%s (see --help)\n",
                is_calibrate ? "" : " (--gpu may be left out with --profile)");
        return 2;
    }
    if (!gpu) return -1; /* --profile: its GPU, once loaded */
    const char *canon = ss_hw_canonical(gpu);
    if (!canon) {
        fprintf(stderr, "servesim: unknown GPU '%s' (`servesim list hardware`)\n", gpu);
        return 1;
    }
    snprintf(a->gpu, sizeof a->gpu, "%s", canon);
    return -1;
}

ss_rc ss_calib_read(const ss_calib_args *a, ss_meas_table *t, ss_diag *d)
{
    ss_meas_table_init(t);
    for (int i = 0; i < a->nsources; i++) {
        ss_meas_opts o = {.lenient = a->lenient};
        ss_rc rc = ss_meas_read_source_opts(t, a->sources[i], a->gpu, &o, d);
        if (rc) return rc;
    }
    if (t->n == 0)
        return ss_diag_fail(d, SS_ERR_NOTFOUND, "no measurements for GPU '%s' in the sources",
                            a->gpu);
    ss_hw hw;
    ss_rc rc = ss_hw_load(a->gpu, NULL, &hw, d);
    if (rc) return rc;
    return ss_calib_report_peak(t, &hw, stderr, d);
}

ss_rc ss_calib_report_peak(ss_meas_table *t, const ss_hw *hw, FILE *out, ss_diag *d)
{
    ss_cal_peak_series *ser;
    size_t ns;
    ss_rc rc = ss_cal_check_peak(t, hw, &ser, &ns, d);
    if (rc) return rc;
    for (size_t i = 0; i < ns; i++) {
        const ss_cal_peak_series *s = &ser[i];
        int gemm = ss_cal_kind_of(s->family) == SS_CAL_GEMM;
        if (s->bytes) {
            fprintf(out,
                    "servesim: note: %s: %s, %s, KV %s: %llu of its %llu rows read more KV than "
                    "twice %s's L2 in less time than its memory bandwidth allows (%.4g TB/s; "
                    "up to %.1fx faster): that kernel did not read it all, its %llu rows are "
                    "left out of fits and validation\n",
                    t->sources[s->src].path, ss_fam_name((ss_fam)s->family),
                    ss_dtype_name((ss_dtype)s->dtype), ss_dtype_name((ss_dtype)s->kv_dtype),
                    (unsigned long long)s->over, (unsigned long long)s->rows, hw->name,
                    s->peak / 1e12, s->max_ratio, (unsigned long long)s->rows);
            continue;
        }
        fprintf(out,
                "servesim: note: %s: %s, %s%s%s: %llu of its %llu rows take less time than "
                "their FLOPs need at %s's peak (%.4g TFLOP/s; up to %.1fx faster): that kernel "
                "did not do the work, its %llu rows are left out of fits and validation\n",
                t->sources[s->src].path, ss_fam_name((ss_fam)s->family),
                ss_dtype_name((ss_dtype)s->dtype), gemm ? "" : ", KV ",
                gemm ? "" : ss_dtype_name((ss_dtype)s->kv_dtype), (unsigned long long)s->over,
                (unsigned long long)s->rows, hw->name, s->peak / 1e12, s->max_ratio,
                (unsigned long long)s->rows);
    }
    free(ser);
    return SS_OK;
}

size_t ss_calib_kernel_rows(const ss_calib_args *a, const ss_meas_table *t)
{
    const char *stack = a->stack && a->stack[0] ? a->stack : NULL;
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++) {
        const ss_meas *r = &t->rows[i];
        n += (size_t)(ss_cal_is_kernel(r->family) && ss_cal_row_usable(t, r, stack));
    }
    return n;
}

ss_rc ss_calib_fit(const ss_calib_args *a, const ss_meas_table *t, int with_shapes, ss_calib *c,
                   ss_diag *d)
{
    snprintf(c->gpu, sizeof c->gpu, "%s", a->gpu);
    ss_hw hw;
    ss_rc rc = ss_hw_load(a->gpu, NULL, &hw, d);
    if (rc) return rc;
    ss_fit_opts o = {.stack = a->stack, .with_shapes = with_shapes && !a->no_shapes,
                     .l2_bytes = (double)hw.l2_bytes, .ridge = ss_cal_ridge(&hw)};
    return ss_cal_fit_all(t, &o, c, d);
}

ss_rc ss_calib_skew(const ss_calib_args *a, ss_calib *c, ss_diag *d)
{
    if (a->nskew == 0) return SS_OK;
    ss_meas_skew_table *st = calloc((size_t)a->nskew, sizeof *st);
    if (!st) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    ss_rc rc = SS_OK;
    int n = 0;
    for (; n < a->nskew && rc == SS_OK; n++) {
        rc = ss_meas_read_skew(a->skew[n], &st[n], d);
        if (rc == SS_OK && strcmp(st[n].source.gpu, a->gpu) != 0)
            rc = ss_diag_fail(d, SS_ERR_INVALID, "%s: skew shots of GPU '%s', not '%s'",
                              a->skew[n], st[n].source.gpu, a->gpu);
    }
    if (rc == SS_OK) ss_cal_fit_skew(st, (size_t)n, c);
    /* the skew files are provenance too */
    for (int i = 0; rc == SS_OK && i < n; i++) {
        ss_meas_source *ns = realloc(c->sources, (size_t)(c->nsources + 1) * sizeof *ns);
        if (!ns) {
            rc = ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
            break;
        }
        c->sources = ns;
        c->sources[c->nsources] = st[i].source;
        c->sources[c->nsources].rows = st[i].n;
        c->nsources++;
    }
    for (int i = 0; i < n; i++) ss_meas_skew_free(&st[i]);
    free(st);
    return rc;
}

static int cmp_src(const void *x, const void *y)
{
    return strcmp(((const ss_meas_source *)x)->path, ((const ss_meas_source *)y)->path);
}

ss_rc ss_calib_provenance(const ss_calib_args *a, int argc, char **argv, const ss_meas_table *t,
                          ss_calib *c, ss_diag *d)
{
    size_t len = strlen("servesim calibrate") + 1;
    for (int i = 1; i < argc; i++) len += strlen(argv[i]) + 1;
    c->command = malloc(len + 1);
    c->sources = calloc(t->nsources ? t->nsources : 1, sizeof *c->sources);
    if (!c->command || !c->sources) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    strcpy(c->command, "servesim calibrate");
    for (int i = 1; i < argc; i++) strcat(c->command, " "), strcat(c->command, argv[i]);
    /* sources that contributed rows to a fitted family: every source, or with --stack that
     * stack's, and collectives / CPU overhead from any stack */
    for (size_t s = 0; s < t->nsources; s++) {
        const ss_meas_source *src = &t->sources[s];
        if (src->rows == 0) continue;
        int used = 0;
        for (size_t i = 0; i < t->n && !used; i++) {
            const ss_meas *r = &t->rows[i];
            if (r->src != s) continue;
            int any = !ss_cal_is_kernel(r->family);
            used = any || !a->stack || !a->stack[0] || ss_cal_stack_has(a->stack, src->stack);
        }
        if (used) c->sources[c->nsources++] = *src;
    }
    return SS_OK;
}

void ss_calib_sort_sources(ss_calib *c)
{
    qsort(c->sources, (size_t)c->nsources, sizeof *c->sources, cmp_src);
}

void ss_calib_print_summary(const ss_calib *c, FILE *out)
{
    fprintf(out, "%s@%s: fitted operator models (error of the fitted basis on the rows fitted; "
                 "with the measured curves and grids, and on held-out rows: `servesim validate "
                 "calibration`)\n", c->gpu, c->stack);
    fprintf(out, "  %-14s %-18s %-5s %8s %8s %8s %8s\n", "family", "tag", "dtype", "rows",
            "median", "p90", "max");
    for (int i = 0; i < c->nmodels; i++) {
        const ss_cal_model *m = &c->models[i];
        fprintf(out, "  %-14s %-18s %-5s %8ld %7.2f%% %7.2f%% %7.1f%%\n",
                ss_fam_name((ss_fam)m->family), m->tag[0] ? m->tag : "-",
                ss_dtype_name((ss_dtype)m->dtype), m->rows, 100 * m->median_ape,
                100 * m->p90_ape, 100 * m->max_ape);
    }
    /* how far the GEMM curves and the shape lattice defer to each basis (fitted, not set:
     * users comparing profiles should see them) */
    int head = 0;
    for (int i = 0; i < c->nmodels; i++) {
        const ss_cal_model *m = &c->models[i];
        if (m->family != SS_FAM_GEMM) continue;
        if (!head++)
            fprintf(out, "  GEMM basis weights (docs/cost-model.md): %-18s %-5s %14s %14s\n", "tag",
                    "dtype", "beyond_basis", "lattice_basis");
        fprintf(out, "  %41s %-18s %-5s %14.1f %14.1f\n", "", m->tag[0] ? m->tag : "-",
                ss_dtype_name((ss_dtype)m->dtype), m->beyond_w, m->lattice_w);
    }
}
