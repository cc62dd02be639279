/*
 * A shared library for the native-loading tests: its constructor appends the path it was loaded from to the
 * marker file named at compile time (-DMARKER="..."), so a test can tell whether and from where it was loaded.
 * Planted at the path a binding's own loader would use, it stands for code another user put there.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>

__attribute__((constructor)) static void loaded(void) {
    Dl_info info;
    FILE *f = fopen(MARKER, "a");
    if (f != NULL) {
        fprintf(f, "%s\n", dladdr((void *) &loaded, &info) && info.dli_fname != NULL ? info.dli_fname : "?");
        fclose(f);
    }
}
