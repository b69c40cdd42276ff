/* Model files: the key tables, parsing and validation, the built-in zoo, the support and
 * tensor-parallel checks, and the sizes derived from a model's shape.
 *
 * A model is only ever built by ss_model_parse, which checks every key through the shared
 * key tables (sim/core/cfg.h) and then the cross-key rules no table can express (layer
 * groups covering num_layers, heads divisible by KV heads, sections a layer kind needs), so
 * every other function here and in ops.c may trust the struct's shape. Parsing fills a
 * local copy and writes *out only on success: a failed call leaves the caller's model as it
 * was. */
#include "models/model.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

/* ================================================================== key tables */

/* What ss_cfg_apply writes into. Integer and string keys go straight into the model; keys
 * whose table type differs from the model's field (enums are written as int, booleans as
 * bool, sections as node pointers) land in the side fields and are converted afterwards,
 * so no table row writes through a pointer of the wrong type. */
typedef struct model_doc {
    ss_model m;
    int schema_version;
    int mlp;
    int dtype;
    bool tie;
    yaml_node_t *moe;
    yaml_node_t *mla;
    yaml_node_t *layers;
} model_doc;

typedef struct group_doc {
    int count;
    int attn;
    int window;
    int ffn;
} group_doc;

/* Choice lists in enum order (ss_attn_kind, ss_ffn_kind, ss_mlp_act). */
static const char *const attn_names[] = {"full", "sliding", "mla", NULL};
static const char *const ffn_names[] = {"dense", "moe", NULL};
static const char *const mlp_names[] = {"gated_silu", "gelu", NULL};

#define MF(f) offsetof(model_doc, m.f)
#define MSZ(f) sizeof(((ss_model *)0)->f)

/* Bounds are sanity limits, well above any published model (largest today: hidden 16384,
 * intermediate 53248, 384 experts, 126 layers), chosen so the derived 64-bit sizes cannot
 * overflow: the largest product, layers x experts x 3 x hidden x expert width, stays below
 * 1024 x 1024 x 3 x 65536 x 1e6 = 2.1e17 < 2^64. */
static const ss_key model_keys[] = {
    {"schema_version", SS_KEY_INT, offsetof(model_doc, schema_version), 0, "1", 1, 1, 0, NULL,
     "Version of the model file format; 1 is the only version so far.", NULL},
    {"name", SS_KEY_STRING, MF(name), MSZ(name), NULL, 0, 0, SS_KEY_NO_BOUNDS, NULL,
     "Canonical id, lower case (e.g. llama-3.1-8b); a built-in file is named after it.", NULL},
    {"display_name", SS_KEY_STRING, MF(display_name), MSZ(display_name), "", 0, 0,
     SS_KEY_NO_BOUNDS, NULL, "Name used in reports (e.g. Llama-3.1-8B); defaults to name.",
     NULL},
    {"source", SS_KEY_STRING, MF(source), MSZ(source), NULL, 0, 0, SS_KEY_NO_BOUNDS, NULL,
     "Where the numbers come from: the URL of the published config.json.", NULL},
    {"hidden_size", SS_KEY_INT, MF(hidden_size), 0, NULL, 1, 65536, 0, "elements",
     "Width of the residual stream (config.json hidden_size).", NULL},
    {"num_layers", SS_KEY_INT, MF(num_layers), 0, NULL, 1, 1024, 0, "layers",
     "Decoder layers (config.json num_hidden_layers).", NULL},
    {"num_attention_heads", SS_KEY_INT, MF(num_heads), 0, NULL, 1, 1024, 0, "heads",
     "Query heads per layer.", NULL},
    {"num_kv_heads", SS_KEY_INT, MF(num_kv_heads), 0, NULL, 1, 1024, 0, "heads",
     "Key/value heads per layer (num_key_value_heads); must divide num_attention_heads.",
     NULL},
    {"head_dim", SS_KEY_INT, MF(head_dim), 0, "", 1, 4096, 0, "elements",
     "Width of one head; defaults to hidden_size / num_attention_heads.", NULL},
    {"intermediate_size", SS_KEY_INT, MF(intermediate_size), 0, NULL, 1, 1e6, 0,
     "elements", "Hidden width of the dense MLP.", NULL},
    {"vocab_size", SS_KEY_INT, MF(vocab_size), 0, NULL, 1, 1e7, 0, "tokens",
     "Rows of the embedding matrix and columns of the LM head.", NULL},
    {"max_position_embeddings", SS_KEY_INT64, MF(max_position), 0, NULL, 1, 1e9, 0, "tokens",
     "Longest context the model accepts (prompt + output).", NULL},
    {"mlp", SS_KEY_ENUM, offsetof(model_doc, mlp), 0, "gated_silu", 0, 0, SS_KEY_NO_BOUNDS,
     NULL,
     "MLP form: gated_silu has gate, up and down matrices (Llama, SwiGLU); gelu has up and "
     "down.",
     mlp_names},
    {"tie_word_embeddings", SS_KEY_BOOL, offsetof(model_doc, tie), 0, "false", 0, 0,
     SS_KEY_NO_BOUNDS, NULL, "true if the LM head shares the embedding matrix.", NULL},
    {"dtype", SS_KEY_ENUM, offsetof(model_doc, dtype), 0, "bf16", 0, 0, SS_KEY_NO_BOUNDS, NULL,
     "Weight type as released (config.json torch_dtype).", ss_dtype_names},
    {"moe", SS_KEY_NODE, offsetof(model_doc, moe), 0, "", 0, 0, SS_KEY_NO_BOUNDS, NULL,
     "Mixture-of-experts section (keys moe.*); required when a layer group has ffn: moe.",
     NULL},
    {"mla", SS_KEY_NODE, offsetof(model_doc, mla), 0, "", 0, 0, SS_KEY_NO_BOUNDS, NULL,
     "Multi-head latent attention section (keys mla.*); required when a layer group has "
     "attention: mla.",
     NULL},
    {"layers", SS_KEY_NODE, offsetof(model_doc, layers), 0, "", 0, 0, SS_KEY_NO_BOUNDS, NULL,
     "List of layer groups (keys layers[].*), in order; counts must sum to num_layers. "
     "Default: one group of all layers, full attention, ffn moe if a moe section is given "
     "else dense.",
     NULL},
    {NULL, 0, 0, 0, NULL, 0, 0, 0, NULL, NULL, NULL},
};

