/**
 * What a model is: its configuration ({@link org.solulens.model.ModelConfig}), weights
 * ({@link org.solulens.model.SoluWeights}) and tokenizer, read from a model folder (safetensors and config.json, or a
 * PyTorch checkpoint folder as the hub has it: {@link org.solulens.model.ModelFolder}) or the bundled demo model
 * ({@link org.solulens.model.DemoModel}).
 */
package org.solulens.model;
