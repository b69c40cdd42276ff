/* Per-iteration work of every operator: FLOPs, HBM bytes, kernel launches and collective
 * bytes, on ONE GPU of a tp-way (Megatron-style) instance.
 *
 * The operator list follows vLLM's Llama/Mixtral/Qwen forward pass: per layer RMSNorm ->
 * fused QKV GEMM -> RoPE -> paged attention -> O GEMM -> all-reduce -> RMSNorm -> gate/up
 * GEMM -> SiLU-and-mul -> down GEMM -> all-reduce; per iteration an embedding lookup, a final
 * norm and the LM head on the sampled rows only. Column-parallel GEMMs (QKV, gate/up) split
 * their output columns over tp, row-parallel ones (O, down) their input rows, so each GPU
 * holds 1/tp of every matrix and the partial sums meet in two all-reduces per layer.
 *
 * Everything is computed from the aggregated ss_batch_shape, so the cost is O(1) in the batch
 * size: no allocation, no loop over sequences or tokens. Notation in the comments: T tokens
 * computed this iteration (prefill tokens + one per decode sequence), P prefill tokens, D
 * decode sequences, H hidden size, q/kv the per-GPU query and KV widths (heads x head_dim),
 * I the per-GPU MLP width, bw/ba/bk the bytes per weight / activation / KV element.
 *
 * Non-GEMM FLOP counts (norms, RoPE, activations) are rough element-op tallies; those
 * operators are bandwidth-bound, so their bytes are what matters and are counted with
 * care. Biases are ignored, as in ss_model_params. */
#include <math.h>
#include <string.h>

#include "models/model.h"

/* Bytes per element as a double: fp4 is half a byte. */
static double esize(ss_dtype t)
{
    return ss_dtype_bits(t) / 8.0;
}

static void set(ss_op_work *w, double flops, double bytes, double kernels, double comm)
{
    w->flops = flops;
    w->bytes = bytes;
    w->kernels = kernels;
    w->comm_bytes = comm;
}

/* KV heads held by one GPU: split when tp divides them, else replicated (tp > kv_heads). */
static int kv_heads_per_gpu(const ss_model *m, int tp)
{
    int k = m->num_kv_heads / tp;
    return k < 1 ? 1 : k;
}

/* Attention of one layer. Both kernels read K/V through the paged cache once per KV head
 * (GQA: the query heads of a group share it), which is what FlashAttention and FlashInfer
 * achieve; re-reads of K/V tiles by successive query blocks of a long prefill are left out
 * as they mostly hit L2. */
static void attention(const ss_batch_shape *b, double hq, double q, double kv, double hd,
                      double ba, double bk, ss_op_work out[SS_OP_COUNT])
{
    double P = (double)b->prefill_tokens, D = (double)b->num_decode_seqs;
    /* One reshape_and_cache kernel per layer writes every new token's K and V (reading them
     * from the QKV output); charge it to prefill when there is any, else to decode. */
    if (P > 0) {
        /* QK^T and PV: 2 x head_dim FLOPs each per (query, key) pair and query head. */
        double flops = 4.0 * hd * hq * b->prefill_attn_pairs;
        double bytes = 2.0 * P * q * ba                          /* Q in, O out */
                       + 2.0 * P * kv * ba                       /* new K, V in */
                       + 2.0 * P * kv * bk                       /* new K, V to cache */
                       + 2.0 * (double)b->prefill_ctx_tokens * kv * bk; /* cached prefix */
        set(&out[SS_OP_ATTN_PREFILL], flops, bytes, 2, 0);
    }
    if (D > 0) {
        /* decode_ctx_tokens already counts the new token of every sequence. */
        double flops = 4.0 * hd * hq * (double)b->decode_ctx_tokens;
        double bytes = 2.0 * (double)b->decode_ctx_tokens * kv * bk /* whole context */
                       + 2.0 * D * q * ba                           /* Q in, O out */
                       + 2.0 * D * kv * ba                          /* new K, V in */
                       + 2.0 * D * kv * bk;                         /* new K, V to cache */
        set(&out[SS_OP_ATTN_DECODE], flops, bytes, P > 0 ? 1 : 2, 0);
    }
}

