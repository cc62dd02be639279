package dev.backprop.loss;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ForwardingLossTest {
    /** A method added to Loss later must be forwarded too, not answered by Loss's default for the wrapper. */
    @Test
    void everyMethodOfLossIsForwarded() {
        for (Method m : Loss.class.getMethods()) {
            if (Modifier.isStatic(m.getModifiers())) {
                continue;
            }
            assertDoesNotThrow(() -> ForwardingLoss.class.getDeclaredMethod(m.getName(), m.getParameterTypes()),
                    "ForwardingLoss does not forward " + m);
        }
    }

    @Test
    void callsReachTheDelegate() {
        Loss inner = new SoftmaxCrossEntropy(Reduction.SUM);
        Loss outer = new ForwardingLoss(inner) { };
        assertEquals(inner.name(), outer.name());
        assertEquals(inner.reduction(), outer.reduction());
        assertEquals(inner.toString(), outer.toString());
    }

    @Test
    void aNullDelegateIsRefused() {
        NullPointerException e = assertThrows(NullPointerException.class, () -> new ForwardingLoss(null) { });
        assertEquals("delegate", e.getMessage());
    }
}
