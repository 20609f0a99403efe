package org.solulens.gpu;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Every kernel's parameter list, one letter per parameter (p pointer, i int, l long, f float), as the emulator
 * registers it from the kernel's C++ type (native/emulator/cuda_shim.h; the build writes them to
 * {@code native/kernel-signatures.txt}). Both devices check a launch's arguments against it: JCuda passes each
 * argument with its exact size, so an int given for a long parameter would read garbage on a GPU.
 */
final class KernelSignatures {
    static final String RESOURCE = "/native/kernel-signatures.txt";
    private static final Map<String, String> SIGNATURES = load();

    private KernelSignatures() {}

    private static Map<String, String> load() {
        Map<String, String> out = new HashMap<>();
        try (InputStream in = KernelSignatures.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                return out;   // a build without native parts: every launch fails with the reason below
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line; (line = r.readLine()) != null; ) {
                String[] parts = line.trim().split(" ", -1);
                if (parts.length == 2) {
                    out.put(parts[0], parts[1]);
                } else if (parts.length == 1 && !parts[0].isEmpty()) {
                    out.put(parts[0], "");
                }
            }
        } catch (IOException e) {
            throw new DeviceException("could not read " + RESOURCE + " from the jar", e);
        }
        return out;
    }

    /** The signature of {@code kernel}, or null when no kernel has that name. */
    static String of(String kernel) {
        return SIGNATURES.get(kernel);
    }

    /** {@link #check(String, String, KernelArgs)} against the jar's signature list (what the fatbin's kernels take). */
    static void check(String kernel, KernelArgs args) {
        String signature = SIGNATURES.get(kernel);
        if (signature == null) {
            throw new DeviceException("no kernel named '" + kernel + "'" + (SIGNATURES.isEmpty() ? " (this build has no "
                    + RESOURCE + ")" : "; the kernels are " + new java.util.TreeSet<>(SIGNATURES.keySet())));
        }
        check(kernel, signature, args);
    }

    /** Throws a DeviceException naming the kernel and the argument when {@code args} does not fit {@code signature}. */
    static void check(String kernel, String signature, KernelArgs args) {
        List<KernelArgs.Arg> list = args.list();
        if (list.size() != signature.length()) {
            throw new DeviceException("kernel " + kernel + " takes " + signature.length() + " arguments (" + describe(signature) + "), "
                    + list.size() + " given");
        }
        for (int i = 0; i < list.size(); i++) {
            char wanted = signature.charAt(i), given = letter(list.get(i));
            if (wanted != given) {
                throw new DeviceException("kernel " + kernel + ", argument " + i + ": the kernel takes " + name(wanted) + ", the launch gives "
                        + name(given) + " (parameters: " + describe(signature) + ")");
            }
        }
    }

    private static char letter(KernelArgs.Arg a) {
        if (a instanceof KernelArgs.Ptr) {
            return 'p';
        } else if (a instanceof KernelArgs.I32) {
            return 'i';
        } else if (a instanceof KernelArgs.I64) {
            return 'l';
        }
        return 'f';
    }

    private static String name(char letter) {
        return switch (letter) {
            case 'p' -> "a pointer";
            case 'i' -> "an int";
            case 'l' -> "a long";
            case 'f' -> "a float";
            default -> "'" + letter + "'";
        };
    }

    private static String describe(String signature) {
        StringBuilder b = new StringBuilder();
        for (char c : signature.toCharArray()) {
            b.append(b.length() == 0 ? "" : ", ").append(name(c).substring(name(c).indexOf(' ') + 1));
        }
        return b.toString();
    }
}