/* SiLU(gate) * up reads two rows and writes one (about 5 element ops: negate, exp, add,
 * divide, multiply); GELU (tanh form, about 8 ops) reads one and writes one. */
static void activation(const ss_model *m, double rows, double width, double ba, ss_op_work *w)
{
    if (m->mlp == SS_MLP_GATED_SILU) set(w, 5.0 * rows * width, 3.0 * rows * width * ba, 1, 0);
    else set(w, 8.0 * rows * width, 2.0 * rows * width * ba, 1, 0);
}

/* Dense MLP: merged gate/up GEMM (one matrix for GELU), activation, down GEMM. */
static void dense_mlp(const ss_model *m, int tp, double T, double H, double bw, double ba,
                      ss_op_work out[SS_OP_COUNT])
{
    double I = (double)m->intermediate_size / tp;
    double mats = m->mlp == SS_MLP_GATED_SILU ? 2.0 : 1.0;
    set(&out[SS_OP_MLP_UP], 2.0 * T * H * mats * I,
        mats * H * I * bw + T * H * ba + T * mats * I * ba, 1, 0);
    activation(m, T, I, ba, &out[SS_OP_MLP_ACT]);
    set(&out[SS_OP_MLP_DOWN], 2.0 * T * I * H, I * H * bw + T * I * ba + T * H * ba, 1, 0);
}

/* Routed experts as vLLM's fused_moe runs them with tp sharding every expert (ep = 1):
 * router GEMM + top-k softmax + token sort, two grouped GEMMs over the T*k (token, expert)
 * assignments, activation, and the weighted sum of each token's k outputs. */
static void moe_mlp(const ss_model *m, int tp, double T, double H, double bw, double ba,
                    ss_op_work out[SS_OP_COUNT])
{
    double E = (double)m->num_experts, k = (double)m->experts_per_token;
    double I = (double)m->moe_intermediate_size / tp;
    double A = T * k; /* assignments */
    double mats = m->mlp == SS_MLP_GATED_SILU ? 2.0 : 1.0;
    /* Weights are read once per expert that receives at least one token. With uniform,
     * independent routing an expert escapes one token with probability 1 - k/E, so the
     * expected number touched is E * (1 - (1 - k/E)^T): k at T = 1, all E for large T.
     * Real routers are skewed, which touches fewer; uniform is the documented bound. */
    double touched = E * (1.0 - pow(1.0 - k / E, T));

    /* The router is a replicated (unsharded) H x E GEMM; logits are written and read by
     * the top-k kernel, which writes k ids (int32) and k weights (fp32) per token. */
    set(&out[SS_OP_MOE_ROUTER], 2.0 * T * H * E + 5.0 * T * E,
        H * E * bw + T * H * ba + 2.0 * T * E * ba + T * k * 8.0, 3, 0);
    set(&out[SS_OP_MLP_UP], 2.0 * A * H * mats * I,
        touched * mats * H * I * bw + A * H * ba + A * mats * I * ba, 1, 0);
    activation(m, A, I, ba, &out[SS_OP_MLP_ACT]);
    /* Down GEMM writes A rows of H; moe_sum reads them back and writes T rows. */
    set(&out[SS_OP_MLP_DOWN], 2.0 * A * I * H + 2.0 * A * H,
        touched * I * H * bw + A * I * ba + 2.0 * A * H * ba + T * H * ba, 2, 0);
}

