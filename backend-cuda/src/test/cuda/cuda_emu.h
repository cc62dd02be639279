// Runs the kernel sources of src/main/cuda on the CPU, for tests on machines without a GPU
// (KernelEmulationTest). Each CUDA thread of a block is a host thread; __syncthreads is a barrier over the
// block, warp shuffles exchange values through a per-warp array between two barriers over the warp. Blocks
// run one after another, so `__shared__` may simply mean `static`: one copy, used by the running block.
// This checks indexing, bounds, barriers and reduction order; it cannot check memory coalescing or speed.
#pragma once
#include <algorithm>
#include <barrier>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <memory>
#include <thread>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static

using std::min;
using std::max;

struct emu_dim3 {
    unsigned x = 1, y = 1, z = 1;
};
inline thread_local emu_dim3 threadIdx;
inline emu_dim3 blockIdx, blockDim, gridDim;

struct emu_block_state {
    std::unique_ptr<std::barrier<>> block;
    std::vector<std::unique_ptr<std::barrier<>>> warps;
    std::vector<unsigned long long> lanes;  // 32 slots per warp for shuffles
};
inline emu_block_state emu_state;

inline unsigned emu_linear_thread() {
    return threadIdx.x + threadIdx.y * blockDim.x + threadIdx.z * blockDim.x * blockDim.y;
}

inline void __syncthreads() {
    emu_state.block->arrive_and_wait();
}

template <typename T> inline T __shfl_down_sync(unsigned, T v, int offset) {
    static_assert(sizeof(T) <= sizeof(unsigned long long), "shuffle of a value wider than 8 bytes");
    const unsigned t = emu_linear_thread();
    const unsigned warp = t / 32, lane = t % 32;
    std::memcpy(&emu_state.lanes[warp * 32 + lane], &v, sizeof(T));
    emu_state.warps[warp]->arrive_and_wait();
    T r = v;
    if (lane + offset < 32) {
        std::memcpy(&r, &emu_state.lanes[warp * 32 + lane + offset], sizeof(T));
    }
    emu_state.warps[warp]->arrive_and_wait();
    return r;
}

// The high 32 bits of the 64-bit product (Philox's multiply).
inline unsigned __umulhi(unsigned a, unsigned b) {
    return (unsigned) (((unsigned long long) a * b) >> 32);
}

// Products in round-to-nearest that the GPU never contracts into an FMA; the host compiles no FMA (x86-64
// without -mfma), so plain products are the same.
inline float __fmul_rn(float a, float b) {
    return a * b;
}

inline double __dmul_rn(double a, double b) {
    return a * b;
}

inline float __int_as_float(int i) {
    float f;
    std::memcpy(&f, &i, sizeof f);
    return f;
}

inline unsigned __float_as_uint(float f) {
    unsigned u;
    std::memcpy(&u, &f, sizeof u);
    return u;
}

inline double __longlong_as_double(long long i) {
    double d;
    std::memcpy(&d, &i, sizeof d);
    return d;
}

// A fixed pool of host threads plays the threads of one block at a time (creating threads per launch
// would dominate the test's run time).
class emu_pool {
public:
    static constexpr unsigned MAX_THREADS = 1024;

    // Runs task(t) on threads t = 0 .. threads-1 concurrently and waits for all of them.
    void run(unsigned threads, const std::function<void(unsigned)>& task) {
        std::unique_lock<std::mutex> lock(mutex_);
        while (workers_.size() < threads) {
            unsigned id = (unsigned) workers_.size();
            workers_.emplace_back([this, id] { loop(id); });
        }
        task_ = &task;
        active_ = threads;
        pending_ = threads;
        generation_++;
        start_.notify_all();
        done_.wait(lock, [this] { return pending_ == 0; });
        task_ = nullptr;
    }

    ~emu_pool() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stop_ = true;
            generation_++;
        }
        start_.notify_all();
        for (auto& w : workers_) w.join();
    }

private:
    void loop(unsigned id) {
        unsigned long long seen = 0;
        for (;;) {
            const std::function<void(unsigned)>* task;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                start_.wait(lock, [&] { return generation_ != seen; });
                seen = generation_;
                if (stop_) return;
                if (id >= active_) continue;
                task = task_;
            }
            (*task)(id);
            std::lock_guard<std::mutex> lock(mutex_);
            if (--pending_ == 0) done_.notify_one();
        }
    }

    std::mutex mutex_;
    std::condition_variable start_, done_;
    std::vector<std::thread> workers_;
    const std::function<void(unsigned)>* task_ = nullptr;
    unsigned active_ = 0, pending_ = 0;
    unsigned long long generation_ = 0;
    bool stop_ = false;
};
inline emu_pool emu_threads;

// Launches `kernel` over `grid` blocks of `block` threads (block sizes must be whole warps, as on the GPU
// the kernels' full-mask shuffles require).
template <typename Kernel, typename... Args>
void emu_launch(Kernel kernel, emu_dim3 grid, emu_dim3 block, Args... args) {
    const unsigned threads = block.x * block.y * block.z;
    gridDim = grid;
    blockDim = block;
    for (unsigned by = 0; by < grid.y; by++) {
        for (unsigned bx = 0; bx < grid.x; bx++) {
            blockIdx = emu_dim3{bx, by, 0};
            emu_state.block = std::make_unique<std::barrier<>>(threads);
            emu_state.warps.clear();
            for (unsigned w = 0; w < (threads + 31) / 32; w++) {
                emu_state.warps.push_back(std::make_unique<std::barrier<>>(std::min(32u, threads - w * 32)));
            }
            emu_state.lanes.assign(((threads + 31) / 32) * 32, 0);
            emu_threads.run(threads, [&](unsigned t) {
                threadIdx = emu_dim3{t % block.x, (t / block.x) % block.y, t / (block.x * block.y)};
                kernel(args...);
            });
        }
    }
}
