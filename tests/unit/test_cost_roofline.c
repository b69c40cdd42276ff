/* Unit tests of the roofline cost model (hwprofiles/cost_roofline.c).
 *
 * The tests are metamorphic (SQLite's fuzzinvariants.c, STYLE.md rule 19d): they change one
 * input of the model (peak FLOP/s, bandwidth, context, TP degree, tokens) and check the
 * direction or the exact factor by which the answer must move, so they hold for any model
 * shape the models/ module produces and fail on a wrong formula. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hwprofiles/cost.h"
#include "hwprofiles/hw.h"
#include "tests/unit/hw_testutil.h"

/* ================================================================== roofline cost model */

/* Shapes of Llama-3.1-8B and -70B (config.json of meta-llama/Llama-3.1-8B/-70B), built here
 * so the tests do not depend on the zoo's file names. */
static ss_model llama(int layers, int hidden, int heads, int inter)
{
    ss_model m;
    memset(&m, 0, sizeof m);
    snprintf(m.name, sizeof m.name, "test-llama-%d", layers);
    snprintf(m.display_name, sizeof m.display_name, "test llama");
    m.num_layers = layers;
    m.hidden_size = hidden;
    m.num_heads = heads;
    m.num_kv_heads = 8;
    m.head_dim = 128;
    m.intermediate_size = inter;
    m.vocab_size = 128256;
    m.max_position = 131072;
    m.mlp = SS_MLP_GATED_SILU;
    m.dtype = SS_DTYPE_BF16;
    m.moe_intermediate_size = inter;
    m.num_groups = 1;
    m.groups[0] = (ss_layer_group){.count = layers, .attn = SS_ATTN_FULL, .ffn = SS_FFN_DENSE};
    return m;
}

typedef struct cost_inst {
    const ss_cost_ops *ops;
    void *st;
    ss_cost_setup setup;
    ss_model model;
    ss_hw hw;
} cost_inst;

/* Heap-allocated so the setup's pointers stay valid for the life of the state. */
static cost_inst *cost_new(const ss_model *m, const ss_hw *hw, int tp, ss_dtype wt)
{
    cost_inst *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->model = *m;
    c->hw = *hw;
    c->ops = ss_cost_find("roofline");
    assert_non_null(c->ops);
    c->setup = (ss_cost_setup){.model = &c->model, .hw = &c->hw,
                               .par = {.tp = tp, .pp = 1, .ep = 1, .dp = 1},
                               .weight_dtype = wt, .act_dtype = SS_DTYPE_BF16,
                               .kv_dtype = SS_DTYPE_BF16};
    ss_diag d;
    ss_diag_clear(&d);
    if (c->ops->create(&c->setup, &c->st, &d) != SS_OK) fail_msg("create: %s", d.msg);
    return c;
}

static void cost_free(cost_inst *c)
{
    c->ops->destroy(c->st);
    free(c);
}

static ss_batch_shape prefill(int64_t q, int64_t ctx)
{
    return (ss_batch_shape){.num_seqs = 1, .num_prefill_seqs = 1, .prefill_tokens = q,
                            .prefill_attn_pairs = (double)q * (double)ctx +
                                                  (double)q * (double)(q + 1) / 2.0,
                            .prefill_ctx_tokens = ctx, .num_sampled = 1};
}

static ss_batch_shape decode(int32_t batch, int64_t ctx)
{
    return (ss_batch_shape){.num_seqs = batch, .num_decode_seqs = batch,
                            .decode_ctx_tokens = (int64_t)batch * ctx, .num_sampled = batch};
}

static double iter_s(cost_inst *c, const ss_batch_shape *b)
{
    return ss_time_to_s(c->ops->iteration(c->st, b));
}

static void breakdown(cost_inst *c, const ss_batch_shape *b, double out[SS_OP_COUNT + 1])
{
    c->ops->breakdown(c->st, b, out);
}

static ss_hw no_overheads(ss_hw hw)
{
    hw.kernel_launch_s = 0;
    hw.iteration_overhead_s = 0;
    return hw;
}

