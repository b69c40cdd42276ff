/* The `calibration:` section of a hardware profile, writing: deterministic (fixed number
 * formats, the fitter's sorted order), in the format calib_read.c reads (SS_CAL_FORMAT). */
#include <stdio.h>

#include "hwprofiles/calib/fit.h"
#include "hwprofiles/calib/fit_int.h"

static void put_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

/* A list of numbers is written as one quoted string of space-separated numbers ("1 2.5 3"),
 * not a YAML sequence: libyaml then reads a grid of thousands of times as one token instead
 * of one node each, which is most of a large profile's load time (docs/performance.md). The
 * numbers are printed exactly as before; num_list() reads both forms. */
static void put_list_fmt(FILE *out, const double *v, int n, const char *fmt)
{
    fputc('"', out);
    for (int i = 0; i < n; i++) {
        if (i) fputc(' ', out);
        fprintf(out, fmt, v[i]);
    }
    fputc('"', out);
}

/* Coefficients and axes keep 9 significant digits; measured times 6 (the measurements
 * themselves have fewer), which keeps the large profiles at about half the size. */
static void put_list(FILE *out, const double *v, int n) { put_list_fmt(out, v, n, "%.9g"); }
static void put_times(FILE *out, const double *v, int n) { put_list_fmt(out, v, n, "%.6g"); }

/* A measured curve's token counts and times, closing its flow mapping. */
static void put_curve(FILE *out, const double *m, const double *t, int n)
{
    fprintf(out, "\n       m: ");
    put_list(out, m, n);
    fprintf(out, ",\n       t: ");
    put_times(out, t, n);
    fprintf(out, "}\n");
}

void ss_calib_write_yaml(const ss_calib *c, FILE *out)
{
    fprintf(out, "calibration:\n  format: %d\n  gpu: %s\n  stack: ", SS_CAL_FORMAT, c->gpu);
    put_str(out, c->stack);
    fprintf(out, "\n  default: %s", c->is_default ? "true" : "false");
    fprintf(out, "\n  skew: {alpha_pure: %.4f, alpha_mixed: %.4f, shots: %ld}", c->skew_alpha_pure,
            c->skew_alpha_mixed, c->skew_shots);
    fprintf(out, "\n  command: ");
    put_str(out, c->command ? c->command : "");
    fprintf(out, "\n  sources:%s\n", c->nsources ? "" : " []");
    for (int i = 0; i < c->nsources; i++) {
        const ss_meas_source *s = &c->sources[i];
        fprintf(out, "    - path: ");
        put_str(out, s->path);
        fprintf(out, "\n      format: %s\n      stack: ", s->format);
        put_str(out, s->stack);
        fprintf(out, "\n      sha256: \"%s\"\n      rows: %llu\n", s->sha256,
                (unsigned long long)s->rows);
        if (s->over_peak) /* faster than the GPU's peak: ss_cal_check_peak */
            fprintf(out, "      left_out_over_peak: %llu\n", (unsigned long long)s->over_peak);
    }
    fprintf(out, "  models:%s\n", c->nmodels ? "" : " []");
    for (int i = 0; i < c->nmodels; i++) {
        const ss_cal_model *m = &c->models[i];
        fprintf(out, "    - family: %s\n      tag: ", ss_cal_family_name(m->family));
        put_str(out, m->tag);
        fprintf(out,
                "\n      dtype: %s\n      rows: %ld\n      median_ape: %.4f\n"
                "      p90_ape: %.4f\n      max_ape: %.4f\n",
                ss_dtype_name((ss_dtype)m->dtype), m->rows, m->median_ape, m->p90_ape,
                m->max_ape);
        if (m->family == SS_FAM_GEMM)
            fprintf(out,
                    "      beyond_basis: %.2f\n      lattice_basis: %.2f\n"
                    "      lattice_near: %g\n",
                    m->beyond_w, m->lattice_w, m->lattice_near);
        if (m->family == SS_FAM_ATTN_DECODE)
            fprintf(out, "      mha_apart: %s\n      spill_bw: %.6g\n",
                    m->mha_apart ? "true" : "false", m->spill_bw);
        if (m->family == SS_FAM_ATTN_PREFILL)
            fprintf(out, "      mha_own: %s\n", m->mha_own ? "true" : "false");
        if (m->family == SS_FAM_ATTN_PREFILL || m->family == SS_FAM_ATTN_MIXED)
            fprintf(out, "      heads_only: %s\n", m->heads_only ? "true" : "false");
        fprintf(out, "      terms:\n");
        for (int j = 0; j < m->nterms; j++) {
            fprintf(out, "        - {knots: ");
            put_list(out, m->terms[j].knots, m->terms[j].nknots);
            fprintf(out, ", coef: ");
            put_list(out, m->terms[j].coef, m->terms[j].nknots);
            fprintf(out, ", x_max: %.9g}\n", m->x_max[j]);
        }
    }
    fprintf(out, "  grids:%s\n", c->ngrids ? "" : " []");
    for (int i = 0; i < c->ngrids; i++) {
        const ss_cal_grid *g = &c->grids[i];
        fprintf(out, "    - {family: %s, dtype: %s, heads: %d, kv_heads: %d, head_dim: %d, "
                     "measured: %ld,\n       axes: [",
                ss_cal_family_name(g->family), ss_dtype_name((ss_dtype)g->dtype), g->heads, g->kv_heads,
                g->head_dim, g->measured);
        size_t cells = 1;
        for (int dd = 0; dd < g->ndim; dd++) {
            if (dd) fprintf(out, ", ");
            put_list(out, g->axis[dd], g->len[dd]);
            cells *= (size_t)g->len[dd];
        }
        fprintf(out, "],\n       t: ");
        put_times(out, g->t, (int)cells);
        fprintf(out, "}\n");
    }
    fprintf(out, "  shapes:%s\n", c->nshapes ? "" : " []");
    for (int i = 0; i < c->nshapes; i++) {
        const ss_cal_shape *s = &c->shapes[i];
        fprintf(out, "    - {dtype: %s, n: %ld, k: %ld,", ss_dtype_name((ss_dtype)s->dtype), s->n,
                s->k);
        if (s->m_class) fprintf(out, " m_class: %d,", s->m_class);
        put_curve(out, s->m, s->t, s->npts);
    }
    if (c->nmoe) fprintf(out, "  moe_curves:\n"); /* a format 6 key only where there are any */
    for (int i = 0; i < c->nmoe; i++) {
        const ss_cal_moe_curve *v = &c->moe[i];
        fprintf(out, "    - {dtype: %s, hidden: %ld, inter: %ld, experts: %d, topk: %d, ep: %d,",
                ss_dtype_name((ss_dtype)v->dtype), v->hidden, v->inter, v->experts, v->topk,
                v->ep);
        put_curve(out, v->m, v->t, v->npts);
    }
}

