package io.memwarden.kernel;

/** One line of a kernel log, read: a {@link KmsgRecord}, or a {@link BadKmsgRecord} saying why it is not one. */
sealed interface KmsgLine permits KmsgRecord, BadKmsgRecord {
}
