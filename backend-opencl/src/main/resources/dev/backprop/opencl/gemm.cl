/*
 * Batched, strided GEMM: C_i = alpha * op(A_i) * op(B_i) + beta * C_i, row-major, any m, n, k, leading
 * dimensions and element offsets. Group (x, y, z) computes the TM x TN tile (y, x) of C for batch item z.
 * Build options: REAL, TM, TN, KB (depth of one K slice), MR x NR (the register block of one work-item: MR
 * vectors of NR lanes), and GEMM_PACKED or GEMM_TILED to pick the variant:
 *
 * GEMM_PACKED (CPU devices): one work-item per group. For each KB slice of K it packs op(A) into MR-row
 * micro-panels and op(B) into NR-column micro-panels in local memory (zero padded, so the inner loop has no
 * edge tests), then runs the MR x NR micro-kernel over every pair of panels and adds the block into C. With
 * MR = 6, NR = 16 that is 12 vector accumulators, 2 vector loads and 6 broadcasts per 12 FMAs: the register
 * budget of a 16-register AVX2 core. One work-item because PoCL adds an implicit barrier inside any uniform
 * innermost loop of a kernel that has barriers, interleaving the work-items per iteration and spilling every
 * accumulator each time (a cooperative-load kernel measured 9 GFLOP/s on PoCL; this one 55-130).
 *
 * GEMM_TILED (GPUs): (TN/NR) x (TM/MR) work-items load a KB-deep slice of A and B into local memory together
 * (consecutive work-items read consecutive addresses), then each accumulates its MR x NR block from local
 * memory with vector loads; the accumulators stay in registers for the whole K loop.
 */

typedef CAT(REAL, NR) realv;
#define VLOADN CAT(vload, NR)
#define VSTOREN CAT(vstore, NR)

/* Element (r, c) of op(X) for a row-major X with leading dimension ld. */
#define OP_AT(X, trans, r, c, ld) ((trans) ? (X)[(long)(c) * (ld) + (r)] : (X)[(long)(r) * (ld) + (c)])

/* k == 0: C = beta * C over this group's tile (C is not read when beta == 0). */
inline void scale_tile(__global REAL* C, int ldc, int row0, int col0, int mt, int nt, REAL beta) {
    for (int r = 0; r < mt; r++) {
        __global REAL* crow = C + (long)(row0 + r) * ldc + col0;
        for (int c = 0; c < nt; c++) {
            crow[c] = beta == 0 ? (REAL)0 : beta * crow[c];
        }
    }
}

#ifdef GEMM_PACKED

/* op(A)[row0.., k0..] into Ap[panel][kk][i]: MR-row micro-panels, rows past mt zero. */
inline void pack_a(__local REAL* Ap, __global const REAL* A, int transA, int lda, int row0, int k0, int mt,
                   int kb) {
    const int panels = (mt + MR - 1) / MR;
    if (!transA) {
        for (int r = 0; r < panels * MR; r++) {
            __local REAL* dst = Ap + (r / MR) * (KB * MR) + (r % MR);
            if (r < mt) {
                __global const REAL* src = A + (long)(row0 + r) * lda + k0;
                for (int kk = 0; kk < kb; kk++) dst[kk * MR] = src[kk];
            } else {
                for (int kk = 0; kk < kb; kk++) dst[kk * MR] = 0;
            }
        }
    } else {
        for (int kk = 0; kk < kb; kk++) {
            __global const REAL* src = A + (long)(k0 + kk) * lda + row0;
            for (int p = 0; p < panels; p++) {
                __local REAL* dst = Ap + p * (KB * MR) + kk * MR;
                for (int i = 0; i < MR; i++) {
                    const int r = p * MR + i;
                    dst[i] = r < mt ? src[r] : (REAL)0;
                }
            }
        }
    }
}

/* op(B)[k0.., col0..] into Bp[panel][kk][j]: NR-column micro-panels, columns past nt zero. */
inline void pack_b(__local REAL* Bp, __global const REAL* B, int transB, int ldb, int col0, int k0, int nt,
                   int kb) {
    const int panels = (nt + NR - 1) / NR;
    if (!transB && nt == TN) {
        for (int kk = 0; kk < kb; kk++) {
            __global const REAL* src = B + (long)(k0 + kk) * ldb + col0;
            for (int p = 0; p < TN / NR; p++) VSTOREN(VLOADN(p, src), 0, Bp + p * (KB * NR) + kk * NR);
        }
    } else if (!transB) {
        for (int kk = 0; kk < kb; kk++) {
            __global const REAL* src = B + (long)(k0 + kk) * ldb + col0;
            for (int c = 0; c < panels * NR; c++) {
                Bp[(c / NR) * (KB * NR) + kk * NR + (c % NR)] = c < nt ? src[c] : (REAL)0;
            }
        }
    } else {
        for (int c = 0; c < panels * NR; c++) {
            __local REAL* dst = Bp + (c / NR) * (KB * NR) + (c % NR);
            if (c < nt) {
                __global const REAL* src = B + (long)(col0 + c) * ldb + k0;
                for (int kk = 0; kk < kb; kk++) dst[kk * NR] = src[kk];
            } else {
                for (int kk = 0; kk < kb; kk++) dst[kk * NR] = 0;
            }
        }
    }
}