static const ss_key moe_keys[] = {
    {"num_experts", SS_KEY_INT, MF(num_experts), 0, NULL, 1, 1024, 0, "experts",
     "Routed experts per MoE layer (num_local_experts / num_experts).", NULL},
    {"experts_per_token", SS_KEY_INT, MF(experts_per_token), 0, NULL, 1, 1024, 0, "experts",
     "Experts each token is routed to (num_experts_per_tok); at most num_experts.", NULL},
    {"intermediate_size", SS_KEY_INT, MF(moe_intermediate_size), 0, "", 1, 1e6, 0,
     "elements", "Hidden width of one expert (moe_intermediate_size); defaults to the model's "
     "intermediate_size.", NULL},
    {NULL, 0, 0, 0, NULL, 0, 0, 0, NULL, NULL, NULL},
};

static const ss_key mla_keys[] = {
    {"kv_lora_rank", SS_KEY_INT, MF(kv_lora_rank), 0, NULL, 1, 1 << 16, 0, "elements",
     "Width of the compressed KV latent cached per token and layer.", NULL},
    {"qk_rope_head_dim", SS_KEY_INT, MF(qk_rope_head_dim), 0, NULL, 0, 1 << 16, 0, "elements",
     "Width of the decoupled RoPE key cached beside the latent.", NULL},
    {NULL, 0, 0, 0, NULL, 0, 0, 0, NULL, NULL, NULL},
};

static const ss_key group_keys[] = {
    {"count", SS_KEY_INT, offsetof(group_doc, count), 0, NULL, 1, 1024, 0, "layers",
     "Consecutive layers of this kind.", NULL},
    {"attention", SS_KEY_ENUM, offsetof(group_doc, attn), 0, "full", 0, 0, SS_KEY_NO_BOUNDS,
     NULL, "Attention kind (sliding and mla are parsed but not yet simulated).", attn_names},
    {"window", SS_KEY_INT, offsetof(group_doc, window), 0, "", 1, 1e9, 0, "tokens",
     "Sliding-window size; required with attention: sliding, refused otherwise.", NULL},
    {"ffn", SS_KEY_ENUM, offsetof(group_doc, ffn), 0, "dense", 0, 0, SS_KEY_NO_BOUNDS, NULL,
     "Feed-forward kind: dense MLP or routed experts (needs the moe section).", ffn_names},
    {NULL, 0, 0, 0, NULL, 0, 0, 0, NULL, NULL, NULL},
};

