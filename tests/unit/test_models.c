/* Unit tests of models/: the zoo's published numbers, derived sizes, the tp rules, the
 * model-file checker's error locations, and the per-operator work formulas.
 *
 * Expected parameter counts were computed independently of model.c from the config.json
 * values (and agree with the figures the model cards publish, e.g. Llama-2-7B 6,738,415,616;
 * Qwen2.5-32B 32,763,876,352 once its 458,752 QKV-bias weights, which servesim leaves out,
 * are added back). Run from the repository root (docs/models.md is read). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "models/model.h"

/* ================================================================== helpers */

static ss_model load(const char *name)
{
    ss_model m;
    ss_diag d;
    ss_diag_clear(&d);
    ss_rc rc = ss_model_load(name, ".", &m, &d);
    if (rc != SS_OK) {
        char buf[2048];
        ss_diag_format(&d, buf, sizeof buf);
        fail_msg("loading %s: %s", name, buf);
    }
    return m;
}

/* Parse a model from text; returns the rc and leaves the diagnostic in *d. */
static ss_rc parse_text(const char *text, ss_model *m, ss_diag *d)
{
    ss_doc *doc = NULL;
    ss_diag_clear(d);
    ss_rc rc = ss_doc_load_string("inline.yaml", text, strlen(text), &doc, d);
    if (rc != SS_OK) return rc;
    rc = ss_model_parse(doc, m, d);
    ss_doc_free(doc);
    return rc;
}

/* A valid small model; tests that break one rule start from it. Line numbers matter:
 * name is on line 2, hidden_size on line 5, layers on line 11. */
#define BASE_HEAD                                                                  \
    "schema_version: 1\n"        /* 1 */                                           \
    "name: tiny\n"               /* 2 */                                           \
    "source: https://example.invalid/config.json\n" /* 3 */                        \
    "num_layers: 4\n"            /* 4 */                                           \
    "hidden_size: 256\n"         /* 5 */                                           \
    "num_attention_heads: 8\n"   /* 6 */                                           \
    "num_kv_heads: 2\n"          /* 7 */                                           \
    "intermediate_size: 512\n"   /* 8 */                                           \
    "vocab_size: 1000\n"         /* 9 */                                           \
    "max_position_embeddings: 2048\n" /* 10 */

static void expect_invalid(const char *text, ss_rc want, int line, const char *key,
                           const char *needle)
{
    ss_model m;
    memset(&m, 0x5a, sizeof m);
    ss_model before = m;
    ss_diag d;
    ss_rc rc = parse_text(text, &m, &d);
    char buf[2048];
    ss_diag_format(&d, buf, sizeof buf);
    if (rc != want) fail_msg("expected rc %d, got %d (%s)", want, rc, buf);
    assert_int_equal(d.rc, want);
    if (d.line != line) fail_msg("expected line %d, got %d (%s)", line, d.line, buf);
    assert_string_equal(d.file, "inline.yaml");
    if (key) assert_string_equal(d.key, key);
    if (needle && !strstr(buf, needle)) fail_msg("'%s' not in: %s", needle, buf);
    /* A failed parse must not touch the caller's model. */
    assert_memory_equal(&m, &before, sizeof m);
}

static double rel_err(double got, double want)
{
    return fabs(got - want) / fabs(want);
}

static ss_batch_shape decode_batch(int seqs, int64_t ctx_each)
{
    ss_batch_shape b;
    memset(&b, 0, sizeof b);
    b.num_seqs = seqs;
    b.num_decode_seqs = seqs;
    b.decode_ctx_tokens = (int64_t)seqs * ctx_each;
    b.num_sampled = seqs;
    return b;
}

static ss_batch_shape prefill_batch(int seqs, int64_t q, int64_t cached)
{
    ss_batch_shape b;
    memset(&b, 0, sizeof b);
    b.num_seqs = seqs;
    b.num_prefill_seqs = seqs;
    b.prefill_tokens = (int64_t)seqs * q;
    b.prefill_attn_pairs = seqs * ((double)q * (double)cached + (double)q * (double)(q + 1) / 2);
    b.prefill_ctx_tokens = (int64_t)seqs * cached;
    b.num_sampled = seqs;
    return b;
}

/* Whole-iteration work: layers times their counts plus the head. */
static void iteration_work(const ss_model *m, int tp, ss_dtype w, const ss_batch_shape *b,
                           ss_op_work total[SS_OP_COUNT])
{
    ss_op_work ops[SS_OP_COUNT];
    memset(total, 0, sizeof(ss_op_work) * SS_OP_COUNT);
    for (int g = 0; g < m->num_groups; g++) {
        ss_model_layer_work(m, g, tp, w, SS_DTYPE_BF16, SS_DTYPE_BF16, b, ops);
        for (int i = 0; i < SS_OP_COUNT; i++) {
            total[i].flops += m->groups[g].count * ops[i].flops;
            total[i].bytes += m->groups[g].count * ops[i].bytes;
            total[i].kernels += m->groups[g].count * ops[i].kernels;
            total[i].comm_bytes += m->groups[g].count * ops[i].comm_bytes;
        }
    }
    ss_model_head_work(m, tp, w, SS_DTYPE_BF16, b, ops);
    for (int i = 0; i < SS_OP_COUNT; i++) {
        total[i].flops += ops[i].flops;
        total[i].bytes += ops[i].bytes;
        total[i].kernels += ops[i].kernels;
        total[i].comm_bytes += ops[i].comm_bytes;
    }
}

