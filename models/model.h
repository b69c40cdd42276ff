/* LLM architectures: shapes, parameter and weight sizes, KV bytes per token, and the
 * FLOPs and bytes moved by each operator of one iteration.
 *
 * This header is the contract of models/. A model is read from a YAML file (the built-in
 * zoo in models/data/, or a user file); everything else here is derived from its fields.
 * Attention and FFN type are given per group of layers so that KV size and cost come from the
 * layer list rather than one formula; sliding-window and MLA attention are parsed but
 * refused by ss_model_check_supported() until the engine models them. */
#ifndef SS_MODELS_MODEL_H
#define SS_MODELS_MODEL_H

#include <stdint.h>
#include <stdio.h>

#include "sim/core/cfg.h"
#include "sim/core/diag.h"
#include "sim/core/embed.h"

/* ------------------------------------------------------------------ data types */

#define SS_DTYPE_LIST(X)      \
    X(SS_DTYPE_FP32, "fp32", 32) \
    X(SS_DTYPE_BF16, "bf16", 16) \
    X(SS_DTYPE_FP16, "fp16", 16) \
    X(SS_DTYPE_FP8, "fp8", 8)    \
    X(SS_DTYPE_INT8, "int8", 8)  \
    X(SS_DTYPE_FP4, "fp4", 4)

typedef enum ss_dtype {
#define SS_DTYPE_ENUM(e, name, bits) e,
    SS_DTYPE_LIST(SS_DTYPE_ENUM)
#undef SS_DTYPE_ENUM
    SS_DTYPE_COUNT
} ss_dtype;

/* NULL-terminated names in enum order, usable as ss_key.choices. */
extern const char *const ss_dtype_names[];
const char *ss_dtype_name(ss_dtype t);
int ss_dtype_bits(ss_dtype t);
/* Bytes for `n` elements (fp4 packs two per byte; n*bits rounded up to whole bytes). */
uint64_t ss_dtype_bytes(ss_dtype t, uint64_t n);

/* ------------------------------------------------------------------ architecture */

typedef enum ss_attn_kind { SS_ATTN_FULL, SS_ATTN_SLIDING, SS_ATTN_MLA } ss_attn_kind;
typedef enum ss_ffn_kind { SS_FFN_DENSE, SS_FFN_MOE } ss_ffn_kind;
typedef enum ss_mlp_act { SS_MLP_GATED_SILU, SS_MLP_GELU } ss_mlp_act;

#define SS_MODEL_MAX_GROUPS 8

/* `count` consecutive layers of one kind. */
typedef struct ss_layer_group {
    int count;
    ss_attn_kind attn;
    int window;      /* SS_ATTN_SLIDING: window in tokens */
    ss_ffn_kind ffn;
} ss_layer_group;

typedef struct ss_model {
    char name[64];          /* canonical id, e.g. "llama-3.1-8b" */
    char display_name[96];  /* e.g. "Llama-3.1-8B" */
    char source[512];       /* where the numbers come from (config.json URL) */
    int num_layers;
    int hidden_size;
    int num_heads;          /* attention (query) heads */
    int num_kv_heads;
    int head_dim;
    int intermediate_size;  /* dense MLP hidden size */
    int vocab_size;
    int64_t max_position;   /* max_position_embeddings */
    ss_mlp_act mlp;
    int tie_embeddings;     /* 1 if the LM head shares the embedding matrix */
    ss_dtype dtype;         /* weight dtype as released */
    /* MoE (used by layer groups with ffn = moe) */
    int num_experts;
    int experts_per_token;
    int moe_intermediate_size; /* per expert; defaults to intermediate_size */
    /* MLA (parsed, not yet simulated) */
    int kv_lora_rank;
    int qk_rope_head_dim;
    int num_groups;
    ss_layer_group groups[SS_MODEL_MAX_GROUPS];
} ss_model;

/* Parallelism of one instance. Only tp is used by the cost of one iteration today. */
typedef struct ss_parallel {
    int tp, pp, ep, dp;
} ss_parallel;

/* The built-in zoo (generated from the YAML files in models/data/). */
extern const ss_embedded_file ss_model_zoo[];

/* Load a model by built-in name ("llama-3.1-8b", case-insensitive) or, when the value ends
 * in .yaml/.yml or contains '/', from that file (relative to base_dir unless absolute).
 * Unknown names are answered with the list of built-ins. */
ss_rc ss_model_load(const char *name_or_path, const char *base_dir, ss_model *out,
                    ss_diag *d);
/* Parse a model from an already-loaded document (checks every key, see cfg.h). */
ss_rc ss_model_parse(ss_doc *doc, ss_model *out, ss_diag *d);
/* One line per built-in model: name, parameters, layers, KV bytes/token. */
void ss_model_list(FILE *out);
/* The model file schema as Markdown table rows, written from the same key tables that
 * ss_model_parse applies (docs/models.md holds a copy; test_models checks it is current). */
void ss_model_doc_markdown(FILE *out);

/* SS_OK if the engine can simulate this model; SS_ERR_UNSUPPORTED naming the layer kind
 * otherwise (sliding-window and MLA attention, for now). */
