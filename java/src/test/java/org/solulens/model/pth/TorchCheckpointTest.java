package org.solulens.model.pth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.solulens.model.ModelFormatException;
import org.solulens.model.SafetensorsReader;
import org.solulens.model.Tensor;
import org.solulens.testing.PthFixtures;

/** The safe .pth reader against checkpoints PyTorch itself wrote (tools/make_pth_fixtures.py), and against hostile ones. */
class TorchCheckpointTest {
    @TempDir
    Path tmp;

    private static Path fixture(String name) {
        return PthFixtures.fixture(name);
    }

    @Test
    void float16AndBfloat16CheckpointsWidenToExactlyTheValuesPyTorchStored() throws IOException {
        for (String dtype : new String[] {"f16", "bf16"}) {
            Path folder = fixture("solu-small-" + dtype);
            SafetensorsReader expected = SafetensorsReader.open(folder.resolve("expected/model.safetensors"));
            try (TorchCheckpoint ckpt = TorchCheckpoint.open(folder.resolve("model_final.pth"))) {
                int compared = 0;
                for (String name : expected.entries().keySet()) {
                    Tensor want = expected.read(name), got = ckpt.read(name);
                    assertArrayEquals(want.shape(), got.shape(), dtype + " " + name);
                    assertArrayEquals(want.toArray(), got.toArray(), 0f, dtype + " " + name);
                    compared++;
                }
                assertEquals(23, compared, dtype);
            }
        }
    }

    @Test
    void tensorsSharingAStorageAtOffsetsAndWithStridesReadAsPyTorchSeesThem() throws IOException {
        JsonNode expected = new ObjectMapper().readTree(fixture("shared-storage.json").toFile());
        try (TorchCheckpoint ckpt = TorchCheckpoint.open(fixture("shared-storage.pth"))) {
            for (Iterator<Map.Entry<String, JsonNode>> it = expected.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                Tensor t = ckpt.read(e.getKey());
                int[] shape = new int[e.getValue().get("shape").size()];
                for (int d = 0; d < shape.length; d++) {
                    shape[d] = e.getValue().get("shape").get(d).asInt();
                }
                assertArrayEquals(shape, t.shape(), e.getKey());
                float[] values = new float[t.size()];
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) e.getValue().get("values").get(i).asDouble();
                }
                assertArrayEquals(values, t.toArray(), 0f, e.getKey());
            }
        }
        assertEquals(3, expected.size());
    }

    @Test
    void checkpointsThatWouldRunCodeAreRefusedNamingTheGlobalAndNothingRuns() throws IOException {
        JsonNode evil = new ObjectMapper().readTree(fixture("evil.json").toFile());
        assertEquals(3, evil.size());
        for (Iterator<Map.Entry<String, JsonNode>> it = evil.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String global = e.getValue().get(0).asText();
            Path marker = Path.of(e.getValue().get(1).asText());   // relative, as the payload names it
            Files.deleteIfExists(marker);
            ModelFormatException refused = assertThrows(ModelFormatException.class, () -> TorchCheckpoint.open(fixture(e.getKey())));
            assertTrue(refused.getMessage().contains("'" + global + "'") && refused.getMessage().contains("refused"), refused.getMessage());
            assertFalse(Files.exists(marker), e.getKey() + " created " + marker);
        }
    }

    @Test
    void aTruncatedCheckpointIsAClearError() throws IOException {
        byte[] whole = Files.readAllBytes(fixture("solu-small/model_final.pth"));
        for (int keep : new int[] {whole.length / 2, whole.length - 10, 100, 0}) {
            Path cut = Files.write(tmp.resolve("cut-" + keep + ".pth"), java.util.Arrays.copyOf(whole, keep));
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> TorchCheckpoint.open(cut));
            assertTrue(e.getMessage().contains(cut.toString()) && e.getMessage().contains("truncated"), e.getMessage());
        }
    }

    /** A zip holding one data.pkl, deflated (the reader takes stored and deflated entries). */
    private Path zipWithPickle(String name, byte[] pickle) throws IOException {
        Path file = tmp.resolve(name + ".pth");
        try (OutputStream out = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(out)) {
            zip.putNextEntry(new ZipEntry("archive/data.pkl"));
            zip.write(pickle);
            zip.closeEntry();
        }
        return file;
    }

    @Test
    void pickleBombsFailFastWithAClearError() throws IOException {
        // 200,000 nested MARKs: past the stack bound
        ByteArrayOutputStream deep = new ByteArrayOutputStream();
        deep.write(new byte[] {(byte) 0x80, 2});
        for (int i = 0; i < 200_000; i++) {
            deep.write('(');
        }
        // 1,100,000 memo entries of one empty list: past the memo bound
        ByteArrayOutputStream memo = new ByteArrayOutputStream();
        memo.write(new byte[] {(byte) 0x80, 2, ']'});
        for (int i = 0; i < 1_100_000; i++) {
            memo.write(new byte[] {'r', (byte) i, (byte) (i >> 8), (byte) (i >> 16), 0});
        }
        // "billion laughs": a list appended to itself 30 levels deep through the memo; only references, no copies
        ByteArrayOutputStream laughs = new ByteArrayOutputStream();
        laughs.write(new byte[] {(byte) 0x80, 2, ']', 'q', 0});
        for (int i = 0; i < 30; i++) {
            laughs.write(new byte[] {'0', ']', 'q', (byte) (i + 1), '(', 'h', (byte) i, 'h', (byte) i, 'h', (byte) i, 'e'});
        }
        laughs.write('.');
        Object[][] cases = {{"deep", deep.toByteArray(), "nests deeper"}, {"memo", memo.toByteArray(), "memo grows past"},
                {"laughs", laughs.toByteArray(), "not a state dict"}};
        for (Object[] c : cases) {
            Path file = zipWithPickle((String) c[0], (byte[]) c[1]);
            ModelFormatException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
                    () -> assertThrows(ModelFormatException.class, () -> TorchCheckpoint.open(file)), (String) c[0]);
            assertTrue(e.getMessage().contains((String) c[2]), c[0] + ": " + e.getMessage());
        }
    }

    @Test
    void unknownOpcodesAndGlobalsByStackGlobalAreRefusedToo() throws IOException {
        // protocol 4's STACK_GLOBAL naming builtins.exec
        byte[] stackGlobal = {(byte) 0x80, 4, (byte) 0x8c, 8, 'b', 'u', 'i', 'l', 't', 'i', 'n', 's', (byte) 0x8c, 4, 'e', 'x', 'e', 'c',
                (byte) 0x93, '.'};
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> TorchCheckpoint.open(zipWithPickle("exec", stackGlobal)));
        assertTrue(e.getMessage().contains("'builtins.exec'"), e.getMessage());
        // INST (protocol 0's call-a-class opcode) is not one a checkpoint uses
        byte[] inst = {'i', 'o', 's', '\n', 's', 'y', 's', 't', 'e', 'm', '\n', '.'};
        e = assertThrows(ModelFormatException.class, () -> TorchCheckpoint.open(zipWithPickle("inst", inst)));
        assertTrue(e.getMessage().contains("opcode 0x69"), e.getMessage());
    }
}
