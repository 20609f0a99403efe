/**
 * Running a model: {@link org.solulens.backend.Backend} (forward passes with an activation cache, sweeps, direct logit
 * attribution) and its implementations chosen by {@link org.solulens.backend.Backends} (the CPU, a CUDA GPU, or the
 * CPU emulator of the CUDA kernels); the hook names of the cache ({@link org.solulens.backend.Hooks}); what a sweep
 * ablates and how ({@link org.solulens.backend.Ablation}, {@link org.solulens.backend.SweepRequest},
 * {@link org.solulens.backend.SweepMethod}).
 */
package org.solulens.backend;
