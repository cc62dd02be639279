package dev.backprop.spark.transport;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A man in the middle for tests: accepts one connection from a rank (the client) and relays it to another (the
 * server). The handshake passes unchanged (and is recorded); each later frame from the client goes to an
 * {@link Editor}, which may forward, replay, reorder, alter or forge frames. The server's bytes pass unchanged. When
 * either side closes, so does the relay.
 */
final class Relay implements AutoCloseable {
    /** Bytes a client sends in the handshake: its hello and its proof. */
    static final int CLIENT_HANDSHAKE_BYTES = Handshake.HELLO_BYTES + Crypto.TAG_BYTES;

    /** Decides what reaches the server in place of the client's frame number {@code index}. */
    interface Editor {
        void frame(int index, byte[] raw, Relay relay, OutputStream toServer) throws IOException;
    }

    static final Editor FORWARD = (index, raw, relay, out) -> out.write(raw);

    private final ServerSocket server;
    private final List<byte[]> frames = new ArrayList<>();
    private final List<Socket> sockets = new ArrayList<>();
    private volatile byte[] clientHandshake;
    private volatile long attackNanos;

    Relay(PeerAddress target, Editor editor) throws IOException {
        server = new ServerSocket(0, 4, InetAddress.getLoopbackAddress());
        Thread t = new Thread(() -> run(target, editor), "relay-" + server.getLocalPort());
        t.setDaemon(true);
        t.start();
    }

    PeerAddress address() {
        return new PeerAddress("127.0.0.1", server.getLocalPort());
    }

    /** The client's frame number {@code i} as sent. */
    synchronized byte[] frame(int i) {
        return frames.get(i);
    }

    /** What the client sent in its handshake (null until it has). */
    byte[] clientHandshake() {
        return clientHandshake;
    }

    /** Marks the moment of the attack. */
    void attacked() {
        attackNanos = System.nanoTime();
    }

    /** When the editor attacked ({@link System#nanoTime()}), or 0. */
    long attackNanos() {
        return attackNanos;
    }

    /** The payload length in a frame's clear-text header. */
    static int payloadLength(byte[] raw) {
        return ByteBuffer.wrap(raw, 12, 4).getInt();
    }

    /** Where a frame's payload starts in its raw bytes. */
    static int payloadOffset() {
        return Frame.HEADER_BYTES + Crypto.TAG_BYTES;
    }

    private void run(PeerAddress target, Editor editor) {
        try {
            Socket client = server.accept();
            Socket upstream = new Socket(target.host(), target.port());
            synchronized (sockets) {
                sockets.add(client);
                sockets.add(upstream);
            }
            InputStream fromServer = upstream.getInputStream();
            Thread back = new Thread(() -> pump(fromServer, client), "relay-back");
            back.setDaemon(true);
            back.start();
            DataInputStream in = new DataInputStream(client.getInputStream());
            OutputStream out = upstream.getOutputStream();
            byte[] hs = new byte[CLIENT_HANDSHAKE_BYTES];
            in.readFully(hs, 0, Handshake.HELLO_BYTES);
            out.write(hs, 0, Handshake.HELLO_BYTES);
            out.flush();
            in.readFully(hs, Handshake.HELLO_BYTES, Crypto.TAG_BYTES);
            out.write(hs, Handshake.HELLO_BYTES, Crypto.TAG_BYTES);
            out.flush();
            clientHandshake = hs;
            for (int i = 0; ; i++) {
                byte[] head = new byte[payloadOffset()];
                in.readFully(head);
                int length = payloadLength(head);
                byte[] raw = Arrays.copyOf(head, head.length + length + Crypto.TAG_BYTES);
                in.readFully(raw, head.length, length + Crypto.TAG_BYTES);
                synchronized (this) {
                    frames.add(raw);
                }
                editor.frame(i, raw, this, out);
                out.flush();
            }
        } catch (IOException e) {
            close();
        }
    }

    private void pump(InputStream from, Socket to) {
        try {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = from.read(buf)) >= 0; ) {
                to.getOutputStream().write(buf, 0, n);
            }
        } catch (IOException e) {
            // Either side closed: close both below.
        }
        close();
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // Closing a test relay.
        }
        synchronized (sockets) {
            for (Socket s : sockets) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // Closing a test relay.
                }
            }
        }
    }
}
