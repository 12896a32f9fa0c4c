package io.memwarden.model;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Kubernetes resource quantity ({@code 100Mi}, {@code 1.5G}, {@code 250m}, {@code 1e3}), parsed with the API
 * server's grammar: {@code <signedNumber><suffix>} where the suffix is a binary SI ({@code Ki Mi Gi Ti Pi Ei}),
 * decimal SI ({@code n u m "" k M G T P E}) or decimal exponent ({@code e<int>} / {@code E<int>}).
 *
 * <p>The value is exact ({@link BigDecimal}); {@link #bytes()} rounds up to a whole number as
 * {@code resource.Quantity.Value()} does.
 */
public record KubeQuantity(String text, BigDecimal value) implements Comparable<KubeQuantity> {

    private static final Pattern GRAMMAR =
            Pattern.compile("([+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+))((?:[KMGTPE]i)|[numkMGTPE]|[eE][+-]?[0-9]+)?");
    private static final BigDecimal LONG_MAX = BigDecimal.valueOf(Long.MAX_VALUE);
    /** The longest quantity text read (an int64 of bytes is 19 digits; a fraction with all its digits, a few more). */
    public static final int MAX_TEXT = 128;

    public KubeQuantity {
        if (text == null || value == null) {
            throw new IllegalArgumentException("quantity text and value are required");
        }
    }

    /** Parses a quantity; throws {@link IllegalArgumentException} with a message naming the text. */
    public static KubeQuantity parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("quantity is missing");
        }
        String t = text.strip();
        if (t.length() > MAX_TEXT) {
            // the grammar has no bound of its own; a long digit string costs quadratic time to read as a number
            throw new IllegalArgumentException("\"" + Printable.of(t, 32) + "\" is not a Kubernetes quantity memwarden"
                    + " reads: longer than " + MAX_TEXT + " characters");
        }
        Matcher m = GRAMMAR.matcher(t);
        if (t.isEmpty() || !m.matches()) {
            throw new IllegalArgumentException("\"" + Printable.of(text, 64) + "\" is not a Kubernetes quantity"
                    + " (expected a number with an optional suffix such as Ki, Mi, Gi, k, M, G, m or e3)");
        }
        BigDecimal number = new BigDecimal(m.group(1).startsWith("+") ? m.group(1).substring(1) : m.group(1));
        String suffix = m.group(2) == null ? "" : m.group(2);
        return new KubeQuantity(t, number.multiply(multiplier(suffix)));
    }

    private static BigDecimal multiplier(String suffix) {
        return switch (suffix) {
            case "" -> BigDecimal.ONE;
            case "Ki" -> BigDecimal.valueOf(1L << 10);
            case "Mi" -> BigDecimal.valueOf(1L << 20);
            case "Gi" -> BigDecimal.valueOf(1L << 30);
            case "Ti" -> BigDecimal.valueOf(1L << 40);
            case "Pi" -> BigDecimal.valueOf(1L << 50);
            case "Ei" -> BigDecimal.valueOf(1L << 60);
            case "n" -> BigDecimal.ONE.scaleByPowerOfTen(-9);
            case "u" -> BigDecimal.ONE.scaleByPowerOfTen(-6);
            case "m" -> BigDecimal.ONE.scaleByPowerOfTen(-3);
            case "k" -> BigDecimal.ONE.scaleByPowerOfTen(3);
            case "M" -> BigDecimal.ONE.scaleByPowerOfTen(6);
            case "G" -> BigDecimal.ONE.scaleByPowerOfTen(9);
            case "T" -> BigDecimal.ONE.scaleByPowerOfTen(12);
            case "P" -> BigDecimal.ONE.scaleByPowerOfTen(15);
            case "E" -> BigDecimal.ONE.scaleByPowerOfTen(18);
            default -> {
                // decimal exponent e<int> / E<int>
                int exp;
                try {
                    exp = Integer.parseInt(suffix.substring(1));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("exponent out of range in suffix " + suffix);
                }
                if (Math.abs(exp) > 100) {
                    throw new IllegalArgumentException("exponent out of range in suffix " + suffix);
                }
                yield BigDecimal.ONE.scaleByPowerOfTen(exp);
            }
        };
    }

    /** A quantity of exactly {@code bytes}. */
    public static KubeQuantity ofBytes(long bytes) {
        return new KubeQuantity(Long.toString(bytes), BigDecimal.valueOf(bytes));
    }

    public int signum() {
        return value.signum();
    }

    public boolean isZero() {
        return value.signum() == 0;
    }

    /** The value rounded up to a whole number (Kubernetes {@code Quantity.Value()}); throws if it exceeds int64. */
    public long bytes() {
        BigDecimal ceil = value.setScale(0, RoundingMode.CEILING);
        if (ceil.compareTo(LONG_MAX) > 0 || ceil.compareTo(LONG_MAX.negate()) < 0) {
            throw new IllegalArgumentException("\"" + Printable.of(text, 64)
                    + "\" is larger than a signed 64-bit integer");
        }
        return ceil.longValueExact();
    }

    /** The value in thousandths rounded up (Kubernetes {@code Quantity.MilliValue()}). */
    public long millis() {
        BigInteger m = value.scaleByPowerOfTen(3).setScale(0, RoundingMode.CEILING).toBigIntegerExact();
        return m.bitLength() > 63 ? (m.signum() > 0 ? Long.MAX_VALUE : Long.MIN_VALUE) : m.longValue();
    }

    @Override
    public int compareTo(KubeQuantity o) {
        return value.compareTo(o.value);
    }

    @Override
    public String toString() {
        return text;
    }
}
