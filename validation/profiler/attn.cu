/* servesim-fa: the profiler's own FlashAttention-style attention kernels. APPROXIMATE.
 *
 * The production kernel is cuDNN's fused flash attention (attn_cudnn.cu), which
 * --attn-kernel auto picks wherever the build found cuDNN 9. These kernels remain for builds
 * without it (their rows are approx=1 and never fitted). docs/profiler.md lists how they
 * differ from production kernels and how much slower they are.
 *
 * Prefill (attn_prefill_kernel): one block of 4 warps per (64-query tile, query head,
 * request). K/V tiles of 64 keys are staged in shared memory; S = Q K^T and O += P V run on
 * tensor cores through WMMA (16x16x16, bf16/fp16 in, fp32 accumulate); the softmax is the
 * online (running max / running sum) one of FlashAttention, so S is never written to HBM.
 * Each warp owns 16 query rows from start to end, so only the K/V loads need block
 * barriers. Causal mask with a cached prefix: query i (0-based among the q new tokens)
 * sits at position kv + i and sees keys 0 .. kv + i; tiles past the block's last query are
 * skipped. GQA: query head h reads KV head h / (heads / kv_heads).
 *
 * Decode (attn_decode_kernel + combine_kernel): split-KV ("flash-decoding"): the context of
 * each (request, KV head) is cut into splits so that about two blocks per SM run; each
 * block serves all query heads of its KV head (the GQA group shares the K/V it loads),
 * computes scores and the weighted sum in fp32 on CUDA cores (decode is bandwidth-bound),
 * and writes an unnormalised partial output with its max and sum; combine_kernel merges
 * the splits.
 *
 * Layouts are contiguous, not paged: Q [batch][heads][q][d], K and V
 * [batch][kv_heads][kv+q][d], O like Q. */
#include <cmath>
#include <cstring>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <mma.h>

#include "validation/profiler/cuda_int.h"

