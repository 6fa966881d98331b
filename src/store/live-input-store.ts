// Live inputs, their simulcast outputs, their status history and the Idempotency-Key records of
// their creation, over SQLite (tables of db/migrations/009_live_inputs.sql). No HTTP, no processes.
import { randomBytes } from 'node:crypto';
import type { Db } from './database.js';
import { newUid, nowTimestamp } from './clock.js';

export const RECORDING_MODES = ['off', 'automatic'] as const;
export type RecordingMode = (typeof RECORDING_MODES)[number];

/** The `status` enum of the schema and SDK 7.3 (null while idle). */
export const LIVE_STATUSES = [
  'connected', 'reconnected', 'reconnecting', 'client_disconnect', 'ttl_exceeded',
  'failed_to_connect', 'failed_to_reconnect', 'new_configuration_accepted',
] as const;
export type LiveStatus = (typeof LIVE_STATUSES)[number];

export interface RecordingSettings {
  mode: RecordingMode;
  /** Seconds the input may stay disconnected before the broadcast ends; 0: the platform default. */
  timeoutSeconds: number;
  requireSignedURLs: boolean;
  /** null: not set (Cloudflare's default), as opposed to an empty list. */
  allowedOrigins: string[] | null;
  hideLiveViewerCount: boolean;
}

/** What the API sets on an input (create and PUT). */
export interface LiveInputSettings {
  meta: Record<string, unknown>;
  defaultCreator: string | null;
  enabled: boolean;
  deleteRecordingAfterDays: number | null;
  preferLowLatency: boolean;
  recording: RecordingSettings;
}

export interface LiveInputRecord extends LiveInputSettings {
  uid: string;
  accountId: string;
  created: string;
  modified: string;
  /** The secret an encoder pushes with (rtmps.streamKey, srt.passphrase, the webRTC path). */
  streamKey: string;
  /** The secret of rtmpsPlayback and srtPlayback. */
  playbackKey: string;
  status: LiveStatus | null;
  /** The UDP port of the input's SRT listener, once one was given (src/live/srt-listeners.ts). */
  srtPort: number | null;
  /** The UDP port viewers play the input from over SRT (srtPlayback), once one was given. */
  srtPlaybackPort: number | null;
}

/** What an SRT port of an input is for: encoders push to it, or viewers play from it. */
export type SrtRole = 'ingest' | 'playback';

export interface LiveOutputRecord {
  uid: string;
  inputUid: string;
  accountId: string;
  url: string;
  streamKey: string;
  enabled: boolean;
  created: string;
}

export interface StatusChange {
  status: LiveStatus;
  videoUid: string | null;
  reason: string | null;
  at: string;
}

export interface LiveVideoRef {
  accountId: string;
  videoUid: string;
  inputUid: string;
}

export const DEFAULT_LIVE_INPUT: LiveInputSettings = {
  meta: {},
  defaultCreator: null,
  enabled: true,
  deleteRecordingAfterDays: null,
  preferLowLatency: false,
  recording: { mode: 'off', timeoutSeconds: 0, requireSignedURLs: false, allowedOrigins: null, hideLiveViewerCount: false },
};

/** How an Idempotency-Key creation went: a new input, the one made earlier, or a key whose input was deleted. */
export type CreateOutcome =
  | { kind: 'created'; input: LiveInputRecord }
  | { kind: 'existing'; input: LiveInputRecord }
  | { kind: 'deleted' };

export interface IdempotencyKey {
  key: string;
  /** How long the key is remembered after the creation. */
  ttlMs: number;
}

