package org.solulens.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** A launch whose arguments do not fit the kernel's parameters fails before it runs, on both devices, naming both. */
@Tag("device")
class KernelSignatureTest {
    static java.util.stream.Stream<String> devices() {
        return DeviceTesting.devices();
    }

    @ParameterizedTest
    @MethodSource("devices")
    void anIntForALongParameterIsRefusedWithTheKernelAndArgumentNamed(String kind) {
        try (Device d = DeviceTesting.open(kind); DeviceTesting.Buffers b = new DeviceTesting.Buffers()) {
            DeviceBuffer x = b.add(d.upload(new float[] {1.5f, -2f})), y = b.add(d.upload(new float[] {0.25f, 4f}));
            DeviceBuffer out = b.add(d.allocateFloats(2));
            // add_forward(float* out, const float* a, const float* b, long count): the count must be a long
            DeviceException wrongType = assertThrows(DeviceException.class, () -> d.launch("add_forward", Dim3.of(1), Dim3.of(32), 0,
                    new KernelArgs().ptr(out).ptr(x).ptr(y).i32(2)));
            assertTrue(wrongType.getMessage().contains("add_forward") && wrongType.getMessage().contains("argument 3")
                    && wrongType.getMessage().contains("takes a long") && wrongType.getMessage().contains("gives an int"), wrongType.getMessage());
            DeviceException tooFew = assertThrows(DeviceException.class, () -> d.launch("add_forward", Dim3.of(1), Dim3.of(32), 0,
                    new KernelArgs().ptr(out).ptr(x).i64(2)));
            assertTrue(tooFew.getMessage().contains("takes 4 arguments (pointer, pointer, pointer, long), 3 given"), tooFew.getMessage());
            d.launch("add_forward", Dim3.of(1), Dim3.of(32), 0, new KernelArgs().ptr(out).ptr(x).ptr(y).i64(2));
            assertArrayEquals(new float[] {1.75f, 2f}, DeviceTesting.download(d, out, 2));
        }
    }

    @Test
    void theJarListsEveryKernelOfTheFatbinWithItsSignature() {
        assertEquals("pppl", KernelSignatures.of("add_forward"));
        assertEquals("ppppppiif", KernelSignatures.of("layernorm_forward"));
        assertEquals("pppppppppppfiii", KernelSignatures.of("sweep_forward"));
        assertEquals(null, KernelSignatures.of("emutest_block_sum"), "the emulator's own test kernels are not in the fatbin");
    }
}
