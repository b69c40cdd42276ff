/* cuDNN's fused flash attention: the profiler's production attention kernel (approx=0).
 *
 * cuDNN 9 reaches its fused attention through the backend (graph) API: an operation graph
 * that spells scaled dot-product attention out node by node, which cuDNN matches as a whole
 * and runs as one flash-attention kernel (the score matrix never reaches memory). Backends
 * before 9.21 have no single attention operation that takes a causal mask, so the graph is
 * the one cudnn-frontend lowers SDPA inference to for them:
 *   S  = Q . K^T                         matmul, fp32 out (K passed transposed by strides)
 *   S  = S * 1/sqrt(d)                    pointwise, by-value scalar
 *   causal (prefill only): row = gen_index(S, 2), col = gen_index(S, 3); with a cached
 *        prefix the diagonal is bottom-right aligned, row += keys - queries (two integer
 *        pointwise ops on by-value scalars); S = row >= col ? S : -inf
 *   M = max_keys(S); E = exp(S - M); Z = sum_keys(E); stats = M + log Z (virtual: inference)
 *   P = E / Z, in the I/O type;  O = P . V     matmul
 * Decode (one query per request) attends every key: no mask. GQA: K and V carry kv_heads
 * heads, which the engine shares among heads / kv_heads query heads.
 *
 * Layouts are servesim-fa's (attn_bufs in cuda_int.h), so the same double-precision
 * reference checks both kernels: Q, O [batch][heads][q][d]; K, V [batch][kv_heads][keys][d]
 * (keys = kv + q for prefill). A graph and plan are built per grid point (shapes differ);
 * the timed loop runs behind a GPU sleep so that cudnnBackendExecute's host cost is not
 * timed (docs/profiler.md). Compiled to stubs when CMake found no cuDNN 9. */
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "validation/profiler/cuda_int.h"

#if SS_PROF_CUDNN
#include <cudnn.h>

