package org.solulens.corpus;

/**
 * One prompt of the corpus sweep: {@code tokens} (BOS first), and for each token the document it came from and its
 * position there ({@code document[i] = -1} for the BOS and separators the packer added).
 */
public record Window(long index, int[] tokens, int[] document, int[] position) {}