export interface LiveInputStore {
  create(accountId: string, settings: LiveInputSettings, idempotency?: IdempotencyKey): CreateOutcome;
  get(accountId: string, uid: string): LiveInputRecord | undefined;
  /** Delivery paths and ingest name an input without its account. */
  findByUid(uid: string): LiveInputRecord | undefined;
  findByStreamKey(streamKey: string): LiveInputRecord | undefined;
  findByPlaybackKey(playbackKey: string): LiveInputRecord | undefined;
  /** Newest first. */
  list(accountId: string): LiveInputRecord[];
  update(accountId: string, uid: string, patch: Partial<LiveInputSettings>): LiveInputRecord | undefined;
  /** Removes the input, its outputs and its history (its videos stay). */
  delete(accountId: string, uid: string): boolean;
  /** Sets `status` and appends the change to the history. */
  setStatus(uid: string, status: LiveStatus, videoUid?: string | null, reason?: string | null): void;
  statusHistory(uid: string): StatusChange[];
  /** Inputs whose last status says an encoder is connected (after a restart, none is). */
  connected(): LiveInputRecord[];
  /** Videos of every account still in live-inprogress (after a restart: broadcasts cut short). */
  liveVideos(): LiveVideoRef[];
  addOutput(input: LiveInputRecord, url: string, streamKey: string, enabled: boolean): LiveOutputRecord;
  outputs(inputUid: string): LiveOutputRecord[];
  getOutput(inputUid: string, uid: string): LiveOutputRecord | undefined;
  setOutputEnabled(inputUid: string, uid: string, enabled: boolean): LiveOutputRecord | undefined;
  deleteOutput(inputUid: string, uid: string): boolean;
  /** Enabled inputs of every account (the SRT listeners to open at start). */
  enabledInputs(): LiveInputRecord[];
  /** SRT ports (ingest and playback) given to inputs so far. */
  srtPorts(): Set<number>;
  /** Gives the input its SRT port (ingest, or playback); false when the input is gone. */
  setSrtPort(uid: string, port: number, role: SrtRole): boolean;
}

/** A stream key in Cloudflare's shape: 32 hex characters, "k", 32 hex characters. */
function newStreamKey(): string {
  return `${randomBytes(16).toString('hex')}k${randomBytes(16).toString('hex')}`;
}

interface InputRow {
  uid: string;
  account_id: string;
  created: string;
  modified: string;
  meta: string;
  default_creator: string | null;
  enabled: number;
  delete_recording_after_days: number | null;
  prefer_low_latency: number;
  recording_mode: RecordingMode;
  recording_timeout_seconds: number;
  recording_require_signed_urls: number;
  recording_allowed_origins: string | null;
  recording_hide_live_viewer_count: number;
  stream_key: string;
  playback_key: string;
  status: LiveStatus | null;
  srt_port: number | null;
  srt_playback_port: number | null;
}

const inputFromRow = (r: InputRow): LiveInputRecord => ({
  uid: r.uid,
  accountId: r.account_id,
  created: r.created,
  modified: r.modified,
  meta: JSON.parse(r.meta) as Record<string, unknown>,
  defaultCreator: r.default_creator,
  enabled: r.enabled === 1,
  deleteRecordingAfterDays: r.delete_recording_after_days,
  preferLowLatency: r.prefer_low_latency === 1,
  recording: {
    mode: r.recording_mode,
    timeoutSeconds: r.recording_timeout_seconds,
    requireSignedURLs: r.recording_require_signed_urls === 1,
    allowedOrigins: r.recording_allowed_origins === null ? null : (JSON.parse(r.recording_allowed_origins) as string[]),
    hideLiveViewerCount: r.recording_hide_live_viewer_count === 1,
  },
  streamKey: r.stream_key,
  playbackKey: r.playback_key,
  status: r.status,
  srtPort: r.srt_port,
  srtPlaybackPort: r.srt_playback_port,
});

/** The settings as named SQL parameters. */
const settingsParams = (s: LiveInputSettings) => ({
  meta: JSON.stringify(s.meta),
  default_creator: s.defaultCreator,
  enabled: s.enabled ? 1 : 0,
  delete_recording_after_days: s.deleteRecordingAfterDays,
  prefer_low_latency: s.preferLowLatency ? 1 : 0,
  recording_mode: s.recording.mode,
  recording_timeout_seconds: s.recording.timeoutSeconds,
  recording_require_signed_urls: s.recording.requireSignedURLs ? 1 : 0,
  recording_allowed_origins: s.recording.allowedOrigins === null ? null : JSON.stringify(s.recording.allowedOrigins),
  recording_hide_live_viewer_count: s.recording.hideLiveViewerCount ? 1 : 0,
});
const SETTINGS_COLUMNS = Object.keys(settingsParams(DEFAULT_LIVE_INPUT));

interface OutputRow {
  uid: string;
  input_uid: string;
  account_id: string;
  url: string;
  stream_key: string;
  enabled: number;
  created: string;
}

const outputFromRow = (r: OutputRow): LiveOutputRecord => ({
  uid: r.uid,
  inputUid: r.input_uid,
  accountId: r.account_id,
  url: r.url,
  streamKey: r.stream_key,
  enabled: r.enabled === 1,
  created: r.created,
});