namespace {

typedef cudnnBackendDescriptor_t desc;

/* "what: status (cuDNN's last error message)". */
int dnn_fail(char *err, const char *file, int line, const char *what, cudnnStatus_t s)
{
    char last[384] = "";
    cudnnGetLastErrorString(last, sizeof last);
    char msg[480];
    std::snprintf(msg, sizeof msg, "%s%s%s%s", cudnnGetErrorString(s), last[0] ? " (" : "", last,
                  last[0] ? ")" : "");
    return ss_prof_fail(err, file, line, what, msg);
}

#define SS_DNN(call)                                                                 \
    do {                                                                             \
        cudnnStatus_t s_ = (call);                                                   \
        if (s_ != CUDNN_STATUS_SUCCESS) return dnn_fail(err, __FILE__, __LINE__, #call, s_); \
    } while (0)

/* One graph's descriptors (destroyed in reverse order of creation: one owner), its
 * operations in order, and the variant pack's entries (non-virtual tensors). */
struct graph {
    std::vector<desc> owned;
    std::vector<desc> ops;
    std::vector<int64_t> uids;
    std::vector<void *> ptrs;
    int64_t next_uid = 100; /* virtual tensors; the operands take 1..8 */
    graph() = default;
    graph(const graph &) = delete;
    graph &operator=(const graph &) = delete;
    ~graph()
    {
        for (size_t i = owned.size(); i-- > 0;) cudnnBackendDestroyDescriptor(owned[i]);
    }
    int make(cudnnBackendDescriptorType_t t, desc *out, char *err)
    {
        *out = nullptr;
        SS_DNN(cudnnBackendCreateDescriptor(t, out));
        owned.push_back(*out);
        return 0;
    }
};

/* Set one attribute; the error names the attribute's number (cudnn_graph.h). */
int set(desc d, cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type, int64_t n,
        const void *v, char *err)
{
    cudnnStatus_t s = cudnnBackendSetAttribute(d, name, type, n, v);
    if (s == CUDNN_STATUS_SUCCESS) return 0;
    char what[64];
    std::snprintf(what, sizeof what, "cudnnBackendSetAttribute(attribute %d)", (int)name);
    return dnn_fail(err, __FILE__, __LINE__, what, s);
}

int set_desc(desc d, cudnnBackendAttributeName_t name, desc v, char *err)
{
    return set(d, name, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &v, err);
}

int finalize(desc d, const char *what, char *err)
{
    cudnnStatus_t s = cudnnBackendFinalize(d);
    return s == CUDNN_STATUS_SUCCESS ? 0 : dnn_fail(err, __FILE__, __LINE__, what, s);
}

/* A tensor descriptor. Non-virtual ones go into the variant pack with `ptr` (a device
 * address, or a host address for a by-value scalar). */
int tensor(graph &g, int64_t uid, cudnnDataType_t dt, const int64_t dim[4],
           const int64_t str[4], bool is_virtual, bool by_value, void *ptr, desc *out, char *err)
{
    const int64_t align = 16;
    if (g.make(CUDNN_BACKEND_TENSOR_DESCRIPTOR, out, err) ||
        set(*out, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &uid, err) ||
        set(*out, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &dt, err) ||
        set(*out, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, 4, dim, err) ||
        set(*out, CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, 4, str, err) ||
        set(*out, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &align, err) ||
        set(*out, CUDNN_ATTR_TENSOR_IS_VIRTUAL, CUDNN_TYPE_BOOLEAN, 1, &is_virtual, err) ||
        (by_value && set(*out, CUDNN_ATTR_TENSOR_IS_BY_VALUE, CUDNN_TYPE_BOOLEAN, 1, &by_value, err)) ||
        finalize(*out, "tensor", err))
        return -1;
    if (!is_virtual) {
        g.uids.push_back(uid);
        g.ptrs.push_back(ptr);
    }
    return 0;
}

/* A virtual (never materialised) intermediate of dims `dim`, packed row-major. */
int virt(graph &g, cudnnDataType_t dt, const int64_t dim[4], desc *out, char *err)
{
    const int64_t str[4] = {dim[1] * dim[2] * dim[3], dim[2] * dim[3], dim[3], 1};
    return tensor(g, g.next_uid++, dt, dim, str, true, false, nullptr, out, err);
}

/* A by-value scalar operand (dims 1x1x1x1); *value must outlive the plan's executions. */
int scalar(graph &g, int64_t uid, cudnnDataType_t dt, void *value, desc *out, char *err)
{
    const int64_t one[4] = {1, 1, 1, 1};
    return tensor(g, uid, dt, one, one, false, true, value, out, err);
}

/* y = mode(x[, b[, t]]) computed in `prec`; axis >= 0 for gen_index (and, as cudnn-frontend
 * does, for the integer row shifts). */
int pointwise(graph &g, cudnnPointwiseMode_t mode, cudnnDataType_t prec, int64_t axis, desc x,
              desc b, desc t, desc y, char *err)
{
    desc pw, op;
    if (g.make(CUDNN_BACKEND_POINTWISE_DESCRIPTOR, &pw, err) ||
        set(pw, CUDNN_ATTR_POINTWISE_MODE, CUDNN_TYPE_POINTWISE_MODE, 1, &mode, err) ||
        set(pw, CUDNN_ATTR_POINTWISE_MATH_PREC, CUDNN_TYPE_DATA_TYPE, 1, &prec, err) ||
        (axis >= 0 && set(pw, CUDNN_ATTR_POINTWISE_AXIS, CUDNN_TYPE_INT64, 1, &axis, err)) ||
        finalize(pw, "pointwise descriptor", err) ||
        g.make(CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR, &op, err) ||
        set_desc(op, CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, pw, err) ||
        set_desc(op, CUDNN_ATTR_OPERATION_POINTWISE_XDESC, x, err) ||
        (b && set_desc(op, CUDNN_ATTR_OPERATION_POINTWISE_BDESC, b, err)) ||
        (t && set_desc(op, CUDNN_ATTR_OPERATION_POINTWISE_TDESC, t, err)) ||
        set_desc(op, CUDNN_ATTR_OPERATION_POINTWISE_YDESC, y, err) ||
        finalize(op, "pointwise operation", err))
        return -1;
    g.ops.push_back(op);
    return 0;
}

/* y = reduce over the last dimension of x (y's last dimension is 1), in fp32. */
int reduction(graph &g, cudnnReduceTensorOp_t mode, desc x, desc y, char *err)
{
    const cudnnDataType_t f32 = CUDNN_DATA_FLOAT;
    desc r, op;
    if (g.make(CUDNN_BACKEND_REDUCTION_DESCRIPTOR, &r, err) ||
        set(r, CUDNN_ATTR_REDUCTION_OPERATOR, CUDNN_TYPE_REDUCTION_OPERATOR_TYPE, 1, &mode, err) ||
        set(r, CUDNN_ATTR_REDUCTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &f32, err) ||
        finalize(r, "reduction descriptor", err) ||
        g.make(CUDNN_BACKEND_OPERATION_REDUCTION_DESCRIPTOR, &op, err) ||
        set_desc(op, CUDNN_ATTR_OPERATION_REDUCTION_XDESC, x, err) ||
        set_desc(op, CUDNN_ATTR_OPERATION_REDUCTION_YDESC, y, err) ||
        set_desc(op, CUDNN_ATTR_OPERATION_REDUCTION_DESC, r, err) ||
        finalize(op, "reduction operation", err))
        return -1;
    g.ops.push_back(op);
    return 0;
}

/* c = a . b (batched over the first two dimensions), fp32 accumulation. */
int matmul(graph &g, desc a, desc b, desc c, char *err)
{
    const cudnnDataType_t f32 = CUDNN_DATA_FLOAT;
    desc m, op;
    if (g.make(CUDNN_BACKEND_MATMUL_DESCRIPTOR, &m, err) ||
        set(m, CUDNN_ATTR_MATMUL_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &f32, err) ||
        finalize(m, "matmul descriptor", err) ||
        g.make(CUDNN_BACKEND_OPERATION_MATMUL_DESCRIPTOR, &op, err) ||
        set_desc(op, CUDNN_ATTR_OPERATION_MATMUL_ADESC, a, err) ||
        set_desc(op, CUDNN_ATTR_OPERATION_MATMUL_BDESC, b, err) ||
        set_desc(op, CUDNN_ATTR_OPERATION_MATMUL_CDESC, c, err) ||
        set_desc(op, CUDNN_ATTR_OPERATION_MATMUL_DESC, m, err) ||
        finalize(op, "matmul operation", err))
        return -1;
    g.ops.push_back(op);
    return 0;
}

/* The handle of dev, created on first use and bound to dev's stream. */
int handle_of(ss_prof_dev *dev, cudnnHandle_t *h, char *err)
{
    if (!dev->dnn) {
        cudnnHandle_t nh = nullptr;
        SS_DNN(cudnnCreate(&nh));
        cudnnStatus_t st = cudnnSetStream(nh, dev->stream);
        if (st != CUDNN_STATUS_SUCCESS) {
            cudnnDestroy(nh);
            return dnn_fail(err, __FILE__, __LINE__, "cudnnSetStream", st);
        }
        dev->dnn = nh; /* only a handle bound to dev's stream is kept */
    }
    *h = (cudnnHandle_t)dev->dnn;
    return 0;
}

/* One attention call, built and ready to execute: graph, plan, workspace, variant pack.
 * The by-value operands live here, so an sdpa must not move once built. */
struct sdpa {
    graph g;
    desc plan = nullptr, pack = nullptr;
    ss_dbuf ws;
    float scale = 1.0f, neg_inf = -INFINITY;
    int32_t keys = 0, queries = 0;
    int64_t engine = -1; /* cuDNN's global engine index of the plan, for the log */
    bool fallback = false; /* the plan's engine came from the fallback list */
    sdpa() = default;
    sdpa(const sdpa &) = delete;
    sdpa &operator=(const sdpa &) = delete;

    /* batch requests of sq queries over skv keys (causal with the diagonal at the bottom
     * right when `causal`); operands at Q, K, V, O in the layouts of the file comment. */
    int build(cudnnHandle_t h, cudnnDataType_t io, int64_t b, int64_t hq, int64_t hk, int64_t d,
              int64_t sq, int64_t skv, bool causal, void *Q, void *K, void *V, void *O, char *err)
    {
        const cudnnDataType_t f32 = CUDNN_DATA_FLOAT, i32 = CUDNN_DATA_INT32,
                              b8 = CUDNN_DATA_BOOLEAN;
        scale = (float)(1.0 / std::sqrt((double)d));
        keys = (int32_t)skv;
        queries = (int32_t)sq;
        const int64_t qdim[4] = {b, hq, sq, d}, qstr[4] = {hq * sq * d, sq * d, d, 1};
        const int64_t ktdim[4] = {b, hk, d, skv}, ktstr[4] = {hk * skv * d, skv * d, 1, d};
        const int64_t vdim[4] = {b, hk, skv, d}, vstr[4] = {hk * skv * d, skv * d, d, 1};
        const int64_t sdim[4] = {b, hq, sq, skv}, rdim[4] = {b, hq, sq, 1};
        desc tq, tk, tv, to, tscale, tinf, s0, s1;
        if (tensor(g, 1, io, qdim, qstr, false, false, Q, &tq, err) ||
            tensor(g, 2, io, ktdim, ktstr, false, false, K, &tk, err) ||
            tensor(g, 3, io, vdim, vstr, false, false, V, &tv, err) ||
            tensor(g, 4, io, qdim, qstr, false, false, O, &to, err) ||
            scalar(g, 5, f32, &scale, &tscale, err) ||
            virt(g, f32, sdim, &s0, err) || matmul(g, tq, tk, s0, err) ||
            virt(g, f32, sdim, &s1, err) ||
            pointwise(g, CUDNN_POINTWISE_MUL, f32, -1, s0, tscale, nullptr, s1, err))
            return -1;
        desc last = s1;
        if (causal) {
            desc row, col, mask, masked;
            if (scalar(g, 6, f32, &neg_inf, &tinf, err) || virt(g, i32, sdim, &row, err) ||
                pointwise(g, CUDNN_POINTWISE_GEN_INDEX, f32, 2, last, nullptr, nullptr, row, err) ||
                virt(g, i32, sdim, &col, err) ||
                pointwise(g, CUDNN_POINTWISE_GEN_INDEX, f32, 3, last, nullptr, nullptr, col, err))
                return -1;
            if (skv != sq) { /* query i sits at key position skv - sq + i */
                desc tkeys, tqueries, r1, r2;
                if (scalar(g, 7, i32, &keys, &tkeys, err) ||
                    scalar(g, 8, i32, &queries, &tqueries, err) || virt(g, i32, sdim, &r1, err) ||
                    pointwise(g, CUDNN_POINTWISE_ADD, i32, 3, row, tkeys, nullptr, r1, err) ||
                    virt(g, i32, sdim, &r2, err) ||
                    pointwise(g, CUDNN_POINTWISE_SUB, i32, 3, r1, tqueries, nullptr, r2, err))
                    return -1;
                row = r2;
            }
            if (virt(g, b8, sdim, &mask, err) ||
                pointwise(g, CUDNN_POINTWISE_CMP_GE, b8, -1, row, col, nullptr, mask, err) ||
                virt(g, f32, sdim, &masked, err) ||
                pointwise(g, CUDNN_POINTWISE_BINARY_SELECT, f32, -1, last, tinf, mask, masked, err))
                return -1;
            last = masked;
        }
        desc m, sub, e, z, logz, stats, p;
        if (virt(g, f32, rdim, &m, err) || reduction(g, CUDNN_REDUCE_TENSOR_MAX, last, m, err) ||
            virt(g, f32, sdim, &sub, err) ||
            pointwise(g, CUDNN_POINTWISE_SUB, f32, -1, last, m, nullptr, sub, err) ||
            virt(g, f32, sdim, &e, err) ||
            pointwise(g, CUDNN_POINTWISE_EXP, f32, -1, sub, nullptr, nullptr, e, err) ||
            virt(g, f32, rdim, &z, err) || reduction(g, CUDNN_REDUCE_TENSOR_ADD, e, z, err) ||
            virt(g, f32, rdim, &logz, err) ||
            pointwise(g, CUDNN_POINTWISE_LOG, f32, -1, z, nullptr, nullptr, logz, err) ||
            virt(g, f32, rdim, &stats, err) ||
            pointwise(g, CUDNN_POINTWISE_ADD, f32, -1, m, logz, nullptr, stats, err) ||
            virt(g, io, sdim, &p, err) ||
            pointwise(g, CUDNN_POINTWISE_DIV, f32, -1, e, z, nullptr, p, err) ||
            matmul(g, p, tv, to, err))
            return -1;
        return plan_for(h, err);
    }

  private:
    /* Operation graph, then the first engine configuration cuDNN's heuristics offer (mode
     * A, then the fallback list) whose plan finalizes, then workspace and variant pack. */
    int plan_for(cudnnHandle_t h, char *err)
    {
        desc og;
        if (g.make(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR, &og, err) ||
            set(og, CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR,
                (int64_t)g.ops.size(), g.ops.data(), err) ||
            set(og, CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, &h, err) ||
            finalize(og, "operation graph", err))
            return -1;
        char why[SS_PROF_ERR_LEN] = "the heuristics offered no engine configuration";
        const cudnnBackendHeurMode_t modes[2] = {CUDNN_HEUR_MODE_A, CUDNN_HEUR_MODE_FALLBACK};
        for (int mi = 0; mi < 2 && !plan; mi++) {
            desc heur;
            if (g.make(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR, &heur, err) ||
                set_desc(heur, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, og, err) ||
                set(heur, CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &modes[mi], err))
                return -1;
            if (finalize(heur, "engine heuristics", why)) continue;
            int64_t n = 0;
            SS_DNN(cudnnBackendGetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS,
                                            CUDNN_TYPE_BACKEND_DESCRIPTOR, 0, &n, nullptr));
            std::vector<desc> cfg((size_t)n);
            for (int64_t i = 0; i < n; i++)
                if (g.make(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, &cfg[(size_t)i], err)) return -1;
            int64_t got = 0;
            if (n > 0)
                SS_DNN(cudnnBackendGetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS,
                                                CUDNN_TYPE_BACKEND_DESCRIPTOR, n, &got,
                                                cfg.data()));
            for (int64_t i = 0; i < got && !plan; i++) {
                desc pl;
                if (g.make(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR, &pl, err) ||
                    set(pl, CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, &h, err) ||
                    set_desc(pl, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, cfg[(size_t)i], err))
                    return -1;
                if (finalize(pl, "execution plan", why)) continue;
                plan = pl;
                fallback = modes[mi] == CUDNN_HEUR_MODE_FALLBACK;
                engine_index(cfg[(size_t)i]);
            }
        }
        if (!plan) {
            std::snprintf(err, SS_PROF_ERR_LEN, "cuDNN: no engine runs this attention graph; "
                                                "last failure: %.400s", why);
            return -1;
        }
        int64_t wsb = 0, cnt = 0;
        SS_DNN(cudnnBackendGetAttribute(plan, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE,
                                        CUDNN_TYPE_INT64, 1, &cnt, &wsb));
        if (ws.alloc((size_t)(wsb > 0 ? wsb : 1), err)) return -1;
        if (g.make(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR, &pack, err) ||
            set(pack, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64,
                (int64_t)g.uids.size(), g.uids.data(), err) ||
            set(pack, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR,
                (int64_t)g.ptrs.size(), g.ptrs.data(), err) ||
            set(pack, CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, &ws.p, err) ||
            finalize(pack, "variant pack", err))
            return -1;
        return 0;
    }

