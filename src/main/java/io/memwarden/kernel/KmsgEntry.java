package io.memwarden.kernel;

/**
 * A kernel-log line and where it was: a file's line number (from 1), or for {@code /dev/kmsg} the count of records
 * read since it was opened (from 1).
 */
public record KmsgEntry(long number, KmsgLine line) {
}