namespace {

using namespace nvcuda;

constexpr int BM = 64;       /* query rows per prefill block */
constexpr int BN = 64;       /* keys per tile */
constexpr int THREADS = 128; /* 4 warps */

__device__ inline float to_f(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ inline float to_f(__half v) { return __half2float(v); }
template <class T> __device__ inline T from_f(float v);
template <> __device__ inline __nv_bfloat16 from_f<__nv_bfloat16>(float v)
{
    return __float2bfloat16(v);
}
template <> __device__ inline __half from_f<__half>(float v) { return __float2half(v); }

/* Copy rows [r0, r0 + rows) of a [nrows_total][D] matrix into shared memory with row
 * stride lds, zero-filling rows past nrows_total; 16-byte vector copies. */
template <class T, int D>
__device__ inline void load_rows(T *dst, int lds, const T *src, int64_t r0, int rows,
                                 int64_t nrows_total)
{
    constexpr int VEC = 8; /* 8 x 16-bit = 16 bytes */
    const int chunks = rows * (D / VEC);
    for (int c = threadIdx.x; c < chunks; c += blockDim.x) {
        int r = c / (D / VEC), col = (c % (D / VEC)) * VEC;
        uint4 v = make_uint4(0, 0, 0, 0);
        if (r0 + r < nrows_total) v = *reinterpret_cast<const uint4 *>(src + (r0 + r) * D + col);
        *reinterpret_cast<uint4 *>(dst + r * lds + col) = v;
    }
}

template <int D>
constexpr size_t prefill_smem_bytes(size_t elem)
{
    return elem * (size_t)(BM * D + 2 * BN * D + BM * BN) +
           sizeof(float) * (BM * BN + BM * D + 3 * BM);
}

template <class T, int D>
__global__ void __launch_bounds__(THREADS)
attn_prefill_kernel(const T *__restrict__ Q, const T *__restrict__ K, const T *__restrict__ V,
                    T *__restrict__ O, int heads, int kv_heads, int64_t q, int64_t kv,
                    float scale)
{
    extern __shared__ __align__(128) unsigned char smem[];
    T *Qs = reinterpret_cast<T *>(smem);
    T *Ks = Qs + BM * D;
    T *Vs = Ks + BN * D;
    T *Ps = Vs + BN * D;
    float *Ss = reinterpret_cast<float *>(Ps + BM * BN);
    float *Os = Ss + BM * BN;
    float *mrow = Os + BM * D, *lrow = mrow + BM, *arow = lrow + BM;

    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int h = blockIdx.y, b = blockIdx.z;
    const int kvh = h / (heads / kv_heads);
    const int64_t q0 = (int64_t)blockIdx.x * BM;
    const int64_t keys = kv + q;
    const T *Qb = Q + ((int64_t)b * heads + h) * q * D;
    const T *Kb = K + ((int64_t)b * kv_heads + kvh) * keys * D;
    const T *Vb = V + ((int64_t)b * kv_heads + kvh) * keys * D;
    T *Ob = O + ((int64_t)b * heads + h) * q * D;

    load_rows<T, D>(Qs, D, Qb, q0, BM, q);
    for (int i = threadIdx.x; i < BM * D; i += blockDim.x) Os[i] = 0.0f;
    for (int i = threadIdx.x; i < BM; i += blockDim.x) {
        mrow[i] = -INFINITY;
        lrow[i] = 0.0f;
    }

    const int64_t last_q = (q0 + BM < q ? q0 + BM : q) - 1;   /* last real query row */
    const int64_t key_end = kv + last_q + 1;                  /* keys this block needs */
    const int ntiles = (int)((key_end + BN - 1) / BN);
    const int r0 = warp * 16;                                 /* this warp's rows */

    for (int t = 0; t < ntiles; t++) {
        const int64_t k0 = (int64_t)t * BN;
        __syncthreads(); /* previous tile's K/V no longer read; Q, O initialised */
        load_rows<T, D>(Ks, D, Kb, k0, BN, keys);
        load_rows<T, D>(Vs, D, Vb, k0, BN, keys);
        __syncthreads();

        /* S[r0..r0+16, 0..BN) = Q K^T */
        for (int cf = 0; cf < BN / 16; cf++) {
            wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
            wmma::fill_fragment(acc, 0.0f);
            for (int kk = 0; kk < D / 16; kk++) {
                wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> a;
                wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> bf;
                wmma::load_matrix_sync(a, Qs + r0 * D + kk * 16, D);
                wmma::load_matrix_sync(bf, Ks + cf * 16 * D + kk * 16, D);
                wmma::mma_sync(acc, a, bf, acc);
            }
            wmma::store_matrix_sync(Ss + r0 * BN + cf * 16, acc, BN, wmma::mem_row_major);
        }
        __syncwarp();

        /* Online softmax over this tile, one row at a time, two columns per lane. */
        for (int r = r0; r < r0 + 16; r++) {
            const int64_t pos = kv + q0 + r; /* absolute position of this query */
            float s[2];
            float tmax = -INFINITY;
            for (int j = 0; j < 2; j++) {
                int c = lane + 32 * j;
                int64_t key = k0 + c;
                bool ok = key <= pos && key < keys;
                s[j] = ok ? Ss[r * BN + c] * scale : -INFINITY;
                tmax = fmaxf(tmax, s[j]);
            }
            for (int o = 16; o > 0; o /= 2)
                tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, o));
            const float mold = mrow[r];
            const float mnew = fmaxf(mold, tmax);
            float psum = 0.0f;
            for (int j = 0; j < 2; j++) {
                float p = s[j] == -INFINITY ? 0.0f : __expf(s[j] - mnew);
                psum += p;
                Ps[r * BN + lane + 32 * j] = from_f<T>(p);
            }
            for (int o = 16; o > 0; o /= 2) psum += __shfl_xor_sync(0xffffffffu, psum, o);
            __syncwarp();
            if (lane == 0) {
                float alpha = mold == -INFINITY ? 0.0f : __expf(mold - mnew);
                arow[r] = mnew == -INFINITY ? 1.0f : alpha;
                mrow[r] = mnew;
                lrow[r] = lrow[r] * arow[r] + psum;
            }
        }
        __syncwarp();
        for (int r = r0; r < r0 + 16; r++)
            for (int c = lane; c < D; c += 32) Os[r * D + c] *= arow[r];
        __syncwarp();

        /* O[r0..r0+16, 0..D) += P V */
        for (int cf = 0; cf < D / 16; cf++) {
            wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
            wmma::load_matrix_sync(acc, Os + r0 * D + cf * 16, D, wmma::mem_row_major);
            for (int kk = 0; kk < BN / 16; kk++) {
                wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> a;
                wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> bf;
                wmma::load_matrix_sync(a, Ps + r0 * BN + kk * 16, BN);
                wmma::load_matrix_sync(bf, Vs + kk * 16 * D + cf * 16, D);
                wmma::mma_sync(acc, a, bf, acc);
            }
            wmma::store_matrix_sync(Os + r0 * D + cf * 16, acc, D, wmma::mem_row_major);
        }
        __syncwarp();
    }