    /* Best effort: the engine's global index, for the log only. */
    void engine_index(desc cfg)
    {
        desc eng = nullptr;
        if (cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINE_DESCRIPTOR, &eng) !=
            CUDNN_STATUS_SUCCESS)
            return;
        int64_t cnt = 0, idx = -1;
        if (cudnnBackendGetAttribute(cfg, CUDNN_ATTR_ENGINECFG_ENGINE,
                                     CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &cnt, &eng) ==
                CUDNN_STATUS_SUCCESS &&
            cudnnBackendGetAttribute(eng, CUDNN_ATTR_ENGINE_GLOBAL_INDEX, CUDNN_TYPE_INT64, 1,
                                     &cnt, &idx) == CUDNN_STATUS_SUCCESS)
            engine = idx;
        cudnnBackendDestroyDescriptor(eng);
    }
};

int check_shape(int heads, int kv_heads, int head_dim, char *err)
{
    if (heads < 1 || kv_heads < 1 || heads % kv_heads || head_dim < 8 || head_dim > 256 ||
        head_dim % 8) {
        std::snprintf(err, SS_PROF_ERR_LEN,
                      "cuDNN attention: heads %d / kv_heads %d / head_dim %d not supported "
                      "(heads divisible by kv_heads, head_dim a multiple of 8 up to 256)",
                      heads, kv_heads, head_dim);
        return -1;
    }
    return 0;
}

