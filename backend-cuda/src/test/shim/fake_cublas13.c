/* A stand-in for cuBLAS 13 with a handful of functions returning recognisable values, so CublasShimTest can
 * prove that the libcublas.so.12 shim forwards calls (arguments included) and falls back to
 * CUBLAS_STATUS_NOT_SUPPORTED for functions it lacks. Built as libcublas.so.13 by the test. */
#define FAKE_HANDLE ((void *) 0x5eed)

int cublasCreate_v2(void **handle) {
    *handle = FAKE_HANDLE;
    return 0;
}

int cublasGetVersion_v2(void *handle, int *version) {
    *version = handle == FAKE_HANDLE ? 130201 : -1;
    return 0;
}

int cublasGetProperty(int type, int *value) {
    static const int parts[] = {13, 2, 1};
    if (type < 0 || type > 2) {
        return 7; /* CUBLAS_STATUS_INVALID_VALUE */
    }
    *value = parts[type];
    return 0;
}

/* 14 arguments: 6 in registers, 8 on the stack. Writes a checksum of all of them into c[0] and returns one
 * of the integers, so a trampoline that disturbed any argument shows. */
int cublasSgemm_v2(void *handle, int transa, int transb, int m, int n, int k, const float *alpha, const float *a,
                   int lda, const float *b, int ldb, const float *beta, float *c, int ldc) {
    if (handle != FAKE_HANDLE) {
        return 99;
    }
    c[0] = *alpha * 1000 + *beta * 100 + a[0] + b[0];
    return transa + 2 * transb + m + n + k + lda + ldb + ldc;
}