    /* Normalise and write this warp's rows. */
    for (int r = r0; r < r0 + 16; r++) {
        if (q0 + r >= q) break;
        const float inv = lrow[r] > 0.0f ? 1.0f / lrow[r] : 0.0f;
        for (int c = lane; c < D; c += 32) Ob[(q0 + r) * D + c] = from_f<T>(Os[r * D + c] * inv);
    }
}

/* ------------------------------------------------------------------ decode */

constexpr int MAXG = 16; /* query heads per KV head the decode kernel accepts */
constexpr int PAD = 8;   /* row padding of staged K/V (keeps 16-byte alignment) */

template <int D>
size_t decode_smem_bytes(int G, size_t elem)
{
    return sizeof(float) * (size_t)(G * D + G * D + G * BN + 3 * G) + elem * 2 * BN * (D + PAD);
}

/* grid (splits, kv_heads, batch). Partial outputs: Op [batch][heads][splits][D] (unnormalised),
 * Mp/Lp [batch][heads][splits]. */
template <class T, int D>
__global__ void __launch_bounds__(THREADS)
attn_decode_kernel(const T *__restrict__ Q, const T *__restrict__ K, const T *__restrict__ V,
                   float *__restrict__ Op, float *__restrict__ Mp, float *__restrict__ Lp,
                   int heads, int kv_heads, int64_t kv, int64_t per_split, float scale)
{
    extern __shared__ __align__(128) unsigned char smem[];
    const int G = heads / kv_heads;
    /* K/V first: their 16-byte vector stores need the alignment of the base. */
    T *Ks = reinterpret_cast<T *>(smem);
    T *Vs = Ks + BN * (D + PAD);
    float *qs = reinterpret_cast<float *>(Vs + BN * (D + PAD));
    float *acc = qs + G * D;
    float *sc = acc + G * D;
    float *m = sc + G * BN, *l = m + G, *al = l + G;

    const int split = blockIdx.x, kvh = blockIdx.y, b = blockIdx.z;
    const int nsplit = gridDim.x;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int64_t s0 = (int64_t)split * per_split;
    const int64_t s1 = s0 + per_split < kv ? s0 + per_split : kv;
    const T *Kb = K + ((int64_t)b * kv_heads + kvh) * kv * D;
    const T *Vb = V + ((int64_t)b * kv_heads + kvh) * kv * D;

    for (int i = threadIdx.x; i < G * D; i += blockDim.x) {
        int g = i / D, d = i % D;
        qs[i] = to_f(Q[((int64_t)b * heads + kvh * G + g) * D + d]) * scale;
        acc[i] = 0.0f;
    }
    for (int g = threadIdx.x; g < G; g += blockDim.x) {
        m[g] = -INFINITY;
        l[g] = 0.0f;
    }

    for (int64_t k0 = s0; k0 < s1; k0 += BN) {
        __syncthreads();
        int64_t end = k0 + BN < s1 ? k0 + BN : s1;
        load_rows<T, D>(Ks, D + PAD, Kb, k0, BN, end);
        load_rows<T, D>(Vs, D + PAD, Vb, k0, BN, end);
        __syncthreads();
        for (int i = threadIdx.x; i < G * BN; i += blockDim.x) {
            int g = i / BN, j = i % BN;
            float s = -INFINITY;
            if (k0 + j < end) {
                s = 0.0f;
                const float *qg = qs + g * D;
                const T *kr = Ks + j * (D + PAD);
#pragma unroll 8
                for (int d = 0; d < D; d++) s += qg[d] * to_f(kr[d]);
            }
            sc[i] = s;
        }
        __syncthreads();
        for (int g = warp; g < G; g += THREADS / 32) {
            float v0 = sc[g * BN + lane], v1 = sc[g * BN + lane + 32];
            float tmax = fmaxf(v0, v1);
            for (int o = 16; o > 0; o /= 2)
                tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, o));
            float mnew = fmaxf(m[g], tmax);
            float p0 = v0 == -INFINITY ? 0.0f : __expf(v0 - mnew);
            float p1 = v1 == -INFINITY ? 0.0f : __expf(v1 - mnew);
            sc[g * BN + lane] = p0;
            sc[g * BN + lane + 32] = p1;
            float ps = p0 + p1;
            for (int o = 16; o > 0; o /= 2) ps += __shfl_xor_sync(0xffffffffu, ps, o);
            if (lane == 0) {
                float a = m[g] == -INFINITY ? 0.0f : __expf(m[g] - mnew);
                al[g] = a;
                l[g] = l[g] * a + ps;
                m[g] = mnew;
            }
        }
        __syncthreads();
        for (int i = threadIdx.x; i < G * D; i += blockDim.x) {
            int g = i / D, d = i % D;
            float o = acc[i] * al[g];
            const float *pg = sc + g * BN;
            for (int j = 0; j < BN; j++) o += pg[j] * to_f(Vs[j * (D + PAD) + d]);
            acc[i] = o;
        }
    }
    __syncthreads();
    for (int i = threadIdx.x; i < G * D; i += blockDim.x) {
        int g = i / D, d = i % D;
        int64_t row = ((int64_t)b * heads + kvh * G + g) * nsplit + split;
        Op[row * D + d] = acc[i];
        if (d == 0) {
            Mp[row] = m[g];
            Lp[row] = l[g];
        }
    }
}