/* Operands for batch requests of nq queries over `keys` keys, and the built call. */
int setup(ss_prof_dev *dev, ss_prof_elem e, int batch, int64_t nq, int64_t keys, bool causal,
          int heads, int kv_heads, int head_dim, attn_bufs &b, sdpa &s, char *err)
{
    if (check_shape(heads, kv_heads, head_dim, err)) return -1;
    SS_CK(cudaSetDevice(dev->device));
    const bool half = e == SS_PROF_E_FP16;
    const ss_prof_elem el = half ? SS_PROF_E_FP16 : SS_PROF_E_BF16;
    cudnnHandle_t h = nullptr;
    if (handle_of(dev, &h, err) ||
        b.alloc(dev, el, 2, batch, nq, keys, heads, kv_heads, head_dim, err))
        return -1;
    return s.build(h, half ? CUDNN_DATA_HALF : CUDNN_DATA_BFLOAT16, batch, heads, kv_heads,
                   head_dim, nq, keys, causal, b.Q.p, b.K.p, b.V.p, b.O.p, err);
}

int time_call(ss_prof_dev *dev, sdpa &s, int warmup, int reps, float *times_us, char *err)
{
    cudnnHandle_t h = (cudnnHandle_t)dev->dnn;
    auto launch = [&]() -> int {
        SS_DNN(cudnnBackendExecute(h, s.plan, s.pack));
        return 0;
    };
    /* A new plan's first call may load its kernel: outside the timed loop. */
    if (launch()) return -1;
    SS_CK(cudaStreamSynchronize(dev->stream));
    /* cudnnBackendExecute costs the host tens of microseconds, more than a small decode
     * call runs on the GPU: the loop is queued behind a GPU sleep (ss_prof_time). */
    return ss_prof_time(dev, warmup, reps, times_us, err, launch, 1000 + 50 * (warmup + reps));
}

} // namespace

