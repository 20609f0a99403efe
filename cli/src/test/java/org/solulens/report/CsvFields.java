package org.solulens.report;

import java.util.ArrayList;
import java.util.List;

/** One line of the studies' CSVs as fields (a quoted field may hold commas; a doubled quote is one quote). */
public final class CsvFields {
    private CsvFields() {}

    /** @return the fields of {@code line} */
    public static String[] split(String line) {
        List<String> fields = new ArrayList<>();
        StringBuilder f = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted && c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                f.append('"');
                i++;
            } else if (c == '"') {
                quoted = !quoted;
            } else if (c == ',' && !quoted) {
                fields.add(f.toString());
                f.setLength(0);
            } else {
                f.append(c);
            }
        }
        fields.add(f.toString());
        return fields.toArray(String[]::new);
    }
}
