package io.memwarden.loops;

import java.util.Set;
import java.util.regex.Pattern;

/** The pods the pressure guard never touches ({@code --protect}, {@code agent.protect}): keys or globs. */
public final class ProtectedPods {
    private ProtectedPods() {}

    /**
     * Whether {@code podKey} ("namespace/name") is among {@code patterns}: exact keys or globs with {@code *} (any run
     * of characters) and {@code ?} (one character), e.g. {@code kube-system/coredns-*}.
     */
    public static boolean contains(Set<String> patterns, String podKey) {
        for (String p : patterns) {
            if (p.equals(podKey) || (p.indexOf('*') >= 0 || p.indexOf('?') >= 0) && glob(p, podKey)) {
                return true;
            }
        }
        return false;
    }

    private static boolean glob(String pattern, String text) {
        StringBuilder re = new StringBuilder();
        for (char c : pattern.toCharArray()) {
            switch (c) {
                case '*' -> re.append(".*");
                case '?' -> re.append('.');
                default -> re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return text.matches(re.toString());
    }
}
