/* Capacity under an SLO: the highest load (request rate, or closed-loop clients) at which
 * the SLO still holds, found by bisection with replications.
 *
 * The search is a pure algorithm over an evaluator callback (load -> per-replication SLO
 * values), so its decision logic is unit-tested on synthetic models (tests/unit/
 * test_capacity.c); the evaluator that runs the simulator is in capacity_eval.h.
 *
 * Decision at one load x. The evaluator returns, for replications r = 0..n-1, the value of
 * every SLO term. For each term: mean m, half-width h = t(1-(1-c)/2, n-1) * sd / sqrt(n) of
 * the confidence-c interval (Student t; h = 0 when n = 1). An upper-bounded term passes when
 * m + h <= limit, fails when m - h > limit, and is unsure otherwise (the interval straddles
 * the limit); lower-bounded terms mirror this. x passes when every term passes, fails when
 * any term fails, and is unsure otherwise. An unsure x gets `reps` more replications at a
 * time, up to `max_reps`. If it is still unsure, the search either stops there and reports
 * the bracket (`on_unsure = SS_CAP_STOP`, the default), or counts x as "not shown to pass"
 * and bisects below it (`SS_CAP_BELOW`): the capacity is then the highest load shown to
 * pass, within tol of the lowest load that failed or stayed unsure.
 *
 * Search. x = lo must pass (else: infeasible). hi is doubled while it passes (at most
 * `max_doublings` times; then: unbounded, capacity >= hi). Then bisection at (lo + hi) / 2
 * (rounded down for integer loads) until hi - lo <= tol * hi (integer: hi - lo <= 1).
 * The reported capacity is always a load that was *shown* to pass (the bracket's low end);
 * the true threshold lies in [lo, hi]. */
#ifndef SS_STUDY_CAPACITY_H
#define SS_STUDY_CAPACITY_H

#include <stddef.h>

#include "sim/core/diag.h"
#include "sim/study/slo.h"

/* Values every evaluation also reports (means are kept for the capacity point). Rates are
 * those of the measured requests: arrivals per second over their arrival span, times the
 * fraction that finished (not rejected), times mean tokens per finished request; goodput is
 * the arrival rate times attainment (capacity_eval.c says why not the summary's). */
#define SS_CAP_AUX_LIST(X)                                       \
    X(SS_CAP_REQ_TPUT, "request_throughput")  /* req/s served */  \
    X(SS_CAP_OUT_TPUT, "output_throughput")   /* tok/s served */  \
    X(SS_CAP_TOT_TPUT, "total_throughput")    /* tok/s served */  \
    X(SS_CAP_BUSY, "busy_fraction")                                \
    X(SS_CAP_ATTAIN, "attainment")            /* per-request targets */ \
    X(SS_CAP_GOODPUT, "goodput")              /* req/s meeting the targets */

typedef enum ss_cap_aux {
#define SS_CAP_AUX_ENUM(e, name) e,
    SS_CAP_AUX_LIST(SS_CAP_AUX_ENUM)
#undef SS_CAP_AUX_ENUM
    SS_CAP_AUX_COUNT
} ss_cap_aux;

const char *ss_cap_aux_name(int i);

/* One replication at one load. */
typedef struct ss_cap_sample {
    double v[SS_SLO_MAX];          /* per SLO term */
    double aux[SS_CAP_AUX_COUNT];
} ss_cap_sample;

/* Evaluate replications first .. first + n - 1 at `load`, filling out[0..n-1]. The result
 * of replication r must depend only on (load, r), never on n or on the order of calls. */
typedef ss_rc (*ss_cap_eval_fn)(void *ctx, double load, int first, int n, ss_cap_sample *out,
                                ss_diag *d);

typedef struct ss_cap_opts {
    double lo, hi;      /* initial bracket, 0 < lo < hi */
    double tol;         /* relative bracket width to stop at, e.g. 0.05 */
    int integer;        /* loads are integers (clients) */
    int reps;           /* replications per decision (>= 1) */
    int max_reps;       /* replications allowed at an unsure load (>= reps) */
    double confidence;  /* of the interval, e.g. 0.95 */
    int max_doublings;  /* of hi while it passes */
    int max_evals;      /* loads evaluated at most */
    int on_unsure;      /* SS_CAP_STOP or SS_CAP_BELOW */
} ss_cap_opts;

enum { SS_CAP_STOP, SS_CAP_BELOW };

void ss_cap_opts_default(ss_cap_opts *o);

typedef enum ss_cap_verdict { SS_CAP_PASS, SS_CAP_FAIL, SS_CAP_UNSURE } ss_cap_verdict;

typedef struct ss_cap_step {
    double load;
    int reps;
    int verdict;                    /* ss_cap_verdict */
    double mean[SS_SLO_MAX], half[SS_SLO_MAX];
    double aux[SS_CAP_AUX_COUNT];   /* means */
} ss_cap_step;

typedef enum ss_cap_status {
    SS_CAP_CONVERGED,   /* bracket narrower than tol */
    SS_CAP_STRADDLE,    /* stopped: the interval straddled the SLO at max_reps */
    SS_CAP_INFEASIBLE,  /* the SLO fails (or is unsure) at the lowest load */
    SS_CAP_UNBOUNDED,   /* still passes after max_doublings: capacity >= lo */
    SS_CAP_EVAL_LIMIT   /* max_evals reached */
} ss_cap_status;

const char *ss_cap_status_name(int status);
const char *ss_cap_verdict_name(int verdict);

#define SS_CAP_MAX_STEPS 64

typedef struct ss_cap_result {
    int status;           /* ss_cap_status */
    double capacity;      /* = lo; 0 when infeasible */
    double lo, hi;        /* lo passed (0: nothing passed); hi failed or was unsure
                             (INFINITY when unbounded) */
    int binding;          /* SLO term that binds (largest score at the first failing or
                             unsure load, else at capacity); -1 if none */
    int cap_step, hi_step;/* indices into steps (-1: none) */
    int runs;             /* replications simulated in all */
    int unsure;           /* loads that stayed unsure at max_reps */
    size_t nsteps;
    ss_cap_step steps[SS_CAP_MAX_STEPS];
} ss_cap_result;

/* Check the options alone (bracket, replications, tol, confidence): callers check them
 * before printing anything. */
ss_rc ss_cap_opts_check(const ss_cap_opts *o, ss_diag *d);
/* Run the search. Errors come from the evaluator or from bad options. */
ss_rc ss_cap_search(const ss_slo_spec *slo, const ss_cap_opts *o, ss_cap_eval_fn eval, void *ctx,
                    ss_cap_result *out, ss_diag *d);

/* The decision for one term from n values (exposed for tests). */
int ss_cap_decide_term(const ss_slo_term *t, const double *v, int n, double confidence,
                       double *mean, double *half);

#endif