/* grid (heads, batch), D threads: merge the splits of one (request, head). */
template <class T, int D>
__global__ void combine_kernel(const float *__restrict__ Op, const float *__restrict__ Mp,
                               const float *__restrict__ Lp, T *__restrict__ O, int heads,
                               int nsplit)
{
    const int h = blockIdx.x, b = blockIdx.y, d = threadIdx.x;
    const int64_t base = ((int64_t)b * heads + h) * nsplit;
    float mx = -INFINITY;
    for (int s = 0; s < nsplit; s++) mx = fmaxf(mx, Mp[base + s]);
    float num = 0.0f, den = 0.0f;
    for (int s = 0; s < nsplit; s++) {
        float ms = Mp[base + s];
        if (ms == -INFINITY) continue;
        float w = __expf(ms - mx);
        num += w * Op[(base + s) * D + d];
        den += w * Lp[base + s];
    }
    O[((int64_t)b * heads + h) * D + d] = from_f<T>(den > 0.0f ? num / den : 0.0f);
}

/* ------------------------------------------------------------------ host side */

int check_heads(int heads, int kv_heads, int head_dim, char *err)
{
    if (kv_heads < 1 || heads % kv_heads) {
        std::snprintf(err, SS_PROF_ERR_LEN, "attention: %d heads do not divide into %d KV heads",
                      heads, kv_heads);
        return -1;
    }
    if (head_dim != 64 && head_dim != 128 && head_dim != 256) {
        std::snprintf(err, SS_PROF_ERR_LEN,
                      "attention: head_dim %d is not supported by servesim-fa (64, 128, 256)",
                      head_dim);
        return -1;
    }
    return 0;
}