static void test_cost_registry(void **state)
{
    (void)state;
    const ss_cost_ops *r = ss_cost_find("roofline");
    assert_non_null(r);
    assert_ptr_equal(r, ss_cost_builtin[0]);
    assert_int_equal(r->info.abi_version, SS_COST_ABI);
    assert_non_null(r->create);
    assert_non_null(r->iteration);
    assert_non_null(r->breakdown);
    assert_null(ss_cost_find("no-such-model"));
    int n = 0;
    while (ss_cost_builtin[n]) n++;
    assert_true(n >= 1);
}

/* Doubling every peak FLOP/s halves an iteration whose operators are all compute-bound. A
 * 8192-token prefill is compute-bound in its GEMMs and attention, but element-wise operators
 * never are, so memory is made 1000x faster here to take them out of the comparison (what
 * is left of them is below 1e-8 of the total). */
static void test_double_flops_halves_compute_bound_prefill(void **state)
{
    (void)state;
    ss_model m = llama(32, 4096, 32, 14336);
    ss_hw hw = no_overheads(load_ok("h100-sxm"));
    hw.hbm_bandwidth *= 1000;
    ss_hw fast = hw;
    fast.peak_flops_bf16 *= 2;
    fast.peak_flops_fp8 *= 2;
    fast.peak_flops_fp32 *= 2;
    cost_inst *a = cost_new(&m, &hw, 1, SS_DTYPE_BF16);
    cost_inst *b = cost_new(&m, &fast, 1, SS_DTYPE_BF16);
    ss_batch_shape s = prefill(8192, 0);
    double ta = iter_s(a, &s), tb = iter_s(b, &s);
    assert_true(ta > 0.01); /* ~0.2 s: far above the 1 ns resolution */
    if (!rel_close(tb, ta / 2, 1e-6)) fail_msg("2x FLOP/s: %.9g s -> %.9g s", ta, tb);

    /* With the real bandwidth, the GEMMs of the same prefill still halve exactly (they are
     * compute-bound) while the iteration as a whole speeds up by less than 2x. */
    ss_hw real = no_overheads(load_ok("h100-sxm"));
    ss_hw real_fast = real;
    real_fast.peak_flops_bf16 *= 2;
    real_fast.peak_flops_fp32 *= 2;
    cost_inst *c = cost_new(&m, &real, 1, SS_DTYPE_BF16);
    cost_inst *e = cost_new(&m, &real_fast, 1, SS_DTYPE_BF16);
    double bc[SS_OP_COUNT + 1], be[SS_OP_COUNT + 1];
    breakdown(c, &s, bc);
    breakdown(e, &s, be);
    static const ss_op gemms[] = {SS_OP_QKV_PROJ, SS_OP_O_PROJ, SS_OP_MLP_UP, SS_OP_MLP_DOWN};
    for (size_t i = 0; i < 4; i++) {
        assert_true(bc[gemms[i]] > 0);
        assert_true(rel_close(be[gemms[i]], bc[gemms[i]] / 2, 1e-9));
    }
    double tc = iter_s(c, &s), te = iter_s(e, &s);
    assert_true(te < tc && te > tc / 2);
    cost_free(a);
    cost_free(b);
    cost_free(c);
    cost_free(e);
}

/* Doubling HBM bandwidth halves batch-1 decode, where every operator is memory-bound. */
static void test_double_bandwidth_halves_memory_bound_decode(void **state)
{
    (void)state;
    ss_model m = llama(32, 4096, 32, 14336);
    ss_hw hw = no_overheads(load_ok("h100-sxm"));
    ss_hw fast = hw;
    fast.hbm_bandwidth *= 2;
    cost_inst *a = cost_new(&m, &hw, 1, SS_DTYPE_BF16);
    cost_inst *b = cost_new(&m, &fast, 1, SS_DTYPE_BF16);
    ss_batch_shape s = decode(1, 1024);
    double ta = iter_s(a, &s), tb = iter_s(b, &s);
    /* 16 GB of weights at ~3 TB/s: a few ms, as measured for Llama-3.1-8B on an H100. */
    assert_true(ta > 2e-3 && ta < 20e-3);
    if (!rel_close(tb, ta / 2, 1e-6)) fail_msg("2x bandwidth: %.9g s -> %.9g s", ta, tb);
    /* And doubling FLOP/s does nothing to it. */
    ss_hw flops = hw;
    flops.peak_flops_bf16 *= 2;
    flops.peak_flops_fp32 *= 2;
    cost_inst *c = cost_new(&m, &flops, 1, SS_DTYPE_BF16);
    assert_true(rel_close(iter_s(c, &s), ta, 1e-9));
    cost_free(a);
    cost_free(b);
    cost_free(c);
}

