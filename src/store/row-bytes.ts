/**
 * A growable byte buffer that JSONEachRow rows are written into. One per table per pipeline,
 * reused from batch to batch: a batch's rows become one exact-size Buffer (`take`), outside the
 * JavaScript heap, instead of thousands of strings the garbage collector would copy while they
 * wait for their insert.
 */
export class RowBytes {
  private buffer: Buffer;
  /** Bytes written since the last `take`. */
  length = 0;

  constructor(initialBytes = 256 * 1024) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  /** Makes room for `bytes` more bytes. */
  reserve(bytes: number): void {
    const needed = this.length + bytes;
    if (needed <= this.buffer.length) return;
    const next = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }

  byte(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  /** Copies all of `bytes` (a constant fragment of a row). */
  append(bytes: Uint8Array): void {
    this.copy(bytes, 0, bytes.length);
  }

  /** Copies `source[start, end)`. */
  copy(source: Uint8Array, start: number, end: number): void {
    const count = end - start;
    this.reserve(count);
    const target = this.buffer;
    let at = this.length;
    // Most copies are a few bytes (a name, a number): a loop beats a native call and a view.
    if (count < 64) for (let i = start; i < end; i++) target[at++] = source[i] as number;
    else {
      target.set(source.subarray(start, end), at);
      at += count;
    }
    this.length = at;
  }

  /** Writes text known to be ASCII (numbers, names checked to be plain). */
  ascii(text: string): void {
    this.reserve(text.length);
    const target = this.buffer;
    let at = this.length;
    for (let i = 0; i < text.length; i++) target[at++] = text.charCodeAt(i);
    this.length = at;
  }

  /** Writes any text as UTF-8. */
  text(text: string): void {
    // A UTF-16 code unit never needs more than 3 bytes of UTF-8.
    this.reserve(text.length * 3);
    this.length += this.buffer.write(text, this.length, 'utf8');
  }

  /** The bytes written since the last `take`, copied out; the buffer keeps its memory for reuse. */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.length);
    this.buffer.copy(out, 0, 0, this.length);
    this.length = 0;
    return out;
  }

  /** Forgets what was written since the last `take`. */
  clear(): void {
    this.length = 0;
  }
}
