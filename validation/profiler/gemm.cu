/* GEMM timing through cuBLASLt: D[m,n] = X[m,k] . W[n,k]^T, the layout of a linear layer
 * (row-major activations, weights stored [out, in] as PyTorch does).
 *
 * In cuBLASLt's column-major terms the row-major D[m,n] is D^T, an n x m matrix with
 * ld = n, and D^T = W . X^T = op(A) . B with A = W stored as k x n (ld k) and op = T, and
 * B = X^T stored as k x m (ld k), op = N. This "TN" form is also the one cuBLASLt requires
 * for FP8. Per shape the heuristic's first choice (cublasLtMatmulAlgoGetHeuristic, one
 * result, 32 MiB workspace) is timed and its configuration recorded, which is what a
 * serving framework calling cuBLAS gets; no autotuning over candidates is done. */
#include <algorithm>
#include <cstring>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include "validation/profiler/cuda_int.h"

namespace {

/* cuBLASLt descriptors that destroy themselves. */
struct lt_layout {
    cublasLtMatrixLayout_t h = nullptr;
    ~lt_layout() { if (h) cublasLtMatrixLayoutDestroy(h); }
};
struct lt_op {
    cublasLtMatmulDesc_t h = nullptr;
    ~lt_op() { if (h) cublasLtMatmulDescDestroy(h); }
};
struct lt_pref {
    cublasLtMatmulPreference_t h = nullptr;
    ~lt_pref() { if (h) cublasLtMatmulPreferenceDestroy(h); }
};

int algo_cfg(const cublasLtMatmulAlgo_t *a, cublasLtMatmulAlgoConfigAttributes_t attr,
             int *out, char *err)
{
    size_t written = 0;
    uint32_t v32 = 0;
    int32_t i32 = 0;
    /* ID and SPLITK_NUM are int32_t, the others uint32_t (cublasLt.h). */
    if (attr == CUBLASLT_ALGO_CONFIG_ID || attr == CUBLASLT_ALGO_CONFIG_SPLITK_NUM) {
        SS_LT(cublasLtMatmulAlgoConfigGetAttribute(a, attr, &i32, sizeof i32, &written));
        *out = i32;
    } else {
        SS_LT(cublasLtMatmulAlgoConfigGetAttribute(a, attr, &v32, sizeof v32, &written));
        *out = (int)v32;
    }
    return 0;
}

} // namespace