static void test_decode_grows_with_context(void **state)
{
    (void)state;
    ss_model m = llama(32, 4096, 32, 14336);
    ss_hw hw = load_ok("h100-sxm");
    cost_inst *c = cost_new(&m, &hw, 1, SS_DTYPE_BF16);
    double prev = 0;
    static const int64_t ctx[] = {16, 256, 1024, 4096, 16384, 65536};
    for (size_t i = 0; i < sizeof ctx / sizeof ctx[0]; i++) {
        ss_batch_shape s = decode(32, ctx[i]);
        double t = iter_s(c, &s);
        if (!(t > prev)) fail_msg("decode ctx %lld: %.9g s, not above %.9g s", (long long)ctx[i],
                                  t, prev);
        double bd[SS_OP_COUNT + 1];
        breakdown(c, &s, bd);
        assert_true(bd[SS_OP_ATTN_DECODE] > 0);
        prev = t;
    }
    cost_free(c);
}

static void test_monotonic_in_tokens(void **state)
{
    (void)state;
    ss_model m = llama(32, 4096, 32, 14336);
    ss_hw hw = load_ok("h100-sxm");
    cost_inst *c = cost_new(&m, &hw, 1, SS_DTYPE_BF16);
    double prev = 0;
    for (int64_t q = 2; q <= 16384; q *= 2) {
        ss_batch_shape s = prefill(q, 0);
        double t = iter_s(c, &s);
        if (!(t > prev)) fail_msg("prefill %lld tokens: %.9g s, not above %.9g", (long long)q,
                                  t, prev);
        prev = t;
    }
    /* A longer cached prefix makes the same chunk slower. */
    ss_batch_shape s0 = prefill(512, 0), s1 = prefill(512, 8192);
    assert_true(iter_s(c, &s1) > iter_s(c, &s0));
    /* More decode sequences never make an iteration faster. */
    prev = 0;
    for (int32_t bsz = 1; bsz <= 1024; bsz *= 2) {
        ss_batch_shape s = decode(bsz, 1000);
        double t = iter_s(c, &s);
        assert_true(t >= prev);
        prev = t;
    }
    cost_free(c);
}

/* tp=2: each GPU does half the GEMM work and pays for the all-reduce. */
static void test_tensor_parallel(void **state)
{
    (void)state;
    ss_model m = llama(80, 8192, 64, 28672);
    ss_hw hw = load_ok("h100-sxm");
    cost_inst *t1 = cost_new(&m, &hw, 1, SS_DTYPE_BF16);
    cost_inst *t2 = cost_new(&m, &hw, 2, SS_DTYPE_BF16);
    static const ss_op gemms[] = {SS_OP_QKV_PROJ, SS_OP_O_PROJ, SS_OP_MLP_UP, SS_OP_MLP_DOWN};
    ss_batch_shape shapes[] = {decode(1, 1024), decode(64, 2048), prefill(4096, 0)};
    for (size_t k = 0; k < 3; k++) {
        double b1[SS_OP_COUNT + 1], b2[SS_OP_COUNT + 1];
        breakdown(t1, &shapes[k], b1);
        breakdown(t2, &shapes[k], b2);
        assert_true(b1[SS_OP_TP_ALLREDUCE] == 0);
        assert_true(b2[SS_OP_TP_ALLREDUCE] > 0);
        double g1 = 0, g2 = 0;
        for (size_t i = 0; i < 4; i++) {
            g1 += b1[gemms[i]];
            g2 += b2[gemms[i]];
        }
        if (!(g2 < g1 && g2 > 0.4 * g1))
            fail_msg("shape %zu: GEMM time %.9g s at tp=1, %.9g s at tp=2", k, g1, g2);
    }
    /* The all-reduce follows the ring formula: at decode batch 1 it is latency-bound. */
    ss_hw slow_link = hw;
    slow_link.link_latency_s *= 10;
    cost_inst *t2s = cost_new(&m, &slow_link, 2, SS_DTYPE_BF16);
    ss_batch_shape s = decode(1, 1024);
    double ba[SS_OP_COUNT + 1], bb[SS_OP_COUNT + 1];
    breakdown(t2, &s, ba);
    breakdown(t2s, &s, bb);
    assert_true(bb[SS_OP_TP_ALLREDUCE] > 5 * ba[SS_OP_TP_ALLREDUCE]);
    /* tp=4 pays more link latency than tp=2 for the same message. */
    cost_inst *t4 = cost_new(&m, &hw, 4, SS_DTYPE_BF16);
    double b4[SS_OP_COUNT + 1];
    breakdown(t4, &s, b4);
    assert_true(b4[SS_OP_TP_ALLREDUCE] > ba[SS_OP_TP_ALLREDUCE]);
    cost_free(t1);
    cost_free(t2);
    cost_free(t2s);
    cost_free(t4);
}

