/**
 * The operator's views of a running memwarden ({@code memwarden top}, {@code memwarden explain}): the read side of
 * the {@code /status} document ({@link io.memwarden.view.StatusDoc}, bound with Jackson, independent of the server's
 * classes) and pure formatting of it into text frames and explanations. No I/O: the cli fetches, this renders.
 */
package io.memwarden.view;
