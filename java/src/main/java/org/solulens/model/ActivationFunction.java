package org.solulens.model;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The MLP activations SoluLens runs, named as TransformerLens's {@code cfg.act_fn}. */
public enum ActivationFunction {
    /** SoLU followed by a LayerNorm over d_mlp: the activation of solu-1l. */
    SOLU_LN("solu_ln"),
    /** SoLU alone: {@code x * softmax(x)} over d_mlp. */
    SOLU("solu"),
    /** Exact GELU, {@code x * Phi(x)}. */
    GELU("gelu"),
    /** GPT-2's tanh approximation of GELU. */
    GELU_NEW("gelu_new"),
    /** ReLU. */
    RELU("relu");

    private final String tlName;

    ActivationFunction(String tlName) {
        this.tlName = tlName;
    }

    /** {@return TransformerLens's name of the function ({@code act_fn} in its config)} */
    public String tlName() {
        return tlName;
    }

    /** Whether the MLP has TransformerLens's {@code hook_mid} and a LayerNorm {@code mlp.ln} after it. */
    public boolean hasMlpLayerNorm() {
        return this == SOLU_LN;
    }

    /** Parses TransformerLens's {@code act_fn} name; throws naming the supported ones otherwise. */
    public static ActivationFunction fromTlName(String name) {
        for (ActivationFunction f : values()) {
            if (f.tlName.equals(name)) {
                return f;
            }
        }
        throw new IllegalArgumentException("unsupported act_fn '" + name + "'; expected one of "
                + Arrays.stream(values()).map(ActivationFunction::tlName).collect(Collectors.joining(", ")));
    }
}