int ss_prof_cudnn_built(void) { return 1; }

size_t ss_prof_cudnn_version(void) { return cudnnGetVersion(); }

void ss_prof_dnn_release(ss_prof_dev *dev)
{
    if (dev->dnn) cudnnDestroy((cudnnHandle_t)dev->dnn);
    dev->dnn = nullptr;
}

int ss_prof_cudnn_prefill(ss_prof_dev *dev, ss_prof_elem e, int batch, int64_t q, int64_t kv,
                          int heads, int kv_heads, int head_dim, int warmup, int reps,
                          float *times_us, char *err)
{
    attn_bufs b;
    sdpa s;
    if (setup(dev, e, batch, q, kv + q, true, heads, kv_heads, head_dim, b, s, err)) return -1;
    return time_call(dev, s, warmup, reps, times_us, err);
}

int ss_prof_cudnn_decode(ss_prof_dev *dev, ss_prof_elem e, int batch, int64_t kv, int heads,
                         int kv_heads, int head_dim, int warmup, int reps, float *times_us,
                         char *err)
{
    attn_bufs b;
    sdpa s;
    if (setup(dev, e, batch, 1, kv, false, heads, kv_heads, head_dim, b, s, err)) return -1;
    return time_call(dev, s, warmup, reps, times_us, err);
}