void ss_model_doc_markdown(FILE *out)
{
    fprintf(out, "| Key | Type | Default | Unit | Description |\n|---|---|---|---|---|\n");
    ss_cfg_doc_markdown(model_keys, "", out);
    ss_cfg_doc_markdown(moe_keys, "moe.", out);
    ss_cfg_doc_markdown(mla_keys, "mla.", out);
    ss_cfg_doc_markdown(group_keys, "layers[].", out);
}

/* ================================================================== parsing */

/* "moe:" with nothing after it, or "moe: ~", means the section is absent. */
static bool is_null(const yaml_node_t *n)
{
    const char *s = ss_node_scalar(n);
    return !n || (s && (!s[0] || !strcmp(s, "~") || !strcmp(s, "null")));
}

/* Node of `key` in the root mapping for locating an error; the root itself if absent. */
static yaml_node_t *at(ss_doc *doc, yaml_node_t *map, const char *key)
{
    yaml_node_t *n = ss_node_get(doc, map, key);
    return n ? n : map;
}

static ss_rc parse_groups(ss_doc *doc, model_doc *md, ss_diag *d)
{
    ss_model *m = &md->m;
    if (is_null(md->layers)) {
        m->num_groups = 1;
        m->groups[0] = (ss_layer_group){m->num_layers, SS_ATTN_FULL, 0,
                                        md->moe ? SS_FFN_MOE : SS_FFN_DENSE};
        return SS_OK;
    }
    if (md->layers->type != YAML_SEQUENCE_NODE)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, md->layers, "layers",
                            "expected a list of layer groups, got %s",
                            ss_node_kind(md->layers));
    size_t n = ss_node_seq_len(md->layers);
    if (n == 0 || n > SS_MODEL_MAX_GROUPS)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, md->layers, "layers",
                            "expected 1 to %d layer groups, got %zu", SS_MODEL_MAX_GROUPS, n);

    int total = 0;
    bool any_moe = false, any_mla = false;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = ss_node_seq_at(doc, md->layers, i);
        char path[32];
        snprintf(path, sizeof path, "layers[%zu]", i);
        group_doc gd = {0, SS_ATTN_FULL, 0, SS_FFN_DENSE};
        ss_rc rc = ss_cfg_apply(doc, item, md->layers, path, group_keys, &gd, d);
        if (rc != SS_OK) return rc;
        char kp[48];
        if (gd.attn == SS_ATTN_SLIDING && gd.window == 0) {
            snprintf(kp, sizeof kp, "%s.window", path);
            return ss_cfg_error(d, SS_ERR_INVALID, doc, item, kp,
                                "attention: sliding needs a window (tokens)");
        }
        if (gd.attn != SS_ATTN_SLIDING && gd.window != 0) {
            snprintf(kp, sizeof kp, "%s.window", path);
            return ss_cfg_error(d, SS_ERR_INVALID, doc, at(doc, item, "window"), kp,
                                "window applies only to attention: sliding");
        }
        if (gd.ffn == SS_FFN_MOE && !md->moe) {
            snprintf(kp, sizeof kp, "%s.ffn", path);
            return ss_cfg_error(d, SS_ERR_INVALID, doc, at(doc, item, "ffn"), kp,
                                "ffn: moe needs a moe section (num_experts, "
                                "experts_per_token)");
        }
        if (gd.attn == SS_ATTN_MLA && !md->mla) {
            snprintf(kp, sizeof kp, "%s.attention", path);
            return ss_cfg_error(d, SS_ERR_INVALID, doc, at(doc, item, "attention"), kp,
                                "attention: mla needs an mla section (kv_lora_rank, "
                                "qk_rope_head_dim)");
        }
        any_moe |= gd.ffn == SS_FFN_MOE;
        any_mla |= gd.attn == SS_ATTN_MLA;
        total += gd.count;
        m->groups[i] = (ss_layer_group){gd.count, (ss_attn_kind)gd.attn, gd.window,
                                        (ss_ffn_kind)gd.ffn};
    }
    m->num_groups = (int)n;
    if (total != m->num_layers)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, md->layers, "layers",
                            "layer group counts sum to %d but num_layers is %d", total,
                            m->num_layers);
    /* A section nothing uses is almost always a typo in a group's kind. */
    if (md->moe && !any_moe)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, md->moe, "moe",
                            "moe section given but no layer group has ffn: moe");
    if (md->mla && !any_mla)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, md->mla, "mla",
                            "mla section given but no layer group has attention: mla");
    return SS_OK;
}

