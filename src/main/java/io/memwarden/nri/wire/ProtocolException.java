package io.memwarden.nri.wire;

import java.io.IOException;

/** A peer broke the framing rules; the connection cannot continue. The message names the problem. */
public final class ProtocolException extends IOException {
    public ProtocolException(String message) {
        super(message);
    }
}
