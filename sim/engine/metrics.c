/* Metric accumulation and the end-of-run summary; definitions in metrics.h and
 * docs/metrics.md. */
#include "sim/engine/metrics.h"

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <stdlib.h>
#include <string.h>

const char *ss_metric_req_name(ss_metric_req m)
{
    switch (m) {
#define SS_M_CASE(e, name) \
    case e:                \
        return name;
        SS_METRIC_REQ_LIST(SS_M_CASE)
#undef SS_M_CASE
    case SS_M_REQ_COUNT: break;
    }
    return "?";
}

int ss_dvec_push(ss_dvec *v, double x)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 1024;
        double *p = realloc(v->v, cap * sizeof *p);
        if (!p) return -1;
        v->v = p;
        v->cap = cap;
    }
    v->v[v->n++] = x;
    return 0;
}

int ss_metrics_init(ss_metrics *m, size_t max_batch, int64_t kv_total)
{
    memset(m, 0, sizeof *m);
    m->first_arrival = -1;
    m->meas_first_arrival = -1;
    m->kv_total = kv_total;
    m->batch_cap = max_batch + 1;
    m->batch_counts = calloc(m->batch_cap, sizeof *m->batch_counts);
    if (!m->batch_counts || ss_hist_init(&m->itl)) {
        ss_metrics_free(m);
        return -1;
    }
    return 0;
}

int ss_metrics_classes(ss_metrics *m, size_t n, const ss_slo *slos)
{
    m->cls = calloc(n, sizeof *m->cls);
    if (!m->cls) return -1;
    m->ncls = n;
    for (size_t i = 0; i < n; i++) m->cls[i].slo = slos[i];
    return 0;
}

void ss_metrics_class_arrival(ss_metrics *m, const ss_req *r)
{
    if (r->cls < m->ncls) m->cls[r->cls].arrived++;
}

void ss_metrics_class_reject(ss_metrics *m, const ss_req *r)
{
    if (r->cls >= m->ncls) return;
    ss_class_metrics *c = &m->cls[r->cls];
    c->rejected++;
    if (!r->measured) c->excluded++;
    else c->measured++;
}

/* Comparisons on ns: TPOT <= target is (last - first) <= target x (generated - 1), the
 * product taken in double (exact while it stays below 2^53 ns, about 104 days). */
bool ss_slo_met(const ss_slo *slo, const ss_req *r)
{
    if (r->state != SS_REQ_FINISHED) return false;
    if (slo->ttft && r->first_token - r->arrival > slo->ttft) return false;
    if (slo->e2e && r->finish - r->arrival > slo->e2e) return false;
    if (slo->tpot && r->generated > 1 &&
        (double)(r->last_token - r->first_token) > (double)slo->tpot * (double)(r->generated - 1))
        return false;
    return true;
}

static int class_finish(ss_metrics *m, const ss_req *r, double e2e);

void ss_metrics_free(ss_metrics *m)
{
    for (size_t c = 0; c < m->ncls; c++)
        for (int i = 0; i < SS_M_REQ_COUNT; i++) free(m->cls[c].req[i].v);
    free(m->cls);
    for (int i = 0; i < SS_M_REQ_COUNT; i++) free(m->req[i].v);
    free(m->batch_counts);
    ss_hist_free(&m->itl);
    memset(m, 0, sizeof *m);
}

int ss_metrics_finish(ss_metrics *m, const ss_req *r)
{
    double e2e = ss_time_to_s(r->finish - r->arrival);
    m->finished++;
    m->preemptions += r->preemptions;
    if (r->finish > m->last_finish) m->last_finish = r->finish;
    if (class_finish(m, r, e2e)) return -1;
    if (!r->measured) {
        m->excluded++;
        return 0;
    }
    if (r->finish > m->meas_last_finish) m->meas_last_finish = r->finish;
    m->input_tokens += r->prompt_tokens;
    m->output_tokens += r->generated;
    if (ss_dvec_push(&m->req[SS_M_QUEUE], ss_time_to_s(r->first_scheduled - r->arrival)) ||
        ss_dvec_push(&m->req[SS_M_TTFT], ss_time_to_s(r->first_token - r->arrival)) ||
        ss_dvec_push(&m->req[SS_M_E2E], e2e) ||
        ss_dvec_push(&m->req[SS_M_NORM], e2e / (double)r->generated))
        return -1;
    if (r->generated > 1 &&
        ss_dvec_push(&m->req[SS_M_TPOT],
                  ss_time_to_s(r->last_token - r->first_token) / (double)(r->generated - 1)))
        return -1;
    return 0;
}

