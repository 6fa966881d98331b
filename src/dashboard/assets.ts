// The dashboard's stylesheet and its one script, served from /_ministream/ui-assets. Kept as
// strings in a module so that they ship inside dist/ with the compiled code (no build step, no CDN).

export const DASHBOARD_CSS = `
:root{--bg:#f5f6f8;--card:#fff;--ink:#1b2230;--muted:#667085;--line:#e4e7ec;--accent:#f38020;--link:#1f5fd6;--ok:#067647;--err:#b42318;--info:#1d4ed8}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",sans-serif;color:var(--ink);background:var(--bg)}
a{color:var(--link);text-decoration:none}a:hover{text-decoration:underline}
header.top{background:#101828;color:#f2f4f7;display:flex;align-items:center;gap:28px;padding:0 24px;height:52px;position:sticky;top:0;z-index:5}
.brand{font-size:17px;font-weight:700;color:#fff;letter-spacing:.2px}.brand b{color:var(--accent)}.brand:hover{text-decoration:none}
header nav{display:flex;gap:18px}header nav a{color:#d0d5dd}header nav a:hover{color:#fff}
.refresh{margin-left:auto;font-size:12px;color:#98a2b3;display:flex;align-items:center;gap:6px}
.refresh::before{content:"";width:8px;height:8px;border-radius:50%;background:#475467}
body.busy .refresh::before{background:#32d583;box-shadow:0 0 0 3px rgba(50,213,131,.25)}
main{max-width:1280px;margin:0 auto;padding:18px 24px 56px}
.crumbs{color:var(--muted);font-size:13px;margin-bottom:6px}.crumbs .sep{margin:0 6px;color:#98a2b3}
h1{font-size:22px;margin:0 0 2px;word-break:break-all;display:flex;align-items:center;gap:10px;flex-wrap:wrap}
.sub{color:var(--muted);margin:0 0 12px}
.stats{display:flex;gap:12px;flex-wrap:wrap;margin:14px 0}
.stat{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:10px 16px;min-width:120px;color:var(--muted)}
.stat b{display:block;font-size:22px;color:var(--ink);font-variant-numeric:tabular-nums}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;margin:16px 0;overflow:hidden;box-shadow:0 1px 2px rgba(16,24,40,.04)}
.card>h2{font-size:15px;margin:0;padding:12px 16px;border-bottom:1px solid var(--line);display:flex;gap:8px;align-items:center}
.count{background:#f2f4f7;color:var(--muted);border-radius:10px;padding:0 8px;font-size:12px;font-weight:600}
.scroll{overflow-x:auto}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;padding:9px 16px;border-bottom:1px solid var(--line);vertical-align:middle}
th{font-size:11px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);font-weight:600;background:#fafbfc;white-space:nowrap}
tbody tr:last-child td{border-bottom:0}
tbody tr:hover{background:#fcfcfd}
td:has(>.num:only-child){text-align:right}
.num{font-variant-numeric:tabular-nums;white-space:nowrap}
.strong{font-weight:600;display:block;word-break:break-all}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;color:var(--muted);word-break:break-all}
.muted{color:var(--muted)}.small{font-size:12px;margin-top:6px}
.note{margin:0;padding:8px 16px;color:var(--muted);font-size:13px;border-bottom:1px solid var(--line)}
.empty{display:block;color:var(--muted);text-align:center;padding:12px}
.thumb{display:block;width:160px;height:90px;border-radius:6px;overflow:hidden;background:#101828}
.thumb img{width:160px;height:90px;object-fit:cover;display:block}
.ph{display:flex;width:100%;height:100%;align-items:center;justify-content:center;color:#98a2b3;font-size:12px}
.badge{display:inline-block;border-radius:999px;padding:1px 9px;font-size:12px;font-weight:600;background:#f2f4f7;color:#475467;white-space:nowrap}
.s-ready,.s-delivered,.s-connected{background:#dcfae6;color:#067647}
.s-error,.s-failed{background:#fee4e2;color:#b42318}
.s-inprogress,.s-downloading,.s-info{background:#dbeafe;color:#1d4ed8}
.s-queued,.s-pending,.s-pendingupload{background:#fef0c7;color:#93370d}
.s-live-inprogress{background:#ede9fe;color:#6d28d9}
.bar{height:6px;background:#eaecf0;border-radius:3px;overflow:hidden;margin-top:6px;min-width:120px;position:relative}
.bar>span{display:block;height:100%;background:var(--info);transition:width .25s}
.bar.indeterminate>span{width:35%;animation:slide 1.1s infinite linear}
@keyframes slide{from{transform:translateX(-100%)}to{transform:translateX(300%)}}
.err-text{color:var(--err);font-size:12px;margin-top:4px}
.drop{margin:16px;border:2px dashed #d0d5dd;border-radius:12px;padding:26px;text-align:center;background:#fcfcfd;outline:none;transition:background .15s,border-color .15s}
.drop:focus-visible,.drop.over{border-color:var(--accent);background:#fff6ed}
.button{display:inline-block;background:#101828;color:#fff;border:0;border-radius:7px;padding:6px 14px;font:inherit;font-weight:600;cursor:pointer}
.button:hover{background:#344054;text-decoration:none}
.uploads{list-style:none;margin:0;padding:0 16px}
.upload{border:1px solid var(--line);border-radius:10px;padding:12px 14px;margin-bottom:14px}
.upload-head{display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}
.upload-name{font-weight:600;word-break:break-all}
.upload-status{margin-top:6px;color:var(--muted);font-variant-numeric:tabular-nums}
.upload[data-phase=ready] .bar>span{background:#12b76a}
.upload[data-phase=error] .bar>span{background:#f04438}
.upload[data-phase=error] .upload-status{color:var(--err)}
.upload .player{margin-top:10px;max-width:560px}
.player{position:relative;aspect-ratio:16/9;background:#000}
.card>.player{border-radius:0}
.upload .player{border-radius:8px;overflow:hidden}
.player iframe{position:absolute;inset:0;width:100%;height:100%;border:0}
.grid{display:grid;grid-template-columns:minmax(0,1.6fr) minmax(300px,1fr);gap:16px;align-items:start}
.grid>div>.card{margin-top:0}
.status-box{padding:16px}.status-box p{margin:10px 0 0;color:var(--muted)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:6px 16px;margin:0;padding:12px 16px}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;word-break:break-word}
dl.ingest{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:0}dl.ingest dt{font-weight:600}dl.ingest dd{margin:0}
pre.json{margin:0;padding:16px;max-height:520px;overflow:auto;font:12px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#0c111d;color:#e4e7ec}
form.open{display:flex;gap:10px;align-items:center;padding:12px 16px;border-bottom:1px solid var(--line);flex-wrap:wrap}
form.open label{color:var(--muted)}
form.open input{border:1px solid #d0d5dd;border-radius:7px;padding:6px 10px;font:inherit;min-width:280px}
@media (max-width:960px){.grid{grid-template-columns:1fr}header.top{gap:14px}}
`;