/* The ring all-reduce formula, term by term. Each GPU's message (tokens x hidden) does not
 * depend on tp, so with zero link latency the time scales as 2(tp-1)/tp: x1.5 from tp=2 to
 * tp=4, and halves with twice the link bandwidth. The latency term alone scales as tp-1:
 * x3 from tp=2 to tp=4. */
static void test_allreduce_ring_formula(void **state)
{
    (void)state;
    ss_model m = llama(80, 8192, 64, 28672);
    ss_hw hw = load_ok("h100-sxm");
    ss_hw zero_lat = hw;
    zero_lat.link_latency_s = 0;
    ss_hw fast_link = zero_lat;
    fast_link.link_bandwidth *= 2;
    ss_batch_shape s = decode(64, 2048);
    double ar[2][2]; /* [tp=2, tp=4][latency as given, zero latency] */
    for (int i = 0; i < 2; i++) {
        int tp = i ? 4 : 2;
        cost_inst *a = cost_new(&m, &hw, tp, SS_DTYPE_BF16);
        cost_inst *b = cost_new(&m, &zero_lat, tp, SS_DTYPE_BF16);
        cost_inst *c = cost_new(&m, &fast_link, tp, SS_DTYPE_BF16);
        double ba[SS_OP_COUNT + 1], bb[SS_OP_COUNT + 1], bc[SS_OP_COUNT + 1];
        breakdown(a, &s, ba);
        breakdown(b, &s, bb);
        breakdown(c, &s, bc);
        ar[i][0] = ba[SS_OP_TP_ALLREDUCE];
        ar[i][1] = bb[SS_OP_TP_ALLREDUCE];
        assert_true(ar[i][1] > 0 && ar[i][0] > ar[i][1]);
        assert_true(rel_close(bc[SS_OP_TP_ALLREDUCE], ar[i][1] / 2, 1e-9));
        cost_free(a);
        cost_free(b);
        cost_free(c);
    }
    assert_true(rel_close(ar[1][1] / ar[0][1], 1.5, 1e-9));
    double lat2 = ar[0][0] - ar[0][1], lat4 = ar[1][0] - ar[1][1];
    if (!rel_close(lat4 / lat2, 3.0, 1e-6)) fail_msg("latency term tp=4/tp=2: %.9g", lat4 / lat2);
    /* One latency term per collective call: `kernels` of the TP_ALLREDUCE work counts the
     * calls (at least one when there is anything to reduce). */
    ss_op_work w[SS_OP_COUNT];
    ss_model_layer_work(&m, 0, 2, SS_DTYPE_BF16, SS_DTYPE_BF16, SS_DTYPE_BF16, &s, w);
    double calls = w[SS_OP_TP_ALLREDUCE].comm_bytes > 0
                       ? fmax(1.0, w[SS_OP_TP_ALLREDUCE].kernels) * m.num_layers
                       : 0;
    ss_model_head_work(&m, 2, SS_DTYPE_BF16, SS_DTYPE_BF16, &s, w);
    if (w[SS_OP_TP_ALLREDUCE].comm_bytes > 0) calls += fmax(1.0, w[SS_OP_TP_ALLREDUCE].kernels);
    assert_true(calls >= m.num_layers);

    /* Collective bytes elsewhere (the LM head's logits gather) cost a ring gather:
     * (tp-1) link latencies + (tp-1) x bytes / (link bandwidth x efficiency). */
    double gather = w[SS_OP_LOGITS].comm_bytes;
    if (gather > 0) {
        cost_inst *a = cost_new(&m, &hw, 2, SS_DTYPE_BF16);
        cost_inst *b = cost_new(&m, &zero_lat, 2, SS_DTYPE_BF16);
        cost_inst *c = cost_new(&m, &fast_link, 2, SS_DTYPE_BF16);
        double ba[SS_OP_COUNT + 1], bb[SS_OP_COUNT + 1], bc[SS_OP_COUNT + 1];
        breakdown(a, &s, ba);
        breakdown(b, &s, bb);
        breakdown(c, &s, bc);
        assert_true(rel_close(ba[SS_OP_LOGITS] - bb[SS_OP_LOGITS], hw.link_latency_s, 1e-6));
        double beta = gather / (hw.link_bandwidth * hw.link_efficiency);
        assert_true(rel_close(bb[SS_OP_LOGITS] - bc[SS_OP_LOGITS], beta / 2, 1e-6));
        cost_free(a);
        cost_free(b);
        cost_free(c);
    }
    if (!rel_close(lat2, calls * 2.0 * hw.link_latency_s, 1e-6))
        fail_msg("latency term %.9g s, expected %g calls x 2 x %g s", lat2, calls,
                 hw.link_latency_s);
}

