package org.solulens.analysis;

/** A prompt ready to run: its token ids and, when it came from text, the text (else null). */
public record Prompt(String text, int[] tokens) {}
