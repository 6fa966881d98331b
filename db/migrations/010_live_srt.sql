-- SRT ingest: each live input gets its own UDP port (Cloudflare routes every input through one
-- port by streamid; srt-live-transmit, which Ministream relays SRT with, takes one stream per
-- port). The port is kept for the input's life so that an encoder set up once keeps working
-- across restarts. NULL: none given yet (SRT off, or an input made before this migration).
ALTER TABLE live_inputs ADD COLUMN srt_port INTEGER;
CREATE UNIQUE INDEX live_inputs_srt_port ON live_inputs (srt_port) WHERE srt_port IS NOT NULL;