static int class_finish(ss_metrics *m, const ss_req *r, double e2e)
{
    if (r->cls >= m->ncls) return 0;
    ss_class_metrics *c = &m->cls[r->cls];
    c->finished++;
    if (!r->measured) {
        c->excluded++;
        return 0;
    }
    c->measured++;
    c->input_tokens += r->prompt_tokens;
    c->output_tokens += r->generated;
    if (ss_slo_met(&c->slo, r)) {
        c->slo_met++;
        c->good_output_tokens += r->generated;
    }
    if (ss_dvec_push(&c->req[SS_M_QUEUE], ss_time_to_s(r->first_scheduled - r->arrival)) ||
        ss_dvec_push(&c->req[SS_M_TTFT], ss_time_to_s(r->first_token - r->arrival)) ||
        ss_dvec_push(&c->req[SS_M_E2E], e2e) ||
        ss_dvec_push(&c->req[SS_M_NORM], e2e / (double)r->generated))
        return -1;
    if (r->generated > 1 &&
        ss_dvec_push(&c->req[SS_M_TPOT],
                  ss_time_to_s(r->last_token - r->first_token) / (double)(r->generated - 1)))
        return -1;
    return 0;
}

/* LSD radix sort of non-negative doubles (their IEEE-754 bit patterns order like the
 * values): O(n), several times faster than gsl_sort's heapsort on the 10^5-10^6 values of a
 * large run. Negative values cannot occur (every metric is a duration); if one ever did, fall
 * back to gsl_sort rather than misorder. */
static void sort_nonneg(double *v, size_t n)
{
    uint64_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    size_t *count = malloc(65537 * sizeof *count);
    int ok = a && b && count;
    for (size_t i = 0; ok && i < n; i++) {
        if (!(v[i] >= 0)) ok = 0;
        else memcpy(&a[i], &v[i], sizeof a[i]);
    }
    if (!ok) {
        free(a);
        free(b);
        free(count);
        gsl_sort(v, 1, n);
        return;
    }
    for (int pass = 0; pass < 4; pass++) {
        int shift = pass * 16;
        memset(count, 0, 65537 * sizeof *count);
        for (size_t i = 0; i < n; i++) count[((a[i] >> shift) & 0xffff) + 1]++;
        if (count[1] == n) continue; /* every value has digit 0 here: nothing moves */
        for (size_t k = 1; k <= 65536; k++) count[k] += count[k - 1];
        for (size_t i = 0; i < n; i++) b[count[(a[i] >> shift) & 0xffff]++] = a[i];
        uint64_t *t = a;
        a = b;
        b = t;
    }
    for (size_t i = 0; i < n; i++) memcpy(&v[i], &a[i], sizeof v[i]);
    free(a);
    free(b);
    free(count);
}

void ss_stat_compute(ss_dvec *v, ss_stat *out)
{
    memset(out, 0, sizeof *out);
    out->n = v->n;
    if (!v->n) return;
    sort_nonneg(v->v, v->n);
    out->mean = gsl_stats_mean(v->v, 1, v->n);
    out->p50 = gsl_stats_quantile_from_sorted_data(v->v, 1, v->n, 0.50);
    out->p90 = gsl_stats_quantile_from_sorted_data(v->v, 1, v->n, 0.90);
    out->p95 = gsl_stats_quantile_from_sorted_data(v->v, 1, v->n, 0.95);
    out->p99 = gsl_stats_quantile_from_sorted_data(v->v, 1, v->n, 0.99);
    out->max = v->v[v->n - 1];
}

static void hist_stat(const ss_hist *h, ss_stat *out)
{
    memset(out, 0, sizeof *out);
    out->n = h->count;
    if (!h->count) return;
    out->mean = ss_hist_mean(h) / 1e9;
    out->p50 = ss_hist_quantile(h, 0.50) / 1e9;
    out->p90 = ss_hist_quantile(h, 0.90) / 1e9;
    out->p95 = ss_hist_quantile(h, 0.95) / 1e9;
    out->p99 = ss_hist_quantile(h, 0.99) / 1e9;
    out->max = (double)h->max / 1e9;
}

