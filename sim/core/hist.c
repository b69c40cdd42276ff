/* Log-linear histogram; see hist.h for the layout and its error bound. */
#include "sim/core/hist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int ss_hist_init(ss_hist *h)
{
    memset(h, 0, sizeof *h);
    h->buckets = calloc(SS_HIST_BUCKETS, sizeof *h->buckets);
    return h->buckets ? 0 : -1;
}

void ss_hist_free(ss_hist *h)
{
    free(h->buckets);
    h->buckets = NULL;
}

void ss_hist_reset(ss_hist *h)
{
    uint64_t *b = h->buckets;
    memset(b, 0, SS_HIST_BUCKETS * sizeof *b);
    memset(h, 0, sizeof *h);
    h->buckets = b;
}

/* Lowest value and width of bucket i. */
static void bucket_range(unsigned i, double *lo, double *width)
{
    if (i < SS_HIST_SUB) {
        *lo = i;
        *width = 1;
        return;
    }
    unsigned group = i / SS_HIST_SUB, sub = i % SS_HIST_SUB;
    unsigned shift = group - 1;
    *lo = ldexp((double)(SS_HIST_SUB + sub), (int)shift);
    *width = ldexp(1.0, (int)shift);
}

double ss_hist_quantile(const ss_hist *h, double q)
{
    if (!h->count) return 0;
    if (q <= 0) return (double)h->min;
    if (q >= 1) return (double)h->max;
    /* nearest rank: the smallest value whose cumulative count reaches ceil(q * count) */
    uint64_t rank = (uint64_t)ceil(q * (double)h->count);
    if (rank < 1) rank = 1;
    uint64_t cum = 0;
    for (unsigned i = 0; i < SS_HIST_BUCKETS; i++) {
        cum += h->buckets[i];
        if (cum >= rank) {
            double lo, w;
            bucket_range(i, &lo, &w);
            double mid = w <= 1 ? lo : lo + (w - 1) / 2.0;
            if (mid < (double)h->min) mid = (double)h->min;
            if (mid > (double)h->max) mid = (double)h->max;
            return mid;
        }
    }
    return (double)h->max;
}

double ss_hist_mean(const ss_hist *h) { return h->count ? (double)h->sum / (double)h->count : 0; }

void ss_hist_merge(ss_hist *dst, const ss_hist *src)
{
    if (!src->count) return;
    for (unsigned i = 0; i < SS_HIST_BUCKETS; i++) dst->buckets[i] += src->buckets[i];
    if (!dst->count || src->min < dst->min) dst->min = src->min;
    if (!dst->count || src->max > dst->max) dst->max = src->max;
    dst->count += src->count;
    dst->sum += src->sum;
}
