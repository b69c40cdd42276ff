/* Bounded-memory log-linear histogram of non-negative integers (nanoseconds), for
 * distributions too large to keep exactly, such as the inter-token latency of every token.
 *
 * Layout as in HdrHistogram: values below 2^SS_HIST_SUB_BITS are exact; above, each power of
 * two is split into 2^SS_HIST_SUB_BITS equal sub-buckets. A value is reported as the middle of
 * its bucket, so the relative error of any reported value (and so of any quantile) is at most
 * 2^-(SS_HIST_SUB_BITS+1) = 0.39% for SS_HIST_SUB_BITS = 7. tests/unit/test_hist.c checks it.
 * Memory is fixed: (64 - SS_HIST_SUB_BITS + 1) * 2^SS_HIST_SUB_BITS counters. */
#ifndef SS_CORE_HIST_H
#define SS_CORE_HIST_H

#include <stdint.h>

#define SS_HIST_SUB_BITS 7
#define SS_HIST_SUB (1u << SS_HIST_SUB_BITS)
#define SS_HIST_BUCKETS ((64 - SS_HIST_SUB_BITS + 1) * SS_HIST_SUB)
/* Documented bound on the relative error of a reported value. */
#define SS_HIST_REL_ERROR (1.0 / (double)(2u << SS_HIST_SUB_BITS))

typedef struct ss_hist {
    uint64_t count;
    uint64_t min, max;
    uint64_t sum; /* exact, and independent of the order of additions */
    uint64_t *buckets; /* SS_HIST_BUCKETS counters, allocated by ss_hist_init */
} ss_hist;

int ss_hist_init(ss_hist *h); /* 0 on success, -1 out of memory */
void ss_hist_free(ss_hist *h);
void ss_hist_reset(ss_hist *h);

static inline unsigned ss_hist_index(uint64_t v)
{
    if (v < SS_HIST_SUB) return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - SS_HIST_SUB_BITS;
    /* bucket group (shift + 1), sub-bucket = the SUB_BITS bits below the msb */
    return (shift + 1) * SS_HIST_SUB + (unsigned)((v >> shift) & (SS_HIST_SUB - 1));
}

/* Add `n` occurrences of value v. */
static inline void ss_hist_add(ss_hist *h, uint64_t v, uint64_t n)
{
    if (!n) return;
    h->buckets[ss_hist_index(v)] += n;
    if (!h->count || v < h->min) h->min = v;
    if (!h->count || v > h->max) h->max = v;
    h->count += n;
    h->sum += v * n;
}

/* Value at quantile q in [0, 1] (nearest rank), as its bucket midpoint clamped to
 * [min, max]; 0 for an empty histogram. */
double ss_hist_quantile(const ss_hist *h, double q);
double ss_hist_mean(const ss_hist *h);
/* Merge src into dst. */
void ss_hist_merge(ss_hist *dst, const ss_hist *src);

#endif
