import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { alignmentPad, BodyBufferPool, OWN_BUFFER_ABOVE, type ReadBodyOptions, readBody } from "../../../services/serving/body-reader";

function read(chunks: Buffer[], options: ReadBodyOptions, fail?: Error): Promise<Buffer> {
  const stream = new PassThrough();
  const body = new Promise<Buffer>((resolve, reject) => readBody(stream, options, (e, b) => (e ? reject(e) : resolve(b as Buffer))));
  for (const chunk of chunks) stream.write(chunk);
  if (fail) stream.destroy(fail);
  else stream.end();
  return body;
}

describe("the request body reader", () => {
  it("pads so that the given offset lands on an 8-byte boundary", () => {
    expect([0, 1, 7, 8, 9, 15, 16].map(alignmentPad)).toEqual([0, 7, 1, 0, 7, 1, 0]);
  });

  for (const headerLength of [0, 1, 5, 8, 13]) {
    it(`puts the binary tail after a ${headerLength}-byte header on an 8-byte boundary, bytes unchanged`, async () => {
      const bytes = Buffer.from(Array.from({ length: headerLength + OWN_BUFFER_ABOVE }, (_, i) => i % 251));
      const chunks = [bytes.subarray(0, 3), bytes.subarray(3, 20), bytes.subarray(20)];
      const body = await read(chunks, { contentLength: bytes.length, limit: 1 << 20, alignAt: headerLength });
      expect(Buffer.compare(body, bytes)).toBe(0);
      expect((body.byteOffset + headerLength) % 8).toBe(0);
    });
  }

  it("reads a chunked body (no Content-Length) the same way", async () => {
    const bytes = Buffer.alloc(OWN_BUFFER_ABOVE + 16, "0123456789abcdef");
    const body = await read([bytes.subarray(0, 5), bytes.subarray(5)], { contentLength: undefined, limit: 1 << 20, alignAt: 3 });
    expect(Buffer.compare(body, bytes)).toBe(0);
    expect((body.byteOffset + 3) % 8).toBe(0);
  });

  it("reads a small body into node's pooled memory, bytes unchanged", async () => {
    const body = await read([Buffer.from('{"inputs":'), Buffer.from("[]}")], { contentLength: 13, limit: 1000, alignAt: 0 });
    expect(body.toString()).toBe('{"inputs":[]}');
  });

  it("refuses a body over the limit with a 413, by its Content-Length or by the bytes that arrive", async () => {
    await expect(read([], { contentLength: 11, limit: 10, alignAt: 0 })).rejects.toMatchObject({
      statusCode: 413,
      message: expect.stringMatching(/larger than the 10-byte limit/),
    });
    await expect(read([Buffer.alloc(6), Buffer.alloc(6)], { contentLength: undefined, limit: 10, alignAt: 0 })).rejects.toMatchObject({
      statusCode: 413,
    });
  });

  it("refuses a body that ends short of its Content-Length, or breaks off, with a 400", async () => {
    await expect(read([Buffer.alloc(4)], { contentLength: 8, limit: 100, alignAt: 0 })).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringMatching(/has 4 bytes, but its Content-Length says 8/),
    });
    await expect(read([Buffer.alloc(4)], { contentLength: 8, limit: 100, alignAt: 0 }, new Error("aborted"))).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringMatching(/could not be read: aborted/),
    });
  });

  it("reads a large body into a pooled buffer, aligned, and hands that buffer out again only once it is released", async () => {
    const pool = new BodyBufferPool();
    const bytes = Buffer.alloc(OWN_BUFFER_ABOVE * 2, 7);
    const first = await read([bytes.subarray(0, 10), bytes.subarray(10)], {
      contentLength: bytes.length,
      limit: 1 << 22,
      alignAt: 5,
      pool,
    });
    expect(Buffer.compare(first, bytes)).toBe(0);
    expect((first.byteOffset + 5) % 8).toBe(0);
    // Still in use: the next body of the same size gets other memory.
    const second = await read([bytes], { contentLength: bytes.length, limit: 1 << 22, alignAt: 5, pool });
    expect(second.buffer).not.toBe(first.buffer);
    pool.release(first);
    pool.release(first);
    const third = await read([Buffer.alloc(bytes.length, 9)], { contentLength: bytes.length, limit: 1 << 22, alignAt: 5, pool });
    expect(third.buffer).toBe(first.buffer);
    expect(third.every((b) => b === 9)).toBe(true);
    // Released twice, but handed out once: the next body does not share it.
    const fourth = await read([bytes], { contentLength: bytes.length, limit: 1 << 22, alignAt: 5, pool });
    expect(fourth.buffer).not.toBe(first.buffer);
  });

  it("keeps at most its byte bound of released buffers", async () => {
    const pool = new BodyBufferPool(OWN_BUFFER_ABOVE);
    const a = pool.acquire(OWN_BUFFER_ABOVE, 0);
    const b = pool.acquire(OWN_BUFFER_ABOVE, 0);
    pool.release(a);
    pool.release(b);
    expect(pool.acquire(OWN_BUFFER_ABOVE, 0).buffer).toBe(a.buffer);
    expect(pool.acquire(OWN_BUFFER_ABOVE, 0).buffer).not.toBe(b.buffer);
  });
});