namespace {

/* Everything one GEMM call needs besides its buffers. */
struct gemm_call {
    lt_op op;
    lt_pref pref;
    cudaDataType_t in_t = CUDA_R_16BF, out_t = CUDA_R_16BF;
    size_t in_sz = 2, out_sz = 2;
};

int gemm_init(ss_prof_dev *dev, ss_prof_elem e, int64_t k, gemm_call *g, char *err)
{
    if (e == SS_PROF_E_FP8 && dev->cc_major * 10 + dev->cc_minor < 89) {
        std::snprintf(err, SS_PROF_ERR_LEN,
                      "--dtype fp8 needs compute capability 8.9 or newer (this GPU: %d.%d)",
                      dev->cc_major, dev->cc_minor);
        return -1;
    }
    if (e == SS_PROF_E_FP8 && k % 16) {
        std::snprintf(err, SS_PROF_ERR_LEN, "fp8 GEMM: k = %lld is not a multiple of 16",
                      (long long)k);
        return -1;
    }
    SS_CK(cudaSetDevice(dev->device));
    g->in_t = e == SS_PROF_E_BF16 ? CUDA_R_16BF : e == SS_PROF_E_FP16 ? CUDA_R_16F : CUDA_R_8F_E4M3;
    g->out_t = e == SS_PROF_E_FP16 ? CUDA_R_16F : CUDA_R_16BF;
    g->in_sz = e == SS_PROF_E_FP8 ? 1 : 2;
    SS_LT(cublasLtMatmulDescCreate(&g->op.h, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
    SS_LT(cublasLtMatmulDescSetAttribute(g->op.h, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
    SS_LT(cublasLtMatmulDescSetAttribute(g->op.h, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb));
    SS_LT(cublasLtMatmulPreferenceCreate(&g->pref.h));
    uint64_t ws = dev->workspace_bytes;
    SS_LT(cublasLtMatmulPreferenceSetAttribute(
        g->pref.h, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws));
    return 0;
}

/* Layouts and the heuristic's algorithm for one m. */
struct gemm_shape {
    lt_layout A, B, C;
    cublasLtMatmulHeuristicResult_t res;
};

int gemm_shape_init(ss_prof_dev *dev, const gemm_call &g, int64_t m, int64_t n, int64_t k,
                    gemm_shape *s, char *err)
{
    SS_LT(cublasLtMatrixLayoutCreate(&s->A.h, g.in_t, (uint64_t)k, (uint64_t)n, k));
    SS_LT(cublasLtMatrixLayoutCreate(&s->B.h, g.in_t, (uint64_t)k, (uint64_t)m, k));
    SS_LT(cublasLtMatrixLayoutCreate(&s->C.h, g.out_t, (uint64_t)n, (uint64_t)m, n));
    int found = 0;
    cublasStatus_t st = cublasLtMatmulAlgoGetHeuristic(dev->lt, g.op.h, s->A.h, s->B.h, s->C.h,
                                                       s->C.h, g.pref.h, 1, &s->res, &found);
    if (st != CUBLAS_STATUS_SUCCESS && st != CUBLAS_STATUS_NOT_SUPPORTED)
        return ss_prof_fail(err, __FILE__, __LINE__, "cublasLtMatmulAlgoGetHeuristic",
                            cublasLtGetStatusString(st));
    if (st == CUBLAS_STATUS_NOT_SUPPORTED || found < 1) {
        std::snprintf(err, SS_PROF_ERR_LEN, "cuBLASLt has no algorithm for m=%lld n=%lld k=%lld",
                      (long long)m, (long long)n, (long long)k);
        return -1;
    }
    return 0;
}

int gemm_launch(ss_prof_dev *dev, const gemm_call &g, const gemm_shape &s, const void *W,
                const void *X, void *D, char *err)
{
    const float alpha = 1.0f, beta = 0.0f;
    SS_LT(cublasLtMatmul(dev->lt, g.op.h, &alpha, W, s.A.h, X, s.B.h, &beta, D, s.C.h, D,
                         s.C.h, &s.res.algo, dev->workspace, dev->workspace_bytes,
                         dev->stream));
    return 0;
}

} // namespace

int ss_prof_gemm_sweep(ss_prof_dev *dev, ss_prof_elem e, int64_t n, int64_t k,
                       const int64_t *ms, size_t nm, int warmup, int reps, float *times_us,
                       ss_prof_algo *algo, char *err)
{
    gemm_call g;
    if (gemm_init(dev, e, k, &g, err)) return -1;
    int64_t mmax = *std::max_element(ms, ms + nm);
    ss_dbuf W, X, D;
    if (W.alloc((size_t)n * k * g.in_sz, err) || X.alloc((size_t)mmax * k * g.in_sz, err) ||
        D.alloc((size_t)mmax * n * g.out_sz, err))
        return -1;
    if (ss_prof_fill(W.p, e, (size_t)n * k, 1, dev->stream, err) ||
        ss_prof_fill(X.p, e, (size_t)mmax * k, 2, dev->stream, err))
        return -1;

    for (size_t i = 0; i < nm; i++) {
        gemm_shape s;
        if (gemm_shape_init(dev, g, ms[i], n, k, &s, err)) {
            /* No algorithm for this m (fp8 has alignment rules): mark it and go on; any
             * other failure has already been reported as such and stops the sweep. */
            if (!std::strstr(err, "has no algorithm")) return -1;
            algo[i].cfg[0] = -1;
            continue;
        }
        const cublasLtMatmulAlgoConfigAttributes_t attrs[7] = {
            CUBLASLT_ALGO_CONFIG_ID,          CUBLASLT_ALGO_CONFIG_TILE_ID,
            CUBLASLT_ALGO_CONFIG_STAGES_ID,   CUBLASLT_ALGO_CONFIG_SPLITK_NUM,
            CUBLASLT_ALGO_CONFIG_REDUCTION_SCHEME, CUBLASLT_ALGO_CONFIG_CTA_SWIZZLING,
            CUBLASLT_ALGO_CONFIG_CUSTOM_OPTION};
        for (int a = 0; a < 7; a++)
            if (algo_cfg(&s.res.algo, attrs[a], &algo[i].cfg[a], err)) return -1;
        algo[i].waves = s.res.wavesCount;
        auto launch = [&]() -> int { return gemm_launch(dev, g, s, W.p, X.p, D.p, err); };
        if (ss_prof_time(dev, warmup, reps, times_us + i * (size_t)reps, err, launch))
            return -1;
    }
    return 0;
}

int ss_prof_gemm_sample(ss_prof_dev *dev, ss_prof_elem e, int64_t m, int64_t n, int64_t k,
                        float *Xh, float *Wh, float *Dh, char *err)
{
    gemm_call g;
    if (gemm_init(dev, e, k, &g, err)) return -1;
    ss_dbuf W, X, D;
    if (W.alloc((size_t)n * k * g.in_sz, err) || X.alloc((size_t)m * k * g.in_sz, err) ||
        D.alloc((size_t)m * n * g.out_sz, err))
        return -1;
    if (ss_prof_fill(W.p, e, (size_t)n * k, 1, dev->stream, err) ||
        ss_prof_fill(X.p, e, (size_t)m * k, 2, dev->stream, err))
        return -1;
    gemm_shape s;
    if (gemm_shape_init(dev, g, m, n, k, &s, err) || gemm_launch(dev, g, s, W.p, X.p, D.p, err))
        return -1;
    SS_CK(cudaStreamSynchronize(dev->stream));
    int bad = 0;
    switch (e) {
    case SS_PROF_E_BF16:
        bad = to_host_float<__nv_bfloat16>(X.p, (size_t)m * k, Xh, err) ||
              to_host_float<__nv_bfloat16>(W.p, (size_t)n * k, Wh, err);
        break;
    case SS_PROF_E_FP16:
        bad = to_host_float<__half>(X.p, (size_t)m * k, Xh, err) ||
              to_host_float<__half>(W.p, (size_t)n * k, Wh, err);
        break;
    case SS_PROF_E_FP8:
        bad = to_host_float<__nv_fp8_e4m3>(X.p, (size_t)m * k, Xh, err) ||
              to_host_float<__nv_fp8_e4m3>(W.p, (size_t)n * k, Wh, err);
        break;
    }
    if (bad) return -1;
    if (e == SS_PROF_E_FP16) return to_host_float<__half>(D.p, (size_t)m * n, Dh, err);
    return to_host_float<__nv_bfloat16>(D.p, (size_t)m * n, Dh, err);
}