static double gemm_flops(const ss_op_work w[SS_OP_COUNT])
{
    return w[SS_OP_QKV_PROJ].flops + w[SS_OP_O_PROJ].flops + w[SS_OP_MLP_UP].flops +
           w[SS_OP_MLP_DOWN].flops;
}

/* ================================================================== data types */

static void test_dtypes(void **state)
{
    (void)state;
    int n = 0;
    while (ss_dtype_names[n]) n++;
    assert_int_equal(n, SS_DTYPE_COUNT);
    assert_string_equal(ss_dtype_name(SS_DTYPE_BF16), "bf16");
    assert_string_equal(ss_dtype_name(SS_DTYPE_FP4), "fp4");
    assert_string_equal(ss_dtype_name((ss_dtype)99), "?");
    assert_int_equal(ss_dtype_bits(SS_DTYPE_FP32), 32);
    assert_int_equal(ss_dtype_bits(SS_DTYPE_FP8), 8);
    assert_int_equal(ss_dtype_bytes(SS_DTYPE_BF16, 10), 20);
    assert_int_equal(ss_dtype_bytes(SS_DTYPE_FP4, 3), 2); /* 12 bits round up */
    assert_int_equal(ss_dtype_bytes(SS_DTYPE_FP4, 4), 2);
    assert_int_equal(ss_dtype_bytes(SS_DTYPE_INT8, 7), 7);
    /* The large-n branch must agree with the exact formula. */
    uint64_t big = (UINT64_MAX / 64) + 4; /* odd: 2^58 + 3 */
    assert_true(ss_dtype_bytes(SS_DTYPE_FP4, big) == big / 2 + 1);
    assert_string_equal(ss_op_name(SS_OP_EMBED), "embed");
    assert_string_equal(ss_op_name(SS_OP_MLP_UP), "mlp_up_gate");
    assert_string_equal(ss_op_name(SS_OP_TP_ALLREDUCE), "tp_allreduce");
    assert_string_equal(ss_op_name(SS_OP_COUNT), "?");
}

/* ================================================================== zoo and sizes */

static const char *const zoo_names[] = {
    "llama-2-7b",  "llama-2-70b",  "llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b",
    "mixtral-8x7b", "qwen2.5-32b", "qwen3-32b",    "qwen3-30b-a3b", "llama-3-8b",
    "llama-3-70b",  "codellama-34b", "internlm-20b", "qwen-72b",    NULL};

static void test_zoo_files(void **state)
{
    (void)state;
    int files = 0;
    for (const ss_embedded_file *f = ss_model_zoo; f->name; f++) files++;
    int names = 0;
    for (; zoo_names[names]; names++) {
        ss_model m = load(zoo_names[names]);
        /* The name key must match the file name, and every file cites its config. */
        assert_string_equal(m.name, zoo_names[names]);
        assert_non_null(strstr(m.source, "https://huggingface.co/"));
        assert_non_null(strstr(m.source, "config.json"));
        assert_int_equal(ss_model_check_supported(&m, NULL), SS_OK);
        char why[256];
        assert_int_equal(ss_model_check_tp(&m, 1, why, sizeof why), SS_OK);
        assert_int_equal(ss_model_check_tp(&m, 2, why, sizeof why), SS_OK);
        assert_int_equal(ss_model_check_tp(&m, 4, why, sizeof why), SS_OK);
        assert_int_equal(ss_model_check_tp(&m, 8, why, sizeof why), SS_OK);
    }
    assert_int_equal(files, names);

    /* The list prints one line per built-in, naming each. */
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    ss_model_list(out);
    fclose(out);
    int lines = 0;
    for (size_t i = 0; i < len; i++) lines += buf[i] == '\n';
    assert_int_equal(lines, names);
    for (int i = 0; zoo_names[i]; i++) assert_non_null(strstr(buf, zoo_names[i]));
    assert_null(strstr(buf, "error"));
    free(buf);
}

static void test_load_by_name_and_path(void **state)
{
    (void)state;
    ss_model a = load("Llama-3.1-8B"); /* case-insensitive */
    assert_string_equal(a.name, "llama-3.1-8b");
    assert_string_equal(a.display_name, "Llama-3.1-8B");
    ss_model b = load("models/data/llama-3.1-8b.yaml");
    assert_memory_equal(&a, &b, sizeof a);

    ss_model m;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_model_load("llama-3", ".", &m, &d), SS_ERR_NOTFOUND);
    assert_non_null(strstr(d.msg, "llama-3.1-70b")); /* lists the built-ins */
    assert_non_null(strstr(d.msg, "qwen3-30b-a3b"));

    ss_diag_clear(&d);
    assert_int_equal(ss_model_load("no/such/model.yaml", ".", &m, &d), SS_ERR_IO);
    assert_non_null(strstr(d.file, "no/such/model.yaml"));

    ss_diag_clear(&d);
    assert_int_equal(ss_model_load("", ".", &m, &d), SS_ERR_INVALID);
}

