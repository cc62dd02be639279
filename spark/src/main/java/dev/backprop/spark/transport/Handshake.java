package dev.backprop.spark.transport;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ProtocolException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.IntPredicate;

/**
 * Mutual challenge-response between two ranks before any data, with HMAC-SHA256 under the {@link JobSecret}'s
 * key. The higher rank (client) connects to the lower one (server):
 * <ol>
 *   <li>client → server, in clear: magic, version, job id, stage attempt, group size, both ranks, a fresh
 *       32-byte nonce;</li>
 *   <li>server → client: both ranks, its own fresh nonce, and its proof {@code HMAC(key, "server proof" ||
 *       transcript)};</li>
 *   <li>client → server: its proof {@code HMAC(key, "client proof" || transcript)};</li>
 *   <li>server → client: a {@link Frame.Kind#HELLO} frame, the first frame authenticated with the new keys.</li>
 * </ol>
 * The transcript holds the job id, the stage attempt, the group size, both ranks and both nonces, so a proof is
 * good for one connection only: it cannot be replayed to another rank, attempt or job, nor reflected (the two
 * proofs carry different labels). Each direction's frame key is derived from the key and the transcript
 * ({@link Crypto#derive}). The secret never crosses the wire; the clear-text fields only let a server turn away
 * other jobs, earlier attempts and strangers early, with a reason in its log. Every read has the handshake's
 * deadline, so a peer that stalls or trickles bytes cannot hold the handshake longer than that.
 */
final class Handshake {
    static final int VERSION = 2;
    static final int HELLO_BYTES = 4 + 4 + JobSecret.JOB_ID_BYTES + 8 + 4 + 4 + 4 + Crypto.NONCE_BYTES;
    static final int REPLY_BYTES = 4 + 4 + 4 + 4 + Crypto.NONCE_BYTES + Crypto.TAG_BYTES;
    static final int ACK_BYTES = Frame.HEADER_BYTES + 2 * Crypto.TAG_BYTES;
    private static final byte[] PROTOCOL = "backprop-spark rank transport v2".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SERVER_PROOF = "server proof".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CLIENT_PROOF = "client proof".getBytes(StandardCharsets.US_ASCII);

    /** What both sides of every connection must agree on: the job's secret, the stage attempt, the group size. */
    record Group(JobSecret secret, long attempt, int size) {
    }

    /** An authenticated connection to {@code peer}: its socket and each direction's frame authentication. */
    record Session(int peer, Socket socket, FrameAuth out, FrameAuth in) {
    }

    /** The server failed to prove that it holds the job's secret: no point trying again. */
    static final class ProofFailed extends ProtocolException {
        ProofFailed(String message) {
            super(message);
        }
    }

    private Handshake() {
    }

