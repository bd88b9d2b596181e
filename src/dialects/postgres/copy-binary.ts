/**
 * COPY's binary format (`COPY … FROM STDIN (FORMAT binary)`): a signature and header, then per
 * row its field count and each field as a byte length and the bytes (-1 for NULL), then -1.
 * Written here only for text-like columns (text, varchar, json), whose binary form is their
 * UTF-8 text: nothing to escape on this side, no text to take apart on the server's.
 *
 * Writers produce the rows; the drivers frame each COPY statement's rows with the header and
 * trailer (PGlite splits a large load over several statements).
 */

/** What each COPY statement's binary data starts with: the signature, no flags, no extension. */
export const COPY_BINARY_HEADER = Buffer.concat([Buffer.from("PGCOPY\n\xff\r\n\0", "latin1"), Buffer.alloc(8)]);
/** What it ends with: a field count of -1. */
export const COPY_BINARY_TRAILER = Buffer.from([0xff, 0xff]);

/** One field in binary form: its length, then its UTF-8 bytes (for fields the same on every row). */
export function binaryTextField(text: string | null): Buffer {
  if (text === null) return Buffer.from([0xff, 0xff, 0xff, 0xff]);
  const bytes = Buffer.from(text, "utf8");
  const field = Buffer.allocUnsafe(4 + bytes.length);
  field.writeInt32BE(bytes.length, 0);
  bytes.copy(field, 4);
  return field;
}

/** Rows in COPY binary form (without header and trailer), handed out in chunks of about `chunkSize` bytes, each ending with a row. */
export class CopyBinaryWriter {
  private buffer: Buffer;
  private length = 0;

  constructor(private readonly chunkSize = 64 * 1024) {
    this.buffer = Buffer.allocUnsafe(chunkSize);
  }

  /** Start a row of `fields` fields. */
  row(fields: number): void {
    this.room(2);
    this.length = this.buffer.writeInt16BE(fields, this.length);
  }

  /** Fields already in binary form (see binaryTextField). */
  raw(bytes: Uint8Array): void {
    this.room(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** A text field. */
  text(value: string): void {
    // A UTF-16 code unit takes at most 3 bytes in UTF-8.
    this.room(4 + value.length * 3);
    const bytes = this.buffer.write(value, this.length + 4, "utf8");
    this.buffer.writeInt32BE(bytes, this.length);
    this.length += 4 + bytes;
  }

  /** The bytes written so far once they make a chunk (writing goes on in a new buffer), else undefined. */
  take(): Buffer | undefined {
    if (this.length < this.chunkSize) return undefined;
    const chunk = this.buffer.subarray(0, this.length);
    this.buffer = Buffer.allocUnsafe(this.chunkSize);
    this.length = 0;
    return chunk;
  }

  /** The bytes written since the last chunk. */
  rest(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  private room(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const larger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(larger, 0, 0, this.length);
    this.buffer = larger;
  }
}
