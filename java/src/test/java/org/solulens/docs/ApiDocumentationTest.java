package org.solulens.docs;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.lang.model.SourceVersion;
import javax.lang.model.element.Element;
import javax.lang.model.element.ElementKind;
import javax.lang.model.element.ExecutableElement;
import javax.lang.model.element.Modifier;
import javax.lang.model.element.PackageElement;
import javax.lang.model.element.TypeElement;
import javax.lang.model.util.Elements;
import javax.tools.DocumentationTool;
import javax.tools.ToolProvider;
import jdk.javadoc.doclet.Doclet;
import jdk.javadoc.doclet.DocletEnvironment;
import jdk.javadoc.doclet.Reporter;
import org.junit.jupiter.api.Test;

/**
 * Every public type and member of the API packages has a documentation comment (the Javadoc build checks the
 * comments' HTML and references; this checks that they exist). Members that inherit their comment (overrides) and
 * members the compiler writes (record accessors, enum values()) are exempt.
 */
class ApiDocumentationTest {
    static final List<String> API_PACKAGES = List.of("org.solulens.analysis", "org.solulens.backend", "org.solulens.corpus",
            "org.solulens.io", "org.solulens.model");
    static final List<String> UNDOCUMENTED = new ArrayList<>();

    @Test
    void everyPublicTypeAndMemberOfTheApiPackagesHasAComment() {
        Path sources = Path.of("src/main/java");
        assertTrue(Files.isDirectory(sources), "run from the library module's folder");
        DocumentationTool tool = ToolProvider.getSystemDocumentationTool();
        List<String> options = new ArrayList<>(List.of("-sourcepath", sources.toString(), "-quiet"));
        StringWriter log = new StringWriter();
        UNDOCUMENTED.clear();
        var fileManager = tool.getStandardFileManager(null, Locale.ROOT, null);
        List<String> arguments = new ArrayList<>(options);
        arguments.addAll(API_PACKAGES);
        boolean ok = tool.getTask(log, fileManager, null, MissingComments.class, arguments, null).call();
        assertTrue(ok, "the javadoc tool failed: " + log);
        assertTrue(UNDOCUMENTED.isEmpty(), UNDOCUMENTED.size() + " public API elements have no documentation comment:\n  "
                + String.join("\n  ", UNDOCUMENTED));
    }

    /** The doclet: lists the public elements without a comment into {@link #UNDOCUMENTED}. */
    public static final class MissingComments implements Doclet {
        private Elements elements;
        private DocletEnvironment environment;

        /** Created by the javadoc tool. */
        public MissingComments() {}

        @Override
        public void init(Locale locale, Reporter reporter) {}

        @Override
        public String getName() {
            return "MissingComments";
        }

        @Override
        public Set<? extends Option> getSupportedOptions() {
            return Set.of();
        }

        @Override
        public SourceVersion getSupportedSourceVersion() {
            return SourceVersion.latest();
        }

        @Override
        public boolean run(DocletEnvironment env) {
            environment = env;
            elements = env.getElementUtils();
            for (Element e : env.getIncludedElements()) {
                if (e instanceof PackageElement) {
                    check(e);
                } else if (e instanceof TypeElement type && isApi(type)) {
                    check(type);
                    for (Element member : type.getEnclosedElements()) {
                        if (isApi(member) && !(member instanceof TypeElement)) {
                            check(member);
                        }
                    }
                }
            }
            return true;
        }

        private boolean isApi(Element e) {
            for (Element x = e; x != null && !(x instanceof PackageElement); x = x.getEnclosingElement()) {
                if (!x.getModifiers().contains(Modifier.PUBLIC) && !(x.getModifiers().contains(Modifier.PROTECTED)
                        && !x.getEnclosingElement().getModifiers().contains(Modifier.FINAL))) {
                    return false;
                }
            }
            if (e.getKind() == ElementKind.RECORD_COMPONENT || environment.getDocTrees().getPath(e) == null) {
                return false;   // documented by the record's @param, or compiler-written (no source): record accessors, enum values()
            }
            if (e.getKind() == ElementKind.CONSTRUCTOR && e.getEnclosingElement().getKind() == ElementKind.RECORD
                    && ((ExecutableElement) e).getParameters().size() == ((TypeElement) e.getEnclosingElement()).getRecordComponents().size()) {
                return false;   // a record's canonical constructor: the record's @param tags document it
            }
            if (e instanceof ExecutableElement m && e.getKind() == ElementKind.METHOD) {
                boolean override = m.getAnnotationMirrors().stream()
                        .anyMatch(a -> a.getAnnotationType().toString().equals("java.lang.Override"));
                return !override;   // inherits its comment
            }
            return environment.isIncluded(e) || e.getKind() == ElementKind.ENUM_CONSTANT || e.getKind() == ElementKind.FIELD;
        }

        private void check(Element e) {
            String comment = elements.getDocComment(e);
            if (comment == null || comment.isBlank()) {
                UNDOCUMENTED.add(describe(e));
            }
        }

        private static String describe(Element e) {
            if (e instanceof PackageElement p) {
                return "package " + p.getQualifiedName() + " (package-info.java)";
            }
            if (e instanceof TypeElement t) {
                return t.getQualifiedName().toString();
            }
            return ((TypeElement) e.getEnclosingElement()).getQualifiedName() + "." + e;
        }
    }
}