/* Rules between keys that the tables cannot state. */
static ss_rc check_shape(ss_doc *doc, yaml_node_t *root, model_doc *md, ss_diag *d)
{
    ss_model *m = &md->m;
    if (m->num_heads % m->num_kv_heads != 0)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, at(doc, root, "num_kv_heads"),
                            "num_kv_heads",
                            "num_attention_heads (%d) must be a multiple of num_kv_heads (%d)",
                            m->num_heads, m->num_kv_heads);
    if (m->head_dim == 0) {
        if (m->hidden_size % m->num_heads != 0)
            return ss_cfg_error(d, SS_ERR_INVALID, doc, at(doc, root, "num_attention_heads"),
                                "num_attention_heads",
                                "hidden_size (%d) is not a multiple of num_attention_heads "
                                "(%d): give head_dim",
                                m->hidden_size, m->num_heads);
        m->head_dim = m->hidden_size / m->num_heads;
    }
    if (md->moe) {
        if (m->experts_per_token > m->num_experts)
            return ss_cfg_error(d, SS_ERR_INVALID, doc,
                                at(doc, md->moe, "experts_per_token"), "moe.experts_per_token",
                                "experts_per_token (%d) exceeds num_experts (%d)",
                                m->experts_per_token, m->num_experts);
        if (m->moe_intermediate_size == 0) m->moe_intermediate_size = m->intermediate_size;
    }
    return SS_OK;
}

ss_rc ss_model_parse(ss_doc *doc, ss_model *out, ss_diag *d)
{
    model_doc md;
    memset(&md, 0, sizeof md);
    yaml_node_t *root = ss_doc_root(doc);
    if (!root)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, NULL, NULL,
                            "empty model file (expected name, source, hidden_size, ...)");
    ss_rc rc = ss_cfg_apply(doc, root, NULL, "", model_keys, &md, d);
    if (rc != SS_OK) return rc;
    md.m.mlp = (ss_mlp_act)md.mlp;
    md.m.dtype = (ss_dtype)md.dtype;
    md.m.tie_embeddings = md.tie ? 1 : 0;
    if (!md.m.display_name[0])
        memcpy(md.m.display_name, md.m.name, sizeof md.m.name);

    if (is_null(md.moe)) md.moe = NULL;
    if (is_null(md.mla)) md.mla = NULL;
    if (md.moe && (rc = ss_cfg_apply(doc, md.moe, root, "moe", moe_keys, &md, d)) != SS_OK)
        return rc;
    if (md.mla && (rc = ss_cfg_apply(doc, md.mla, root, "mla", mla_keys, &md, d)) != SS_OK)
        return rc;
    if ((rc = check_shape(doc, root, &md, d)) != SS_OK) return rc;
    if ((rc = parse_groups(doc, &md, d)) != SS_OK) return rc;
    *out = md.m;
    return SS_OK;
}

/* ================================================================== loading */

static bool ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* The zoo is matched on the file's stem taken from `path` ("models/data/llama-3.1-8b.yaml"
 * -> "llama-3.1-8b") rather than on the table's `name`: cmake's NAME_WE stops at the FIRST
 * dot, so embed.cmake names that file "llama-3", which would make names with a version
 * number collide. The stem is right whichever way the table is generated. */
static size_t zoo_stem(const ss_embedded_file *f, const char **stem)
{
    const char *p = f->path ? f->path : f->name;
    const char *slash = strrchr(p, '/');
    const char *base = slash ? slash + 1 : p;
    const char *dot = strrchr(base, '.');
    *stem = base;
    return dot && dot != base ? (size_t)(dot - base) : strlen(base);
}

