package org.solulens.corpus;

/**
 * One document of a corpus, as token ids: {@code index} counts documents from 0 in file order; {@code line} is the
 * 1-based line (text, JSONL) or 0-based row (.npy) it came from, for error messages and examples.
 */
public record Document(int index, long line, int[] tokens) {}
