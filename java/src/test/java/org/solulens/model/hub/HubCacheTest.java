package org.solulens.model.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.solulens.model.ModelFormatException;

/** The hub cache is found where huggingface_hub looks, and nothing outside a repository's folder is read through it. */
class HubCacheTest {
    @TempDir
    Path tmp;

    @Test
    void theCacheIsFoundInHuggingfaceHubsOrder() {
        Map<String, String> all = Map.of("HF_HUB_CACHE", "/a", "HF_HOME", "/b", "XDG_CACHE_HOME", "/c", "HOME", "/d");
        assertEquals(Path.of("/a"), HubCache.fromEnvironment(all, "/u").root());
        assertEquals(Path.of("/b/hub"), HubCache.fromEnvironment(Map.of("HF_HOME", "/b", "XDG_CACHE_HOME", "/c", "HOME", "/d"), "/u").root());
        assertEquals(Path.of("/c/huggingface/hub"), HubCache.fromEnvironment(Map.of("XDG_CACHE_HOME", "/c", "HOME", "/d"), "/u").root());
        HubCache home = HubCache.fromEnvironment(Map.of("HOME", "/d"), "/u");
        assertEquals(Path.of("/d/.cache/huggingface/hub"), home.root());
        assertEquals("/d/.cache/huggingface/hub (from $HOME/.cache/huggingface/hub)", home.describe());
        assertEquals(Path.of("/u/.cache/huggingface/hub"), HubCache.fromEnvironment(Map.of("HF_HOME", " "), "/u").root());
    }

    @ParameterizedTest
    @ValueSource(strings = {"../../../../some/folder", "..", "main/../../x", "/etc", "a//b", "main\u0000", "ma\nin", "", "main/"})
    void aRevisionThatIsNotANameIsRefused(String revision) {
        HubCache cache = new HubCache(tmp);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cache.snapshot("NeelNanda/SoLU_1L512W_C4_Code", revision));
        assertTrue(e.getMessage().startsWith("not a revision: "), e.getMessage());
        IllegalArgumentException cli = assertThrows(IllegalArgumentException.class,
                () -> ModelSource.resolve("hf:NeelNanda/SoLU_1L512W_C4_Code@" + revision));
        assertTrue(cli.getMessage().startsWith("--model hf:"), cli.getMessage());
    }

    @Test
    void aRelativeRevisionNoLongerReachesAFolderOutsideTheCache() throws IOException {
        // the folder the issue's path reached: a complete model folder beside the cache
        Path outside = Files.createDirectories(tmp.resolve("some/folder"));
        Files.writeString(outside.resolve("config.json"), "{}");
        Path cache = Files.createDirectories(tmp.resolve("a/b/hub"));
        Files.createDirectories(cache.resolve("models--NeelNanda--X/snapshots"));
        assertThrows(IllegalArgumentException.class, () -> new HubCache(cache).snapshot("NeelNanda/X", "../../../../some/folder"));
    }

    @Test
    void namesAndRefsOfTheCacheResolveAsHuggingfaceHubWritesThem() throws IOException {
        Path repo = repoWithBlob("abc123");
        Files.createDirectories(repo.resolve("refs/refs/pr"));   // huggingface_hub writes refs/<revision>
        Files.writeString(repo.resolve("refs/refs/pr/1"), "abc123\n");
        HubCache cache = new HubCache(tmp.resolve("hub"));
        assertEquals(Optional.of(repo.resolve("snapshots/abc123")), cache.snapshot("NeelNanda/X", "refs/pr/1"));
        assertEquals(Optional.of(repo.resolve("snapshots/abc123")), cache.snapshot("NeelNanda/X", "abc123"));
        assertEquals(Optional.empty(), cache.snapshot("NeelNanda/X", "v2.0"));
        assertThrows(IllegalArgumentException.class, () -> cache.snapshot("NeelNanda/../X", null));
    }

    @Test
    void aRefHoldingAPathIsRefused() throws IOException {
        Path repo = repoWithBlob("abc123");
        Files.createDirectories(repo.resolve("refs"));
        Files.writeString(repo.resolve("refs/main"), "../../../../elsewhere\n");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> new HubCache(tmp.resolve("hub")).snapshot("NeelNanda/X", null));
        assertTrue(e.getMessage().contains("does not hold a commit hash"), e.getMessage());
    }

    @Test
    void aSnapshotFileLinkedOutsideTheRepositoryIsRefused() throws IOException {
        Path repo = repoWithBlob("abc123");
        Path secret = Files.writeString(tmp.resolve("secret.pth"), "not a model");
        Files.createSymbolicLink(repo.resolve("snapshots/abc123/model_final.pth"), secret);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> new HubCache(tmp.resolve("hub")).snapshot("NeelNanda/X", "abc123"));
        assertTrue(e.getMessage().contains("model_final.pth, a link to " + secret.toRealPath() + " outside its repository's folder"), e.getMessage());
    }

    @Test
    void aSnapshotFolderLinkedOutsideTheRepositoryIsRefused() throws IOException {
        Path repo = repoWithBlob("abc123");
        Path elsewhere = Files.createDirectories(tmp.resolve("elsewhere"));
        Files.createSymbolicLink(repo.resolve("snapshots/def456"), elsewhere);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> new HubCache(tmp.resolve("hub")).snapshot("NeelNanda/X", "def456"));
        assertTrue(e.getMessage().contains("leads outside its repository's folder"), e.getMessage());
    }

    /** A repository as huggingface_hub lays it out: config.json in the snapshot is a relative link to a blob. */
    private Path repoWithBlob(String commit) throws IOException {
        Path repo = tmp.resolve("hub/models--NeelNanda--X");
        Path blob = Files.writeString(Files.createDirectories(repo.resolve("blobs")).resolve("0f0f"), "{}");
        Path snapshot = Files.createDirectories(repo.resolve("snapshots/" + commit));
        Files.createSymbolicLink(snapshot.resolve("config.json"), snapshot.relativize(blob));
        return repo;
    }
}