static const ss_embedded_file *zoo_find(const char *name)
{
    size_t n = strlen(name);
    for (const ss_embedded_file *f = ss_model_zoo; f->name; f++) {
        const char *stem;
        size_t k = zoo_stem(f, &stem);
        if (k == n && strncasecmp(stem, name, n) == 0) return f;
    }
    return NULL;
}

static ss_rc parse_doc(ss_rc rc, ss_doc *doc, ss_model *out, ss_diag *d)
{
    if (rc != SS_OK) return rc;
    rc = ss_model_parse(doc, out, d);
    ss_doc_free(doc);
    return rc;
}

static ss_rc load_embedded(const ss_embedded_file *f, ss_model *out, ss_diag *d)
{
    ss_doc *doc = NULL;
    ss_rc rc = ss_doc_load_string(f->path, f->text, strlen(f->text), &doc, d);
    return parse_doc(rc, doc, out, d);
}

ss_rc ss_model_load(const char *name_or_path, const char *base_dir, ss_model *out,
                    ss_diag *d)
{
    if (!name_or_path || !name_or_path[0])
        return ss_diag_fail(d, SS_ERR_INVALID, "no model given (a built-in name such as "
                                               "llama-3.1-8b, or a path to a .yaml file)");
    const char *s = name_or_path;
    if (strchr(s, '/') || ends_with_ci(s, ".yaml") || ends_with_ci(s, ".yml")) {
        char path[4096];
        int w = (s[0] == '/' || !base_dir || !base_dir[0] || !strcmp(base_dir, "."))
                    ? snprintf(path, sizeof path, "%s", s)
                    : snprintf(path, sizeof path, "%s/%s", base_dir, s);
        if (w < 0 || (size_t)w >= sizeof path)
            return ss_diag_fail(d, SS_ERR_INVALID, "model path is too long: %s", s);
        ss_doc *doc = NULL;
        ss_rc rc = ss_doc_load_file(path, &doc, d);
        return parse_doc(rc, doc, out, d);
    }

    const ss_embedded_file *f = zoo_find(s);
    if (f) return load_embedded(f, out, d);

    /* Answer with what would have worked. */
    char list[768];
    size_t used = 0;
    list[0] = '\0';
    for (const ss_embedded_file *z = ss_model_zoo; z->name && used < sizeof list; z++) {
        const char *stem;
        int k = (int)zoo_stem(z, &stem);
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%.*s", used ? ", " : "",
                                 k, stem);
    }
    return ss_diag_fail(d, SS_ERR_NOTFOUND,
                        "unknown model '%s' (built-in models: %s; or give a path to a .yaml "
                        "file)",
                        s, list);
}

void ss_model_list(FILE *out)
{
    for (const ss_embedded_file *f = ss_model_zoo; f->name; f++) {
        ss_model m;
        ss_diag d;
        ss_diag_clear(&d);
        if (load_embedded(f, &m, &d) != SS_OK) {
            /* A broken built-in is a build defect; list it rather than hide it. */
            char msg[1600];
            ss_diag_format(&d, msg, sizeof msg);
            const char *stem;
            int k = (int)zoo_stem(f, &stem);
            fprintf(out, "  %-16.*s  error: %s\n", k, stem, msg);
            continue;
        }
        fprintf(out, "  %-16s %8.2fB params %4d layers %8llu KV bytes/token (bf16)  %s\n",
                m.name, (double)ss_model_params(&m) / 1e9, m.num_layers,
                (unsigned long long)ss_model_kv_bytes_per_token(&m, SS_DTYPE_BF16, 1),
                m.display_name);
    }
}

/* ================================================================== checks */

ss_rc ss_model_check_supported(const ss_model *m, ss_diag *d)
{
    for (int g = 0; g < m->num_groups; g++) {
        const ss_layer_group *grp = &m->groups[g];
        if (grp->attn == SS_ATTN_SLIDING)
            return ss_diag_fail(d, SS_ERR_UNSUPPORTED,
                                "model %s: layer group %d (%d layers) uses sliding-window "
                                "attention (window %d tokens), which is not yet supported: "
                                "only full attention is simulated",
                                m->name, g, grp->count, grp->window);
        if (grp->attn == SS_ATTN_MLA)
            return ss_diag_fail(d, SS_ERR_UNSUPPORTED,
                                "model %s: layer group %d (%d layers) uses multi-head latent "
                                "attention (MLA), which is not yet supported: only full "
                                "attention is simulated",
                                m->name, g, grp->count);
    }
    return SS_OK;
}