static void test_kv_bytes_per_token(void **state)
{
    (void)state;
    ss_model m70 = load("llama-3.1-70b");
    /* 80 layers x 2 (K, V) x 8 heads x 128 x 2 B. */
    assert_int_equal(ss_model_kv_bytes_per_token(&m70, SS_DTYPE_BF16, 1), 327680);
    assert_int_equal(ss_model_kv_bytes_per_token(&m70, SS_DTYPE_FP8, 1), 163840);
    assert_int_equal(ss_model_kv_bytes_per_token(&m70, SS_DTYPE_BF16, 2), 163840);
    /* tp = 8: one KV head per GPU. */
    assert_int_equal(ss_model_kv_bytes_per_token(&m70, SS_DTYPE_BF16, 8), 40960);

    ss_model m8 = load("llama-3.1-8b");
    assert_int_equal(ss_model_kv_bytes_per_token(&m8, SS_DTYPE_BF16, 1), 131072);
    assert_int_equal(ss_model_kv_bytes_per_token(&m8, SS_DTYPE_BF16, 8), 16384);
    /* tp = 16 > 8 KV heads: each head is replicated, so a GPU still holds one. */
    assert_int_equal(ss_model_kv_bytes_per_token(&m8, SS_DTYPE_BF16, 16), 16384);
    assert_int_equal(ss_model_kv_bytes_per_token(&m8, SS_DTYPE_FP4, 1), 32768);

    /* MHA: Llama-2-7B keeps all 32 heads: 32 x 2 x 32 x 128 x 2 = 512 KiB. */
    ss_model m7 = load("llama-2-7b");
    assert_int_equal(ss_model_kv_bytes_per_token(&m7, SS_DTYPE_FP16, 1), 524288);
    /* Qwen3-30B-A3B: explicit head_dim 128 (not 2048/32 = 64): 48 x 2 x 4 x 128 x 2. */
    ss_model q = load("qwen3-30b-a3b");
    assert_int_equal(q.head_dim, 128);
    assert_int_equal(ss_model_kv_bytes_per_token(&q, SS_DTYPE_BF16, 1), 98304);
}

static void test_params(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint64_t params;
    } want[] = {
        {"llama-2-7b", 6738415616ULL},     {"llama-2-70b", 68976648192ULL},
        {"llama-3.1-8b", 8030261248ULL},   {"llama-3.1-70b", 70553706496ULL},
        {"llama-3.1-405b", 405853388800ULL}, {"mixtral-8x7b", 46702792704ULL},
        {"qwen2.5-32b", 32763417600ULL},   {"qwen3-32b", 32762106880ULL},
        {"qwen3-30b-a3b", 30532110336ULL},
        /* added with the Vidur-profiled models; published: 8.0 B, 70.6 B, 33.7 B, 20 B, 72 B */
        {"llama-3-8b", 8030261248ULL},     {"llama-3-70b", 70553706496ULL},
        {"codellama-34b", 33743970304ULL}, {"internlm-20b", 20088714240ULL},
        {"qwen-72b", 72285954048ULL},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        ss_model m = load(want[i].name);
        uint64_t p = ss_model_params(&m);
        if (p != want[i].params)
            fail_msg("%s: %llu parameters, expected %llu", want[i].name,
                     (unsigned long long)p, (unsigned long long)want[i].params);
    }
    /* The published headline figures, loosely. */
    ss_model m8 = load("llama-3.1-8b");
    assert_true(rel_err((double)ss_model_params(&m8), 8030261248.0) < 0.005);
    ss_model mix = load("mixtral-8x7b");
    assert_true(rel_err((double)ss_model_params(&mix), 46.7e9) < 0.005);
    ss_model m70 = load("llama-3.1-70b");
    assert_true(rel_err((double)ss_model_params(&m70), 70.55e9) < 0.005);

    assert_int_equal(ss_model_weight_bytes(&m8, SS_DTYPE_BF16), 2 * 8030261248ULL);
    assert_int_equal(ss_model_weight_bytes(&m8, SS_DTYPE_FP8), 8030261248ULL);
    assert_int_equal(ss_model_weight_bytes(&m8, SS_DTYPE_FP4), 8030261248ULL / 2);

    /* Tying the embeddings removes exactly one vocab x hidden matrix. */
    ss_model tied = m8;
    tied.tie_embeddings = 1;
    assert_int_equal(ss_model_params(&m8) - ss_model_params(&tied), 128256ULL * 4096);
}

static void test_check_tp(void **state)
{
    (void)state;
    char why[256];
    ss_model m8 = load("llama-3.1-8b"); /* 32 heads, 8 KV heads */
    assert_int_equal(ss_model_check_tp(&m8, 3, why, sizeof why), SS_ERR_INVALID);
    assert_non_null(strstr(why, "32 attention heads"));
    assert_int_equal(ss_model_check_tp(&m8, 16, why, sizeof why), SS_OK); /* 16 % 8 == 0 */
    assert_int_equal(ss_model_check_tp(&m8, 32, why, sizeof why), SS_OK);
    assert_int_equal(ss_model_check_tp(&m8, 64, why, sizeof why), SS_ERR_INVALID);
    assert_int_equal(ss_model_check_tp(&m8, 0, why, sizeof why), SS_ERR_INVALID);
    assert_int_equal(ss_model_check_tp(&m8, 3, NULL, 0), SS_ERR_INVALID);

    /* Qwen2.5-32B: 40 heads, 8 KV heads. tp = 5 and 10 divide the heads, but neither
     * divides nor is divided by 8. */
    ss_model q = load("qwen2.5-32b");
    assert_int_equal(ss_model_check_tp(&q, 5, why, sizeof why), SS_ERR_INVALID);
    assert_non_null(strstr(why, "KV heads"));
    assert_int_equal(ss_model_check_tp(&q, 10, why, sizeof why), SS_ERR_INVALID);
    assert_int_equal(ss_model_check_tp(&q, 8, why, sizeof why), SS_OK);
    assert_int_equal(ss_model_check_tp(&q, 16, why, sizeof why), SS_ERR_INVALID);
}

/* ================================================================== model files */