/* C block (mi x nj at crow) = alpha * acc + (first slice ? beta * C : C). */
inline void update_c(__global REAL* crow, int ldc, realv* acc, int mi, int nj, REAL alpha, REAL beta,
                     int first) {
    if (mi == MR && nj == NR) {
        #pragma unroll
        for (int i = 0; i < MR; i++) {
            __global REAL* c = crow + (long)i * ldc;
            realv v = acc[i] * alpha;
            if (!first) v += VLOADN(0, c);
            else if (beta != 0) v = fma((realv)(beta), VLOADN(0, c), v);
            VSTOREN(v, 0, c);
        }
        return;
    }
    for (int i = 0; i < mi; i++) {
        __global REAL* c = crow + (long)i * ldc;
        REAL t[NR];
        VSTOREN(acc[i] * alpha, 0, t);
        for (int j = 0; j < nj; j++) {
            c[j] = !first ? c[j] + t[j] : beta == 0 ? t[j] : t[j] + beta * c[j];
        }
    }
}

__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void gemm(int transA, int transB, int m, int n, int k, REAL alpha,
          __global const REAL* A, long aOff, int lda, long strideA,
          __global const REAL* B, long bOff, int ldb, long strideB,
          REAL beta, __global REAL* C, long cOff, int ldc, long strideC) {
    __local REAL Ap[TM * KB];
    __local REAL Bp[KB * TN];
    const int row0 = get_group_id(1) * TM, col0 = get_group_id(0) * TN;
    const long z = get_group_id(2);
    A += aOff + z * strideA;
    B += bOff + z * strideB;
    C += cOff + z * strideC;
    const int mt = min(TM, m - row0), nt = min(TN, n - col0);
    if (k == 0) {
        scale_tile(C, ldc, row0, col0, mt, nt, beta);
        return;
    }
    for (int k0 = 0; k0 < k; k0 += KB) {
        const int kb = min(KB, k - k0);
        pack_a(Ap, A, transA, lda, row0, k0, mt, kb);
        pack_b(Bp, B, transB, ldb, col0, k0, nt, kb);
        for (int ir = 0; ir < mt; ir += MR) {
            __local const REAL* ap = Ap + (ir / MR) * (KB * MR);
            for (int jr = 0; jr < nt; jr += NR) {
                __local const REAL* bp = Bp + (jr / NR) * (KB * NR);
                realv acc[MR];
                #pragma unroll
                for (int i = 0; i < MR; i++) acc[i] = (realv)(0);
                for (int kk = 0; kk < kb; kk++) {
                    const realv b = VLOADN(0, bp + kk * NR);
                    #pragma unroll
                    for (int i = 0; i < MR; i++) acc[i] = fma((realv)(ap[kk * MR + i]), b, acc[i]);
                }
                update_c(C + (long)(row0 + ir) * ldc + col0 + jr, ldc, acc, min(MR, mt - ir), min(NR, nt - jr),
                         alpha, beta, k0 == 0);
            }
        }
    }
}

#endif /* GEMM_PACKED */

#ifdef GEMM_TILED

#define WX (TN / NR)
#define WY (TM / MR)

__kernel __attribute__((reqd_work_group_size(WX, WY, 1)))
void gemm(int transA, int transB, int m, int n, int k, REAL alpha,
          __global const REAL* A, long aOff, int lda, long strideA,
          __global const REAL* B, long bOff, int ldb, long strideB,
          REAL beta, __global REAL* C, long cOff, int ldc, long strideC) {
    __local REAL As[KB * TM]; /* As[kk][r]: k-major, so a work-item's MR rows are adjacent */
    __local REAL Bs[KB * TN]; /* Bs[kk][c] */
    const int tx = get_local_id(0), ty = get_local_id(1), lid = ty * WX + tx;
    const int row0 = get_group_id(1) * TM, col0 = get_group_id(0) * TN;
    const long z = get_group_id(2);
    A += aOff + z * strideA;
    B += bOff + z * strideB;
    C += cOff + z * strideC;
    const int mt = min(TM, m - row0), nt = min(TN, n - col0);
    if (k == 0) {
        if (lid == 0) scale_tile(C, ldc, row0, col0, mt, nt, beta);
        return;
    }
    realv acc[MR];
    for (int i = 0; i < MR; i++) acc[i] = (realv)(0);
    for (int k0 = 0; k0 < k; k0 += KB) {
        barrier(CLK_LOCAL_MEM_FENCE);
        /* Index order follows the memory order of A (and B below) so the group's reads coalesce. */
        for (int idx = lid; idx < KB * TM; idx += WX * WY) {
            const int r = transA ? idx % TM : idx / KB, kk = transA ? idx / TM : idx % KB;
            const int gk = k0 + kk;
            As[kk * TM + r] = (r < mt && gk < k) ? OP_AT(A, transA, row0 + r, gk, lda) : (REAL)0;
        }
        for (int idx = lid; idx < KB * TN; idx += WX * WY) {
            const int c = transB ? idx / KB : idx % TN, kk = transB ? idx % KB : idx / TN;
            const int gk = k0 + kk;
            Bs[kk * TN + c] = (c < nt && gk < k) ? OP_AT(B, transB, gk, col0 + c, ldb) : (REAL)0;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < KB; kk++) {
            const realv b = VLOADN(0, Bs + kk * TN + tx * NR);
            #pragma unroll
            for (int i = 0; i < MR; i++) acc[i] = fma((realv)(As[kk * TM + ty * MR + i]), b, acc[i]);
        }
    }
    for (int i = 0; i < MR; i++) {
        const int r = ty * MR + i;
        if (r >= mt) break;
        __global REAL* crow = C + (long)(row0 + r) * ldc + col0 + tx * NR;
        REAL t[NR];
        VSTOREN(acc[i] * alpha, 0, t);
        for (int j = 0; j < NR && tx * NR + j < nt; j++) {
            crow[j] = beta == 0 ? t[j] : t[j] + beta * crow[j];
        }
    }
}

#endif /* GEMM_TILED */
