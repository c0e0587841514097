package dev.deja.device.tracer;

/** One wire form of the protocol: text lines ({@link TextCodec}) or JSON Lines ({@link JsonCodec}). */
public interface Codec {
    /** One message as one line, without the newline. */
    String format(Message m);

    /** Parses one line; throws with a message a tracer can act on when the line is not a valid message. */
    Message parse(String line) throws ProtocolException;
}