static void test_parse_defaults(void **state)
{
    (void)state;
    ss_model m;
    ss_diag d;
    assert_int_equal(parse_text(BASE_HEAD, &m, &d), SS_OK);
    assert_string_equal(m.display_name, "tiny"); /* defaults to name */
    assert_int_equal(m.head_dim, 32);            /* 256 / 8 */
    assert_int_equal(m.mlp, SS_MLP_GATED_SILU);
    assert_int_equal(m.dtype, SS_DTYPE_BF16);
    assert_int_equal(m.tie_embeddings, 0);
    assert_int_equal(m.num_groups, 1);
    assert_int_equal(m.groups[0].count, 4);
    assert_int_equal(m.groups[0].attn, SS_ATTN_FULL);
    assert_int_equal(m.groups[0].ffn, SS_FFN_DENSE);
    assert_true(m.max_position == 2048);

    /* A moe section with no layer list makes every layer MoE; expert width defaults. */
    assert_int_equal(parse_text(BASE_HEAD "moe: {num_experts: 4, experts_per_token: 2}\n"
                                          "tie_word_embeddings: true\nmlp: gelu\n"
                                          "dtype: fp8\n",
                                &m, &d),
                     SS_OK);
    assert_int_equal(m.groups[0].ffn, SS_FFN_MOE);
    assert_int_equal(m.moe_intermediate_size, 512);
    assert_int_equal(m.tie_embeddings, 1);
    assert_int_equal(m.mlp, SS_MLP_GELU);
    assert_int_equal(m.dtype, SS_DTYPE_FP8);

    /* Mixed groups in order. */
    assert_int_equal(parse_text(BASE_HEAD "moe: {num_experts: 4, experts_per_token: 1, "
                                          "intermediate_size: 128}\n"
                                          "layers:\n"
                                          "  - {count: 1}\n"
                                          "  - {count: 3, ffn: moe}\n",
                                &m, &d),
                     SS_OK);
    assert_int_equal(m.num_groups, 2);
    assert_int_equal(m.groups[0].ffn, SS_FFN_DENSE);
    assert_int_equal(m.groups[1].count, 3);
    assert_int_equal(m.groups[1].ffn, SS_FFN_MOE);
    assert_int_equal(m.moe_intermediate_size, 128);
}

static void test_parse_errors(void **state)
{
    (void)state;
    /* Unknown key, reported at the key. */
    expect_invalid(BASE_HEAD "hiden_size: 4\n", SS_ERR_INVALID, 11, "hiden_size",
                   "unknown key");
    /* Wrong type, reported at the value. */
    expect_invalid("schema_version: 1\nname: tiny\nsource: x\nnum_layers: 4\n"
                   "hidden_size: big\n",
                   SS_ERR_INVALID, 5, "hidden_size", "big");
    /* Out of range. */
    expect_invalid("schema_version: 1\nname: tiny\nsource: x\nnum_layers: 0\n",
                   SS_ERR_INVALID, 4, "num_layers", NULL);
    /* A future schema version is refused. */
    expect_invalid("schema_version: 2\n", SS_ERR_INVALID, 1, "schema_version", NULL);
    /* Missing required key: reported against the root mapping (line 1). */
    expect_invalid("schema_version: 1\nname: tiny\nsource: x\nnum_layers: 4\n"
                   "hidden_size: 256\nnum_attention_heads: 8\nnum_kv_heads: 2\n"
                   "intermediate_size: 512\nmax_position_embeddings: 2048\n",
                   SS_ERR_INVALID, 1, "vocab_size", "missing required key");
    /* Bad enum value. */
    expect_invalid(BASE_HEAD "mlp: relu\n", SS_ERR_INVALID, 11, "mlp", "gated_silu");
    /* Group counts that do not sum to num_layers: at the layers node, naming both. */
    expect_invalid(BASE_HEAD "layers:\n  - {count: 2}\n  - {count: 1}\n", SS_ERR_INVALID, 12,
                   "layers", "sum to 3 but num_layers is 4");
    /* Unknown key inside a group, with its index in the key path. */
    expect_invalid(BASE_HEAD "layers:\n  - {count: 2}\n  - {count: 2, atention: full}\n",
                   SS_ERR_INVALID, 13, "layers[1].atention", "unknown key");
    expect_invalid(BASE_HEAD "layers: 4\n", SS_ERR_INVALID, 11, "layers", "list");
    expect_invalid(BASE_HEAD "layers:\n"
                             "  - {count: 1}\n  - {count: 1}\n  - {count: 1}\n"
                             "  - {count: 1}\n  - {count: 1}\n  - {count: 1}\n"
                             "  - {count: 1}\n  - {count: 1}\n  - {count: 1}\n",
                   SS_ERR_INVALID, 12, "layers", "1 to 8");
    /* MoE group without a moe section; moe section no group uses. */
    expect_invalid(BASE_HEAD "layers:\n  - {count: 4, ffn: moe}\n", SS_ERR_INVALID, 12,
                   "layers[0].ffn", "moe section");
    expect_invalid(BASE_HEAD "moe: {num_experts: 4, experts_per_token: 2}\n"
                             "layers:\n  - {count: 4}\n",
                   SS_ERR_INVALID, 11, "moe", "no layer group");
    expect_invalid(BASE_HEAD "moe:\n  num_experts: 4\n  experts_per_token: 5\n",
                   SS_ERR_INVALID, 13, "moe.experts_per_token", "exceeds");
    expect_invalid(BASE_HEAD "moe:\n  num_experts: 4\n", SS_ERR_INVALID, 12,
                   "moe.experts_per_token", "missing required key");
    /* Sliding window rules. */
    expect_invalid(BASE_HEAD "layers:\n  - {count: 4, attention: sliding}\n", SS_ERR_INVALID,
                   12, "layers[0].window", "needs a window");
    expect_invalid(BASE_HEAD "layers:\n  - {count: 4, window: 128}\n", SS_ERR_INVALID, 12,
                   "layers[0].window", "only to attention: sliding");
    expect_invalid(BASE_HEAD "layers:\n  - {count: 4, attention: mla}\n", SS_ERR_INVALID, 12,
                   "layers[0].attention", "mla section");
    /* Heads and head width. */
    expect_invalid("schema_version: 1\nname: t\nsource: x\nnum_layers: 1\nhidden_size: 256\n"
                   "num_attention_heads: 8\nnum_kv_heads: 3\nintermediate_size: 8\n"
                   "vocab_size: 8\nmax_position_embeddings: 8\n",
                   SS_ERR_INVALID, 7, "num_kv_heads", "multiple of num_kv_heads");
    expect_invalid("schema_version: 1\nname: t\nsource: x\nnum_layers: 1\nhidden_size: 250\n"
                   "num_attention_heads: 8\nnum_kv_heads: 2\nintermediate_size: 8\n"
                   "vocab_size: 8\nmax_position_embeddings: 8\n",
                   SS_ERR_INVALID, 6, "num_attention_heads", "head_dim");
    /* Not a mapping at all. */
    expect_invalid("- 1\n- 2\n", SS_ERR_INVALID, 1, NULL, "mapping");
}

