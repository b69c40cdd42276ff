/* LLMServingSim's vLLM per-layer profiles (casys-kaist/LLMServingSim):
 *
 *   <HW>/<org>/<model>/<variant>/meta.yaml
 *   <HW>/<org>/<model>/<variant>/tpN/{dense,per_sequence,attention,moe,skew}.csv[.gz]
 *
 * Times are microseconds per call. The tables name operators and token counts but no
 * shapes, so shapes come from servesim's model file for meta.yaml's `model` (matched by its
 * Hugging Face id in the model file's `source`, else by name), split by the TP degree of the
 * tpN folder, and checked against meta.yaml's hf_overrides (the per-GPU shapes the profiler
 * ran with at its largest TP degree). GPU = meta.yaml `gpu`; stack = "vllm-<major.minor>"
 * plus "-eager" when engine_effective.enforce_eager is true. skew.csv shots are validated here
 * and left to ss_meas_read_skew (they are not one-KV-length rows). */
#include "hwprofiles/calib/calib_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hwprofiles/hw.h"

#define US 1e-6

/*============================================================ meta.yaml + model */

typedef struct lss_meta {
    char model_id[160];   /* meta `model` (Hugging Face id) */
    char gpu[128];
    char stack[64];
    int tp;               /* from the tpN folder */
    ss_model model;       /* full model from models/data */
    /* per GPU at this tp */
    int64_t hidden, hq, hkv, hd, ffn, vocab, moe_inter;
    char meta_path[600];
} lss_meta;

static const char *scalar_at(ss_doc *doc, yaml_node_t *map, const char *key)
{
    yaml_node_t *n = map ? ss_node_get(doc, map, key) : NULL;
    return n ? ss_node_scalar(n) : NULL;
}

/* Find the servesim model for a Hugging Face id. */
static ss_rc find_model(const char *id, ss_model *out, char *used, size_t used_n)
{
    ss_diag quiet;
    char needle[200];
    snprintf(needle, sizeof needle, "huggingface.co/%s/", id);
    for (const ss_embedded_file *z = ss_model_zoo; z->name; z++) {
        if (!strstr(z->text, needle)) continue;
        ss_diag_clear(&quiet);
        if (ss_model_load(z->name, NULL, out, &quiet) == SS_OK) {
            snprintf(used, used_n, "%s", out->name);
            return SS_OK;
        }
    }
    /* By name: the id's last part lower-cased, then without trailing "-suffix" parts
     * (Qwen3-30B-A3B-Instruct-2507 -> qwen3-30b-a3b). Shapes are checked afterwards. */
    const char *base = strrchr(id, '/');
    char name[160];
    snprintf(name, sizeof name, "%s", base ? base + 1 : id);
    for (char *p = name; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    for (;;) {
        ss_diag_clear(&quiet);
        if (ss_model_load(name, NULL, out, &quiet) == SS_OK) {
            snprintf(used, used_n, "%s", out->name);
            return SS_OK;
        }
        char *dash = strrchr(name, '-');
        if (!dash) break;
        *dash = '\0';
    }
    return SS_ERR_NOTFOUND;
}

static ss_rc meta_int(ss_diag *d, ss_doc *doc, yaml_node_t *map, const char *key,
                      const char *keypath, int64_t *out)
{
    yaml_node_t *n = map ? ss_node_get(doc, map, key) : NULL;
    const char *s = n ? ss_node_scalar(n) : NULL;
    if (!n)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, map, keypath, "missing required key");
    if (!s || ss_parse_i64(s, out) || *out < 1)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, n, keypath, "expected a positive integer");
    return SS_OK;
}

