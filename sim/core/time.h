/* Simulated time: a signed 64-bit count of nanoseconds.
 *
 * Integer time makes event ties exact, keeps sums associative and output byte-identical
 * across runs (a double clock would not); 2^63 ns is ~292 years of simulated time.
 * Convert to seconds only when writing results. */
#ifndef SS_CORE_TIME_H
#define SS_CORE_TIME_H

#include <math.h>
#include <stdint.h>

typedef int64_t ss_time_ns;

/* "Never happens": later than any reachable simulated time. */
#define SS_TIME_NEVER INT64_MAX
#define SS_NS_PER_S 1000000000LL

/* Seconds to nanoseconds, rounded to nearest; saturates at SS_TIME_NEVER. */
static inline ss_time_ns ss_time_from_s(double s)
{
    double ns = s * 1e9;
    if (!(ns < 9.2e18)) return SS_TIME_NEVER;
    if (ns < -9.2e18) return -SS_TIME_NEVER;
    return (ss_time_ns)llround(ns);
}

static inline double ss_time_to_s(ss_time_ns t) { return (double)t / 1e9; }
static inline double ss_time_to_ms(ss_time_ns t) { return (double)t / 1e6; }

/* a + b without overflow: saturates at SS_TIME_NEVER (b is a non-negative duration). */
static inline ss_time_ns ss_time_add(ss_time_ns a, ss_time_ns b)
{
    if (a == SS_TIME_NEVER || b >= SS_TIME_NEVER - a) return SS_TIME_NEVER;
    return a + b;
}

#endif