function prepareStatements(db: Db) {
  return {
    insert: db.prepare(
      `INSERT INTO live_inputs (uid, account_id, created, modified, stream_key, playback_key, ${SETTINGS_COLUMNS.join(', ')})
       VALUES (@uid, @account_id, @created, @created, @stream_key, @playback_key, ${SETTINGS_COLUMNS.map((c) => `@${c}`).join(', ')})`,
    ),
    update: db.prepare(
      `UPDATE live_inputs SET modified = @modified, ${SETTINGS_COLUMNS.map((c) => `${c} = @${c}`).join(', ')}
        WHERE account_id = @account_id AND uid = @uid`,
    ),
    byUid: db.prepare('SELECT * FROM live_inputs WHERE uid = ?'),
    byStreamKey: db.prepare('SELECT * FROM live_inputs WHERE stream_key = ?'),
    byPlaybackKey: db.prepare('SELECT * FROM live_inputs WHERE playback_key = ?'),
    list: db.prepare('SELECT * FROM live_inputs WHERE account_id = ? ORDER BY created DESC'),
    connected: db.prepare("SELECT * FROM live_inputs WHERE status IN ('connected', 'reconnected')"),
    enabled: db.prepare('SELECT * FROM live_inputs WHERE enabled = 1 ORDER BY created'),
    srtPorts: db.prepare(
      'SELECT srt_port FROM live_inputs WHERE srt_port IS NOT NULL UNION SELECT srt_playback_port FROM live_inputs WHERE srt_playback_port IS NOT NULL',
    ).pluck(),
    setSrtPort: db.prepare('UPDATE live_inputs SET srt_port = ? WHERE uid = ?'),
    setSrtPlaybackPort: db.prepare('UPDATE live_inputs SET srt_playback_port = ? WHERE uid = ?'),
    // Read-only look at the videos table (its writes all go through the VideoStore).
    liveVideos: db.prepare(
      "SELECT account_id AS accountId, uid AS videoUid, live_input AS inputUid FROM videos WHERE state = 'live-inprogress' AND live_input IS NOT NULL",
    ),
    delete: db.prepare('DELETE FROM live_inputs WHERE account_id = ? AND uid = ?'),
    setStatus: db.prepare('UPDATE live_inputs SET status = ? WHERE uid = ?'),
    addHistory: db.prepare('INSERT INTO live_input_status_history (input_uid, status, video_uid, reason, at) VALUES (?, ?, ?, ?, ?)'),
    history: db.prepare('SELECT status, video_uid AS videoUid, reason, at FROM live_input_status_history WHERE input_uid = ? ORDER BY id'),
    idempotency: db.prepare('SELECT input_uid AS inputUid FROM live_input_idempotency WHERE account_id = ? AND key = ? AND expires_at > ?'),
    remember: db.prepare(
      `INSERT INTO live_input_idempotency (account_id, key, input_uid, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (account_id, key) DO UPDATE SET input_uid = excluded.input_uid, expires_at = excluded.expires_at`,
    ),
    insertOutput: db.prepare(
      'INSERT INTO live_outputs (uid, input_uid, account_id, url, stream_key, enabled, created) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    outputs: db.prepare('SELECT * FROM live_outputs WHERE input_uid = ? ORDER BY created'),
    output: db.prepare('SELECT * FROM live_outputs WHERE input_uid = ? AND uid = ?'),
    setOutputEnabled: db.prepare('UPDATE live_outputs SET enabled = ? WHERE input_uid = ? AND uid = ?'),
    deleteOutput: db.prepare('DELETE FROM live_outputs WHERE input_uid = ? AND uid = ?'),
  };
}

export class SqliteLiveInputStore implements LiveInputStore {
  private readonly stmts: ReturnType<typeof prepareStatements>;
  private readonly createTx: (accountId: string, settings: LiveInputSettings, idempotency?: IdempotencyKey) => CreateOutcome;

  constructor(db: Db) {
    this.stmts = prepareStatements(db);
    // The key is looked up and recorded in the transaction that creates the input, so two
    // requests racing with one key cannot both create.
    this.createTx = db.transaction((accountId: string, settings: LiveInputSettings, idempotency?: IdempotencyKey): CreateOutcome => {
      if (idempotency) {
        const earlier = this.stmts.idempotency.get(accountId, idempotency.key, Date.now()) as { inputUid: string } | undefined;
        if (earlier) {
          const input = this.get(accountId, earlier.inputUid);
          return input ? { kind: 'existing', input } : { kind: 'deleted' };
        }
      }
      const uid = newUid();
      const created = nowTimestamp();
      this.stmts.insert.run({ uid, account_id: accountId, created, stream_key: newStreamKey(), playback_key: newStreamKey(), ...settingsParams(settings) });
      if (idempotency) this.stmts.remember.run(accountId, idempotency.key, uid, Date.now() + idempotency.ttlMs);
      return { kind: 'created', input: this.findByUid(uid)! };
    });
  }

  create(accountId: string, settings: LiveInputSettings, idempotency?: IdempotencyKey): CreateOutcome {
    return this.createTx(accountId, settings, idempotency);
  }

  get(accountId: string, uid: string): LiveInputRecord | undefined {
    const input = this.findByUid(uid);
    return input?.accountId === accountId ? input : undefined;
  }

  findByUid(uid: string): LiveInputRecord | undefined {
    const row = this.stmts.byUid.get(uid) as InputRow | undefined;
    return row && inputFromRow(row);
  }

  findByStreamKey(streamKey: string): LiveInputRecord | undefined {
    const row = this.stmts.byStreamKey.get(streamKey) as InputRow | undefined;
    return row && inputFromRow(row);
  }

  findByPlaybackKey(playbackKey: string): LiveInputRecord | undefined {
    const row = this.stmts.byPlaybackKey.get(playbackKey) as InputRow | undefined;
    return row && inputFromRow(row);
  }

  list(accountId: string): LiveInputRecord[] {
    return (this.stmts.list.all(accountId) as InputRow[]).map(inputFromRow);
  }

  update(accountId: string, uid: string, patch: Partial<LiveInputSettings>): LiveInputRecord | undefined {
    const current = this.get(accountId, uid);
    if (!current) return undefined;
    const next: LiveInputSettings = {
      meta: patch.meta ?? current.meta,
      defaultCreator: patch.defaultCreator !== undefined ? patch.defaultCreator : current.defaultCreator,
      enabled: patch.enabled ?? current.enabled,
      deleteRecordingAfterDays: patch.deleteRecordingAfterDays !== undefined ? patch.deleteRecordingAfterDays : current.deleteRecordingAfterDays,
      preferLowLatency: patch.preferLowLatency ?? current.preferLowLatency,
      recording: patch.recording ?? current.recording,
    };
    this.stmts.update.run({ uid, account_id: accountId, modified: nowTimestamp(), ...settingsParams(next) });
    return this.get(accountId, uid);
  }

  delete(accountId: string, uid: string): boolean {
    return this.stmts.delete.run(accountId, uid).changes > 0;
  }

  setStatus(uid: string, status: LiveStatus, videoUid: string | null = null, reason: string | null = null): void {
    this.stmts.setStatus.run(status, uid);
    this.stmts.addHistory.run(uid, status, videoUid, reason, nowTimestamp());
  }

  statusHistory(uid: string): StatusChange[] {
    return this.stmts.history.all(uid) as StatusChange[];
  }

  connected(): LiveInputRecord[] {
    return (this.stmts.connected.all() as InputRow[]).map(inputFromRow);
  }

  liveVideos(): LiveVideoRef[] {
    return this.stmts.liveVideos.all() as LiveVideoRef[];
  }

  addOutput(input: LiveInputRecord, url: string, streamKey: string, enabled: boolean): LiveOutputRecord {
    const uid = newUid();
    this.stmts.insertOutput.run(uid, input.uid, input.accountId, url, streamKey, enabled ? 1 : 0, nowTimestamp());
    return this.getOutput(input.uid, uid)!;
  }

  outputs(inputUid: string): LiveOutputRecord[] {
    return (this.stmts.outputs.all(inputUid) as OutputRow[]).map(outputFromRow);
  }

  getOutput(inputUid: string, uid: string): LiveOutputRecord | undefined {
    const row = this.stmts.output.get(inputUid, uid) as OutputRow | undefined;
    return row && outputFromRow(row);
  }

  setOutputEnabled(inputUid: string, uid: string, enabled: boolean): LiveOutputRecord | undefined {
    this.stmts.setOutputEnabled.run(enabled ? 1 : 0, inputUid, uid);
    return this.getOutput(inputUid, uid);
  }

  deleteOutput(inputUid: string, uid: string): boolean {
    return this.stmts.deleteOutput.run(inputUid, uid).changes > 0;
  }

  enabledInputs(): LiveInputRecord[] {
    return (this.stmts.enabled.all() as InputRow[]).map(inputFromRow);
  }

  srtPorts(): Set<number> {
    return new Set(this.stmts.srtPorts.all() as number[]);
  }

  setSrtPort(uid: string, port: number, role: SrtRole): boolean {
    return (role === 'ingest' ? this.stmts.setSrtPort : this.stmts.setSrtPlaybackPort).run(port, uid).changes > 0;
  }
}
