// Uploads the way an app does without the SDK (which has no basic-upload method): multipart POST.
import { openAsBlob } from 'node:fs';
import { basename } from 'node:path';
import type { TestServer } from './server.js';

export interface UploadResult {
  status: number;
  body: { success: boolean; result: Record<string, unknown> & { uid: string }; errors: { code: number; message: string }[] };
}

export async function basicUpload(server: TestServer, accountId: string, file: string, headers: Record<string, string> = {}): Promise<UploadResult> {
  const form = new FormData();
  form.append('file', await openAsBlob(file), basename(file));
  const res = await fetch(server.streamUrl(accountId), { method: 'POST', body: form, headers: { authorization: 'Bearer test-token', ...headers } });
  return { status: res.status, body: (await res.json()) as UploadResult['body'] };
}

/** Uploads and returns the new video's uid, failing loudly if the upload was refused. */
export async function uploadVideo(server: TestServer, accountId: string, file: string): Promise<string> {
  const { status, body } = await basicUpload(server, accountId, file);
  if (status !== 200) throw new Error(`upload failed: ${status} ${JSON.stringify(body)}`);
  return body.result.uid;
}
