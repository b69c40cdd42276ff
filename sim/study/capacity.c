/* Capacity search by bisection with confidence intervals; see capacity.h. */
#include "sim/study/capacity.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *ss_cap_aux_name(int i)
{
    static const char *const names[] = {
#define SS_CAP_AUX_NAME(e, name) name,
        SS_CAP_AUX_LIST(SS_CAP_AUX_NAME)
#undef SS_CAP_AUX_NAME
    };
    return i >= 0 && i < SS_CAP_AUX_COUNT ? names[i] : "?";
}

const char *ss_cap_status_name(int s)
{
    switch (s) {
    case SS_CAP_CONVERGED: return "converged";
    case SS_CAP_STRADDLE: return "straddle";
    case SS_CAP_INFEASIBLE: return "infeasible";
    case SS_CAP_UNBOUNDED: return "unbounded";
    case SS_CAP_EVAL_LIMIT: return "evaluation-limit";
    }
    return "?";
}

const char *ss_cap_verdict_name(int v)
{
    return v == SS_CAP_PASS ? "pass" : v == SS_CAP_FAIL ? "fail" : "unsure";
}

void ss_cap_opts_default(ss_cap_opts *o)
{
    *o = (ss_cap_opts){.lo = 0.5, .hi = 8, .tol = 0.05, .integer = 0, .reps = 3, .max_reps = 9,
                       .confidence = 0.95, .max_doublings = 10, .max_evals = 40};
}

int ss_cap_decide_term(const ss_slo_term *t, const double *v, int n, double confidence,
                       double *mean, double *half)
{
    double m = 0, ss = 0;
    for (int i = 0; i < n; i++) m += v[i];
    m /= n;
    for (int i = 0; i < n; i++) ss += (v[i] - m) * (v[i] - m);
    double h = 0;
    if (n > 1) {
        double sd = sqrt(ss / (n - 1));
        h = gsl_cdf_tdist_Pinv(1 - (1 - confidence) / 2, n - 1) * sd / sqrt((double)n);
    }
    *mean = m;
    *half = h;
    if (isnan(m)) return SS_CAP_FAIL;
    if (t->at_least) {
        if (m - h >= t->limit) return SS_CAP_PASS;
        if (m + h < t->limit) return SS_CAP_FAIL;
    } else {
        if (m + h <= t->limit) return SS_CAP_PASS;
        if (m - h > t->limit) return SS_CAP_FAIL;
    }
    return SS_CAP_UNSURE;
}

typedef struct search {
    const ss_slo_spec *slo;
    const ss_cap_opts *o;
    ss_cap_eval_fn eval;
    void *ctx;
    ss_cap_result *r;
    ss_cap_sample *buf; /* max_reps samples */
    double *col;        /* max_reps values of one term */
} search;

static void summarise(search *s, ss_cap_step *st)
{
    int any_fail = 0, all_pass = 1;
    for (int k = 0; k < s->slo->nterms; k++) {
        for (int i = 0; i < st->reps; i++) s->col[i] = s->buf[i].v[k];
        int v = ss_cap_decide_term(&s->slo->term[k], s->col, st->reps, s->o->confidence,
                                   &st->mean[k], &st->half[k]);
        if (v == SS_CAP_FAIL) any_fail = 1;
        if (v != SS_CAP_PASS) all_pass = 0;
    }
    for (int a = 0; a < SS_CAP_AUX_COUNT; a++) {
        double m = 0;
        for (int i = 0; i < st->reps; i++) m += s->buf[i].aux[a];
        st->aux[a] = m / st->reps;
    }
    st->verdict = any_fail ? SS_CAP_FAIL : all_pass ? SS_CAP_PASS : SS_CAP_UNSURE;
}

/* Evaluate one load; *idx gets its step index. */
static ss_rc step(search *s, double load, int *idx, ss_diag *d)
{
    ss_cap_result *r = s->r;
    if (r->nsteps >= SS_CAP_MAX_STEPS || (int)r->nsteps >= s->o->max_evals) {
        *idx = -1;
        return SS_OK;
    }
    ss_cap_step *st = &r->steps[r->nsteps];
    memset(st, 0, sizeof *st);
    st->load = load;
    int n = s->o->reps;
    ss_rc rc = s->eval(s->ctx, load, 0, n, s->buf, d);
    if (rc) return rc;
    st->reps = n;
    summarise(s, st);
    while (st->verdict == SS_CAP_UNSURE && st->reps < s->o->max_reps) {
        int add = s->o->reps;
        if (st->reps + add > s->o->max_reps) add = s->o->max_reps - st->reps;
        if ((rc = s->eval(s->ctx, load, st->reps, add, s->buf + st->reps, d))) return rc;
        st->reps += add;
        summarise(s, st);
    }
    r->runs += st->reps;
    if (st->verdict == SS_CAP_UNSURE) r->unsure++;
    *idx = (int)r->nsteps++;
    return SS_OK;
}

static int binding_term(const ss_slo_spec *slo, const ss_cap_step *st)
{
    int best = -1;
    double bs = -INFINITY;
    for (int k = 0; k < slo->nterms; k++) {
        double sc = ss_slo_score(&slo->term[k], st->mean[k]);
        if (isnan(sc)) sc = INFINITY;
        if (best < 0 || sc > bs) {
            best = k;
            bs = sc;
        }
    }
    return best;
}