static void test_unsupported_layers(void **state)
{
    (void)state;
    ss_model m;
    ss_diag d;
    assert_int_equal(parse_text(BASE_HEAD "layers:\n"
                                          "  - {count: 3, attention: sliding, window: 4096}\n"
                                          "  - {count: 1}\n",
                                &m, &d),
                     SS_OK);
    assert_int_equal(m.groups[0].attn, SS_ATTN_SLIDING);
    assert_int_equal(m.groups[0].window, 4096);
    ss_diag_clear(&d);
    assert_int_equal(ss_model_check_supported(&m, &d), SS_ERR_UNSUPPORTED);
    assert_int_equal(d.rc, SS_ERR_UNSUPPORTED);
    assert_non_null(strstr(d.msg, "sliding-window"));
    assert_non_null(strstr(d.msg, "not yet supported"));

    assert_int_equal(parse_text(BASE_HEAD "mla: {kv_lora_rank: 512, qk_rope_head_dim: 64}\n"
                                          "layers:\n  - {count: 4, attention: mla}\n",
                                &m, &d),
                     SS_OK);
    /* MLA caches one latent + RoPE key per layer, shared by all heads. */
    assert_int_equal(ss_model_kv_bytes_per_token(&m, SS_DTYPE_BF16, 8), 4 * (512 + 64) * 2);
    ss_diag_clear(&d);
    assert_int_equal(ss_model_check_supported(&m, &d), SS_ERR_UNSUPPORTED);
    assert_non_null(strstr(d.msg, "MLA"));

    /* MoE with full attention is supported. */
    ss_model mix = load("mixtral-8x7b");
    ss_diag_clear(&d);
    assert_int_equal(ss_model_check_supported(&mix, &d), SS_OK);
    assert_int_equal(d.rc, SS_OK);
}

/* ================================================================== per-iteration work */

static void test_decode_flops_match_params(void **state)
{
    (void)state;
    const char *const names[] = {"llama-3.1-8b", "llama-3.1-70b", "qwen3-32b", NULL};
    for (int i = 0; names[i]; i++) {
        ss_model m = load(names[i]);
        const int B = 64;
        ss_batch_shape b = decode_batch(B, 1); /* tiny context */
        ss_op_work w[SS_OP_COUNT];
        iteration_work(&m, 1, SS_DTYPE_BF16, &b, w);
        double H = m.hidden_size, V = m.vocab_size;
        double embed = V * H;
        double norms = H * (2.0 * m.num_layers + 1);
        double body = (double)ss_model_params(&m) - 2 * embed - norms;
        /* Every linear layer does 2 FLOPs per weight per token: exact for the GEMMs. */
        assert_true(rel_err(gemm_flops(w), 2.0 * B * body) < 1e-12);
        /* LM head for every sampled token. */
        assert_true(rel_err(w[SS_OP_LOGITS].flops, 2.0 * B * embed) < 1e-12);
        /* Everything (attention, norms, activations, RoPE) within a few percent. */
        double total = 0;
        for (int k = 0; k < SS_OP_COUNT; k++) total += w[k].flops;
        assert_true(rel_err(total, 2.0 * B * (body + embed)) < 0.03);
        /* Decode at small batch is weight-bound: bytes at least the whole weights. */
        double bytes = 0;
        for (int k = 0; k < SS_OP_COUNT; k++) bytes += w[k].bytes;
        double wb = (double)ss_model_weight_bytes(&m, SS_DTYPE_BF16);
        /* Embedding rows: only B rows are read, not the table. */
        assert_true(bytes > wb - embed * 2);
        assert_true(bytes < wb * 1.05);
    }
}

