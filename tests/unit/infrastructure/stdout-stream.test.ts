import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { chunks, createStdoutStream } from '../../../src/infrastructure/logging/stdout-stream.js';

const turn = () => new Promise((resolve) => setImmediate(resolve));
const line = (n: number, size = 100) => `${JSON.stringify({ n, pad: 'x'.repeat(size) })}\n`;

describe('stdout for bunyan: one write per event-loop turn, never blocking', () => {
  it('groups whole lines into writes of at most 4096 bytes (atomic on a pipe), a longer line alone', () => {
    const lines = Array.from({ length: 100 }, (_, n) => line(n));
    const written = chunks(lines);
    expect(written.join('')).to.equal(lines.join(''));
    for (const chunk of written) {
      expect(Buffer.byteLength(chunk)).to.be.at.most(4096);
      expect(chunk.endsWith('\n')).to.equal(true);
    }
    expect(chunks([line(1), line(2, 9000), line(3)]).map((chunk) => Buffer.byteLength(chunk) > 4096)).to.deep.equal([
      false,
      true,
      false,
    ]);
  });

  it('writes a turn of lines to a file after the turn, in order, and what is left at flushSync', async () => {
    const directory = mkdtempSync(path.join(tmpdir(), 'jwt-login-stdout-'));
    const file = path.join(directory, 'out.log');
    const fd = openSync(file, 'w');
    try {
      const stream = createStdoutStream(fd);
      for (let n = 0; n < 50; n += 1) stream.write(line(n));
      expect(readFileSync(file, 'utf8'), 'nothing during the turn').to.equal('');
      await turn();
      expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).to.have.length(50);
      stream.write(line(50));
      stream.flushSync();
      const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
      expect(lines.map((text) => (JSON.parse(text) as { n: number }).n)).to.deep.equal([...Array(51).keys()]);
    } finally {
      closeSync(fd);
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('delivers every line through a pipe whose reader reads', async () => {
    const reader = spawn('cat', [], { stdio: ['pipe', 'pipe', 'ignore'] });
    let received = '';
    reader.stdout.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
    const fd = (reader.stdin as unknown as { _handle: { fd: number } })._handle.fd;
    const stream = createStdoutStream(fd);
    for (let n = 0; n < 2000; n += 1) {
      stream.write(line(n));
      if (n % 100 === 0) await turn();
    }
    const deadline = Date.now() + 10_000;
    while (received.split('\n').filter(Boolean).length < 2000 && Date.now() < deadline) await turn();
    reader.kill();
    const numbers = received
      .split('\n')
      .filter(Boolean)
      .map((text) => (JSON.parse(text) as { n: number }).n);
    expect(numbers).to.deep.equal([...Array(2000).keys()]);
    expect(stream.dropped()).to.equal(0);
  });

  it('neither blocks nor grows without bound when the pipe reader stops reading: it drops, and counts', async () => {
    const reader = spawn('sleep', ['30'], { stdio: ['pipe', 'ignore', 'ignore'] });
    try {
      const fd = (reader.stdin as unknown as { _handle: { fd: number } })._handle.fd;
      const stream = createStdoutStream(fd);
      const big = line(0, 4000);
      const before = process.memoryUsage().rss;
      // A blocking write to this pipe would never return, and the test would time out here.
      for (let n = 0; n < 4000; n += 1) {
        stream.write(big);
        if (n % 50 === 0) await turn();
      }
      expect(stream.dropped(), 'about 16 MB written, 8 MB kept').to.be.greaterThan(1000);
      expect(process.memoryUsage().rss - before).to.be.below(64 * 1024 * 1024);
    } finally {
      reader.kill();
    }
  });
});
