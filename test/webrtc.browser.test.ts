// WebRTC live in Chromium: a page publishes its (fake) camera and microphone over WHIP to the
// input's webRTC.url, another page plays it over WHEP from webRTCPlayback.url, as Cloudflare's
// WebRTC beta does: no HLS, no recording, the media forwarded as it came.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { hasBrowser, launchBrowser } from './helpers/browser.js';
import { freshAccount, startTestServer, type TestServer } from './helpers/server.js';

/** Runs in the page: a peer connection that sends (WHIP) or receives (WHEP), offered to `url`. */
async function negotiate({ url, role, codec }: { url: string; role: 'publish' | 'play'; codec?: string }) {
  const pc = new RTCPeerConnection();
  if (role === 'publish') {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 }, audio: true });
    for (const track of stream.getTracks()) {
      const transceiver = pc.addTransceiver(track, { direction: 'sendonly' });
      // `codec`: only that video codec is offered (OBS publishes H.264).
      if (codec && track.kind === 'video') {
        transceiver.setCodecPreferences(RTCRtpSender.getCapabilities('video')!.codecs.filter((c) => c.mimeType === `video/${codec}`));
      }
    }
  } else {
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const video = document.createElement('video');
    video.muted = true;
    video.autoplay = true;
    document.body.append(video);
    const tracks = new MediaStream();
    pc.ontrack = (event) => {
      tracks.addTrack(event.track);
      video.srcObject = tracks;
    };
    (window as unknown as { viewer: HTMLVideoElement }).viewer = video;
  }
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise<void>((resolve) => {
    if (pc.iceGatheringState === 'complete') resolve();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
    setTimeout(resolve, 2000);
  });
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription!.sdp });
  const body = await res.text();
  if (res.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp: body });
  (window as unknown as { pc: RTCPeerConnection }).pc = pc;
  return { status: res.status, location: res.headers.get('location'), version: res.headers.get('protocol-version'), type: res.headers.get('content-type'), body };
}

describe.skipIf(!hasBrowser)('WebRTC (WHIP/WHEP) in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  beforeAll(async () => {
    server = await startTestServer({ encoding: 'fast' });
    browser = await launchBrowser(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('a page publishes over WHIP and another plays it over WHEP; DELETE ends both', async () => {
    const account = freshAccount();
    const cf = server.sdk();
    const input = await cf.stream.liveInputs.create({ account_id: account, recording: { mode: 'automatic' } });
    const open = async (): Promise<Page> => {
      const page = await browser.newPage();
      // A page of this origin: 127.0.0.1 is a secure context, so getUserMedia works.
      await page.goto(`${server.url}/healthz`);
      return page;
    };
    const publisher = await open();
    const viewerPage = await open();
    try {
      // Nothing published yet: nothing to play.
      const early = await viewerPage.evaluate(negotiate, { url: input.webRTCPlayback!.url!, role: 'play' as const });
      expect(early.status).toBe(404);

      const published = await publisher.evaluate(negotiate, { url: input.webRTC!.url!, role: 'publish' as const });
      expect(published, published.body).toMatchObject({ status: 201, version: 'draft-ietf-wish-whip-06', type: 'application/sdp' });
      expect(published.location).toMatch(new RegExp(`^/${input.rtmps!.streamKey}/webRTC/publish/[0-9a-f]{32}$`));
      await publisher.waitForFunction(() => (window as unknown as { pc: RTCPeerConnection }).pc.connectionState === 'connected', undefined, { timeout: 15_000 });
      // A second encoder is refused while the first publishes.
      const second = await (await open()).evaluate(negotiate, { url: input.webRTC!.url!, role: 'publish' as const });
      expect(second.status).toBe(409);

      const played = await viewerPage.evaluate(negotiate, { url: input.webRTCPlayback!.url!, role: 'play' as const });
      expect(played).toMatchObject({ status: 201, version: 'draft-murillo-whep-01' });
      await viewerPage.waitForFunction(() => {
        const v = (window as unknown as { viewer: HTMLVideoElement }).viewer;
        return v.videoWidth > 0 && v.currentTime > 1;
      }, undefined, { timeout: 30_000 });
      const size = await viewerPage.evaluate(() => {
        const v = (window as unknown as { viewer: HTMLVideoElement }).viewer;
        return `${v.videoWidth}x${v.videoHeight}`;
      });
      expect(size).toBe('320x240');
      expect(await (await fetch(`${server.url}/${input.uid}/lifecycle`)).json()).toEqual({ isInput: true, videoUID: null, live: true });
      expect(await (await fetch(`${server.url}/${input.uid}/views`)).json()).toEqual({ liveViewers: 1 });
      // As on Cloudflare, WHIP is neither recorded nor served as HLS.
      expect((await fetch(`${server.url}/${input.uid}/manifest/video.m3u8`)).status).toBe(204);
      expect(((await (await fetch(server.streamUrl(account, `/live_inputs/${input.uid}/videos`))).json()) as { result: unknown[] }).result).toEqual([]);

      // The encoder leaves: DELETE of its resource; the viewer's session ends with it.
      expect((await fetch(`${server.url}${published.location}`, { method: 'DELETE' })).status).toBe(200);
      expect((await fetch(`${server.url}${published.location}`, { method: 'DELETE' })).status).toBe(404);
      expect((await fetch(`${server.url}${played.location}`, { method: 'DELETE' })).status).toBe(404);
      const offer = 'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n';
      const gone = await fetch(input.webRTCPlayback!.url!, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: offer });
      expect(gone.status).toBe(404);
    } finally {
      await publisher.close();
      await viewerPage.close();
    }
  });

  it('forwards an H.264 publisher (as OBS sends) to a viewer in the same codec', async () => {
    const account = freshAccount();
    const input = await server.sdk().stream.liveInputs.create({ account_id: account });
    const publisher = await browser.newPage();
    const viewerPage = await browser.newPage();
    try {
      await publisher.goto(`${server.url}/healthz`);
      await viewerPage.goto(`${server.url}/healthz`);
      const canH264 = await publisher.evaluate(() => RTCRtpSender.getCapabilities('video')!.codecs.some((c) => c.mimeType === 'video/H264'));
      console.log(`webrtc: this Chromium ${canH264 ? 'sends' : 'cannot send'} H.264`);
      if (!canH264) return; // a Chromium built without H.264: the VP8 case above covers the path
      const published = await publisher.evaluate(negotiate, { url: input.webRTC!.url!, role: 'publish' as const, codec: 'H264' });
      expect(published.status, published.body).toBe(201);
      expect(published.body).toMatch(/a=rtpmap:\d+ H264\/90000/);
      const played = await viewerPage.evaluate(negotiate, { url: input.webRTCPlayback!.url!, role: 'play' as const });
      expect(played.status).toBe(201);
      expect(played.body).toMatch(/a=rtpmap:\d+ H264\/90000/);
      expect(played.body).not.toMatch(/VP8/);
      await viewerPage.waitForFunction(() => {
        const v = (window as unknown as { viewer: HTMLVideoElement }).viewer;
        return v.videoWidth > 0 && v.currentTime > 1;
      }, undefined, { timeout: 30_000 });
    } finally {
      await publisher.close();
      await viewerPage.close();
    }
  });
});
