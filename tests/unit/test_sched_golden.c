/* Golden tests of the replica scheduling policies: the contract.
 *
 * Every expected iteration-by-iteration batch composition below was derived BY HAND from the
 * policy specification (docs/policies.md and the scheduler headers), not by running the code.
 * If one of these fails, first re-read the specification and the derivation comment above the
 * expected array; change an expectation only when the derivation is shown to be wrong.
 *
 * Format of one iteration: the batch items in batch order, separated by single spaces;
 * "<id>d" for a decode step (1 token, the request has generated before, and computing it
 * brings computed up to prompt + generated), else "<id>p<n>" (a prefill, a prefill chunk or
 * a recompute of n tokens).
 *
 * Notation in the derivations: rX c/g = computed / generated tokens of request X after the
 * iteration; "free" = free KV blocks; "kv" = blocks in use right after the batch is formed
 * (what the iteration record reports). block_size is 4 in every case. All requests arrive at
 * t = 0, so compositions do not depend on the cost model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/engine/sim.h"
#include "workloads/scenario.h"

/* ================================================================== harness */

#define MAX_ITERS 64

typedef struct trace {
    char *iter[MAX_ITERS];
    int64_t kv[MAX_ITERS];
    size_t n;
    int overflow;
} trace;

static int on_batch(void *ctx, const ss_iter_record *it, const ss_batch *batch)
{
    trace *t = ctx;
    if (t->n >= MAX_ITERS) {
        t->overflow = 1;
        return 0; /* keep running; the count check reports it */
    }
    char buf[1024];
    size_t len = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < batch->n; i++) {
        const ss_req *r = batch->items[i].r;
        uint32_t n = batch->items[i].tokens;
        int w;
        if (n == 1 && r->generated > 0 && r->computed + 1 == r->prompt_tokens + r->generated)
            w = snprintf(buf + len, sizeof buf - len, "%s%llud", i ? " " : "",
                         (unsigned long long)r->id);
        else
            w = snprintf(buf + len, sizeof buf - len, "%s%llup%u", i ? " " : "",
                         (unsigned long long)r->id, n);
        if (w < 0 || (size_t)w >= sizeof buf - len) break;
        len += (size_t)w;
    }
    t->iter[t->n] = strdup(buf);
    t->kv[t->n] = it->kv_used_blocks;
    t->n++;
    return 0;
}

typedef struct golden {
    const char *replica;   /* contents of the `replica:` flow map */
    const char *requests;  /* lines of `workload.requests` */
    const char *const *expect;
    size_t nexpect;
    const int64_t *kv;     /* expected kv_used_blocks per iteration, or NULL */
    int64_t finished, preemptions, rejected; /* -1 = not checked */
} golden;

static char *join_trace(const trace *t)
{
    size_t cap = 16;
    for (size_t i = 0; i < t->n; i++) cap += strlen(t->iter[i]) + 32;
    char *s = malloc(cap);
    size_t len = 0;
    s[0] = '\0';
    for (size_t i = 0; i < t->n; i++)
        len += (size_t)snprintf(s + len, cap - len, "%s\"%s\"(kv %lld)", i ? ", " : "",
                                t->iter[i], (long long)t->kv[i]);
    return s;
}

