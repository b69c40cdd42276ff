/* The Pareto frontier: a sort and one sweep (pareto.h). */
#include "sim/study/pareto.h"

#include <math.h>
#include <stdlib.h>

typedef struct pt {
    double x, y; /* y already turned so that larger is better */
    size_t i;
} pt;

/* x descending, then y descending, then index (a total order: the result never depends on
 * the sort's stability). */
static int cmp(const void *a, const void *b)
{
    const pt *p = a, *q = b;
    if (p->x != q->x) return p->x > q->x ? -1 : 1;
    if (p->y != q->y) return p->y > q->y ? -1 : 1;
    return (p->i > q->i) - (p->i < q->i);
}

ss_rc ss_pareto(const double *x, const double *y, size_t n, bool y_maximise, bool *on_front,
                size_t *nfront, ss_diag *d)
{
    *nfront = 0;
    pt *p = malloc((n ? n : 1) * sizeof *p);
    if (!p) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        on_front[i] = false;
        if (isnan(x[i]) || isnan(y[i])) continue;
        p[m++] = (pt){x[i], y_maximise ? y[i] : -y[i], i};
    }
    qsort(p, m, sizeof *p, cmp);
    /* Walk groups of equal x from the largest. A point is dominated by a point of the same x
     * with a larger y (the group's first), or by any point of larger x whose y is at least
     * as large (best_y is the largest y seen before the group). */
    double best_y = -INFINITY;
    int have_best = 0;
    for (size_t g = 0; g < m;) {
        size_t e = g;
        while (e < m && p[e].x == p[g].x) e++;
        double gmax = p[g].y;
        for (size_t k = g; k < e; k++) {
            int dominated = p[k].y < gmax || (have_best && best_y >= p[k].y);
            if (!dominated) {
                on_front[p[k].i] = true;
                (*nfront)++;
            }
        }
        if (!have_best || gmax > best_y) best_y = gmax;
        have_best = 1;
        g = e;
    }
    free(p);
    return SS_OK;
}
