#!/usr/bin/env bash
# Builds the libcublas.so.12 forwarding shim (src/main/resources/dev/backprop/cuda/native/linux-x86_64/
# libcublas.so.12) from src/main/shim: cublas12.symbols (made by extract-cublas-symbols.sh) and
# cublas_shim.c. It generates, in a temporary folder:
#   trampolines.S  one trampoline per symbol (jump through its table slot; first call goes to the resolver)
#                  plus the table, the NUL-separated names and the slow path that saves argument registers;
#   cublas12.map   a linker version script putting every symbol in the `libcublas.so.12` version node,
#                  which is what the JCublas2 native asks for.
# The source hash (symbols + C file + this script) is compiled into the library; ShimBuildTest compares it.
#
# Usage: scripts/build-shim.sh [output.so]   (CC overrides gcc)
set -euo pipefail
cd "$(dirname "$0")/.."

CC=${CC:-gcc}
SRC=src/main/shim
OUT=${1:-src/main/resources/dev/backprop/cuda/native/linux-x86_64/libcublas.so.12}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mapfile -t symbols < <(grep -v '^[[:space:]]*$' "$SRC/cublas12.symbols")
count=${#symbols[@]}
(( count > 0 )) || { echo "build-shim: $SRC/cublas12.symbols is empty" >&2; exit 1; }
# Must match ShimResources.sourceHash in Java.
hash=$(cat "$SRC/cublas12.symbols" "$SRC/cublas_shim.c" scripts/build-shim.sh | sha256sum | cut -d' ' -f1)

{
    echo '    .section .note.GNU-stack,"",@progbits'
    echo '    .bss'
    echo '    .p2align 3'
    echo '    .globl backprop_shim_table'
    echo '    .hidden backprop_shim_table'
    echo '    .type backprop_shim_table, @object'
    echo "    .size backprop_shim_table, $((count * 8))"
    echo 'backprop_shim_table:'
    echo "    .zero $((count * 8))"
    echo '    .section .rodata'
    echo '    .globl backprop_shim_count'
    echo '    .hidden backprop_shim_count'
    echo '    .p2align 2'
    echo 'backprop_shim_count:'
    echo "    .long $count"
    echo '    .globl backprop_shim_names'
    echo '    .hidden backprop_shim_names'
    echo 'backprop_shim_names:'
    for s in "${symbols[@]}"; do echo "    .asciz \"$s\""; done
    cat <<'ASM'
    .text
# Entered by jmp from a trampoline: the caller's return address is on the stack (rsp = 8 mod 16), r11 holds
# the symbol index. Saves every register that can carry an argument (rdi..r9, rax for varargs, xmm0-7),
# asks backprop_shim_resolve for the target, restores them and tail-jumps, so the callee sees the
# original call exactly (stack arguments included).
    .p2align 4
    .type backprop_shim_slow, @function
backprop_shim_slow:
    .cfi_startproc
    pushq %rbp
    .cfi_def_cfa_offset 16
    .cfi_offset %rbp, -16
    movq %rsp, %rbp
    .cfi_def_cfa_register %rbp
    subq $192, %rsp
    movq %rdi, 0(%rsp)
    movq %rsi, 8(%rsp)
    movq %rdx, 16(%rsp)
    movq %rcx, 24(%rsp)
    movq %r8, 32(%rsp)
    movq %r9, 40(%rsp)
    movq %rax, 48(%rsp)
    movdqa %xmm0, 64(%rsp)
    movdqa %xmm1, 80(%rsp)
    movdqa %xmm2, 96(%rsp)
    movdqa %xmm3, 112(%rsp)
    movdqa %xmm4, 128(%rsp)
    movdqa %xmm5, 144(%rsp)
    movdqa %xmm6, 160(%rsp)
    movdqa %xmm7, 176(%rsp)
    movl %r11d, %edi
    call backprop_shim_resolve
    movq %rax, %r11
    movq 0(%rsp), %rdi
    movq 8(%rsp), %rsi
    movq 16(%rsp), %rdx
    movq 24(%rsp), %rcx
    movq 32(%rsp), %r8
    movq 40(%rsp), %r9
    movq 48(%rsp), %rax
    movdqa 64(%rsp), %xmm0
    movdqa 80(%rsp), %xmm1
    movdqa 96(%rsp), %xmm2
    movdqa 112(%rsp), %xmm3
    movdqa 128(%rsp), %xmm4
    movdqa 144(%rsp), %xmm5
    movdqa 160(%rsp), %xmm6
    movdqa 176(%rsp), %xmm7
    leave
    .cfi_def_cfa %rsp, 8
    jmp *%r11
    .cfi_endproc
    .size backprop_shim_slow, .-backprop_shim_slow
ASM
    i=0
    for s in "${symbols[@]}"; do
        cat <<ASM
    .p2align 4
    .globl $s
    .type $s, @function
$s:
    .cfi_startproc
    movq backprop_shim_table+$((i * 8))(%rip), %r11
    testq %r11, %r11
    jz 1f
    jmp *%r11
1:  movl \$$i, %r11d
    jmp backprop_shim_slow
    .cfi_endproc
    .size $s, .-$s
ASM
        i=$((i + 1))
    done
} > "$work/trampolines.S"

{
    echo 'libcublas.so.12 {'
    echo '  global:'
    for s in "${symbols[@]}"; do echo "    $s;"; done
    echo '  local: *;'
    echo '};'
} > "$work/cublas12.map"

# Name libdl.so.2 itself: on glibc < 2.34 dlopen@GLIBC_2.2.5 lives there, and -ldl alone finds only an
# empty libdl.a on newer glibc, leaving no DT_NEEDED entry.
libdl=$("$CC" -print-file-name=libdl.so.2)
[[ -f "$libdl" ]] || { echo "build-shim: libdl.so.2 not found by $CC" >&2; exit 1; }
mkdir -p "$(dirname "$OUT")"
"$CC" -shared -fPIC -O2 -fno-stack-protector -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=0 -fno-builtin \
    -DBACKPROP_SHIM_SOURCE_SHA256="\"$hash\"" \
    -Wl,-soname,libcublas.so.12 -Wl,--version-script="$work/cublas12.map" -Wl,-z,noexecstack \
    -Wl,--hash-style=both -Wl,--no-undefined -Wl,--no-as-needed \
    -o "$work/libcublas.so.12" "$SRC/cublas_shim.c" "$work/trampolines.S" "$libdl"
strip --strip-unneeded "$work/libcublas.so.12"
cp "$work/libcublas.so.12" "$OUT"
echo "build-shim: $OUT ($count symbols, $(wc -c < "$OUT") bytes, source sha256 $hash)"