int ss_prof_cudnn_sample(ss_prof_dev *dev, ss_prof_elem e, int decode, int batch, int64_t q,
                         int64_t kv, int heads, int kv_heads, int head_dim, float *Qh,
                         float *Kh, float *Vh, float *Oh, ss_prof_attn_info *info, char *err)
{
    attn_bufs b;
    sdpa s;
    const int64_t nq = decode ? 1 : q, keys = decode ? kv : kv + q;
    if (setup(dev, e, batch, nq, keys, !decode, heads, kv_heads, head_dim, b, s, err)) return -1;
    SS_CK(cudaMemsetAsync(b.O.p, 0xff, b.nq * 2, dev->stream)); /* NaN if unwritten */
    SS_DNN(cudnnBackendExecute((cudnnHandle_t)dev->dnn, s.plan, s.pack));
    SS_CK(cudaStreamSynchronize(dev->stream));
    info->engine = (int)s.engine, info->fallback = s.fallback;
    if (e == SS_PROF_E_FP16)
        return to_host_float<__half>(b.Q.p, b.nq, Qh, err) ||
                       to_host_float<__half>(b.K.p, b.nk, Kh, err) ||
                       to_host_float<__half>(b.V.p, b.nk, Vh, err) ||
                       to_host_float<__half>(b.O.p, b.nq, Oh, err)
                   ? -1
                   : 0;
    return to_host_float<__nv_bfloat16>(b.Q.p, b.nq, Qh, err) ||
                   to_host_float<__nv_bfloat16>(b.K.p, b.nk, Kh, err) ||
                   to_host_float<__nv_bfloat16>(b.V.p, b.nk, Vh, err) ||
                   to_host_float<__nv_bfloat16>(b.O.p, b.nq, Oh, err)
               ? -1
               : 0;
}

#else /* built without cuDNN */

namespace {
int no_cudnn(char *err)
{
    std::snprintf(err, SS_PROF_ERR_LEN, "servesim-profile was built without cuDNN 9 "
                                        "(docs/profiler.md, Building)");
    return -1;
}
} // namespace

int ss_prof_cudnn_built(void) { return 0; }
size_t ss_prof_cudnn_version(void) { return 0; }
void ss_prof_dnn_release(ss_prof_dev *) {}

int ss_prof_cudnn_prefill(ss_prof_dev *, ss_prof_elem, int, int64_t, int64_t, int, int, int,
                          int, int, float *, char *err)
{
    return no_cudnn(err);
}

int ss_prof_cudnn_decode(ss_prof_dev *, ss_prof_elem, int, int64_t, int, int, int, int, int,
                         float *, char *err)
{
    return no_cudnn(err);
}

int ss_prof_cudnn_sample(ss_prof_dev *, ss_prof_elem, int, int, int64_t, int64_t, int, int, int,
                         float *, float *, float *, float *, ss_prof_attn_info *, char *err)
{
    return no_cudnn(err);
}

#endif