static void test_gemm_flops_scale_with_tokens(void **state)
{
    (void)state;
    ss_model m = load("llama-3.1-8b");
    ss_op_work a[SS_OP_COUNT], b2[SS_OP_COUNT];
    ss_batch_shape one = prefill_batch(1, 512, 0), two = prefill_batch(2, 512, 0);
    ss_model_layer_work(&m, 0, 1, SS_DTYPE_BF16, SS_DTYPE_BF16, SS_DTYPE_BF16, &one, a);
    ss_model_layer_work(&m, 0, 1, SS_DTYPE_BF16, SS_DTYPE_BF16, SS_DTYPE_BF16, &two, b2);
    assert_true(rel_err(gemm_flops(b2), 2.0 * gemm_flops(a)) < 1e-12);
    /* Attention pairs double too (two independent prompts). */
    assert_true(rel_err(b2[SS_OP_ATTN_PREFILL].flops, 2.0 * a[SS_OP_ATTN_PREFILL].flops) <
                1e-12);
    /* ...and equal 4 x head_dim x heads x pairs. */
    assert_true(rel_err(a[SS_OP_ATTN_PREFILL].flops, 4.0 * 128 * 32 * (512.0 * 513 / 2)) <
                1e-12);
    /* Weights are read once however many tokens: the GEMM byte increase is activations. */
    double wq = 4096.0 * (4096 + 2 * 1024) * 2;
    assert_true(rel_err(a[SS_OP_QKV_PROJ].bytes - wq,
                        512.0 * (4096 + 4096 + 2 * 1024) * 2) < 1e-12);
    assert_true(rel_err(b2[SS_OP_QKV_PROJ].bytes - wq,
                        2 * (a[SS_OP_QKV_PROJ].bytes - wq)) < 1e-12);
    /* No decode part in a prefill-only batch, and vice versa. */
    assert_true(a[SS_OP_ATTN_DECODE].flops == 0 && a[SS_OP_ATTN_DECODE].kernels == 0);
    ss_batch_shape dec = decode_batch(8, 100);
    ss_model_layer_work(&m, 0, 1, SS_DTYPE_BF16, SS_DTYPE_BF16, SS_DTYPE_BF16, &dec, a);
    assert_true(a[SS_OP_ATTN_PREFILL].flops == 0 && a[SS_OP_ATTN_PREFILL].bytes == 0);
    /* Two residual adds fused into the norms: their traffic counts, their launches not. */
    assert_true(rel_err(a[SS_OP_RESIDUAL].bytes, 2.0 * 2 * 8 * 4096 * 2) < 1e-12);
    assert_true(a[SS_OP_RESIDUAL].kernels == 0);
    assert_true(rel_err(a[SS_OP_NORM].bytes, 2.0 * (2 * 8 * 4096 * 2 + 4096 * 2)) < 1e-12);
    /* Decode layer: 2 norms, qkv, rope, attention + cache write, o, up, act, down. */
    double kernels = 0;
    for (int k = 0; k < SS_OP_COUNT; k++) kernels += a[k].kernels;
    assert_true(kernels == 10);
}

/* GELU MLPs have one up matrix, gated SiLU two (gate and up). */
static void test_mlp_forms(void **state)
{
    (void)state;
    ss_model gated, gelu;
    ss_diag d;
    assert_int_equal(parse_text(BASE_HEAD, &gated, &d), SS_OK);
    assert_int_equal(parse_text(BASE_HEAD "mlp: gelu\n", &gelu, &d), SS_OK);
    /* 4 layers x (3 - 2) x 256 x 512 fewer weights. */
    assert_int_equal(ss_model_params(&gated) - ss_model_params(&gelu), 4ULL * 256 * 512);
    ss_batch_shape b = prefill_batch(1, 100, 0);
    ss_op_work wg[SS_OP_COUNT], we[SS_OP_COUNT];
    ss_model_layer_work(&gated, 0, 1, SS_DTYPE_BF16, SS_DTYPE_BF16, SS_DTYPE_BF16, &b, wg);
    ss_model_layer_work(&gelu, 0, 1, SS_DTYPE_BF16, SS_DTYPE_BF16, SS_DTYPE_BF16, &b, we);
    assert_true(rel_err(wg[SS_OP_MLP_UP].flops, 2.0 * 100 * 256 * 2 * 512) < 1e-12);
    assert_true(rel_err(we[SS_OP_MLP_UP].flops, 2.0 * 100 * 256 * 512) < 1e-12);
    assert_true(we[SS_OP_MLP_DOWN].flops == wg[SS_OP_MLP_DOWN].flops);
    /* SiLU-and-mul reads two rows, GELU one. */
    assert_true(rel_err(wg[SS_OP_MLP_ACT].bytes, 3.0 * 100 * 512 * 2) < 1e-12);
    assert_true(rel_err(we[SS_OP_MLP_ACT].bytes, 2.0 * 100 * 512 * 2) < 1e-12);
}

