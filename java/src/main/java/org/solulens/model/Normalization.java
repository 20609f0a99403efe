package org.solulens.model;

/** TransformerLens's {@code cfg.normalization_type}: which LayerNorm every LN site uses. */
public enum Normalization {
    /** Centre, divide by {@code sqrt(var + eps)}, then multiply by a gain {@code w} and add a bias {@code b}. */
    LN,
    /** The same without gain and bias (TransformerLens's {@code LayerNormPre}); the state dict has no LN tensors. */
    LN_PRE;

    /** Parses TransformerLens's {@code normalization_type} name; throws naming the supported ones otherwise. */
    public static Normalization fromTlName(String name) {
        return switch (name) {
            case "LN" -> LN;
            case "LNPre" -> LN_PRE;
            default -> throw new IllegalArgumentException(
                    "unsupported normalization_type '" + name + "'; expected LN or LNPre");
        };
    }

    /** {@return TransformerLens's name of the normalization ({@code normalization_type})} */
    public String tlName() {
        return this == LN ? "LN" : "LNPre";
    }
}
