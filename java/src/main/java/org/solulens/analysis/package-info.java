/**
 * The experiments: exact ablation sweeps over prompts ({@link org.solulens.analysis.AblationSweep}), the seed paper's
 * studies (LayerNorm scale, low-activation ablation, the smearing test, direct logit attribution), their reports, and
 * their figures as data ({@link org.solulens.analysis.Figure}; drawn by a {@link org.solulens.analysis.FigureRenderer}
 * when one is on the class path).
 */
package org.solulens.analysis;
