package dev.backprop.contract;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Names the {@link dev.backprop.backend.Backend} methods a contract test method exercises. The checklist test
 * in {@link BackendContractTest} fails when a method of {@code Backend} is named by no annotated test, or
 * when an annotation names a method {@code Backend} does not have.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Covers {
    /** {@code Backend} method names, e.g. {@code "gemm"} (overloads share their name). */
    String[] value();
}