/* The work outside the layers (embedding, final norm, LM head) is part of every iteration. */
static void test_head_is_counted(void **state)
{
    (void)state;
    ss_model m = llama(32, 4096, 32, 14336);
    ss_model big_vocab = m;
    big_vocab.vocab_size *= 2;
    ss_hw hw = load_ok("h100-sxm");
    cost_inst *a = cost_new(&m, &hw, 1, SS_DTYPE_BF16);
    cost_inst *b = cost_new(&big_vocab, &hw, 1, SS_DTYPE_BF16);
    ss_batch_shape s = decode(8, 1000);
    double bd[SS_OP_COUNT + 1];
    breakdown(a, &s, bd);
    assert_true(bd[SS_OP_LOGITS] > 0);
    assert_true(iter_s(b, &s) > iter_s(a, &s));
    cost_free(a);
    cost_free(b);
}

/* The breakdown adds up to the iteration, and its last slot is the fixed overhead. */
static void test_breakdown_sums_to_iteration(void **state)
{
    (void)state;
    ss_model m = llama(32, 4096, 32, 14336);
    ss_hw hw = load_ok("h100-sxm");
    cost_inst *c = cost_new(&m, &hw, 2, SS_DTYPE_BF16);
    ss_batch_shape mixed = prefill(1024, 2048);
    mixed.num_seqs += 40;
    mixed.num_decode_seqs = 40;
    mixed.decode_ctx_tokens = 40 * 3000;
    mixed.num_sampled += 40;
    ss_batch_shape shapes[] = {decode(1, 100), prefill(2048, 0), mixed};
    for (size_t k = 0; k < 3; k++) {
        double bd[SS_OP_COUNT + 1], sum = 0;
        breakdown(c, &shapes[k], bd);
        for (int i = 0; i <= SS_OP_COUNT; i++) {
            assert_true(bd[i] >= 0);
            sum += bd[i];
        }
        assert_true(bd[SS_OP_COUNT] == hw.iteration_overhead_s);
        ss_time_ns t = c->ops->iteration(c->st, &shapes[k]);
        assert_true(llabs(t - ss_time_from_s(sum)) <= 1);
    }
    /* Launch overhead: every kernel adds exactly kernel_launch. */
    ss_hw no = no_overheads(hw);
    cost_inst *z = cost_new(&m, &no, 2, SS_DTYPE_BF16);
    double bz[SS_OP_COUNT + 1], bc[SS_OP_COUNT + 1];
    breakdown(z, &shapes[0], bz);
    breakdown(c, &shapes[0], bc);
    assert_true(bz[SS_OP_COUNT] == 0);
    double kernels = 0;
    ss_op_work w[SS_OP_COUNT];
    ss_model_layer_work(&m, 0, 2, SS_DTYPE_BF16, SS_DTYPE_BF16, SS_DTYPE_BF16, &shapes[0], w);
    for (int i = 0; i < SS_OP_COUNT; i++)
        if (i != SS_OP_TP_ALLREDUCE) kernels += w[i].kernels * m.num_layers;
    ss_model_head_work(&m, 2, SS_DTYPE_BF16, SS_DTYPE_BF16, &shapes[0], w);
    for (int i = 0; i < SS_OP_COUNT; i++)
        if (i != SS_OP_TP_ALLREDUCE) kernels += w[i].kernels;
    double launch = 0;
    for (int i = 0; i < SS_OP_COUNT; i++) launch += bc[i] - bz[i];
    assert_true(kernels > m.num_layers);
    if (!rel_close(launch, kernels * hw.kernel_launch_s, 1e-6))
        fail_msg("launch time %.9g s for %g kernels of %g s", launch, kernels, hw.kernel_launch_s);
    cost_free(c);
    cost_free(z);
}

