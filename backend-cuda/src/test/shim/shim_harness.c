/* Calls cuBLAS functions the way the JCublas2 native does: linked against libcublas.so.12 (the shim), so
 * every reference carries the symbol version `libcublas.so.12`. Prints one `key=value` line per result for
 * CublasShimTest. With the argument "threads" the first call of cublasGetVersion_v2 comes from 8 threads at
 * once, racing through the shim's lazy resolution. */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

int cublasCreate_v2(void **handle);
int cublasGetVersion_v2(void *handle, int *version);
int cublasGetProperty(int type, int *value);
int cublasSgemm_v2(void *handle, int transa, int transb, int m, int n, int k, const float *alpha, const float *a,
                   int lda, const float *b, int ldb, const float *beta, float *c, int ldc);
int cublasDestroy_v2(void *handle);
const char *cublasGetStatusString(int status);
size_t cublasGetCudartVersion(void);

static void *handle;
static int versions[8];

static void *get_version(void *slot) {
    int *out = slot;
    if (cublasGetVersion_v2(handle, out) != 0) {
        *out = -2;
    }
    return NULL;
}

int main(int argc, char **argv) {
    int status = cublasCreate_v2(&handle);
    printf("create=%d handle=%p\n", status, handle);
    if (argc > 1 && strcmp(argv[1], "threads") == 0) {
        pthread_t threads[8];
        for (int i = 0; i < 8; i++) {
            pthread_create(&threads[i], NULL, get_version, &versions[i]);
        }
        int same = 1;
        for (int i = 0; i < 8; i++) {
            pthread_join(threads[i], NULL);
            same &= versions[i] == versions[0];
        }
        printf("threads_version=%d same=%d\n", versions[0], same);
        return 0;
    }
    int version = 0;
    status = cublasGetVersion_v2(handle, &version);
    printf("version_status=%d version=%d\n", status, version);
    int major = 0;
    status = cublasGetProperty(0, &major);
    printf("property_status=%d major=%d\n", status, major);
    float alpha = 2, beta = 3, a = 4, b = 5, c = 0;
    status = cublasSgemm_v2(handle, 1, 1, 10, 20, 30, &alpha, &a, 40, &b, 50, &beta, &c, 60);
    printf("sgemm=%d c=%g\n", status, c);
    printf("destroy=%d\n", cublasDestroy_v2(handle));
    printf("cudart=%zu\n", cublasGetCudartVersion());
    printf("status_string=%s\n", cublasGetStatusString(0));
    return 0;
}