static int converged(const ss_cap_opts *o, double lo, double hi)
{
    return o->integer ? hi - lo <= 1 : hi - lo <= o->tol * hi;
}

static ss_rc run_search(const ss_slo_spec *slo, const ss_cap_opts *o, ss_cap_eval_fn eval,
                        void *ctx, ss_cap_result *out, ss_diag *d);

ss_rc ss_cap_search(const ss_slo_spec *slo, const ss_cap_opts *o, ss_cap_eval_fn eval, void *ctx,
                    ss_cap_result *out, ss_diag *d)
{
    memset(out, 0, sizeof *out);
    out->binding = out->cap_step = out->hi_step = -1;
    if (slo->nterms < 1) return ss_diag_fail(d, SS_ERR_INVALID, "capacity search: empty SLO");
    ss_rc rc = ss_cap_opts_check(o, d);
    if (rc) return rc;
    return run_search(slo, o, eval, ctx, out, d);
}

ss_rc ss_cap_opts_check(const ss_cap_opts *o, ss_diag *d)
{
    if (!(o->lo > 0) || !(o->hi > o->lo) || !isfinite(o->hi))
        return ss_diag_fail(d, SS_ERR_INVALID,
                            "capacity search: need 0 < lo < hi, got lo %g, hi %g", o->lo, o->hi);
    if (o->reps < 1 || o->max_reps < o->reps)
        return ss_diag_fail(d, SS_ERR_INVALID,
                            "capacity search: need 1 <= reps <= max_reps, got %d and %d", o->reps,
                            o->max_reps);
    if (!(o->tol > 0 && o->tol < 1))
        return ss_diag_fail(d, SS_ERR_INVALID,
                            "capacity search: tol must lie in (0, 1), got %g", o->tol);
    if (!(o->confidence > 0 && o->confidence < 1))
        return ss_diag_fail(d, SS_ERR_INVALID,
                            "capacity search: confidence must lie in (0, 1), got %g",
                            o->confidence);
    if (o->integer && (o->lo != floor(o->lo) || o->hi != floor(o->hi)))
        return ss_diag_fail(d, SS_ERR_INVALID, "capacity search: integer loads need integer "
                                               "bounds, got %g and %g", o->lo, o->hi);
    return SS_OK;
}

static ss_rc run_search(const ss_slo_spec *slo, const ss_cap_opts *o, ss_cap_eval_fn eval,
                        void *ctx, ss_cap_result *out, ss_diag *d)
{
    search s = {.slo = slo, .o = o, .eval = eval, .ctx = ctx, .r = out};
    s.buf = calloc((size_t)o->max_reps, sizeof *s.buf);
    s.col = calloc((size_t)o->max_reps, sizeof *s.col);
    ss_rc rc = SS_OK;
    if (!s.buf || !s.col) {
        rc = ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
        goto done;
    }
    double lo = o->lo, hi = o->hi;
    int i;
    out->status = SS_CAP_EVAL_LIMIT;
    /* the lowest load must pass */
    if ((rc = step(&s, lo, &i, d))) goto done;
    if (i < 0) goto finish;
    if (out->steps[i].verdict != SS_CAP_PASS) {
        out->status = SS_CAP_INFEASIBLE;
        out->lo = 0;
        out->hi = lo;
        out->hi_step = i;
        goto finish;
    }
    out->cap_step = i;
    /* an upper bound: double while it passes */
    for (int k = 0;; k++) {
        if ((rc = step(&s, hi, &i, d))) goto done;
        if (i < 0) {
            out->lo = lo;
            out->hi = hi;
            goto finish;
        }
        if (out->steps[i].verdict != SS_CAP_PASS) {
            out->hi_step = i;
            if (out->steps[i].verdict == SS_CAP_UNSURE && o->on_unsure == SS_CAP_STOP) {
                out->status = SS_CAP_STRADDLE;
                out->lo = lo;
                out->hi = hi;
                goto finish;
            }
            break;
        }
        lo = hi;
        out->cap_step = i;
        if (k >= o->max_doublings) {
            out->status = SS_CAP_UNBOUNDED;
            out->lo = lo;
            out->hi = INFINITY;
            goto finish;
        }
        hi *= 2;
    }
    /* bisection */
    while (!converged(o, lo, hi)) {
        double mid = o->integer ? floor((lo + hi) / 2) : (lo + hi) / 2;
        if ((rc = step(&s, mid, &i, d))) goto done;
        if (i < 0) {
            out->lo = lo;
            out->hi = hi;
            goto finish;
        }
        if (out->steps[i].verdict == SS_CAP_PASS) {
            lo = mid;
            out->cap_step = i;
        } else {
            out->hi_step = i;
            if (out->steps[i].verdict == SS_CAP_UNSURE && o->on_unsure == SS_CAP_STOP) {
                out->status = SS_CAP_STRADDLE;
                out->lo = lo;
                out->hi = hi;
                goto finish;
            }
            hi = mid; /* failed, or not shown to pass */
        }
    }
    out->status = SS_CAP_CONVERGED;
    out->lo = lo;
    out->hi = hi;
finish:
    out->capacity = out->status == SS_CAP_INFEASIBLE ? 0 : out->lo;
    if (out->hi_step >= 0) out->binding = binding_term(slo, &out->steps[out->hi_step]);
    else if (out->cap_step >= 0) out->binding = binding_term(slo, &out->steps[out->cap_step]);
done:
    free(s.buf);
    free(s.col);
    return rc;
}