static void run_golden(const golden *g)
{
    char yaml[4096];
    snprintf(yaml, sizeof yaml,
             "model: llama-3.1-8b\n"
             "cluster: {pools: [{hardware: h100-sxm}]}\n"
             "replica: {%s}\n"
             "workload:\n"
             "  requests:\n"
             "%s"
             "output: {kv_sample_interval: 0}\n",
             g->replica, g->requests);

    /* Failures are collected in msg and reported after cleaning up (fail_msg longjmps). */
    static char msg[16384];
    size_t ml = 0;
    msg[0] = '\0';
#define FAILF(...) \
    do { \
        if (ml < sizeof msg) ml += (size_t)snprintf(msg + ml, sizeof msg - ml, __VA_ARGS__); \
    } while (0)

    ss_scenario *sc = NULL;
    ss_sim *sim = NULL;
    trace t;
    memset(&t, 0, sizeof t);
    char *got = NULL;
    char dbuf[2048];
    ss_diag d;
    ss_diag_clear(&d);
    if (ss_scenario_load_string("golden.yaml", yaml, NULL, &sc, &d)) {
        ss_diag_format(&d, dbuf, sizeof dbuf);
        FAILF("scenario rejected: %s\n--- yaml ---\n%s", dbuf, yaml);
        goto out;
    }
    ss_diag_clear(&d);
    if (ss_sim_create(sc, &(ss_sim_opts){.seed = 1}, &sim, &d)) {
        ss_diag_format(&d, dbuf, sizeof dbuf);
        FAILF("ss_sim_create failed: %s", dbuf);
        sim = NULL;
        goto out;
    }
    ss_observer obs = {.ctx = &t, .on_batch = on_batch};
    ss_sim_set_observer(sim, &obs);
    ss_diag_clear(&d);
    if (ss_sim_run(sim, &d)) {
        ss_diag_format(&d, dbuf, sizeof dbuf);
        got = join_trace(&t);
        FAILF("run failed: %s\n  got so far: %s\n", dbuf, got);
        goto out;
    }

    got = join_trace(&t);
    bool ok = !t.overflow && t.n == g->nexpect;
    size_t first_bad = SIZE_MAX;
    for (size_t i = 0; i < t.n && i < g->nexpect; i++)
        if (strcmp(t.iter[i], g->expect[i]) != 0) {
            ok = false;
            if (first_bad == SIZE_MAX) first_bad = i;
        }
    if (!ok) {
        FAILF("batch compositions differ (first at iteration %zu; %zu iterations, expected "
              "%zu)\n  expected: ",
              first_bad == SIZE_MAX ? (t.n < g->nexpect ? t.n : g->nexpect) : first_bad, t.n,
              g->nexpect);
        for (size_t i = 0; i < g->nexpect; i++) FAILF("%s\"%s\"", i ? ", " : "", g->expect[i]);
        FAILF("\n  got:      %s\n", got);
    } else if (g->kv) {
        for (size_t i = 0; i < t.n; i++)
            if (t.kv[i] != g->kv[i]) {
                FAILF("kv_used_blocks at iteration %zu: expected %lld, got %lld\n  got: %s\n",
                      i, (long long)g->kv[i], (long long)t.kv[i], got);
                break;
            }
    }

    const ss_summary *s = ss_sim_summary(sim);
    if (g->finished >= 0 && (int64_t)s->finished != g->finished)
        FAILF("finished: expected %lld, got %llu\n", (long long)g->finished,
              (unsigned long long)s->finished);
    if (g->preemptions >= 0 && (int64_t)s->preemptions != g->preemptions)
        FAILF("preemptions: expected %lld, got %llu\n", (long long)g->preemptions,
              (unsigned long long)s->preemptions);
    if (g->rejected >= 0 && (int64_t)s->rejected != g->rejected)
        FAILF("rejected: expected %lld, got %llu\n", (long long)g->rejected,
              (unsigned long long)s->rejected);
#undef FAILF

out:
    free(got);
    for (size_t i = 0; i < t.n; i++) free(t.iter[i]);
    if (sim) ss_sim_free(sim);
    if (sc) ss_scenario_free(sc);
    if (msg[0]) fail_msg("%s", msg);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define REQ(p, o) "    - {at: 0, prompt_tokens: " #p ", output_tokens: " #o "}\n"
#define REQP(p, o, prio) \
    "    - {at: 0, prompt_tokens: " #p ", output_tokens: " #o ", priority: " #prio "}\n"

/* ================================================================== static */

/* static_no_join: request-level batching; max_num_seqs = 2 limits the first batch, and r2
 * does not join when r1 finishes early: it waits until the whole batch has finished.
 * r0 p8 o3 (11 tok, 3 blk), r1 p4 o1 (5 tok, 2 blk), r2 p6 o2 (8 tok, 2 blk); 20 blocks.
 *  it0: batch {r0, r1} (count 2 = max_num_seqs stops r2); full-length reservation 3+2 = 5.
 *       r0 8/1; r1 4/1 finished (o = 1), frees 2 -> kv 3.
 *  it1: r0 decodes (r2 may NOT join)  r0 9/2.
 *  it2: r0 decodes                     r0 10/3 finished, kv 0.
 *  it3: new batch {r2}: prefill 6, reserves 2 blocks   r2 6/1.
 *  it4: r2 decodes                     r2 7/2 finished. */
static void static_no_join(void **st)
{
    (void)st;
    static const char *const expect[] = {"0p8 1p4", "0d", "0d", "2p6", "2d"};
    static const int64_t kv[] = {5, 3, 3, 2, 2};
    golden g = {"scheduler: static, max_num_seqs: 2, max_num_batched_tokens: 4096, "
                "max_model_len: 4096, block_size: 4, num_gpu_blocks: 20, watermark: 0",
                REQ(8, 3) REQ(4, 1) REQ(6, 2),
                expect, N(expect), kv, 3, 0, 0};
    run_golden(&g);
}

/* static_spf_kv: shortest_prompt_first order; batch formation stops at the first request
 * whose FULL p + o blocks do not fit; r2 (60 + 10 > max_model_len 64) is rejected at arrival.
 * r0 p12 o4 (16 tok, 4 blk), r1 p4 o4 (2 blk), r2 rejected, r3 p8 o8 (16 tok, 4 blk),
 * r4 p6 o2 (8 tok, 2 blk); 10 blocks. Order: r1(4) r4(6) r3(8) r0(12).
 *  it0: r1 (free 8), r4 (free 6), r3 (free 2), r0 needs 4 > 2: stop. kv 8.
 *       r1 4/1, r4 6/1, r3 8/1.
 *  it1: decodes r1 r4 r3: r1 5/2, r4 7/2 finished (free 4: r0 would fit, but may not join),
 *       r3 9/2.
 *  it2: r1 6/3, r3 10/3 (kv 6).   it3: r1 7/4 finished, r3 11/4.
 *  it4..it7: r3 alone, g 5..8, finished after it7 (kv 4).
 *  it8: new batch {r0}: prefill 12, reserves 4.  it9..it11: r0 decodes g 2..4, finished. */
static void static_spf_kv(void **st)
{
    (void)st;
    static const char *const expect[] = {"1p4 4p6 3p8", "1d 4d 3d", "1d 3d", "1d 3d",
                                         "3d", "3d", "3d", "3d",
                                         "0p12", "0d", "0d", "0d"};
    static const int64_t kv[] = {8, 8, 6, 6, 4, 4, 4, 4, 4, 4, 4, 4};
    golden g = {"scheduler: static, priority: shortest_prompt_first, max_num_seqs: 4, "
                "max_num_batched_tokens: 4096, max_model_len: 64, block_size: 4, "
                "num_gpu_blocks: 10, watermark: 0",
                REQ(12, 4) REQ(4, 4) REQ(60, 10) REQ(8, 8) REQ(6, 2),
                expect, N(expect), kv, 4, 0, 1};
    run_golden(&g);
}

/* static_token_budget: the sum of the batch's prompts must stay <= max_num_batched_tokens.
 * r0 p10 o2 (3 blk), r1 p6 o2 (2 blk), r2 p4 o1 (2 blk); budget 16.
 *  it0: r0 (10), r1 (16 <= 16), r2 (20 > 16) stops. kv 5. r0 10/1, r1 6/1.
 *  it1: both decode and finish.  it2: batch {r2}: prefill 4, finished (o = 1). */
static void static_token_budget(void **st)
{
    (void)st;
    static const char *const expect[] = {"0p10 1p6", "0d 1d", "2p4"};
    static const int64_t kv[] = {5, 5, 2};
    golden g = {"scheduler: static, max_num_seqs: 4, max_num_batched_tokens: 16, "
                "max_model_len: 16, block_size: 4, num_gpu_blocks: 20, watermark: 0",
                REQ(10, 2) REQ(6, 2) REQ(4, 1),
                expect, N(expect), kv, 3, 0, 0};
    run_golden(&g);
}

/* ================================================================== orca */

/* orca_join: same requests and limits as static_no_join, but iteration-level: r2 joins in
 * the iteration after r1 finished, next to r0's decode (decodes first).
 * r0 p8 o3 (3 blk), r1 p4 o1 (2 blk), r2 p6 o2 (2 blk); max_num_seqs 2; 20 blocks.
 *  it0: r0 joins, r1 joins, r2: running + joined = 2, not < 2: stop. kv 5.
 *       r0 8/1, r1 4/1 finished (frees 2).
 *  it1: r0 decodes; r2 joins (1 < 2; 1 + 6 tokens; 2 blocks). kv 3 + 2 = 5.
 *       r0 9/2, r2 6/1.
 *  it2: r0 decodes 10/3 finished; r2 decodes 7/2 finished. */
static void orca_join(void **st)
{
    (void)st;
    static const char *const expect[] = {"0p8 1p4", "0d 2p6", "0d 2d"};
    static const int64_t kv[] = {5, 5, 5};
    /* max_model_len 64: orca refuses a budget that cannot hold a max_model_len prompt
     * beside max_num_seqs - 1 decodes (4096 + 1 > 4096); composition is unaffected. */
    golden g = {"scheduler: orca, max_num_seqs: 2, max_num_batched_tokens: 4096, "
                "max_model_len: 64, block_size: 4, num_gpu_blocks: 20, watermark: 0",
                REQ(8, 3) REQ(4, 1) REQ(6, 2),
                expect, N(expect), kv, 3, 0, 0};
    run_golden(&g);
}

/* orca_priority_budget: priority order; the token budget counts this iteration's decodes;
 * full-length KV reservation stops admission; r4 (14 + 4 > max_model_len 12) is rejected.
 * r0 p8 o4 prio 2 (12 tok, 3 blk), r1 p8 o2 prio 0 (3 blk), r2 p6 o3 prio 1 (3 blk),
 * r3 p4 o4 prio 0 (2 blk), r4 rejected. Budget 16, 10 blocks. Order: r1 r3 r2 r0.
 *  it0: r1 (8 tokens, free 7), r3 (12, free 5), r2: 12 + 6 = 18 > 16 stop. kv 5.
 *       r1 8/1, r3 4/1.
 *  it1: decodes r1 r3 (2 tokens); r2 joins (2 + 6 = 8, free 2); r0: 8 + 8 = 16 <= 16 but
 *       3 blocks > 2: stop. kv 8. r1 9/2 finished (free 5), r3 5/2, r2 6/1.
 *  it2: decodes r3 r2 (running order by priority); r0 joins (2 + 8, 3 <= 5 blocks). kv 8.
 *       r3 6/3, r2 7/2, r0 8/1.
 *  it3: r3 7/4 finished, r2 8/3 finished, r0 9/2 (kv 3 after).
 *  it4: r0 10/3.  it5: r0 11/4 finished. */
static void orca_priority_budget(void **st)
{
    (void)st;
    static const char *const expect[] = {"1p8 3p4", "1d 3d 2p6", "3d 2d 0p8", "3d 2d 0d",
                                         "0d", "0d"};
    static const int64_t kv[] = {5, 8, 8, 8, 3, 3};
    golden g = {"scheduler: orca, priority: priority, max_num_seqs: 4, "
                "max_num_batched_tokens: 16, max_model_len: 12, block_size: 4, "
                "num_gpu_blocks: 10, watermark: 0",
                REQP(8, 4, 2) REQP(8, 2, 0) REQP(6, 3, 1) REQP(4, 4, 0) REQP(14, 4, 0),
                expect, N(expect), kv, 4, 0, 1};
    run_golden(&g);
}

/* ================================================================== vllm (v0) */

/* vllm_prefill_first: same requests as orca_join. vLLM v0 iterations are prefill-only or
 * decode-only: when r2 fits after r1 finished, it is prefilled alone (r0 does not decode).
 * r0 p8 o3, r1 p4 o1, r2 p6 o2; max_num_seqs 2; 20 blocks (reservation for c + n).
 *  it0: prefill r0 (2 blk), r1 (1 blk); r2: 2 + 1 > 2 seqs: stop. kv 3.
 *       r0 8/1, r1 4/1 finished.
 *  it1: r2 fits (1 + 1 <= 2): prefill-only {r2} (2 blk). kv 4. r2 6/1.
 *  it2: decode r0 (9 tok -> 3 blk), r2 (7 tok, 2 blk). kv 5. r0 9/2, r2 7/2 finished.
 *  it3: decode r0 10/3 finished. kv 3. */
static void vllm_prefill_first(void **st)
{
    (void)st;
    static const char *const expect[] = {"0p8 1p4", "2p6", "0d 2d", "0d"};
    static const int64_t kv[] = {3, 4, 5, 3};
    golden g = {"scheduler: vllm, max_num_seqs: 2, max_num_batched_tokens: 4096, "
                "max_model_len: 4096, block_size: 4, num_gpu_blocks: 20, watermark: 0",
                REQ(8, 3) REQ(4, 1) REQ(6, 2),
                expect, N(expect), kv, 3, 0, 0};
    run_golden(&g);
}

/* vllm_recompute: 4 blocks; preemption of the newest running request when no block is
 * free (even if the decoding request needs none); re-prefill of p + g tokens.
 * r0 p4 o4, r1 p4 o4 (8 tok, 2 blk each), r2 p12 o8 (20 tok = 5 blk > 4): rejected.
 *  it0: prefill r0, r1 (1 blk each), free 2. r0 4/1, r1 4/1.
 *  it1: decode r0 (free 2 >= 1; 5 tok -> 2 blk, free 1), r1 (free 1; -> free 0).
 *       r0 5/2, r1 5/2.
 *  it2: r0: free 0 -> preempt newest r1 (c = 0, frees 2, to waiting front); r0 6 tok fits
 *       its 2 blocks. kv 2. r0 6/3; r1 0/2 (1 preemption).
 *  it3: r1 fits: prefill-only of p + g = 6 tokens (2 blk, free 0). r1 6/3.
 *  it4: r0: free 0 -> preempt newest running r1 again (frees 2). r0 7/4 finished.
 *  it5: r1 re-prefills p + g = 7 tokens (2 blk): 7/4 finished. */
static void vllm_recompute(void **st)
{
    (void)st;
    static const char *const expect[] = {"0p4 1p4", "0d 1d", "0d", "1p6", "0d", "1p7"};
    static const int64_t kv[] = {2, 4, 2, 4, 2, 2};
    golden g = {"scheduler: vllm, max_num_seqs: 4, max_num_batched_tokens: 32, "
                "max_model_len: 32, block_size: 4, num_gpu_blocks: 4, watermark: 0",
                REQ(4, 4) REQ(4, 4) REQ(12, 8),
                expect, N(expect), kv, 2, 2, 1};
    run_golden(&g);
}

/* vllm_swap: preemption_mode swap keeps the victim's KV (in host memory); it comes back
 * when nobody was preempted and decodes in that same iteration; no prefill round starts
 * while a request is swapped out.
 * r0 p4 o3, r1 p4 o4 (2 blk each at most), r2 p4 o1; max_num_seqs 2; 4 blocks.
 *  it0: prefill r0, r1 (1 blk each); r2: 3 seqs > 2: stop. free 2. r0 4/1, r1 4/1.
 *  it1: r2 still does not fit (seqs) -> decode r0, r1 (2 blk each, free 0). r0 5/2, r1 5/2.
 *  it2: decode: r0 finds free 0 -> swap out newest r1 (free 2; r1 keeps c = 5); r0 6 tok
 *       in its 2 blk. Preempted this iteration: no swap-in. r0 6/3 finished (free 4).
 *  it3: r1 swapped out -> no prefill round (r2 would fit otherwise); decode round is empty,
 *       nobody preempted -> swap in r1 (2 blk) and it decodes: r1 6/3. kv 2.
 *  it4: nothing swapped: r2 fits (1 + 1 seqs, 1 blk): prefill-only. r2 4/1 finished. kv 3.
 *  it5: decode r1 7/4 finished. kv 2. */
static void vllm_swap(void **st)
{
    (void)st;
    static const char *const expect[] = {"0p4 1p4", "0d 1d", "0d", "1d", "2p4", "1d"};
    static const int64_t kv[] = {2, 4, 2, 2, 3, 2};
    golden g = {"scheduler: vllm, max_num_seqs: 2, max_num_batched_tokens: 32, "
                "max_model_len: 32, block_size: 4, num_gpu_blocks: 4, watermark: 0, "
                "preemption_mode: swap, swap_space: 1GiB",
                REQ(4, 3) REQ(4, 4) REQ(4, 1),
                expect, N(expect), kv, 3, 1, 0};
    run_golden(&g);
}

/* vllm_watermark: watermark 0.25 of 8 blocks = 2 blocks kept free when admitting; the
 * same 2 blocks lower the per-request limit to 6 blocks, so r2 (28 tok = 7 blk) is rejected
 * for KV capacity (28 <= max_model_len 32).
 * r0 p12 o2 (3 blk to prefill), r1 p13 o2 (4 blk), r2 rejected.
 *  it0: r0: 8 - 3 = 5 >= 2 -> admit (free 5); r1: 5 - 4 = 1 < 2 -> stop. r0 12/1.
 *  it1: r1 still 1 < 2 -> decode r0 (13 tok -> 4 blk). r0 13/2 finished (free 8).
 *  it2: r1: 8 - 4 >= 2 -> prefill. r1 13/1.  it3: r1 decodes (14 tok, 4 blk), finished. */
static void vllm_watermark(void **st)
{
    (void)st;
    static const char *const expect[] = {"0p12", "0d", "1p13", "1d"};
    static const int64_t kv[] = {3, 4, 4, 4};
    golden g = {"scheduler: vllm, max_num_seqs: 4, max_num_batched_tokens: 32, "
                "max_model_len: 32, block_size: 4, num_gpu_blocks: 8, watermark: 0.25",
                REQ(12, 2) REQ(13, 2) REQ(20, 8),
                expect, N(expect), kv, 2, 0, 1};
    run_golden(&g);
}

/* vllm_self_preempt: the request that finds no free block is itself the newest running
 * one: it is preempted (recompute) and the round stops.
 * r0 p8 o3 (11 tok, 3 blk), r1 p4 o3 (7 tok, 2 blk); 4 blocks.
 *  it0: prefill r0 (2 blk), r1 (1 blk); free 1. r0 8/1, r1 4/1.
 *  it1: decode r0 (free 1 >= 1; 9 tok -> 3 blk, free 0); r1: free 0, newest running is r1
 *       itself -> preempt r1 (free 1), stop. kv 3. r0 9/2, r1 0/1.
 *  it2: r1 needs 2 blk for p + g = 5 > free 1: no prefill round; decode r0 (10 tok, 3 blk).
 *       r0 10/3 finished (free 4).
 *  it3: prefill-only r1, 5 tokens (2 blk). r1 5/2.  it4: decode r1 6/3 finished. */
static void vllm_self_preempt(void **st)
{
    (void)st;
    static const char *const expect[] = {"0p8 1p4", "0d", "0d", "1p5", "1d"};
    static const int64_t kv[] = {3, 3, 3, 2, 2};
    golden g = {"scheduler: vllm, max_num_seqs: 4, max_num_batched_tokens: 32, "
                "max_model_len: 32, block_size: 4, num_gpu_blocks: 4, watermark: 0",
                REQ(8, 3) REQ(4, 3),
                expect, N(expect), kv, 2, 1, 0};
    run_golden(&g);
}

/* vllm_swap_in_exact: swap-in needs the swapped request's blocks plus one free block for
 * its next slot, above the watermark (vLLM v0's can_swap_in: num_free_blocks -
 * num_required_blocks >= watermark, required = its blocks + one per sequence). With exactly
 * its 2 blocks free, r1 stays out one more iteration.
 * r0 p4 o4, r1 p4 o4 (2 blk each at most); 4 blocks; swap.
 *  it0: prefill both (1 blk each), free 2.  it1: decode both (2 blk each), free 0. 5/2 each.
 *  it2: r0: free 0 -> swap out newest r1 (free 2, r1 keeps c = 5); r0 6 tok in 2 blk.
 *       Preempted this iteration: no swap-in. r0 6/3. kv 2.
 *  it3: decode r0 (7 tok in 2 blk); nobody preempted, but swap-in wants 2 + 1 > 2 free: r1
 *       stays out. r0 7/4 finished (free 4). kv 2.
 *  it4: no prefill while r1 is swapped out; empty decode round; swap in r1 (4 - 2 - 1 >= 0),
 *       it decodes (6 tok in 2 blk). kv 2.  it5: decode r1 7/4 finished. kv 2. */
static void vllm_swap_in_exact(void **st)
{
    (void)st;
    static const char *const expect[] = {"0p4 1p4", "0d 1d", "0d", "0d", "1d", "1d"};
    static const int64_t kv[] = {2, 4, 2, 2, 2, 2};
    golden g = {"scheduler: vllm, max_num_seqs: 4, max_num_batched_tokens: 32, "
                "max_model_len: 32, block_size: 4, num_gpu_blocks: 4, watermark: 0, "
                "preemption_mode: swap, swap_space: 1GiB",
                REQ(4, 4) REQ(4, 4),
                expect, N(expect), kv, 2, 1, 0};
    run_golden(&g);
}

/* ================================================================== sarathi */

/* sarathi_chunks: chunk_size 8; a 20-token prompt takes three iterations; r1 joins with
 * what is left of the budget and finishes its prompt as a 1-token chunk next to r0's decode.
 * r0 p20 o3, r1 p5 o2; 20 blocks.
 *  it0: r0 joins with min(20, 8) = 8 (2 blk); budget 0. r0 8/0.
 *  it1: r0 partial: 8 -> 16 (4 blk). r0 16/0.
 *  it2: r0 partial: min(4, 8) = 4 -> 20 (5 blk), first token; budget 4: r1 joins with
 *       min(5, 4) = 4 (1 blk). kv 6. r0 20/1, r1 4/0.
 *  it3: decode r0 (21 tok, 6 blk), then partial r1 1 token (5 tok, 2 blk). kv 8.
 *       r0 21/2, r1 5/1.
 *  it4: decodes r0 22/3 finished, r1 6/2 finished. */
static void sarathi_chunks(void **st)
{
    (void)st;
    static const char *const expect[] = {"0p8", "0p8", "0p4 1p4", "0d 1p1", "0d 1d"};
    static const int64_t kv[] = {2, 4, 6, 8, 8};
    golden g = {"scheduler: sarathi, chunk_size: 8, max_num_seqs: 4, max_model_len: 64, "
                "block_size: 4, num_gpu_blocks: 20, watermark: 0",
                REQ(20, 3) REQ(5, 2),
                expect, N(expect), kv, 2, 0, 0};
    run_golden(&g);
}

/* sarathi_recompute: 4 blocks; vLLM-style preemption of the newest running request when no
 * block is free; the victim re-prefills p + g = 5 tokens once its blocks fit.
 * r0 p8 o4 (12 tok, 3 blk), r1 p4 o3 (7 tok, 2 blk); chunk 8.
 *  it0: r0 joins with 8 (2 blk, free 2); budget 0. r0 8/1.
 *  it1: decode r0 (9 tok -> 3 blk, free 1), budget 7; r1 joins with 4 (1 blk, free 0).
 *       r0 9/2, r1 4/1.
 *  it2: decode r0: free 0 -> preempt newest r1 (frees 1, free 1); r0 10 tok in its 3 blk.
 *       r1 waits: chunk min(5, 7) = 5 needs 2 blk > 1: no. r0 10/3. kv 3.
 *  it3: decode r0 (11 tok, 3 blk); r1 still 2 > 1. r0 11/4 finished (free 4).
 *  it4: r1 joins with min(5, 8) = 5 tokens (2 blk). r1 5/2.
 *  it5: decode r1 6/3 finished. */
static void sarathi_recompute(void **st)
{
    (void)st;
    static const char *const expect[] = {"0p8", "0d 1p4", "0d", "0d", "1p5", "1d"};
    static const int64_t kv[] = {2, 4, 3, 3, 2, 2};
    golden g = {"scheduler: sarathi, chunk_size: 8, max_num_seqs: 4, max_model_len: 16, "
                "block_size: 4, num_gpu_blocks: 4, watermark: 0",
                REQ(8, 4) REQ(4, 3),
                expect, N(expect), kv, 2, 1, 0};
    run_golden(&g);
}

/* sarathi_spf_seqs: shortest_prompt_first; max_num_seqs 2 keeps r0 out while two run.
 * r0 p10 o2, r1 p3 o2, r2 p6 o1; chunk 8; 20 blocks. Order: r1(3) r2(6) r0(10).
 *  it0: r1 joins with 3 (1 blk), budget 5; r2 joins with min(6, 5) = 5 (2 blk), budget 0.
 *       r1 3/1, r2 5/0.
 *  it1: decode r1 (4 tok, 1 blk); partial r2 1 token (6 tok, 2 blk); r0: 2 running, not < 2.
 *       r1 4/2 finished, r2 6/1 finished.
 *  it2: r0 joins with 8 (2 blk).  it3: r0 partial 2 (10 tok, 3 blk), first token.
 *  it4: r0 decodes (11 tok), finished. */
static void sarathi_spf_seqs(void **st)
{
    (void)st;
    static const char *const expect[] = {"1p3 2p5", "1d 2p1", "0p8", "0p2", "0d"};
    static const int64_t kv[] = {3, 3, 2, 3, 3};
    golden g = {"scheduler: sarathi, priority: shortest_prompt_first, chunk_size: 8, "
                "max_num_seqs: 2, max_model_len: 64, block_size: 4, num_gpu_blocks: 20, "
                "watermark: 0",
                REQ(10, 2) REQ(3, 2) REQ(6, 1),
                expect, N(expect), kv, 3, 0, 0};
    run_golden(&g);
}

/* sarathi_rejoin: the specification lets waiting requests join after the decodes whatever
 * happened before, so a request preempted in this iteration (now at the waiting front) may
 * re-join in the same iteration when its chunk's blocks fit. This is also what
 * Sarathi-Serve's SarathiScheduler._schedule does (_preempt inserts at waiting[0]; phase 2
 * then admits from waiting with no preemption guard).
 * r0 p4 o4, r1 p4 o4 (2 blk each at most); 4 blocks; chunk 8.
 *  it0: r0 joins with 4 (1 blk), r1 with 4 (1 blk); free 2. 4/1 each.
 *  it1: decodes r0, r1 (5 tok -> 2 blk each, free 0). 5/2 each.
 *  it2: r0: free 0 -> preempt newest r1 (free 2); r0 6 tok in 2 blk; budget 7: r1 joins with
 *       min(p + g = 6, 7) = 6 (2 blk, free 0). kv 4. r0 6/3, r1 6/3.
 *  it3: same again: r1 preempted, re-joins with min(7, 7) = 7 (2 blk). r0 7/4, r1 7/4:
 *       both finished. 2 preemptions. */
static void sarathi_rejoin(void **st)
{
    (void)st;
    static const char *const expect[] = {"0p4 1p4", "0d 1d", "0d 1p6", "0d 1p7"};
    static const int64_t kv[] = {2, 4, 4, 4};
    golden g = {"scheduler: sarathi, chunk_size: 8, max_num_seqs: 4, max_model_len: 16, "
                "block_size: 4, num_gpu_blocks: 4, watermark: 0",
                REQ(4, 4) REQ(4, 4),
                expect, N(expect), kv, 2, 2, 0};
    run_golden(&g);
}

/* ================================================================== vllm_v1 */

/* vllm_v1_chunks: max_num_batched_tokens 8 is the per-step budget; a 20-token prompt is
 * chunked 8 + 8 + 4 and r1 takes the rest of the budget. r0 p20 o2, r1 p5 o3; 20 blocks.
 *  it0: r0 joins with 8 (2 blk). it1: r0 running: 8 more (16 tok, 4 blk).
 *  it2: r0 4 (20 tok, 5 blk), first token; budget 4: r1 joins with 4 (1 blk). kv 6.
 *  it3: r0 decode (21 tok, 6 blk): 21/2 finished; r1 1 token (5 tok, 2 blk): 5/1. kv 8.
 *  it4: r1 6/2.  it5: r1 7/3 finished. */
static void vllm_v1_chunks(void **st)
{
    (void)st;
    static const char *const expect[] = {"0p8", "0p8", "0p4 1p4", "0d 1p1", "1d", "1d"};
    static const int64_t kv[] = {2, 4, 6, 8, 2, 2};
    golden g = {"scheduler: vllm_v1, max_num_seqs: 4, max_num_batched_tokens: 8, "
                "max_model_len: 32, block_size: 4, num_gpu_blocks: 20",
                REQ(20, 2) REQ(5, 3),
                expect, N(expect), kv, 2, 0, 0};
    run_golden(&g);
}

/* vllm_v1_preempt: 4 blocks, no "one free block" rule: a request is preempted only when a
 * block it needs cannot be allocated. The victim (last running) goes to the waiting FRONT;
 * no waiting request joins in an iteration with a preemption; long_prefill_token_threshold 4
 * chunks the recompute; max_num_seqs 2 keeps r2 waiting.
 * r0 p4 o6, r1 p4 o6 (9 tok used at most, 3 blk), r2 p4 o1; budget 16.
 *  it0: r0 joins with 4 (1 blk), r1 with 4 (1 blk); r2: 2 running. free 2. r0 4/1, r1 4/1.
 *  it1: r0, r1 decode (5 tok -> 2 blk each, free 0). 5/2 each.
 *  it2..it4: decodes fit in 2 blk (6, 7, 8 tok). after it4: 8/5 each.
 *  it5: r0 needs 9 tok -> 3rd block, none free -> preempt last running r1 (frees 2,
 *       c = 0, waiting = [r1, r2]); r0 allocates (free 1). Preempted -> no joins (r1 would
 *       otherwise fit a 4-token chunk in 1 blk). r0 9/6 finished (free 4). kv 3.
 *  it6: r1 joins with min(9, 16, 4) = 4 (1 blk), r2 with 4 (1 blk). r1 4/5, r2 4/1 fin.
 *  it7: r1 running: 4 more (8 tok, 2 blk). r1 8/5.
 *  it8: r1 1 token (9 tok, 3 blk): formatted as a decode (c + 1 == p + g). r1 9/6 finished. */
static void vllm_v1_preempt(void **st)
{
    (void)st;
    static const char *const expect[] = {"0p4 1p4", "0d 1d", "0d 1d", "0d 1d", "0d 1d",
                                         "0d", "1p4 2p4", "1p4", "1d"};
    static const int64_t kv[] = {2, 4, 4, 4, 4, 3, 2, 2, 3};
    golden g = {"scheduler: vllm_v1, max_num_seqs: 2, max_num_batched_tokens: 16, "
                "max_model_len: 16, block_size: 4, num_gpu_blocks: 4, "
                "long_prefill_token_threshold: 4",
                REQ(4, 6) REQ(4, 6) REQ(4, 1),
                expect, N(expect), kv, 3, 1, 0};
    run_golden(&g);
}

/* vllm_v1_priority_chunks: priority order; long_prefill_token_threshold 4 caps each
 * request's tokens per step; max_num_seqs 2.
 * r0 p6 o2 prio 1, r1 p10 o2 prio 0, r2 p3 o1 prio 2; budget 16. Order: r1 r0 r2.
 *  it0: r1 joins with 4, r0 with 4; r2: 2 running. r1 4/0, r0 4/0.
 *  it1: r1 4 more (8), r0 min(2, 4) = 2 (6, first token). r1 8/0, r0 6/1.
 *  it2: r1 2 (10, first token), r0 decodes 7/2 finished.
 *  it3: r1 decodes 11/2 finished; r2 joins with 3: 3/1 finished. */
static void vllm_v1_priority_chunks(void **st)
{
    (void)st;
    static const char *const expect[] = {"1p4 0p4", "1p4 0p2", "1p2 0d", "1d 2p3"};
    static const int64_t kv[] = {2, 4, 5, 4};
    golden g = {"scheduler: vllm_v1, priority: priority, max_num_seqs: 2, "
                "max_num_batched_tokens: 16, max_model_len: 16, block_size: 4, "
                "num_gpu_blocks: 20, long_prefill_token_threshold: 4",
                REQP(6, 2, 1) REQP(10, 2, 0) REQP(3, 1, 2),
                expect, N(expect), kv, 3, 0, 0};
    run_golden(&g);
}

/* vllm_v1_priority_victim: under `priority` the victim is the last running request in
 * priority order (r0, which arrived first), not the newest arrival.
 * r0 p4 o6 prio 1, r1 p4 o6 prio 0; 4 blocks; budget 16. Order: r1 r0.
 *  it0: r1 4 (1 blk), r0 4 (1 blk).  it1: decodes, 2 blk each (free 0).
 *  it2..it4: decodes within 2 blk; after it4: 8/5 each.
 *  it5: r1 needs a 3rd block -> preempt r0 (frees 2), r1 allocates: 9/6 finished. kv 3.
 *  it6: r0 re-prefills p + g = 9 tokens (3 blk): 9/6 finished. */
static void vllm_v1_priority_victim(void **st)
{
    (void)st;
    static const char *const expect[] = {"1p4 0p4", "1d 0d", "1d 0d", "1d 0d", "1d 0d",
                                         "1d", "0p9"};
    static const int64_t kv[] = {2, 4, 4, 4, 4, 3, 3};
    golden g = {"scheduler: vllm_v1, priority: priority, max_num_seqs: 4, "
                "max_num_batched_tokens: 16, max_model_len: 16, block_size: 4, "
                "num_gpu_blocks: 4",
                REQP(4, 6, 1) REQP(4, 6, 0),
                expect, N(expect), kv, 2, 1, 0};
    run_golden(&g);
}

/* vllm_v1_self_preempt: the request whose block cannot be allocated is itself the last
 * running one: it is preempted and the step stops (and, preempted, nobody joins).
 * r0 p8 o3 (3 blk at most), r1 p4 o4 (2 blk at most); 4 blocks; budget 16.
 *  it0: r0 joins with 8 (2 blk), r1 with 4 (1 blk); free 1. r0 8/1, r1 4/1.
 *  it1: r0 9 tok -> 3rd blk (free 0); r1 5 tok needs a 2nd blk, none free, last running is
 *       r1 itself -> preempt it (free 1), stop. kv 3. r0 9/2, r1 0/1.
 *  it2: r0 10 tok in its 3 blk; nobody preempted: r1 would join with min(5, 15) = 5 tokens
 *       = 2 blk > 1 free: stop. r0 10/3 finished (free 4).
 *  it3: r1 joins with 5 (2 blk): 5/2.  it4: 6/3.  it5: 7/4 finished. */
static void vllm_v1_self_preempt(void **st)
{
    (void)st;
    static const char *const expect[] = {"0p8 1p4", "0d", "0d", "1p5", "1d", "1d"};
    static const int64_t kv[] = {3, 3, 3, 2, 2, 2};
    golden g = {"scheduler: vllm_v1, max_num_seqs: 4, max_num_batched_tokens: 16, "
                "max_model_len: 16, block_size: 4, num_gpu_blocks: 4",
                REQ(8, 3) REQ(4, 4),
                expect, N(expect), kv, 2, 1, 0};
    run_golden(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(static_no_join),
        cmocka_unit_test(static_spf_kv),
        cmocka_unit_test(static_token_budget),
        cmocka_unit_test(orca_join),
        cmocka_unit_test(orca_priority_budget),
        cmocka_unit_test(vllm_prefill_first),
        cmocka_unit_test(vllm_recompute),
        cmocka_unit_test(vllm_swap),
        cmocka_unit_test(vllm_watermark),
        cmocka_unit_test(vllm_self_preempt),
        cmocka_unit_test(vllm_swap_in_exact),
        cmocka_unit_test(sarathi_chunks),
        cmocka_unit_test(sarathi_recompute),
        cmocka_unit_test(sarathi_spf_seqs),
        cmocka_unit_test(sarathi_rejoin),
        cmocka_unit_test(vllm_v1_chunks),
        cmocka_unit_test(vllm_v1_preempt),
        cmocka_unit_test(vllm_v1_priority_chunks),
        cmocka_unit_test(vllm_v1_priority_victim),
        cmocka_unit_test(vllm_v1_self_preempt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