static ss_rc load_meta(const char *table_path, lss_meta *mt, ss_diag *d)
{
    memset(mt, 0, sizeof *mt);
    char tpdir[128], dir[600], vdir[600];
    if (!ss_path_up(table_path, 1, tpdir, sizeof tpdir) || strncmp(tpdir, "tp", 2) ||
        ss_parse_i64(tpdir + 2, &(int64_t){0}))
        return ss_diag_set(d, SS_ERR_INVALID, table_path, 0, 0, NULL,
                           "expected the table in a tpN folder (<HW>/<org>/<model>/<variant>/tpN/)");
    int64_t tp;
    ss_parse_i64(tpdir + 2, &tp);
    if (tp < 1 || tp > 1024)
        return ss_diag_set(d, SS_ERR_INVALID, table_path, 0, 0, NULL, "bad TP folder '%s'", tpdir);
    mt->tp = (int)tp;
    ss_path_dir(table_path, dir, sizeof dir);
    ss_path_dir(dir, vdir, sizeof vdir);
    if (snprintf(mt->meta_path, sizeof mt->meta_path, "%.580s/meta.yaml", vdir) < 0)
        return ss_diag_fail(d, SS_ERR_INTERNAL, "snprintf failed");
    ss_doc *doc = NULL;
    ss_rc rc = ss_doc_load_file(mt->meta_path, &doc, d);
    if (rc) return rc;
    yaml_node_t *root = ss_doc_root(doc);
    const char *model = scalar_at(doc, root, "model");
    const char *gpu = scalar_at(doc, root, "gpu");
    const char *ver = scalar_at(doc, root, "vllm_version");
    yaml_node_t *eng = root ? ss_node_get(doc, root, "engine_effective") : NULL;
    yaml_node_t *ovr = eng ? ss_node_get(doc, eng, "hf_overrides") : NULL;
    const char *eager = scalar_at(doc, eng, "enforce_eager");
    if (!model || !model[0])
        rc = ss_cfg_error(d, SS_ERR_INVALID, doc, root, "model", "missing required key");
    else if (!gpu || !gpu[0])
        rc = ss_cfg_error(d, SS_ERR_INVALID, doc, root, "gpu", "missing required key");
    else if (!ver || !ver[0])
        rc = ss_cfg_error(d, SS_ERR_INVALID, doc, root, "vllm_version", "missing required key");
    else if (!ovr)
        rc = ss_cfg_error(d, SS_ERR_INVALID, doc, eng ? eng : root, "engine_effective.hf_overrides",
                          "missing required key");
    int64_t o_heads = 0, o_kv = 0, o_ffn = 0, o_vocab = 0, maxtp = 1;
    if (!rc) {
        snprintf(mt->model_id, sizeof mt->model_id, "%s", model);
        snprintf(mt->gpu, sizeof mt->gpu, "%s", gpu);
        int maj = 0, min = 0;
        if (sscanf(ver, "%d.%d", &maj, &min) != 2)
            rc = ss_cfg_error(d, SS_ERR_INVALID, doc, ss_node_get(doc, root, "vllm_version"),
                              "vllm_version", "expected MAJOR.MINOR[.PATCH], got '%s'", ver);
        snprintf(mt->stack, sizeof mt->stack, "vllm-%d.%d%s", maj, min,
                 eager && !strcmp(eager, "true") ? "-eager" : "");
    }
    if (!rc) rc = meta_int(d, doc, ovr, "num_attention_heads",
                           "engine_effective.hf_overrides.num_attention_heads", &o_heads);
    if (!rc) rc = meta_int(d, doc, ovr, "num_key_value_heads",
                           "engine_effective.hf_overrides.num_key_value_heads", &o_kv);
    if (!rc) rc = meta_int(d, doc, ovr, "intermediate_size",
                           "engine_effective.hf_overrides.intermediate_size", &o_ffn);
    if (!rc) rc = meta_int(d, doc, ovr, "vocab_size", "engine_effective.hf_overrides.vocab_size",
                           &o_vocab);
    yaml_node_t *tps = root ? ss_node_get(doc, root, "tp_degrees") : NULL;
    int tp_listed = 0;
    for (size_t i = 0; !rc && i < ss_node_seq_len(tps); i++) {
        const char *s = ss_node_scalar(ss_node_seq_at(doc, tps, i));
        int64_t v;
        if (!s || ss_parse_i64(s, &v) || v < 1) {
            rc = ss_cfg_error(d, SS_ERR_INVALID, doc, tps, "tp_degrees", "expected integers");
            break;
        }
        if (v > maxtp) maxtp = v;
        if (v == tp) tp_listed = 1;
    }
    if (!rc && !tp_listed)
        rc = ss_cfg_error(d, SS_ERR_INVALID, doc, tps ? tps : root, "tp_degrees",
                          "does not list %lld, the TP degree of folder %s", (long long)tp, tpdir);
    char used[64];
    if (!rc && find_model(mt->model_id, &mt->model, used, sizeof used))
        rc = ss_cfg_error(d, SS_ERR_INVALID, doc, ss_node_get(doc, root, "model"), "model",
                          "no servesim model file for '%s' (models/data/; add one to read the "
                          "shapes of these tables)",
                          mt->model_id);
    if (!rc) {
        const ss_model *m = &mt->model;
        int64_t ffn_full = m->intermediate_size;
        /* the overrides are the per-GPU shapes at the largest TP degree */
        if (o_heads * maxtp != m->num_heads ||
            o_kv != (m->num_kv_heads >= maxtp ? m->num_kv_heads / maxtp : 1) ||
            o_ffn * maxtp != ffn_full || o_vocab * maxtp != m->vocab_size)
            rc = ss_cfg_error(d, SS_ERR_INVALID, doc, ovr, "engine_effective.hf_overrides",
                              "per-GPU shapes (heads %lld, kv heads %lld, intermediate %lld, "
                              "vocab %lld at TP %lld) do not match model file %s (heads %d, kv "
                              "heads %d, intermediate %d, vocab %d)",
                              (long long)o_heads, (long long)o_kv, (long long)o_ffn,
                              (long long)o_vocab, (long long)maxtp, used, m->num_heads,
                              m->num_kv_heads, m->intermediate_size, m->vocab_size);
    }
    if (!rc) {
        const ss_model *m = &mt->model;
        if (m->num_heads % tp || m->intermediate_size % tp ||
            (m->num_kv_heads % tp && tp % m->num_kv_heads))
            rc = ss_diag_set(d, SS_ERR_INVALID, table_path, 0, 0, NULL,
                             "TP %lld does not split model %s", (long long)tp, used);
        mt->hidden = m->hidden_size;
        mt->hq = m->num_heads / tp;
        mt->hkv = m->num_kv_heads >= tp ? m->num_kv_heads / tp : 1;
        mt->hd = m->head_dim;
        mt->ffn = m->intermediate_size / tp;
        mt->vocab = m->vocab_size;
        mt->moe_inter = (m->moe_intermediate_size ? m->moe_intermediate_size
                                                  : m->intermediate_size) / tp;
    }
    ss_doc_free(doc);
    return rc;
}

