// A file origin on loopback for "copy from URL" tests: serves generated clips by path, 404 otherwise.
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { media } from './server.js';

export interface MediaOrigin {
  /** http://127.0.0.1:PORT */
  url: string;
  close(): Promise<void>;
}

/** `files` maps a request path ('/tone.m4a') to the name of a clip made at setup ('tone.m4a'). */
export async function startMediaOrigin(files: Record<string, string>): Promise<MediaOrigin> {
  const origin = createServer((req, res) => {
    const file = files[req.url ?? ''];
    if (!file) return res.writeHead(404).end('no such file');
    res.writeHead(200, { 'content-length': statSync(media(file)).size });
    createReadStream(media(file)).pipe(res);
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(origin.address() as { port: number }).port}`,
    close: () => new Promise((r) => origin.close(() => r())),
  };
}