/* Shared-memory opt-in for the prefill kernel; its size in *smem. */
template <class T, int D>
int prefill_setup(ss_prof_dev *dev, size_t *smem, char *err)
{
    *smem = prefill_smem_bytes<D>(sizeof(T));
    if (*smem > dev->smem_optin) {
        std::snprintf(err, SS_PROF_ERR_LEN,
                      "attention: head_dim %d needs %zu bytes of shared memory per block; "
                      "this GPU allows %zu",
                      D, *smem, dev->smem_optin);
        return -1;
    }
    SS_CK(cudaFuncSetAttribute(attn_prefill_kernel<T, D>,
                               cudaFuncAttributeMaxDynamicSharedMemorySize, (int)*smem));
    return 0;
}

template <class T, int D>
void prefill_launch(ss_prof_dev *dev, size_t smem, const void *Q, const void *K, const void *V,
                    void *O, int batch, int64_t q, int64_t kv, int heads, int kv_heads)
{
    const dim3 grid((unsigned)((q + BM - 1) / BM), (unsigned)heads, (unsigned)batch);
    attn_prefill_kernel<T, D><<<grid, THREADS, smem, dev->stream>>>(
        (const T *)Q, (const T *)K, (const T *)V, (T *)O, heads, kv_heads, q, kv,
        1.0f / std::sqrt((float)D));
}

/* Buffers of one attention call: Q and O [batch][heads][q][D], K and V
 * [batch][kv_heads][keys][D]. */

template <class T, int D>
int prefill_t(ss_prof_dev *dev, ss_prof_elem e, int batch, int64_t q, int64_t kv, int heads,
              int kv_heads, int warmup, int reps, float *times_us, char *err)
{
    size_t smem = 0;
    if (prefill_setup<T, D>(dev, &smem, err)) return -1;
    attn_bufs b;
    if (b.alloc(dev, e, sizeof(T), batch, q, kv + q, heads, kv_heads, D, err)) return -1;
    auto launch = [&]() -> int {
        prefill_launch<T, D>(dev, smem, b.Q.p, b.K.p, b.V.p, b.O.p, batch, q, kv, heads,
                             kv_heads);
        return 0;
    };
    return ss_prof_time(dev, warmup, reps, times_us, err, launch);
}

/* The decode kernels' launch geometry and partial-output buffers. */
struct decode_plan {
    int64_t nsplit = 1, per_split = 0;
    size_t smem = 0;
    ss_dbuf Op, Mp, Lp;
};

template <class T, int D>
int decode_setup(ss_prof_dev *dev, int batch, int64_t kv, int heads, int kv_heads,
                 decode_plan *dp, char *err)
{
    const int G = heads / kv_heads;
    if (G > MAXG) {
        std::snprintf(err, SS_PROF_ERR_LEN,
                      "attention: %d query heads per KV head; servesim-fa decode takes at most %d",
                      G, MAXG);
        return -1;
    }
    dp->smem = decode_smem_bytes<D>(G, sizeof(T));
    if (dp->smem > dev->smem_optin) {
        std::snprintf(err, SS_PROF_ERR_LEN,
                      "attention decode needs %zu bytes of shared memory; this GPU allows %zu",
                      dp->smem, dev->smem_optin);
        return -1;
    }
    SS_CK(cudaFuncSetAttribute(attn_decode_kernel<T, D>,
                               cudaFuncAttributeMaxDynamicSharedMemorySize, (int)dp->smem));
    /* About two blocks per SM, no split shorter than 256 keys. */
    const int64_t groups = (int64_t)batch * kv_heads;
    int64_t want = (2 * (int64_t)dev->sms + groups - 1) / groups;
    int64_t by_len = (kv + 255) / 256;
    int64_t nsplit = want < by_len ? want : by_len;
    if (nsplit < 1) nsplit = 1;
    int64_t per_split = (kv + nsplit - 1) / nsplit;
    dp->per_split = (per_split + BN - 1) / BN * BN;
    dp->nsplit = (kv + dp->per_split - 1) / dp->per_split;
    const size_t np = (size_t)batch * heads * dp->nsplit;
    if (dp->Op.alloc(np * D * sizeof(float), err) || dp->Mp.alloc(np * sizeof(float), err) ||
        dp->Lp.alloc(np * sizeof(float), err))
        return -1;
    return 0;
}