/*============================================================ tables */

typedef struct dense_op {
    const char *name;
    ss_fam fam;
} dense_op;

static const dense_op dense_ops[] = {
    {"embedding", SS_FAM_EMBED},   {"layernorm", SS_FAM_ELEMWISE}, {"qkv_proj", SS_FAM_GEMM},
    {"qk_norm", SS_FAM_ELEMWISE},  {"rotary_emb", SS_FAM_ELEMWISE}, {"o_proj", SS_FAM_GEMM},
    {"gate_up_proj", SS_FAM_GEMM}, {"act_fn", SS_FAM_ELEMWISE},    {"down_proj", SS_FAM_GEMM},
    {"final_layernorm", SS_FAM_ELEMWISE},
};

static ss_rc shape_dense(ss_cf *cf, const lss_meta *mt, const char *name, ss_meas *m)
{
    for (size_t i = 0; i < sizeof dense_ops / sizeof *dense_ops; i++) {
        if (strcmp(name, dense_ops[i].name)) continue;
        m->family = (uint8_t)dense_ops[i].fam;
        if (!strcmp(name, "qkv_proj")) {
            m->n = (mt->hq + 2 * mt->hkv) * mt->hd;
            m->k = mt->hidden;
        } else if (!strcmp(name, "o_proj")) {
            m->n = mt->hidden;
            m->k = mt->hq * mt->hd;
        } else if (!strcmp(name, "gate_up_proj")) {
            m->n = 2 * mt->ffn; /* gated MLP */
            m->k = mt->hidden;
        } else if (!strcmp(name, "down_proj")) {
            m->n = mt->hidden;
            m->k = mt->ffn;
        } else if (!strcmp(name, "act_fn")) {
            m->n = mt->ffn;
        } else if (!strcmp(name, "rotary_emb") || !strcmp(name, "qk_norm")) {
            m->n = (mt->hq + mt->hkv) * mt->hd;
        } else {
            m->n = mt->hidden;
        }
        return SS_OK;
    }
    return ss_cf_err(cf, "layer",
                     "unknown operator '%.40s' (embedding, layernorm, qkv_proj, qk_norm, "
                     "rotary_emb, o_proj, gate_up_proj, act_fn, down_proj, final_layernorm)",
                     name);
}

typedef enum { L_DENSE, L_PERSEQ, L_ATTN, L_MOE, L_SKEW, L_COUNT } lss_kind;
static const char *const lss_files[L_COUNT] = {"dense.csv", "per_sequence.csv", "attention.csv",
                                               "moe.csv", "skew.csv"};