/* FP8 weights: faster GEMMs where the GPU has FP8 units (H100), the BF16 rate where it does
 * not (A100, W8A16), and half the weight bytes on both. */
static void test_fp8_weights(void **state)
{
    (void)state;
    ss_model m = llama(32, 4096, 32, 14336);
    ss_batch_shape big = prefill(8192, 0), small = decode(1, 512);
    static const char *const gpus[] = {"h100-sxm", "a100-80gb-sxm"};
    for (int g = 0; g < 2; g++) {
        ss_hw hw = no_overheads(load_ok(gpus[g]));
        cost_inst *bf = cost_new(&m, &hw, 1, SS_DTYPE_BF16);
        cost_inst *f8 = cost_new(&m, &hw, 1, SS_DTYPE_FP8);
        double a[SS_OP_COUNT + 1], b[SS_OP_COUNT + 1];
        breakdown(bf, &big, a);
        breakdown(f8, &big, b);
        if (g == 0) assert_true(rel_close(b[SS_OP_MLP_UP], a[SS_OP_MLP_UP] / 2, 1e-9));
        else assert_true(rel_close(b[SS_OP_MLP_UP], a[SS_OP_MLP_UP], 1e-9));
        /* Memory-bound decode reads half the weight bytes either way. */
        breakdown(bf, &small, a);
        breakdown(f8, &small, b);
        assert_true(rel_close(b[SS_OP_MLP_UP], a[SS_OP_MLP_UP] / 2, 0.05));
        cost_free(bf);
        cost_free(f8);
    }
}

static void test_create_rejects_bad_setup(void **state)
{
    (void)state;
    ss_model m = llama(32, 4096, 32, 14336);
    ss_hw hw = load_ok("h100-sxm");
    const ss_cost_ops *ops = ss_cost_find("roofline");
    ss_cost_setup s = {.model = &m, .hw = &hw, .par = {.tp = 3, .pp = 1, .ep = 1, .dp = 1},
                       .weight_dtype = SS_DTYPE_BF16, .act_dtype = SS_DTYPE_BF16,
                       .kv_dtype = SS_DTYPE_BF16};
    void *st = (void *)&s;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ops->create(&s, &st, &d), SS_ERR_INVALID); /* 32 heads / 3 */
    assert_null(st);
    assert_non_null(strstr(d.msg, "tp=3"));
    s.par.tp = 0;
    ss_diag_clear(&d);
    assert_int_equal(ops->create(&s, &st, &d), SS_ERR_INVALID);
    s.par.tp = 1;
    hw.hbm_bandwidth = 0;
    ss_diag_clear(&d);
    assert_int_equal(ops->create(&s, &st, &d), SS_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cost_registry),
        cmocka_unit_test(test_double_flops_halves_compute_bound_prefill),
        cmocka_unit_test(test_double_bandwidth_halves_memory_bound_decode),
        cmocka_unit_test(test_decode_grows_with_context),
        cmocka_unit_test(test_monotonic_in_tokens),
        cmocka_unit_test(test_tensor_parallel),
        cmocka_unit_test(test_allreduce_ring_formula),
        cmocka_unit_test(test_head_is_counted),
        cmocka_unit_test(test_breakdown_sums_to_iteration),
        cmocka_unit_test(test_fp8_weights),
        cmocka_unit_test(test_create_rejects_bad_setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
