package io.memwarden.nri.wire;

/**
 * Constants of the two framing layers NRI uses on its unix socket (nri-protocol.md §1): the NRI mux
 * ({@code [conn id u32][length u32]} + payload, big-endian) and ttrpc inside each mux connection
 * ({@code [length u32][stream id u32][type u8][flags u8]} + data).
 */
public final class WireFormat {
    private WireFormat() {}

    /** Runtime → plugin calls; the plugin is the ttrpc server. */
    public static final int PLUGIN_SERVICE_CONN = 1;
    /** Plugin → runtime calls; the plugin is the ttrpc client. */
    public static final int RUNTIME_SERVICE_CONN = 2;

    public static final int MUX_HEADER_BYTES = 8;
    public static final int TTRPC_HEADER_BYTES = 10;
    /** ttrpc's maximum message (data) size: 4 MiB. */
    public static final int MAX_MESSAGE_BYTES = 4 << 20;
    /** The largest mux frame payload a Go peer sends: one whole ttrpc message with its header. */
    public static final int MAX_MUX_PAYLOAD_BYTES = MAX_MESSAGE_BYTES + TTRPC_HEADER_BYTES;
    /** The largest mux frame payload we send: Go reads through a 4096-byte buffer (nri-protocol.md §1.2). */
    public static final int MAX_SENT_MUX_PAYLOAD_BYTES = 4096;

    public static final byte TYPE_REQUEST = 1;
    public static final byte TYPE_RESPONSE = 2;
    public static final byte TYPE_DATA = 3;

    public static final String RUNTIME_SERVICE = "nri.pkg.api.v1alpha1.Runtime";
    public static final String PLUGIN_SERVICE = "nri.pkg.api.v1alpha1.Plugin";
}