static const char *const lss_headers[L_COUNT] = {
    "layer,tokens,time_us", "layer,sequences,time_us",
    "prefill_chunk,kv_prefill,n_decode,kv_decode,time_us", "tokens,activated_experts,time_us",
    "regime,n,nb,ratio,skew,pc,kp,kvs,kv_big,kv_mean,t_mean_us,t_max_us,t_skew_us,alpha"};

static int kind_of(const char *path)
{
    for (int i = 0; i < L_COUNT; i++)
        if (ss_path_is(path, lss_files[i])) return i;
    return -1;
}

/* One skew shot from the current row. */
static ss_rc skew_row(ss_cf *cf, ss_meas_skew *s)
{
    int64_t v;
    ss_rc rc;
    memset(s, 0, sizeof *s);
    if (!strcmp(cf->f[0], "pure")) s->mixed = 0;
    else if (!strcmp(cf->f[0], "mixed")) s->mixed = 1;
    else return ss_cf_err(cf, "regime", "expected pure or mixed, got '%.40s'", cf->f[0]);
    if ((rc = ss_cf_int(cf, 1, NULL, 1, INT32_MAX, &v))) return rc;
    s->n = (int32_t)v;
    if ((rc = ss_cf_int(cf, 2, NULL, 0, s->n, &v))) return rc;
    s->nb = (int32_t)v;
    double ratio, skew;
    if ((rc = ss_cf_num(cf, 3, NULL, 0.0, &ratio)) || (rc = ss_cf_num(cf, 4, NULL, 0.0, &skew)) ||
        (rc = ss_cf_int(cf, 5, NULL, 0, INT64_MAX / 2, &s->pc)) ||
        (rc = ss_cf_int(cf, 6, NULL, 0, INT64_MAX / 2, &s->kp)) ||
        (rc = ss_cf_int(cf, 7, NULL, 0, INT64_MAX / 2, &s->kvs)) ||
        (rc = ss_cf_int(cf, 8, NULL, 0, INT64_MAX / 2, &s->kv_big)) ||
        (rc = ss_cf_num(cf, 9, NULL, 0.0, &s->kv_mean)) ||
        (rc = ss_cf_num(cf, 10, NULL, 0.0, &s->t_mean_s)) ||
        (rc = ss_cf_num(cf, 11, NULL, 0.0, &s->t_max_s)) ||
        (rc = ss_cf_num(cf, 12, NULL, 0.0, &s->t_skew_s)))
        return rc;
    /* alpha is empty upstream where it is undefined (t_max <= t_mean): NaN here. */
    if (!cf->f[13][0] && s->t_max_s <= s->t_mean_s) s->alpha = NAN;
    else if (ss_parse_f64(cf->f[13], &s->alpha))
        return ss_cf_err(cf, "alpha", "expected a number, got '%.40s'", cf->f[13]);
    if (s->mixed != (s->pc > 0))
        return ss_cf_err(cf, "pc", "%s shot with prefill chunk %lld",
                         s->mixed ? "mixed" : "pure", (long long)s->pc);
    if (s->kv_big < s->kvs)
        return ss_cf_err(cf, "kv_big", "%lld is below kvs %lld", (long long)s->kv_big,
                         (long long)s->kvs);
    s->t_mean_s *= US;
    s->t_max_s *= US;
    s->t_skew_s *= US;
    s->line = cf->lineno;
    return SS_OK;
}

static ss_rc check_header(ss_cf *cf, int kind)
{
    if (strcmp(cf->hdr_text, lss_headers[kind])) {
        cf->lineno = 1;
        return ss_cf_err(cf, NULL, "unexpected header for %s (expected '%s')", lss_files[kind],
                         lss_headers[kind]);
    }
    return SS_OK;
}

