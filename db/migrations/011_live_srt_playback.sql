-- SRT playback (the input's `srtPlayback`): like SRT ingest, one UDP port per input, kept for the
-- input's life. NULL: none given yet.
ALTER TABLE live_inputs ADD COLUMN srt_playback_port INTEGER;
CREATE UNIQUE INDEX live_inputs_srt_playback_port ON live_inputs (srt_playback_port) WHERE srt_playback_port IS NOT NULL;