/**
 * The page's script: refreshes the sections of the page from its JSON endpoint (every second
 * while something is in progress, every 5 s otherwise) and, on pages with a drop zone, uploads
 * dropped files with tus-js-client and follows each new video until it is ready.
 * `window.ministreamDashboard.uploads` records what each upload showed (for tests and curious users).
 */
export const DASHBOARD_JS = String.raw`(function () {
  'use strict';
  var body = document.body;
  var refreshUrl = body.getAttribute('data-refresh');
  var pageState = body.getAttribute('data-state');
  var uploads = [];
  var activeUploads = 0;
  var timer = null;
  window.ministreamDashboard = { uploads: uploads };

  function fromHtml(markup) {
    var t = document.createElement('template');
    t.innerHTML = markup.trim();
    return t.content.firstElementChild;
  }

  // Rows are keyed by data-key: unchanged rows stay (images and iframes are not reloaded),
  // changed ones are replaced, new ones inserted in order, gone ones removed.
  function applySection(container, rows) {
    var existing = {};
    Array.prototype.forEach.call(container.children, function (el) {
      var key = el.getAttribute('data-key');
      if (key !== null) existing[key] = el;
    });
    var previous = null;
    rows.forEach(function (row) {
      var el = existing[row.key];
      delete existing[row.key];
      var fresh = fromHtml(row.html);
      if (el && el.isEqualNode(fresh)) fresh = el;
      else if (el) el.replaceWith(fresh);
      var expected = previous ? previous.nextElementSibling : container.firstElementChild;
      if (expected !== fresh) container.insertBefore(fresh, expected);
      previous = fresh;
    });
    Object.keys(existing).forEach(function (key) { existing[key].remove(); });
  }

  function schedule(ms) {
    if (!refreshUrl) return;
    clearTimeout(timer);
    timer = setTimeout(poll, ms);
  }

  function poll() {
    if (document.hidden) return schedule(1000);
    fetch(refreshUrl, { cache: 'no-store', headers: { accept: 'application/json' } })
      .then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.json();
      })
      .then(function (data) {
        if (pageState && data.state && data.state !== pageState && (data.state === 'ready' || data.state === 'error')) {
          location.reload();
          return;
        }
        Object.keys(data.sections).forEach(function (name) {
          var container = document.querySelector('[data-section="' + name + '"]');
          if (container) applySection(container, data.sections[name]);
        });
        Object.keys(data.counts).forEach(function (name) {
          document.querySelectorAll('[data-count="' + name + '"]').forEach(function (el) { el.textContent = String(data.counts[name]); });
        });
        var busy = data.busy || activeUploads > 0;
        body.classList.toggle('busy', busy);
        schedule(busy ? 1000 : 5000);
      })
      .catch(function () { schedule(5000); });
  }

  function formatBytes(n) {
    var units = ['B', 'KB', 'MB', 'GB', 'TB'];
    var i = 0;
    while (n >= 1000 && i < units.length - 1) { n /= 1000; i += 1; }
    return (i === 0 ? String(n) : n.toFixed(n < 10 ? 1 : 0)) + ' ' + units[i];
  }

  function element(tag, className, text) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function setupDropZone(drop) {
    var input = document.getElementById('file-input');
    var list = document.getElementById('uploads');
    var endpoint = drop.getAttribute('data-endpoint');
    var chunkSize = Number(drop.getAttribute('data-chunk-size'));
    var videoApi = drop.getAttribute('data-video-api');
    var videoPage = drop.getAttribute('data-video-page');

    function start(file) {
      var record = { name: file.name, size: file.size, uid: null, phase: 'uploading', progress: [], encode: [], state: null, error: null };
      uploads.push(record);
      activeUploads += 1;
      body.classList.add('busy');
      var card = element('li', 'upload');
      card.setAttribute('data-phase', 'uploading');
      var head = element('div', 'upload-head');
      head.appendChild(element('span', 'upload-name', file.name));
      head.appendChild(element('span', 'muted', formatBytes(file.size)));
      var bar = element('div', 'bar');
      var fill = element('span');
      fill.style.width = '0%';
      bar.appendChild(fill);
      var status = element('div', 'upload-status', 'Starting the upload…');
      card.appendChild(head);
      card.appendChild(bar);
      card.appendChild(status);
      list.insertBefore(card, list.firstChild);

      function phase(name, text, pct) {
        record.phase = name;
        card.setAttribute('data-phase', name);
        status.textContent = text;
        if (pct === null) bar.classList.add('indeterminate');
        else { bar.classList.remove('indeterminate'); fill.style.width = pct.toFixed(1) + '%'; }
      }
      function settle() { activeUploads -= 1; schedule(0); }

      function follow() {
        fetch(videoApi + record.uid, { cache: 'no-store' })
          .then(function (res) { if (!res.ok) throw new Error('HTTP ' + res.status); return res.json(); })
          .then(function (answer) {
            var video = answer.result;
            var state = video.status.state;
            var pct = Number(video.status.pctComplete) || 0;
            record.state = state;
            if (state === 'ready') {
              phase('ready', 'Ready · ' + (video.duration >= 0 ? video.duration.toFixed(1) + ' s · ' : '') + video.input.width + '×' + video.input.height, 100);
              var link = element('a', null, 'Open the video page');
              link.href = videoPage + record.uid;
              status.appendChild(document.createTextNode(' · '));
              status.appendChild(link);
              var player = element('div', 'player');
              var frame = document.createElement('iframe');
              frame.src = '/' + record.uid + '/iframe?muted=true';
              frame.title = file.name;
              frame.allow = 'autoplay; encrypted-media; picture-in-picture';
              frame.allowFullscreen = true;
              player.appendChild(frame);
              card.appendChild(player);
              return settle();
            }
            if (state === 'error') {
              record.error = video.status.errorReasonCode + ': ' + video.status.errorReasonText;
              phase('error', 'Failed: ' + record.error, 100);
              return settle();
            }
            if (state === 'inprogress') { record.encode.push(pct); phase('encoding', 'Encoding ' + pct.toFixed(0) + '%', pct); }
            else phase('encoding', state === 'queued' ? 'Queued for encoding…' : 'Processing (' + state + ')…', null);
            setTimeout(follow, 1000);
          })
          .catch(function () { setTimeout(follow, 2000); });
      }

      var upload = new window.tus.Upload(file, {
        endpoint: endpoint,
        chunkSize: chunkSize,
        retryDelays: [0, 1000, 3000, 5000, 10000],
        metadata: { name: file.name, filetype: file.type || 'application/octet-stream' },
        removeFingerprintOnSuccess: true,
        onAfterResponse: function (_req, res) {
          var id = res.getHeader('stream-media-id');
          if (id) record.uid = id;
        },
        onProgress: function (sent, total) {
          var pct = total ? (sent / total) * 100 : 0;
          record.progress.push(Math.round(pct * 10) / 10);
          phase('uploading', 'Uploading ' + pct.toFixed(0) + '% · ' + formatBytes(sent) + ' of ' + formatBytes(total), pct);
        },
        onError: function (err) {
          var answer = err.originalResponse ? err.originalResponse.getBody() : '';
          record.error = (answer || err.message || String(err)).trim();
          phase('error', 'Upload failed: ' + record.error, 100);
          settle();
        },
        onSuccess: function () {
          if (!record.uid) { var m = /[0-9a-f]{32}/.exec(upload.url || ''); record.uid = m ? m[0] : null; }
          phase('encoding', 'Uploaded · waiting for the encode…', null);
          schedule(0);
          follow();
        },
      });
      // A file dropped again after an interrupted upload continues where it stopped.
      upload.findPreviousUploads().then(function (previous) {
        if (previous.length) upload.resumeFromPreviousUpload(previous[0]);
        upload.start();
        schedule(300);
      });
    }

    function startAll(files) {
      if (!window.tus || !window.tus.isSupported) {
        list.insertBefore(element('li', 'upload', 'This browser cannot run tus-js-client.'), list.firstChild);
        return;
      }
      Array.prototype.forEach.call(files, start);
    }

    ['dragenter', 'dragover'].forEach(function (type) {
      drop.addEventListener(type, function (e) { e.preventDefault(); drop.classList.add('over'); });
    });
    ['dragleave', 'dragend'].forEach(function (type) {
      drop.addEventListener(type, function () { drop.classList.remove('over'); });
    });
    drop.addEventListener('drop', function (e) {
      e.preventDefault();
      drop.classList.remove('over');
      if (e.dataTransfer && e.dataTransfer.files.length) startAll(e.dataTransfer.files);
    });
    drop.addEventListener('keydown', function (e) {
      if (e.target === drop && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); input.click(); }
    });
    input.addEventListener('change', function () {
      startAll(input.files);
      input.value = '';
    });
  }

  var drop = document.getElementById('dropzone');
  if (drop) {
    setupDropZone(drop);
    // A file dropped beside the zone must not replace the page.
    ['dragover', 'drop'].forEach(function (type) {
      document.addEventListener(type, function (e) { if (!drop.contains(e.target)) e.preventDefault(); });
    });
  }
  schedule(1000);
})();
`;
