package dev.backprop.train;

import dev.backprop.backend.Backend;
import dev.backprop.backend.Buffer;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A backend that records steps and replays them as a CUDA graph would, around another backend: {@link #backend} is
 * that backend with {@link Backend#runStep} and {@link Backend#replaysSteps} of its own. A key's first step runs;
 * the second is recorded (the ops are noted, not run; allocations happen; releases are deferred for as long as the
 * recording lives, as a graph pins its blocks; uploads, downloads and waits are refused, which runs the step as it
 * comes and never records the key again), then its ops run once; later steps with the key run the noted ops without
 * running the work.
 */
final class ReplayingBackend implements InvocationHandler {
    private static final Set<String> UNRECORDED = Set.of("name", "device", "capabilities", "allocate", "release",
            "memoryStats", "close", "toString", "hashCode", "equals");
    private static final Set<String> REFUSED = Set.of("upload", "download", "synchronize");

    private record Call(Method method, Object[] args) {
    }

    /** The wrapped backend as seen by its callers. */
    final Backend backend;
    private final Backend inner;
    private final Map<Object, List<Call>> recordings = new HashMap<>();
    private final Set<Object> seen = new HashSet<>();
    private final Set<Object> refused = new HashSet<>();
    private final List<Buffer> deferred = new ArrayList<>();
    private List<Call> recording;
    /** The ops of every recording, by name. */
    final Set<String> recordedOps = new HashSet<>();
    int steps;
    int recorded;
    int replays;
    int refusals;

    ReplayingBackend(Backend inner) {
        this.inner = inner;
        this.backend = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                this);
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        String name = method.getName();
        switch (name) {
            case "replaysSteps":
                return true;
            case "runStep":
                return runStep(args[0], (Runnable) args[2]);
            case "release":
                if (recording != null || recordings.values().stream().anyMatch(r -> uses(r, args[0]))) {
                    deferred.add((Buffer) args[0]);
                    return null;
                }
                break;
            case "close":
                deferred.forEach(inner::release);
                deferred.clear();
                break;
            default:
                if (recording != null && REFUSED.contains(name)) {
                    throw new IllegalStateException(name + " inside a recorded step");
                }
                if (recording != null && !UNRECORDED.contains(name)) {
                    recording.add(new Call(method, args));
                    return null;
                }
        }
        return call(method, args);
    }

    private static boolean uses(List<Call> recording, Object buffer) {
        return recording.stream().anyMatch(c -> c.args() != null && Arrays.asList(c.args()).contains(buffer));
    }

    private Object call(Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(inner, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private boolean runStep(Object key, Runnable work) throws Throwable {
        steps++;
        List<Call> replay = recordings.get(key);
        if (replay != null) {
            run(replay);
            replays++;
            return false;
        }
        if (refused.contains(key) || seen.add(key)) {
            work.run();
            return true;
        }
        recording = new ArrayList<>();
        try {
            work.run();
        } catch (IllegalStateException refusal) {
            recording = null;
            refused.add(key);
            refusals++;
            work.run();
            return true;
        }
        List<Call> done = recording;
        recording = null;
        recordings.put(key, done);
        done.forEach(c -> recordedOps.add(c.method().getName()));
        recorded++;
        run(done);
        return true;
    }

    private void run(List<Call> calls) throws Throwable {
        for (Call c : calls) {
            call(c.method(), c.args());
        }
    }
}
