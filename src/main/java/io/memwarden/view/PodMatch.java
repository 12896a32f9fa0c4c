package io.memwarden.view;

import java.util.Comparator;
import java.util.List;

/** Close matches for a mistyped {@code NS/POD}: same pod name elsewhere, substrings, small edit distances. */
final class PodMatch {
    private PodMatch() {}

    /** Up to {@code max} of {@code candidates} close to {@code wanted}, closest first. */
    public static List<String> closest(String wanted, List<String> candidates, int max) {
        String wantedName = name(wanted);
        return candidates.stream()
                .filter(c -> distance(wanted, c) <= Math.max(2, wanted.length() / 3)
                        || name(c).equals(wantedName)
                        || (wantedName.length() >= 3 && name(c).contains(wantedName))
                        || (name(c).length() >= 3 && wantedName.contains(name(c))))
                .sorted(Comparator.comparingInt((String c) -> distance(wanted, c)).thenComparing(c -> c))
                .limit(max)
                .toList();
    }

    private static String name(String key) {
        int slash = key.indexOf('/');
        return slash < 0 ? key : key.substring(slash + 1);
    }

    /** Levenshtein distance. */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
