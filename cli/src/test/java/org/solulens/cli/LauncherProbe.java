package org.solulens.cli;

/** The main class of the stand-in jar {@link LauncherTest} puts behind the {@code solulens} launcher: prints what it got. */
public final class LauncherProbe {
    private LauncherProbe() {}

    public static void main(String[] args) {
        for (String a : args) {
            System.out.println("arg <" + a + ">");
        }
        for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            System.out.println("jvm <" + a + ">");
        }
        System.out.println("probe <" + System.getProperty("probe") + ">");
    }
}