template <class T, int D>
void decode_launch(ss_prof_dev *dev, const decode_plan &dp, const void *Q, const void *K,
                   const void *V, void *O, int batch, int64_t kv, int heads, int kv_heads)
{
    const dim3 grid((unsigned)dp.nsplit, (unsigned)kv_heads, (unsigned)batch);
    const dim3 cgrid((unsigned)heads, (unsigned)batch);
    attn_decode_kernel<T, D><<<grid, THREADS, dp.smem, dev->stream>>>(
        (const T *)Q, (const T *)K, (const T *)V, (float *)dp.Op.p, (float *)dp.Mp.p,
        (float *)dp.Lp.p, heads, kv_heads, kv, dp.per_split, 1.0f / std::sqrt((float)D));
    combine_kernel<T, D><<<cgrid, D, 0, dev->stream>>>(
        (const float *)dp.Op.p, (const float *)dp.Mp.p, (const float *)dp.Lp.p, (T *)O, heads,
        (int)dp.nsplit);
}

template <class T, int D>
int decode_t(ss_prof_dev *dev, ss_prof_elem e, int batch, int64_t kv, int heads, int kv_heads,
             int warmup, int reps, float *times_us, char *err)
{
    decode_plan dp;
    if (decode_setup<T, D>(dev, batch, kv, heads, kv_heads, &dp, err)) return -1;
    attn_bufs b;
    if (b.alloc(dev, e, sizeof(T), batch, 1, kv, heads, kv_heads, D, err)) return -1;
    auto launch = [&]() -> int {
        decode_launch<T, D>(dev, dp, b.Q.p, b.K.p, b.V.p, b.O.p, batch, kv, heads, kv_heads);
        return 0;
    };
    return ss_prof_time(dev, warmup, reps, times_us, err, launch);
}

/* One call on the fill pattern; inputs and output copied back for the reference check. */
template <class T, int D>
int sample_t(ss_prof_dev *dev, ss_prof_elem e, int decode, int batch, int64_t q, int64_t kv,
             int heads, int kv_heads, float *Qh, float *Kh, float *Vh, float *Oh, char *err)
{
    const int64_t keys = decode ? kv : kv + q;
    const int64_t nq = decode ? 1 : q;
    attn_bufs b;
    if (b.alloc(dev, e, sizeof(T), batch, nq, keys, heads, kv_heads, D, err)) return -1;
    SS_CK(cudaMemsetAsync(b.O.p, 0xff, b.nq * sizeof(T), dev->stream)); /* NaN if unwritten */
    if (decode) {
        decode_plan dp;
        if (decode_setup<T, D>(dev, batch, kv, heads, kv_heads, &dp, err)) return -1;
        decode_launch<T, D>(dev, dp, b.Q.p, b.K.p, b.V.p, b.O.p, batch, kv, heads, kv_heads);
        SS_CK(cudaGetLastError());
        SS_CK(cudaStreamSynchronize(dev->stream));
    } else {
        size_t smem = 0;
        if (prefill_setup<T, D>(dev, &smem, err)) return -1;
        prefill_launch<T, D>(dev, smem, b.Q.p, b.K.p, b.V.p, b.O.p, batch, q, kv, heads,
                             kv_heads);
        SS_CK(cudaGetLastError());
        SS_CK(cudaStreamSynchronize(dev->stream));
    }
    if (to_host_float<T>(b.Q.p, b.nq, Qh, err) || to_host_float<T>(b.K.p, b.nk, Kh, err) ||
        to_host_float<T>(b.V.p, b.nk, Vh, err) || to_host_float<T>(b.O.p, b.nq, Oh, err))
        return -1;
    return 0;
}