static void test_kv_traffic(void **state)
{
    (void)state;
    ss_model m = load("llama-3.1-70b");
    ss_op_work a[SS_OP_COUNT], b2[SS_OP_COUNT];
    /* tp = 16 exceeds the 8 KV heads: each GPU still reads one whole head. */
    for (int tp = 1; tp <= 16; tp *= 2) {
        ss_batch_shape s = decode_batch(16, 1000), l = decode_batch(16, 2000);
        ss_model_layer_work(&m, 0, tp, SS_DTYPE_BF16, SS_DTYPE_BF16, SS_DTYPE_BF16, &s, a);
        ss_model_layer_work(&m, 0, tp, SS_DTYPE_BF16, SS_DTYPE_BF16, SS_DTYPE_BF16, &l, b2);
        /* 16,000 more context tokens cost exactly their KV bytes, per layer per GPU. */
        double per_layer = (double)ss_model_kv_bytes_per_token(&m, SS_DTYPE_BF16, tp) / 80;
        assert_true(rel_err(b2[SS_OP_ATTN_DECODE].bytes - a[SS_OP_ATTN_DECODE].bytes,
                            16000.0 * per_layer) < 1e-12);
        assert_true(rel_err(b2[SS_OP_ATTN_DECODE].flops, 2.0 * a[SS_OP_ATTN_DECODE].flops) <
                    1e-12);
    }
    /* A prefill chunk over a cached prefix re-reads that prefix's KV. */
    ss_batch_shape p0 = prefill_batch(1, 256, 0), p1 = prefill_batch(1, 256, 4096);
    ss_model_layer_work(&m, 0, 1, SS_DTYPE_BF16, SS_DTYPE_BF16, SS_DTYPE_BF16, &p0, a);
    ss_model_layer_work(&m, 0, 1, SS_DTYPE_BF16, SS_DTYPE_BF16, SS_DTYPE_BF16, &p1, b2);
    assert_true(rel_err(b2[SS_OP_ATTN_PREFILL].bytes - a[SS_OP_ATTN_PREFILL].bytes,
                        4096.0 * 327680 / 80) < 1e-12);
    /* An fp8 cache halves the KV part only. */
    ss_op_work f8[SS_OP_COUNT];
    ss_batch_shape big = decode_batch(1, 100000);
    ss_model_layer_work(&m, 0, 1, SS_DTYPE_BF16, SS_DTYPE_BF16, SS_DTYPE_BF16, &big, a);
    ss_model_layer_work(&m, 0, 1, SS_DTYPE_BF16, SS_DTYPE_BF16, SS_DTYPE_FP8, &big, f8);
    assert_true(rel_err(f8[SS_OP_ATTN_DECODE].bytes, a[SS_OP_ATTN_DECODE].bytes / 2) < 1e-3);
    assert_true(f8[SS_OP_QKV_PROJ].bytes == a[SS_OP_QKV_PROJ].bytes);
}

static void test_tensor_parallel_split(void **state)
{
    (void)state;
    ss_model m = load("llama-3.1-70b");
    ss_batch_shape b = prefill_batch(2, 1024, 0);
    ss_op_work t1[SS_OP_COUNT], t4[SS_OP_COUNT], h1[SS_OP_COUNT], h4[SS_OP_COUNT];
    ss_model_layer_work(&m, 0, 1, SS_DTYPE_BF16, SS_DTYPE_BF16, SS_DTYPE_BF16, &b, t1);
    ss_model_layer_work(&m, 0, 4, SS_DTYPE_BF16, SS_DTYPE_BF16, SS_DTYPE_BF16, &b, t4);
    assert_true(rel_err(gemm_flops(t4), gemm_flops(t1) / 4) < 1e-12);
    assert_true(rel_err(t4[SS_OP_ATTN_PREFILL].flops, t1[SS_OP_ATTN_PREFILL].flops / 4) <
                1e-12);
    /* Norms are not sharded. */
    assert_true(t4[SS_OP_NORM].bytes == t1[SS_OP_NORM].bytes);
    /* Two all-reduces of T x H bf16 per layer at tp > 1, none at tp = 1. */
    assert_true(t1[SS_OP_TP_ALLREDUCE].comm_bytes == 0 && t1[SS_OP_TP_ALLREDUCE].kernels == 0);
    assert_true(t4[SS_OP_TP_ALLREDUCE].comm_bytes == 2.0 * 2048 * 8192 * 2);
    assert_true(t4[SS_OP_TP_ALLREDUCE].kernels == 2);

    ss_model_head_work(&m, 1, SS_DTYPE_BF16, SS_DTYPE_BF16, &b, h1);
    ss_model_head_work(&m, 4, SS_DTYPE_BF16, SS_DTYPE_BF16, &b, h4);
    /* LM head on the 2 sampled rows only, split by vocab. */
    assert_true(rel_err(h1[SS_OP_LOGITS].flops, 2.0 * 2 * 8192 * 128256) < 1e-12);
    assert_true(rel_err(h4[SS_OP_LOGITS].flops, h1[SS_OP_LOGITS].flops / 4) < 1e-12);
    assert_true(h1[SS_OP_TP_ALLREDUCE].comm_bytes == 0);
    assert_true(h4[SS_OP_TP_ALLREDUCE].comm_bytes == 2048.0 * 8192 * 2); /* embedding */
    assert_true(h1[SS_OP_EMBED].bytes > 0 && h1[SS_OP_NORM].kernels == 1);
    /* The head never fills layer-only operators and vice versa. */
    assert_true(h1[SS_OP_QKV_PROJ].flops == 0 && t1[SS_OP_LOGITS].flops == 0 &&
                t1[SS_OP_EMBED].bytes == 0);
}