static ss_rc read_table(ss_calib_ctx *c, ss_cf *cf, int kind, const lss_meta *mt)
{
    ss_rc rc = check_header(cf, kind);
    if (rc) return rc;
    uint32_t model_off = ss_calib_str(c, mt->model_id, &rc);
    uint32_t op_attn = ss_calib_str(c, "attention", &rc);
    uint32_t op_moe = ss_calib_str(c, "fused_moe", &rc);
    if (rc) return rc;
    uint64_t shots = 0;
    int r;
    while ((r = ss_cf_next(cf)) == 1) {
        if ((rc = ss_cf_row(cf))) return rc;
        ss_meas m;
        memset(&m, 0, sizeof m);
        m.dtype = m.kv_dtype = SS_DTYPE_BF16;
        m.gpus = mt->tp;
        m.model = model_off;
        m.line = cf->lineno;
        double us;
        int64_t a[4];
        switch (kind) {
        case L_DENSE:
        case L_PERSEQ:
            if ((rc = ss_cf_int(cf, 1, NULL, 1, INT32_MAX, &m.m)) ||
                (rc = ss_cf_num(cf, 2, NULL, 0.0, &us)))
                return rc;
            if (kind == L_DENSE) {
                m.kv_dtype = 0;
                if ((rc = shape_dense(cf, mt, cf->f[0], &m))) return rc;
            } else if (!strcmp(cf->f[0], "lm_head")) {
                m.family = SS_FAM_LM_HEAD;
                m.n = mt->vocab / mt->tp; /* vocab-parallel logits */
                m.k = mt->hidden;
            } else if (!strcmp(cf->f[0], "sampler")) {
                m.family = SS_FAM_SAMPLER;
                m.n = mt->vocab; /* samples over the gathered full vocabulary */
            } else {
                return ss_cf_err(cf, "layer", "unknown operator '%.40s' (lm_head, sampler)",
                                 cf->f[0]);
            }
            m.kv_dtype = 0;
            m.op = ss_calib_str(c, cf->f[0], &rc);
            if (rc) return rc;
            break;
        case L_ATTN:
            for (int i = 0; i < 4; i++)
                if ((rc = ss_cf_int(cf, i, NULL, 0, INT32_MAX, &a[i]))) return rc;
            if ((rc = ss_cf_num(cf, 4, NULL, 0.0, &us))) return rc;
            if (!a[0] && a[1])
                return ss_cf_err(cf, "kv_prefill", "%lld cached tokens without a prefill chunk",
                                 (long long)a[1]);
            if (!a[2] && a[3])
                return ss_cf_err(cf, "kv_decode", "%lld cached tokens without decode requests",
                                 (long long)a[3]);
            if (!a[0] && !a[2])
                return ss_cf_err(cf, "n_decode", "neither a prefill chunk nor decodes");
            if (a[2] && !a[3])
                return ss_cf_err(cf, "kv_decode", "decode requests with no cached tokens");
            m.heads = (int32_t)mt->hq;
            m.kv_heads = (int32_t)mt->hkv;
            m.head_dim = (int32_t)mt->hd;
            m.op = op_attn;
            if (a[0] && a[2]) {
                m.family = SS_FAM_ATTN_MIXED;
                m.batch = 1;
                m.q = a[0];
                m.kv = a[1];
                m.n_decode = (int32_t)a[2];
                m.kv_decode = a[3];
            } else if (a[0]) {
                m.family = SS_FAM_ATTN_PREFILL;
                m.batch = 1;
                m.q = a[0];
                m.kv = a[1];
            } else {
                m.family = SS_FAM_ATTN_DECODE;
                m.batch = (int32_t)a[2];
                m.kv = a[3];
            }
            break;
        case L_MOE:
            if ((rc = ss_cf_int(cf, 0, NULL, 1, INT32_MAX, &m.m)) ||
                (rc = ss_cf_int(cf, 1, NULL, 1, mt->model.num_experts ? mt->model.num_experts : 1,
                                &a[0])) ||
                (rc = ss_cf_num(cf, 2, NULL, 0.0, &us)))
                return rc;
            if (!mt->model.num_experts)
                return ss_cf_err(cf, NULL, "moe.csv for %s, which has no experts", mt->model_id);
            m.family = SS_FAM_MOE;
            m.kv_dtype = 0;
            m.experts = mt->model.num_experts; /* one GPU holds all (no EP) */
            m.topk = mt->model.experts_per_token;
            m.active_experts = (int32_t)a[0];
            m.hidden = mt->hidden;
            m.inter = mt->moe_inter;
            m.op = op_moe;
            break;
        default: { /* skew: validated here, read by ss_meas_read_skew */
            ss_meas_skew s;
            if ((rc = skew_row(cf, &s))) return rc;
            shots++;
            continue;
        }
        }
        m.time_s = us * US;
        if ((rc = ss_calib_push(c, &m))) return rc;
    }
    if (r < 0) return (ss_rc)r;
    if (kind == L_SKEW)
        ss_calib_note(c, "%llu skew shots (decode batches of mixed KV lengths): not ss_meas rows; read "
                 "them with ss_meas_read_skew",
                 (unsigned long long)shots);
    return SS_OK;
}