    /**
     * The client's side: rank {@code self} on {@code socket}, connected to rank {@code peer}.
     *
     * @throws ProtocolException when the server answers as someone else, its proof is wrong ({@link ProofFailed})
     *                           or its confirmation does not authenticate: trying again would not help
     * @throws IOException       when the server breaks off (it may have turned this rank away) or misses
     *                           {@code deadline}
     */
    static Session connect(Socket socket, Group g, int self, int peer, long deadline) throws IOException {
        byte[] nonceC = Crypto.random(Crypto.NONCE_BYTES);
        ByteBuffer hello = ByteBuffer.allocate(HELLO_BYTES);
        hello.putInt(Frame.MAGIC).putInt(VERSION).put(g.secret().jobId()).putLong(g.attempt()).putInt(g.size())
                .putInt(self).putInt(peer).put(nonceC);
        OutputStream out = socket.getOutputStream();
        out.write(hello.array());
        out.flush();
        ByteBuffer reply = ByteBuffer.wrap(readFully(socket, REPLY_BYTES, deadline));
        int magic = reply.getInt();
        int version = reply.getInt();
        int server = reply.getInt();
        int client = reply.getInt();
        if (magic != Frame.MAGIC || version != VERSION || server != peer || client != self) {
            throw new ProtocolException(String.format("answered as rank %d (to rank %d), protocol %08x version %d, "
                    + "not as rank %d of protocol version %d", server, client, magic, version, peer, VERSION));
        }
        byte[] nonceS = new byte[Crypto.NONCE_BYTES];
        byte[] proofS = new byte[Crypto.TAG_BYTES];
        reply.get(nonceS).get(proofS);
        byte[] transcript = transcript(g, self, peer, nonceC, nonceS);
        byte[] key = g.secret().key();
        if (!Crypto.equal(Crypto.hmac(key, SERVER_PROOF, transcript), proofS)) {
            throw new ProofFailed("did not prove that it holds this job's secret (" + g.secret().describe()
                    + "): it is not a rank of this job, or the ranks were given different secrets");
        }
        out.write(Crypto.hmac(key, CLIENT_PROOF, transcript));
        out.flush();
        Session s = new Session(peer, socket, new FrameAuth(Crypto.derive(key, "client to server frames", transcript)),
                new FrameAuth(Crypto.derive(key, "server to client frames", transcript)));
        byte[] ack = readFully(socket, ACK_BYTES, deadline);
        try {
            DataInputStream ackIn = new DataInputStream(new ByteArrayInputStream(ack));
            Frame f = Frame.readFrom(ackIn, s.in(), (kind, seq, length) -> {
                if (kind != Frame.Kind.HELLO || length != 0) {
                    throw new ProtocolException("expected the handshake's confirmation, got " + kind + " of "
                            + length + " bytes");
                }
            });
            if (f.source() != peer) {
                throw new ProtocolException("confirmation from rank " + f.source() + ", expected rank " + peer);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted during the handshake", e);
        }
        return s;
    }

    /**
     * The server's side: rank {@code self} checks the client on {@code socket}. Returns once the client has
     * proved that it holds the secret and the confirmation is sent; {@code accepts} decides which claimed ranks
     * may connect.
     *
     * @throws ProtocolException naming why the client is turned away
     * @throws IOException       when it breaks off or misses {@code deadline}
     */
    static Session accept(Socket socket, Group g, int self, IntPredicate accepts, long deadline)
            throws IOException {
        ByteBuffer hello = ByteBuffer.wrap(readFully(socket, HELLO_BYTES, deadline));
        int magic = hello.getInt();
        int version = hello.getInt();
        if (magic != Frame.MAGIC || version != VERSION) {
            throw new ProtocolException(String.format("not a Backprop rank of protocol version %d (it sent %08x %d)",
                    VERSION, magic, version));
        }
        byte[] jobId = new byte[JobSecret.JOB_ID_BYTES];
        hello.get(jobId);
        long attempt = hello.getLong();
        int size = hello.getInt();
        int client = hello.getInt();
        int server = hello.getInt();
        byte[] nonceC = new byte[Crypto.NONCE_BYTES];
        hello.get(nonceC);
        if (!Arrays.equals(jobId, g.secret().jobId())) {
            throw new ProtocolException("a rank of another job (job " + Crypto.hex(jobId, 4) + ")");
        }
        if (attempt != g.attempt() || size != g.size()) {
            throw new ProtocolException("a rank of stage attempt " + attempt + " with " + size + " ranks; this is "
                    + "attempt " + g.attempt() + " with " + g.size());
        }
        if (server != self || !accepts.test(client)) {
            throw new ProtocolException("claims to be rank " + client + " connecting to rank " + server
                    + "; rank " + self + " accepts only the higher ranks of its group");
        }
        byte[] nonceS = Crypto.random(Crypto.NONCE_BYTES);
        byte[] transcript = transcript(g, client, self, nonceC, nonceS);
        byte[] key = g.secret().key();
        ByteBuffer reply = ByteBuffer.allocate(REPLY_BYTES);
        reply.putInt(Frame.MAGIC).putInt(VERSION).putInt(self).putInt(client).put(nonceS)
                .put(Crypto.hmac(key, SERVER_PROOF, transcript));
        OutputStream out = socket.getOutputStream();
        out.write(reply.array());
        out.flush();
        byte[] proofC = readFully(socket, Crypto.TAG_BYTES, deadline);
        if (!Crypto.equal(Crypto.hmac(key, CLIENT_PROOF, transcript), proofC)) {
            throw new ProtocolException("failed authentication as rank " + client + " (it does not hold this job's "
                    + "secret, or replayed another connection's proof)");
        }
        Session s = new Session(client, socket,
                new FrameAuth(Crypto.derive(key, "server to client frames", transcript)),
                new FrameAuth(Crypto.derive(key, "client to server frames", transcript)));
        new Frame(Frame.Kind.HELLO, self, 0, 0, new byte[0]).writeTo(out, s.out());
        out.flush();
        return s;
    }

    private static byte[] transcript(Group g, int client, int server, byte[] nonceC, byte[] nonceS) {
        ByteBuffer t = ByteBuffer.allocate(PROTOCOL.length + JobSecret.JOB_ID_BYTES + 8 + 4 + 4 + 4
                + 2 * Crypto.NONCE_BYTES);
        t.put(PROTOCOL).put(g.secret().jobId()).putLong(g.attempt()).putInt(g.size()).putInt(client).putInt(server)
                .put(nonceC).put(nonceS);
        return t.array();
    }

    /** Exactly {@code n} bytes, each read bounded by what is left until {@code deadline}. */
    static byte[] readFully(Socket socket, int n, long deadline) throws IOException {
        InputStream in = socket.getInputStream();
        byte[] b = new byte[n];
        int off = 0;
        while (off < n) {
            long ms = (deadline - System.nanoTime()) / 1_000_000;
            if (ms <= 0) {
                throw new SocketTimeoutException("the handshake did not complete in time (" + off + " of " + n
                        + " bytes of a message received)");
            }
            socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, ms));
            int r;
            try {
                r = in.read(b, off, n - off);
            } catch (SocketTimeoutException e) {
                throw new SocketTimeoutException("the handshake did not complete in time (" + off + " of " + n
                        + " bytes of a message received)");
            }
            if (r < 0) {
                throw new EOFException("the connection closed during the handshake (" + off + " of " + n
                        + " bytes of a message received)");
            }
            off += r;
        }
        return b;
    }
}
