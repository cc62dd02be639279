package dev.backprop.examples;

import dev.backprop.backend.Backend;
import dev.backprop.runtime.Backends;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.MatMul;
import dev.backprop.tensor.Reductions;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Softmax;
import dev.backprop.tensor.Tensor;

import java.util.Arrays;

/**
 * Tensors on a backend chosen by name: upload, multiply, add, reduce, softmax, download. The argument names the
 * backend ({@code cpu}, {@code opencl} or {@code cuda}: one whose module is on the class path and can run here);
 * without one, the best available backend is chosen.
 */
public final class TensorExample {
    private TensorExample() {
    }

    /**
     * Runs the example.
     *
     * @param args the backend's name, or nothing for automatic selection
     */
    @SuppressWarnings("try") // the scope frees the tensors on close; the body needs no reference to it
    public static void main(String[] args) {
        try (Backend backend = args.length > 0 ? Backends.get(args[0]) : Backends.create();
             Scope scope = Scope.open()) {                         // closes every tensor made inside it
            Tensor a = Tensor.of(backend, new float[] {1, 2, 3, 4}, 2, 2);
            Tensor c = MatMul.matmul(a, a);                        // [[7, 10], [15, 22]]
            Tensor d = Elementwise.add(c, a);                      // [[8, 12], [18, 26]]
            Tensor rowSums = Reductions.sumPerRow(d);              // [20, 44]
            Tensor p = Softmax.softmax(a);                         // each row sums to 1
            System.out.println(backend.name() + " on " + backend.device().name());
            System.out.println("a·a     = " + Arrays.toString(c.toFloatArray()));
            System.out.println("a·a + a = " + Arrays.toString(d.toFloatArray()));
            System.out.println("row sums = " + Arrays.toString(rowSums.toFloatArray()));
            System.out.println("softmax(a) = " + Arrays.toString(p.toFloatArray()));
        }
    }
}
