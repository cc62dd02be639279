/**
 * Reverse-mode automatic differentiation over the tensor facades. {@link dev.backprop.autograd.Variable}s wrap
 * tensors; the differentiable ops in {@link dev.backprop.autograd.Ops} record themselves on the thread's open
 * {@link dev.backprop.autograd.Tape}, and {@code backward} replays the tape in reverse, accumulating gradients
 * into leaves (so a parameter used twice gets the sum). The tape owns one step's memory and frees it when it
 * closes; {@link dev.backprop.autograd.NoGrad} suspends recording. Custom ops plug in through
 * {@link dev.backprop.autograd.Tape#record} with a {@link dev.backprop.autograd.BackwardFunction}. Nothing here
 * knows which backend runs.
 */
package dev.backprop.autograd;