template <class T>
int prefill_d(ss_prof_dev *dev, ss_prof_elem e, int batch, int64_t q, int64_t kv, int heads,
              int kv_heads, int head_dim, int warmup, int reps, float *t, char *err)
{
    switch (head_dim) {
    case 64: return prefill_t<T, 64>(dev, e, batch, q, kv, heads, kv_heads, warmup, reps, t, err);
    case 128: return prefill_t<T, 128>(dev, e, batch, q, kv, heads, kv_heads, warmup, reps, t, err);
    default: return prefill_t<T, 256>(dev, e, batch, q, kv, heads, kv_heads, warmup, reps, t, err);
    }
}

template <class T>
int decode_d(ss_prof_dev *dev, ss_prof_elem e, int batch, int64_t kv, int heads, int kv_heads,
             int head_dim, int warmup, int reps, float *t, char *err)
{
    switch (head_dim) {
    case 64: return decode_t<T, 64>(dev, e, batch, kv, heads, kv_heads, warmup, reps, t, err);
    case 128: return decode_t<T, 128>(dev, e, batch, kv, heads, kv_heads, warmup, reps, t, err);
    default: return decode_t<T, 256>(dev, e, batch, kv, heads, kv_heads, warmup, reps, t, err);
    }
}

} // namespace

int ss_prof_attn_prefill(ss_prof_dev *dev, ss_prof_elem e, int batch, int64_t q, int64_t kv,
                         int heads, int kv_heads, int head_dim, int warmup, int reps,
                         float *times_us, char *err)
{
    if (check_heads(heads, kv_heads, head_dim, err)) return -1;
    if (dev->cc_major < 8) {
        std::snprintf(err, SS_PROF_ERR_LEN, "attention: servesim-fa needs compute capability 8.0+");
        return -1;
    }
    SS_CK(cudaSetDevice(dev->device));
    if (e == SS_PROF_E_FP16)
        return prefill_d<__half>(dev, e, batch, q, kv, heads, kv_heads, head_dim, warmup, reps,
                                 times_us, err);
    return prefill_d<__nv_bfloat16>(dev, SS_PROF_E_BF16, batch, q, kv, heads, kv_heads,
                                    head_dim, warmup, reps, times_us, err);
}

int ss_prof_attn_decode(ss_prof_dev *dev, ss_prof_elem e, int batch, int64_t kv, int heads,
                        int kv_heads, int head_dim, int warmup, int reps, float *times_us,
                        char *err)
{
    if (check_heads(heads, kv_heads, head_dim, err)) return -1;
    SS_CK(cudaSetDevice(dev->device));
    if (e == SS_PROF_E_FP16)
        return decode_d<__half>(dev, e, batch, kv, heads, kv_heads, head_dim, warmup, reps,
                                times_us, err);
    return decode_d<__nv_bfloat16>(dev, SS_PROF_E_BF16, batch, kv, heads, kv_heads, head_dim,
                                   warmup, reps, times_us, err);
}

int ss_prof_attn_sample(ss_prof_dev *dev, ss_prof_elem e, int decode, int batch, int64_t q,
                        int64_t kv, int heads, int kv_heads, int head_dim, float *Qh, float *Kh,
                        float *Vh, float *Oh, ss_prof_attn_info *info, char *err)
{
    info->engine = -1, info->fallback = 0;
    if (check_heads(heads, kv_heads, head_dim, err)) return -1;
    SS_CK(cudaSetDevice(dev->device));
    const bool half = e == SS_PROF_E_FP16;
    const ss_prof_elem el = half ? SS_PROF_E_FP16 : SS_PROF_E_BF16;
#define SS_SAMPLE(T, D) \
    sample_t<T, D>(dev, el, decode, batch, q, kv, heads, kv_heads, Qh, Kh, Vh, Oh, err)
    switch (head_dim) {
    case 64: return half ? SS_SAMPLE(__half, 64) : SS_SAMPLE(__nv_bfloat16, 64);
    case 128: return half ? SS_SAMPLE(__half, 128) : SS_SAMPLE(__nv_bfloat16, 128);
    default: return half ? SS_SAMPLE(__half, 256) : SS_SAMPLE(__nv_bfloat16, 256);
    }
#undef SS_SAMPLE
}