void ss_model_layer_work(const ss_model *m, int g, int tp, ss_dtype weight, ss_dtype act,
                         ss_dtype kv, const ss_batch_shape *b, ss_op_work out[SS_OP_COUNT])
{
    memset(out, 0, sizeof(ss_op_work) * SS_OP_COUNT);
    if (g < 0 || g >= m->num_groups) return;
    if (tp < 1) tp = 1;
    double T = (double)b->prefill_tokens + (double)b->num_decode_seqs;
    if (T <= 0) return;

    double H = m->hidden_size, hd = m->head_dim;
    double hq = (double)m->num_heads / tp;
    double q = hq * hd, kvw = kv_heads_per_gpu(m, tp) * hd;
    double bw = esize(weight), ba = esize(act), bk = esize(kv);

    /* Two RMSNorms (before attention, before the FFN) over the full hidden width: norms are
     * not sharded, every GPU holds the whole residual stream. ~4 ops per element (square,
     * sum, scale, weight). */
    set(&out[SS_OP_NORM], 2.0 * 4.0 * T * H, 2.0 * (2.0 * T * H * ba + H * bw), 2, 0);
    /* The two residual adds run inside vLLM's fused_add_rms_norm, so they launch nothing of
     * their own; their cost is the extra residual read and write. */
    set(&out[SS_OP_RESIDUAL], 2.0 * T * H, 2.0 * 2.0 * T * H * ba, 0, 0);

    double n = q + 2.0 * kvw;
    set(&out[SS_OP_QKV_PROJ], 2.0 * T * H * n, H * n * bw + T * H * ba + T * n * ba, 1, 0);
    /* RoPE rotates Q and K in place: ~3 ops per element (two multiplies, one add). */
    set(&out[SS_OP_ROPE], 3.0 * T * (q + kvw), 2.0 * T * (q + kvw) * ba, 1, 0);
    /* Sliding-window and MLA groups are costed as full attention: the engine refuses them
     * (ss_model_check_supported) before any iteration is costed. */
    attention(b, hq, q, kvw, hd, ba, bk, out);
    set(&out[SS_OP_O_PROJ], 2.0 * T * q * H, q * H * bw + T * q * ba + T * H * ba, 1, 0);

    if (m->groups[g].ffn == SS_FFN_MOE) moe_mlp(m, tp, T, H, bw, ba, out);
    else dense_mlp(m, tp, T, H, bw, ba, out);

    /* Row-parallel O and down projections leave partial sums: one all-reduce of the T x H
     * activations after each. comm_bytes is the buffer each GPU brings; the collective's
     * algorithm factor (2(tp-1)/tp for a ring) belongs to the cost model. */
    if (tp > 1) set(&out[SS_OP_TP_ALLREDUCE], 0, 0, 2, 2.0 * T * H * ba);
}

void ss_model_head_work(const ss_model *m, int tp, ss_dtype weight, ss_dtype act,
                        const ss_batch_shape *b, ss_op_work out[SS_OP_COUNT])
{
    memset(out, 0, sizeof(ss_op_work) * SS_OP_COUNT);
    if (tp < 1) tp = 1;
    double T = (double)b->prefill_tokens + (double)b->num_decode_seqs;
    double S = b->num_sampled;
    double H = m->hidden_size, V = m->vocab_size;
    double bw = esize(weight), ba = esize(act);

    if (T > 0) {
        /* Vocab-parallel embedding: each GPU gathers the rows of its vocab shard (1/tp of
         * the tokens on average, plus the int32 ids) and writes a full T x H block, zero
         * where another GPU owns the token; an all-reduce then sums the shards. */
        set(&out[SS_OP_EMBED], 0, T * H * bw / tp + T * 4.0 + T * H * ba, 1, 0);
        if (tp > 1) set(&out[SS_OP_TP_ALLREDUCE], 0, 0, 1, T * H * ba);
        /* The final norm runs over every token; only then are the sampled rows picked. */
        set(&out[SS_OP_NORM], 4.0 * T * H, 2.0 * T * H * ba + H * bw, 1, 0);
    }
    if (S > 0) {
        /* Column-parallel LM head on the S sampled rows only: each GPU computes V/tp logits
         * per row, then a gather assembles full rows. That gather is not an all-reduce, so
         * its bytes are kept on LOGITS rather than folded into TP_ALLREDUCE. */
        double v = V / tp;
        set(&out[SS_OP_LOGITS], 2.0 * S * H * v, v * H * bw + S * H * ba + S * v * ba, 1,
            tp > 1 ? S * v * ba : 0);
    }
}