ss_rc ss_model_check_tp(const ss_model *m, int tp, char *why, size_t why_n)
{
    char dummy[1];
    if (!why || why_n == 0) {
        why = dummy;
        why_n = sizeof dummy;
    }
    why[0] = '\0';
    if (tp < 1) {
        snprintf(why, why_n, "tensor-parallel size must be at least 1, got %d", tp);
        return SS_ERR_INVALID;
    }
    if (m->num_heads % tp != 0) {
        snprintf(why, why_n, "tp=%d does not divide the %d attention heads of %s", tp,
                 m->num_heads, m->name);
        return SS_ERR_INVALID;
    }
    /* KV heads are either split evenly or each replicated on tp / kv_heads GPUs. */
    if (m->num_kv_heads % tp != 0 && tp % m->num_kv_heads != 0) {
        snprintf(why, why_n,
                 "tp=%d and the %d KV heads of %s do not divide one another (KV heads are "
                 "either split evenly or replicated evenly)",
                 tp, m->num_kv_heads, m->name);
        return SS_ERR_INVALID;
    }
    return SS_OK;
}

/* ================================================================== derived sizes */

/* Parameters of one layer of group g. Biases are left out (Qwen2.5-32B's QKV bias is
 * 0.0015% of its weights) and so are per-head q/k norms (Qwen3: 256 per layer): both are
 * far below what the byte counts could resolve. */
static uint64_t layer_params(const ss_model *m, const ss_layer_group *g)
{
    uint64_t h = (uint64_t)m->hidden_size;
    uint64_t q = (uint64_t)m->num_heads * (uint64_t)m->head_dim;
    uint64_t kv = (uint64_t)m->num_kv_heads * (uint64_t)m->head_dim;
    uint64_t mats = m->mlp == SS_MLP_GATED_SILU ? 3 : 2;
    /* Q, K, V in; O out. MLA layers are counted the same way: their low-rank factors are
     * not in the struct, and MLA is refused before anything is simulated. */
    uint64_t attn = h * (q + 2 * kv) + q * h;
    uint64_t ffn;
    if (g->ffn == SS_FFN_MOE) {
        uint64_t e = (uint64_t)m->num_experts;
        ffn = e * mats * h * (uint64_t)m->moe_intermediate_size + h * e; /* + router */
    } else {
        ffn = mats * h * (uint64_t)m->intermediate_size;
    }
    return attn + ffn + 2 * h; /* two RMSNorm weight vectors */
}

uint64_t ss_model_params(const ss_model *m)
{
    uint64_t h = (uint64_t)m->hidden_size;
    uint64_t embed = (uint64_t)m->vocab_size * h;
    uint64_t total = embed * (m->tie_embeddings ? 1 : 2) + h; /* + final norm */
    for (int g = 0; g < m->num_groups; g++)
        total += (uint64_t)m->groups[g].count * layer_params(m, &m->groups[g]);
    return total;
}

uint64_t ss_model_weight_bytes(const ss_model *m, ss_dtype wt)
{
    return ss_dtype_bytes(wt, ss_model_params(m));
}

uint64_t ss_model_kv_bytes_per_token(const ss_model *m, ss_dtype kv, int tp)
{
    if (tp < 1) tp = 1;
    int kv_per_gpu = m->num_kv_heads / tp;
    if (kv_per_gpu < 1) kv_per_gpu = 1;
    uint64_t elems = 0;
    for (int g = 0; g < m->num_groups; g++) {
        const ss_layer_group *grp = &m->groups[g];
        uint64_t per_layer =
            grp->attn == SS_ATTN_MLA
                /* One latent plus the RoPE key, shared by all heads, so not split by tp. */
                ? (uint64_t)m->kv_lora_rank + (uint64_t)m->qk_rope_head_dim
                : 2u * (uint64_t)kv_per_gpu * (uint64_t)m->head_dim;
        elems += (uint64_t)grp->count * per_layer;
    }
    /* Sliding-window layers hold the same bytes per token; the window only caps how many
     * tokens they keep, which is the KV manager's business. */
    return ss_dtype_bytes(kv, elems);
}