static void test_moe_work(void **state)
{
    (void)state;
    ss_model m = load("mixtral-8x7b");
    double H = 4096, I = 14336;
    double expert_bytes = 3 * H * I * 2; /* gate, up, down in bf16 */
    ss_op_work w[SS_OP_COUNT];

    /* One token touches exactly k = 2 experts. */
    ss_batch_shape one = decode_batch(1, 10);
    ss_model_layer_work(&m, 0, 1, SS_DTYPE_BF16, SS_DTYPE_BF16, SS_DTYPE_BF16, &one, w);
    double wbytes = w[SS_OP_MLP_UP].bytes + w[SS_OP_MLP_DOWN].bytes;
    assert_true(wbytes > 2 * expert_bytes && wbytes < 2 * expert_bytes * 1.001);
    assert_true(w[SS_OP_MOE_ROUTER].flops >= 2 * H * 8);

    /* Many tokens touch all 8. */
    ss_batch_shape many = decode_batch(256, 10);
    ss_model_layer_work(&m, 0, 1, SS_DTYPE_BF16, SS_DTYPE_BF16, SS_DTYPE_BF16, &many, w);
    wbytes = w[SS_OP_MLP_UP].bytes + w[SS_OP_MLP_DOWN].bytes;
    assert_true(wbytes > 8 * expert_bytes && wbytes < 8 * expert_bytes * 1.05);

    /* Expected distinct experts for T = 2: 8 (1 - (6/8)^2) = 3.5. */
    ss_batch_shape two = decode_batch(2, 10);
    ss_model_layer_work(&m, 0, 1, SS_DTYPE_BF16, SS_DTYPE_BF16, SS_DTYPE_BF16, &two, w);
    double up_w = w[SS_OP_MLP_UP].bytes - 2 * 2 * H * 2 - 2 * 2 * 2 * I * 2;
    assert_true(rel_err(up_w, 3.5 * 2 * H * I * 2) < 1e-12);

    /* FLOPs follow active parameters: top-2 of 8. */
    ss_batch_shape b = decode_batch(32, 1);
    ss_op_work t[SS_OP_COUNT];
    iteration_work(&m, 1, SS_DTYPE_BF16, &b, t);
    double active_ffn = 2 * 3 * H * I, attn = H * (4096 + 2 * 1024) + 4096 * H;
    double body = 32 * (active_ffn + attn);
    assert_true(rel_err(gemm_flops(t), 2.0 * 32 * body) < 0.01);
    double doubled;
    ss_batch_shape b64 = decode_batch(64, 1);
    iteration_work(&m, 1, SS_DTYPE_BF16, &b64, t);
    doubled = gemm_flops(t);
    assert_true(rel_err(doubled, 2.0 * 2.0 * 32 * body) < 0.01);

    /* qwen3-30b-a3b at tp = 2 shards every expert's width. */
    ss_model q = load("qwen3-30b-a3b");
    ss_op_work q1[SS_OP_COUNT], q2[SS_OP_COUNT];
    ss_model_layer_work(&q, 0, 1, SS_DTYPE_BF16, SS_DTYPE_BF16, SS_DTYPE_BF16, &b, q1);
    ss_model_layer_work(&q, 0, 2, SS_DTYPE_BF16, SS_DTYPE_BF16, SS_DTYPE_BF16, &b, q2);
    assert_true(rel_err(q2[SS_OP_MLP_UP].flops, q1[SS_OP_MLP_UP].flops / 2) < 1e-12);
    assert_true(rel_err(q1[SS_OP_MLP_UP].flops, 2.0 * 32 * 8 * 2048 * 2 * 768) < 1e-12);
}

static void test_empty_batch(void **state)
{
    (void)state;
    ss_model m = load("llama-3.1-8b");
    ss_batch_shape b;
    memset(&b, 0, sizeof b);
    ss_op_work w[SS_OP_COUNT];
    memset(w, 0x7f, sizeof w);
    ss_model_layer_work(&m, 0, 2, SS_DTYPE_BF16, SS_DTYPE_BF16, SS_DTYPE_BF16, &b, w);
    for (int k = 0; k < SS_OP_COUNT; k++)
        assert_true(w[k].flops == 0 && w[k].bytes == 0 && w[k].kernels == 0 &&
                    w[k].comm_bytes == 0);
    memset(w, 0x7f, sizeof w);
    ss_model_head_work(&m, 2, SS_DTYPE_BF16, SS_DTYPE_BF16, &b, w);
    for (int k = 0; k < SS_OP_COUNT; k++)
        assert_true(w[k].flops == 0 && w[k].bytes == 0 && w[k].kernels == 0);
    /* An out-of-range group is all zeros, not a read past the table. */
    ss_batch_shape d = decode_batch(4, 10);
    ss_model_layer_work(&m, 5, 1, SS_DTYPE_BF16, SS_DTYPE_BF16, SS_DTYPE_BF16, &d, w);
    for (int k = 0; k < SS_OP_COUNT; k++) assert_true(w[k].flops == 0);
}

/* ================================================================== docs */

/* docs/models.md must carry the schema rows exactly as the key tables generate them, so a
 * key added or changed in model.c without updating the docs fails here. */
static void test_docs_current(void **state)
{
    (void)state;
    FILE *f = fopen("docs/models.md", "rb");
    if (!f) fail_msg("docs/models.md not found (run from the repository root)");
    char *doc = malloc(1 << 20);
    assert_non_null(doc);
    size_t n = fread(doc, 1, (1 << 20) - 1, f);
    doc[n] = '\0';
    fclose(f);

    char *gen = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&gen, &len);
    assert_non_null(out);
    ss_model_doc_markdown(out);
    fclose(out);
    int rows = 0;
    for (char *line = strtok(gen, "\n"); line; line = strtok(NULL, "\n"), rows++)
        if (!strstr(doc, line))
            fail_msg("docs/models.md lacks this generated row (regenerate the schema "
                     "table):\n%s",
                     line);
    assert_true(rows > 20);
    for (int i = 0; zoo_names[i]; i++) assert_non_null(strstr(doc, zoo_names[i]));
    free(gen);
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dtypes),
        cmocka_unit_test(test_zoo_files),
        cmocka_unit_test(test_load_by_name_and_path),
        cmocka_unit_test(test_kv_bytes_per_token),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_check_tp),
        cmocka_unit_test(test_parse_defaults),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_unsupported_layers),
        cmocka_unit_test(test_decode_flops_match_params),
        cmocka_unit_test(test_gemm_flops_scale_with_tokens),
        cmocka_unit_test(test_mlp_forms),
        cmocka_unit_test(test_kv_traffic),
        cmocka_unit_test(test_tensor_parallel_split),
        cmocka_unit_test(test_moe_work),
        cmocka_unit_test(test_empty_batch),
        cmocka_unit_test(test_docs_current),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