static int detect(const char *p, const char *first)
{
    int k = kind_of(p);
    return k >= 0 && !strcmp(first, lss_headers[k]);
}

static ss_rc read_file(ss_calib_ctx *c)
{
    int kind = kind_of(c->s->path);
    if (kind < 0)
        return ss_diag_set(c->d, SS_ERR_INVALID, c->s->path, 0, 0, NULL,
                           "not an LLMServingSim table (dense, per_sequence, attention, moe, "
                           "skew; .csv or .csv.gz in a tpN folder)");
    lss_meta *mt = malloc(sizeof *mt);
    if (!mt) return ss_diag_fail(c->d, SS_ERR_NOMEM, "out of memory");
    ss_rc rc = load_meta(c->s->path, mt, c->d);
    if (!rc) {
        ss_calib_set_gpu(c, mt->gpu);
        snprintf(c->s->stack, sizeof c->s->stack, "%s", mt->stack);
    }
    if (!rc && !c->skipped_gpu) {
        ss_cf cf;
        rc = ss_cf_open(&cf, c->s->path, c->d);
        if (!rc) {
            rc = ss_cf_header(&cf);
            if (!rc) rc = read_table(c, &cf, kind, mt);
            ss_cf_close(&cf);
        }
    }
    free(mt);
    return rc;
}

static const char *companion(const char *p, const char *first)
{
    if (ss_path_is(p, "meta.yaml") && !strncmp(first, "profiler_version:", 17))
        return "metadata of the tpN tables beside it (GPU, vLLM version, shapes): read with them";
    return NULL;
}

const ss_meas_reader ss_meas_reader_llmservingsim = {
    "llmservingsim",
    "LLMServingSim vLLM profiles: <HW>/<org>/<model>/<variant>/tpN/{dense,per_sequence,attention,"
    "moe,skew}.csv[.gz] + meta.yaml (us)",
    detect, read_file, companion};

/*============================================================ skew shots */

ss_rc ss_meas_read_skew(const char *path, ss_meas_skew_table *out, ss_diag *d)
{
    memset(out, 0, sizeof *out);
    if (kind_of(path) != L_SKEW)
        return ss_diag_set(d, SS_ERR_INVALID, path, 0, 0, NULL,
                           "not an LLMServingSim skew table (skew.csv or skew.csv.gz)");
    lss_meta *mt = malloc(sizeof *mt);
    if (!mt) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    ss_rc rc = load_meta(path, mt, d);
    if (!rc) rc = ss_meas_sha256(path, out->source.sha256, d);
    if (!rc) {
        snprintf(out->source.path, sizeof out->source.path, "%s", path);
        snprintf(out->source.format, sizeof out->source.format, "llmservingsim");
        const char *canon = ss_hw_canonical(mt->gpu);
        snprintf(out->source.gpu, sizeof out->source.gpu, "%.63s", canon ? canon : mt->gpu);
        snprintf(out->source.stack, sizeof out->source.stack, "%s", mt->stack);
        out->tp = mt->tp;
        out->heads = (int32_t)mt->hq;
        out->kv_heads = (int32_t)mt->hkv;
        out->head_dim = (int32_t)mt->hd;
    }
    ss_cf cf;
    if (!rc) rc = ss_cf_open(&cf, path, d);
    if (!rc) {
        rc = ss_cf_header(&cf);
        if (!rc) rc = check_header(&cf, L_SKEW);
        int r = 0;
        while (!rc && (r = ss_cf_next(&cf)) == 1) {
            if ((rc = ss_cf_row(&cf))) break;
            if (out->n == out->cap) {
                size_t cap = out->cap ? out->cap * 2 : 256;
                ss_meas_skew *p = realloc(out->rows, cap * sizeof *p);
                if (!p) {
                    rc = ss_diag_fail(d, SS_ERR_NOMEM, "out of memory reading %s", path);
                    break;
                }
                out->rows = p;
                out->cap = cap;
            }
            rc = skew_row(&cf, &out->rows[out->n]);
            if (!rc) out->n++;
        }
        if (!rc && r < 0) rc = (ss_rc)r;
        ss_cf_close(&cf);
    }
    free(mt);
    out->source.rows = out->n;
    if (rc) ss_meas_skew_free(out);
    return rc;
}

void ss_meas_skew_free(ss_meas_skew_table *t)
{
    free(t->rows);
    memset(t, 0, sizeof *t);
}