/* Batch-size stats from exact integer counts: nearest-rank percentiles. */
static void batch_stat(const ss_metrics *m, ss_stat *out)
{
    memset(out, 0, sizeof *out);
    uint64_t n = 0;
    double sum = 0;
    for (size_t b = 0; b < m->batch_cap; b++) {
        n += m->batch_counts[b];
        sum += (double)b * (double)m->batch_counts[b];
    }
    out->n = n;
    if (!n) return;
    out->mean = sum / (double)n;
    const uint64_t qs[4] = {50, 90, 95, 99}; /* percent: rank = ceil(n q / 100) exactly */
    double *dst[4] = {&out->p50, &out->p90, &out->p95, &out->p99};
    for (int i = 0; i < 4; i++) {
        uint64_t rank = (n * qs[i] + 99) / 100, cum = 0;
        if (rank < 1) rank = 1;
        for (size_t b = 0; b < m->batch_cap; b++) {
            cum += m->batch_counts[b];
            if (cum >= rank) {
                *dst[i] = (double)b;
                break;
            }
        }
    }
    for (size_t b = m->batch_cap; b-- > 0;)
        if (m->batch_counts[b]) {
            out->max = (double)b;
            break;
        }
}

void ss_metrics_summarize(ss_metrics *m, ss_summary *s)
{
    memset(s, 0, sizeof *s);
    s->arrived = m->arrived;
    s->excluded = m->excluded;
    s->finished = m->finished;
    s->rejected = m->rejected;
    s->preemptions = m->preemptions;
    s->iterations = m->iterations;
    s->input_tokens = m->input_tokens;
    s->output_tokens = m->output_tokens;
    ss_time_ns span = m->first_arrival >= 0 && m->last_finish > m->first_arrival
                          ? m->last_finish - m->first_arrival
                          : 0;
    ss_time_ns mspan = m->meas_first_arrival >= 0 && m->meas_last_finish > m->meas_first_arrival
                           ? m->meas_last_finish - m->meas_first_arrival
                           : 0;
    s->run_duration_s = ss_time_to_s(span);
    s->duration_s = ss_time_to_s(mspan);
    if (mspan > 0) {
        s->request_throughput = (double)m->req[SS_M_E2E].n / s->duration_s;
        s->input_throughput = (double)m->input_tokens / s->duration_s;
        s->output_throughput = (double)m->output_tokens / s->duration_s;
        s->total_throughput = s->input_throughput + s->output_throughput;
    }
    if (span > 0) {
        s->busy_fraction = m->busy_ns / (double)span;
        if (m->kv_total > 0)
            s->kv_util_mean = m->kv_used_integral / ((double)span * (double)m->kv_total);
    }
    s->kv_blocks_total = m->kv_total;
    s->kv_util_peak = m->kv_total > 0 ? (double)m->kv_peak / (double)m->kv_total : 0;
    for (int i = 0; i < SS_M_REQ_COUNT; i++) ss_stat_compute(&m->req[i], &s->req[i]);
    hist_stat(&m->itl, &s->itl_s);
    batch_stat(m, &s->batch_size);

    /* Classes: throughput and goodput over the run's measured duration, so that the classes'
     * figures add up to the overall ones. */
    s->nclasses = m->ncls < SS_MAX_CLASSES ? m->ncls : SS_MAX_CLASSES;
    uint64_t good_tokens = 0;
    for (size_t i = 0; i < s->nclasses; i++) {
        ss_class_metrics *c = &m->cls[i];
        ss_class_summary *o = &s->classes[i];
        o->arrived = c->arrived;
        o->finished = c->finished;
        o->rejected = c->rejected;
        o->excluded = c->excluded;
        o->measured = c->measured;
        o->input_tokens = c->input_tokens;
        o->output_tokens = c->output_tokens;
        for (int k = 0; k < SS_M_REQ_COUNT; k++) ss_stat_compute(&c->req[k], &o->req[k]);
        o->slo = c->slo;
        o->has_slo = ss_slo_any(&c->slo);
        o->slo_met = c->slo_met;
        if (mspan > 0) {
            o->request_throughput = (double)c->req[SS_M_E2E].n / s->duration_s;
            o->input_throughput = (double)c->input_tokens / s->duration_s;
            o->output_throughput = (double)c->output_tokens / s->duration_s;
        }
        if (!o->has_slo) continue;
        o->slo_attainment = c->measured ? (double)c->slo_met / (double)c->measured : 0;
        if (mspan > 0) {
            o->goodput_rps = (double)c->slo_met / s->duration_s;
            o->goodput_tokens_per_s = (double)c->good_output_tokens / s->duration_s;
        }
        s->has_slo = true;
        s->slo_measured += c->measured;
        s->slo_met += c->slo_met;
        good_tokens += c->good_output_tokens;
    }
    if (s->has_slo) {
        s->slo_attainment = s->slo_measured ? (double)s->slo_met / (double)s->slo_measured : 0;
        if (mspan > 0) {
            s->goodput_rps = (double)s->slo_met / s->duration_s;
            s->goodput_tokens_per_s = (double)good_tokens / s->duration_s;
        }
    }
}