ss_rc ss_model_check_supported(const ss_model *m, ss_diag *d);
/* vLLM's rule: tp must divide num_heads, and num_kv_heads must divide by tp or tp by
 * num_kv_heads. On failure writes the reason into why and returns SS_ERR_INVALID. */
ss_rc ss_model_check_tp(const ss_model *m, int tp, char *why, size_t why_n);

/* ------------------------------------------------------------------ derived sizes */

/* Total parameter count (embedding, all layers incl. every expert, norms, LM head unless
 * tied). */
uint64_t ss_model_params(const ss_model *m);
/* Weight bytes of the whole model in dtype `wt`. */
uint64_t ss_model_weight_bytes(const ss_model *m, ss_dtype wt);
/* KV cache bytes per token held on ONE GPU of a tp-way instance, over all layers:
 * layers * 2 * kv_heads_per_gpu * head_dim * bytes(kv), with
 * kv_heads_per_gpu = max(1, num_kv_heads / tp) (KV heads are replicated when tp > kv_heads).
 * tp = 1 gives the whole model's figure (Llama-3.1-70B bf16: 327,680 B). */
uint64_t ss_model_kv_bytes_per_token(const ss_model *m, ss_dtype kv, int tp);

/* ------------------------------------------------------------------ per-iteration work */

/* What one iteration of a batch computes, aggregated so that evaluating its cost is O(1)
 * in the batch size. A "prefill" sequence computes q > 1 new tokens (a prompt, a chunk of
 * one, or a recompute); a "decode" sequence computes exactly one. */
typedef struct ss_batch_shape {
    int32_t num_seqs;            /* sequences in the batch */
    int32_t num_prefill_seqs;
    int64_t prefill_tokens;      /* new tokens computed by prefill sequences */
    double prefill_attn_pairs;   /* sum over prefill seqs of causal (query, key) pairs:
                                    q * c + q * (q + 1) / 2, c = tokens already in cache */
    int64_t prefill_ctx_tokens;  /* sum of c over prefill seqs (KV re-read from cache) */
    int32_t num_decode_seqs;
    int64_t decode_ctx_tokens;   /* sum over decode seqs of the context length attended
                                    (cached tokens + the new one) */
    int32_t num_sampled;         /* sequences whose last computed token is sampled (logits) */
    int64_t decode_ctx_max;      /* longest decode context in the batch (added for the
                                    calibrated cost model: skewed batches cost more than
                                    uniform ones of the same mean); 0 = not known, treat the
                                    batch as uniform. The roofline ignores it. */
} ss_batch_shape;

/* Operators of one iteration, one list (X-macro) for enum, names and tables. */
#define SS_OP_LIST(X)                     \
    X(SS_OP_EMBED, "embed")               \
    X(SS_OP_NORM, "norm")                 \
    X(SS_OP_QKV_PROJ, "qkv_proj")         \
    X(SS_OP_ROPE, "rope")                 \
    X(SS_OP_ATTN_PREFILL, "attn_prefill") \
    X(SS_OP_ATTN_DECODE, "attn_decode")   \
    X(SS_OP_O_PROJ, "o_proj")             \
    X(SS_OP_MLP_UP, "mlp_up_gate")        \
    X(SS_OP_MLP_ACT, "mlp_act")           \
    X(SS_OP_MLP_DOWN, "mlp_down")         \
    X(SS_OP_MOE_ROUTER, "moe_router")     \
    X(SS_OP_RESIDUAL, "residual_add")     \
    X(SS_OP_LOGITS, "logits")             \
    X(SS_OP_TP_ALLREDUCE, "tp_allreduce")

typedef enum ss_op {
#define SS_OP_ENUM(e, name) e,
    SS_OP_LIST(SS_OP_ENUM)
#undef SS_OP_ENUM
    SS_OP_COUNT
} ss_op;

const char *ss_op_name(ss_op op);

/* Work of one operator on ONE GPU of a tp-way instance. */
typedef struct ss_op_work {
    double flops;      /* floating-point operations (multiply-add = 2) */
    double bytes;      /* bytes read + written in HBM (weights, activations, KV) */
    double kernels;    /* kernel launches */
    double comm_bytes; /* bytes each GPU contributes to a collective (TP all-reduce) */
} ss_op_work;

/* Work of ONE layer of group `g` for the batch `b`, per GPU, written to out[SS_OP_COUNT]
 * (operators a layer does not have are zero; EMBED and LOGITS are always zero here).
 * weight/act/kv dtypes give bytes per element. */
void ss_model_layer_work(const ss_model *m, int g, int tp, ss_dtype weight, ss_dtype act,
                         ss_dtype kv, const ss_batch_shape *b, ss_op_work out[SS_OP_COUNT]);
/* Work done once per iteration outside the layers (EMBED, final NORM, LOGITS), per GPU. */
void ss_model_head_work(const ss_model *m, int tp, ss_dtype weight, ss_dtype act,
                        const ss_batch_shape *b, ss_op_work out[SS_OP_COUNT]);

#endif
