/* Stands in for libcublasLt.so.13, which CublasLoader loads beside libcublas.so.13 when it exists. */
int cublasLtGetVersion(void) {
    return 130201;
}
