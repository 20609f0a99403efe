/**
 * The corpus sweep: every neuron ablated at every position of a whole corpus, streamed into per-neuron statistics and
 * top examples ({@link org.solulens.corpus.CorpusSweep}, {@link org.solulens.corpus.CorpusStats}), with checkpoints,
 * several devices, and a report with a static neuron browser.
 */
package org.solulens.corpus;
