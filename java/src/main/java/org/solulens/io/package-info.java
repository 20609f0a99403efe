/** Files: NumPy {@code .npy} arrays ({@link org.solulens.io.Npy}) and activation-cache export ({@link org.solulens.io.CacheWriter}). */
package org.solulens.io;
