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
    if (attr == CUBLASLT_ALGO_CONFIG_ID) {
        SS_LT(cublasLtMatmulAlgoConfigGetAttribute(a, attr, &i32, sizeof i32, &written));
        *out = i32;
    } else {
        SS_LT(cublasLtMatmulAlgoConfigGetAttribute(a, attr, &v32, sizeof v32, &written));
        *out = (int)v32;
    }
    return 0;
}

} // namespace

int ss_prof_gemm_sweep(ss_prof_dev *dev, ss_prof_elem e, int64_t n, int64_t k,
                       const int64_t *ms, size_t nm, int warmup, int reps, float *times_us,
                       ss_prof_algo *algo, char *err)
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
    cudaDataType_t in_t = e == SS_PROF_E_BF16   ? CUDA_R_16BF
                          : e == SS_PROF_E_FP16 ? CUDA_R_16F
                                                : CUDA_R_8F_E4M3;
    cudaDataType_t out_t = e == SS_PROF_E_FP16 ? CUDA_R_16F : CUDA_R_16BF;
    size_t in_sz = e == SS_PROF_E_FP8 ? 1 : 2, out_sz = 2;
    int64_t mmax = *std::max_element(ms, ms + nm);

    ss_dbuf W, X, D;
    if (W.alloc((size_t)n * k * in_sz, err) || X.alloc((size_t)mmax * k * in_sz, err) ||
        D.alloc((size_t)mmax * n * out_sz, err))
        return -1;
    if (ss_prof_fill(W.p, e, (size_t)n * k, 1, dev->stream, err) ||
        ss_prof_fill(X.p, e, (size_t)mmax * k, 2, dev->stream, err))
        return -1;

    lt_op op;
    SS_LT(cublasLtMatmulDescCreate(&op.h, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
    SS_LT(cublasLtMatmulDescSetAttribute(op.h, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
    SS_LT(cublasLtMatmulDescSetAttribute(op.h, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb));
    lt_pref pref;
    SS_LT(cublasLtMatmulPreferenceCreate(&pref.h));
    uint64_t ws = dev->workspace_bytes;
    SS_LT(cublasLtMatmulPreferenceSetAttribute(
        pref.h, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws));
    const float alpha = 1.0f, beta = 0.0f;

    for (size_t i = 0; i < nm; i++) {
        int64_t m = ms[i];
        lt_layout A, B, C;
        SS_LT(cublasLtMatrixLayoutCreate(&A.h, in_t, (uint64_t)k, (uint64_t)n, k));
        SS_LT(cublasLtMatrixLayoutCreate(&B.h, in_t, (uint64_t)k, (uint64_t)m, k));
        SS_LT(cublasLtMatrixLayoutCreate(&C.h, out_t, (uint64_t)n, (uint64_t)m, n));
        cublasLtMatmulHeuristicResult_t res;
        int found = 0;
        SS_LT(cublasLtMatmulAlgoGetHeuristic(dev->lt, op.h, A.h, B.h, C.h, C.h, pref.h, 1,
                                             &res, &found));
        if (found < 1) {
            std::snprintf(err, SS_PROF_ERR_LEN,
                          "cuBLASLt has no algorithm for m=%lld n=%lld k=%lld",
                          (long long)m, (long long)n, (long long)k);
            return -1;
        }
        const cublasLtMatmulAlgoConfigAttributes_t attrs[7] = {
            CUBLASLT_ALGO_CONFIG_ID,          CUBLASLT_ALGO_CONFIG_TILE_ID,
            CUBLASLT_ALGO_CONFIG_STAGES_ID,   CUBLASLT_ALGO_CONFIG_SPLITK_NUM,
            CUBLASLT_ALGO_CONFIG_REDUCTION_SCHEME, CUBLASLT_ALGO_CONFIG_CTA_SWIZZLING,
            CUBLASLT_ALGO_CONFIG_CUSTOM_OPTION};
        for (int a = 0; a < 7; a++)
            if (algo_cfg(&res.algo, attrs[a], &algo[i].cfg[a], err)) return -1;
        algo[i].waves = res.wavesCount;

        auto launch = [&]() -> int {
            SS_LT(cublasLtMatmul(dev->lt, op.h, &alpha, W.p, A.h, X.p, B.h, &beta, D.p, C.h,
                                 D.p, C.h, &res.algo, dev->workspace, dev->workspace_bytes,
                                 dev->stream));
            return 0;
        };
        if (ss_prof_time(dev, warmup, reps, times_us + i * (size_t)reps, err, launch))
            return -1;
    }
    return 0;
}
