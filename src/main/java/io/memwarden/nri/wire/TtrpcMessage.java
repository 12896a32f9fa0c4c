package io.memwarden.nri.wire;

/**
 * One ttrpc message as it travels in one mux connection.
 *
 * @param conn     the mux connection id ({@link WireFormat#PLUGIN_SERVICE_CONN} or {@link WireFormat#RUNTIME_SERVICE_CONN})
 * @param streamId the ttrpc stream id (odd: client-initiated)
 * @param type     {@link WireFormat#TYPE_REQUEST}, {@link WireFormat#TYPE_RESPONSE} or {@link WireFormat#TYPE_DATA}
 * @param payload  the encoded ttrpc Request or Response (at most 4 MiB)
 */
public record TtrpcMessage(int conn, int streamId, byte type, byte flags, byte[] payload) {}
