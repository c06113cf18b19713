/*
 * app.js - Porter's operators' console: a few views over the admin API
 * (porter-api(7)), in plain JavaScript with no framework and nothing
 * fetched from anywhere but this responder.
 *
 * Every value shown comes from webhook payloads or configuration and is
 * attacker-controlled: it goes onto the page only as text (textContent,
 * text nodes, input values), never as markup; links are built here from
 * ids, never taken from data.  The admin token lives in this tab's
 * sessionStorage and is sent only as "Authorization: Bearer".
 */
(function () {
  'use strict';

  var TOKEN_KEY = 'porter.token';
  var LIVE_MS = 3000;
  var STATUSES = ['accepted', 'no_mapping', 'no_event_type', 'pending',
    'failed', 'interrupted', 'idempotent', 'conflict', 'rejected', 'invalid',
    'ignored', 'script_failed'];
  var VERIFICATIONS = ['enforced:verified', 'enforced:failed',
    'not_enforced:verified', 'not_enforced:failed', 'not_enforced:unsigned',
    'replayed'];
  var FILTERS = ['source', 'environment', 'event_type', 'status',
    'verification', 'idempotency_key', 'since', 'until', 'limit'];

  var state = { me: null, sources: null, timer: null, seq: 0 };

  /* ------------------------------------------------------------ DOM */

  /*
   * el('tag', {class: 'x', id: 'y', href: '#/z', ...}, child...): a new
   * element; string and number children become text nodes.  Attributes
   * are set one by one; "text" sets textContent.
   */
  function el(tag, attrs) {
    var e = document.createElement(tag), k, i, c;
    attrs = attrs || {};
    for (k in attrs) {
      if (!Object.prototype.hasOwnProperty.call(attrs, k) ||
          attrs[k] === undefined || attrs[k] === null || attrs[k] === false)
        continue;
      if (k === 'text') e.textContent = String(attrs[k]);
      else if (k === 'class') e.className = attrs[k];
      else if (k === 'onclick' || k === 'onsubmit' || k === 'onchange')
        e.addEventListener(k.slice(2), attrs[k]);
      else if (k === 'value') e.value = attrs[k];
      else if (k === 'checked' || k === 'disabled' || k === 'hidden')
        e[k] = !!attrs[k];
      else e.setAttribute(k, String(attrs[k]));
    }
    for (i = 2; i < arguments.length; i++) {
      c = arguments[i];
      if (c === null || c === undefined || c === false) continue;
      if (Array.isArray(c)) c.forEach(function (x) { if (x) e.appendChild(node(x)); });
      else e.appendChild(node(c));
    }
    return e;
  }

  function node(c) {
    return (typeof c === 'string' || typeof c === 'number')
      ? document.createTextNode(String(c)) : c;
  }

  function $(id) { return document.getElementById(id); }

  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); return e; }

  /* A <pre> with "v" as pretty JSON (or as it is, when a string). */
  function pre(v, id) {
    return el('pre', { id: id, text: typeof v === 'string' ? v : JSON.stringify(v, null, 2) });
  }

  /*
   * A status badge; "kind" ('ok', 'warn', 'bad', 'off') when the caller
   * knows what the text means, else guessed from the status names.
   */
  function badge(text, kind) {
    var cls = 'badge';
    if (kind) cls += ' ' + kind;
    else if (/^(accepted|success|ok|enforced:verified|not_enforced:verified)$/.test(text)) cls += ' ok';
    else if (/(failed|rejected|invalid|interrupted|error)/.test(text)) cls += ' bad';
    else if (text) cls += ' warn';
    return el('span', { class: cls, text: text || '-' });
  }

  /* An event's type; a rejected request's is only what its body claims. */
  function eventType(m) {
    if (m.event_type === null || m.event_type === undefined) return '(none)';
    return m.event_type_unverified ? m.event_type + ' (unverified)' : m.event_type;
  }

  /* Milliseconds since the epoch of an ISO time, or NaN. */
  function isoMs(iso) {
    /* Porter writes microseconds; Date.parse is only sure of milliseconds. */
    return typeof iso === 'string' ? Date.parse(iso.replace(/(\.\d{3})\d+/, '$1')) : NaN;
  }

  /* "3 min ago" for an ISO time, from "now" (ms). */
  function ago(iso, now) {
    var t = isoMs(iso), s, units = [[86400, 'd'], [3600, 'h'], [60, 'min'], [1, 's']], i, n;
    if (isNaN(t)) return iso || '-';
    s = Math.round((now - t) / 1000);
    if (Math.abs(s) < 10) return 'just now';
    if (Math.abs(s) >= 30 * 86400) return iso.slice(0, 10);
    for (i = 0; i < units.length - 1 && Math.abs(s) < units[i][0]; i++);
    n = Math.floor(Math.abs(s) / units[i][0]) + ' ' + units[i][1];
    return s < 0 ? 'in ' + n : n + ' ago';
  }

  /*
   * A time as "3 min ago", with the ISO time on hover; clockTick() keeps
   * the text true while the page stays open.
   */
  function timeAgo(iso) {
    if (!iso) return el('span', { class: 'muted', text: 'never' });
    return el('time', { datetime: iso, title: iso, class: 'ago', text: ago(iso, Date.now()) });
  }

  function clockTick() {
    var now = Date.now();
    Array.prototype.forEach.call(document.querySelectorAll('time.ago'), function (t) {
      t.textContent = ago(t.getAttribute('datetime'), now);
    });
  }

  function eventLink(id) {
    return el('a', { href: '#/event/' + encodeURIComponent(id), class: 'event-link mono', text: id });
  }

  function say(text, isError) {
    var s = $('status-line');
    s.textContent = text || '';
    s.className = 'status-line' + (isError ? ' error' : '');
  }

  /* ------------------------------------------------------------- API */

  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  /*
   * Call the API: resolves to {status, body} (body parsed JSON or null).
   * A 401 signs out: the token was revoked or never valid.
   */
  function api(path, opts) {
    opts = opts || {};
    var headers = { 'Authorization': 'Bearer ' + (opts.token || token() || ''),
      'Accept': 'application/json' };
    var init = { method: opts.method || 'GET', headers: headers,
      cache: 'no-store', credentials: 'omit', redirect: 'error' };
    if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(opts.body);
    }
    return fetch('api/' + path, init).then(function (r) {
      return r.text().then(function (t) {
        var body = null;
        try { body = t ? JSON.parse(t) : null; } catch (e) { body = null; }
        if (r.status === 401 && !opts.token) signOut('Your token was refused; sign in again.');
        return { status: r.status, body: body };
      });
    });
  }

  function errText(res) {
    var b = res.body;
    return res.status + ' ' + (b && b.error ? b.error + ': ' + (b.message || '') : '');
  }

  function qs(params) {
    return Object.keys(params).filter(function (k) {
      return params[k] !== undefined && params[k] !== null && params[k] !== '';
    }).map(function (k) {
      return encodeURIComponent(k) + '=' + encodeURIComponent(params[k]);
    }).join('&');
  }

  /* --------------------------------------------------------- sign in */

  function showSignin(msg) {
    $('signin').hidden = false;
    $('nav').hidden = true;
    $('signout').hidden = true;
    $('who').textContent = '';
    clear($('view'));
    say('');
    $('signin-error').textContent = msg || '';
    $('token').focus();
  }

  function signOut(msg) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.me = null;
    state.sources = null;
    stopLive();
    showSignin(msg);
  }

  function signIn(t) {
    return api('whoami', { token: t }).then(function (res) {
      if (res.status !== 200) {
        $('signin-error').textContent = res.status === 401
          ? 'That token is not valid.' : 'Sign-in failed: ' + errText(res);
        return;
      }
      sessionStorage.setItem(TOKEN_KEY, t);
      $('token').value = '';
      started(res.body);
    });
  }

  function started(me) {
    state.me = me;
    $('signin').hidden = true;
    $('nav').hidden = false;
    $('signout').hidden = false;
    $('who').textContent = me.name + (me.read_only ? ' (read-only)' : '');
    route();
  }

  /* ---------------------------------------------------------- routing */

  function stopLive() {
    if (state.timer) clearInterval(state.timer);
    state.timer = null;
  }

  /* "#/logs?a=b" -> {view: 'logs', arg: '', params: {a: 'b'}} */
  function parseHash() {
    var h = location.hash.replace(/^#\/?/, ''), q = '', i = h.indexOf('?');
    var out = { params: {} };
    if (i >= 0) { q = h.slice(i + 1); h = h.slice(0, i); }
    var parts = h.split('/');
    out.view = parts[0] || 'sources';
    out.arg = parts.slice(1).map(decodeURIComponent).join('/');
    q.split('&').forEach(function (kv) {
      if (!kv) return;
      var j = kv.indexOf('='), k = j < 0 ? kv : kv.slice(0, j);
      try {
        out.params[decodeURIComponent(k)] = j < 0 ? '' : decodeURIComponent(kv.slice(j + 1));
      } catch (e) { /* a malformed escape: ignore the parameter */ }
    });
    return out;
  }

  function route() {
    if (!state.me) return;
    var h = parseHash(), seq = ++state.seq;
    stopLive();
    say('');
    Array.prototype.forEach.call(document.querySelectorAll('#nav a'), function (a) {
      a.className = a.getAttribute('data-view') === (h.view === 'event' ? 'logs' : h.view) ? 'active' : '';
    });
    var views = { sources: viewSources, logs: viewLogs, event: viewEvent,
      types: viewTypes, rehearse: viewRehearse, actions: viewActions,
      data: viewData, mappings: viewMappings };
    var v = $('view');
    clear(v);
    (views[h.view] || viewSources)(v, h, function () { return seq === state.seq; });
  }

  /* The configured sources, fetched once per sign-in. */
  function sources() {
    if (state.sources) return Promise.resolve(state.sources);
    return api('sources').then(function (res) {
      if (res.status !== 200) throw new Error(errText(res));
      state.sources = res.body.data;
      return state.sources;
    });
  }

  function failed(v) {
    return function (e) { v.appendChild(el('p', { class: 'error', text: String(e.message || e) })); };
  }

  /* ---------------------------------------------------------- sources */

  function viewSources(v, h, current) {
    v.appendChild(el('h2', { text: 'Sources' }));
    Promise.all([sources(), api('status')]).then(function (r) {
      if (!current()) return;
      var status = {}, st = r[1].body || {};
      (st.sources || []).forEach(function (s) { status[s.source] = s; });
      if (st.store) {
        var store = st.store;
        v.appendChild(el('p', { class: 'muted', id: 'store-line',
          text: 'Store: ' + (store.used / 1048576).toFixed(1) + ' MiB of ' +
            (store.map_size / 1048576).toFixed(0) + ' MiB (' +
            Number(store.map_used_percent).toFixed(1) + '%), ' +
            (store.entries ? store.entries.events : '?') + ' events; logs kept ' +
            st.log_retention_days + ' days' }));
        if (store.nearly_full)
          v.appendChild(el('p', { class: 'error', text: 'The store is nearly full: at its ceiling the oldest logs go to make room. Raise settings.max_store_bytes (or free disk space), or lower log_retention_days.' }));
      }
      if (!r[0].length) v.appendChild(el('p', { text: 'No sources configured (porterctl apply FILE).' }));
      r[0].forEach(function (s) {
        var ss = status[s.key] || {}, envStatus = {};
        (ss.environments || []).forEach(function (e) { envStatus[e.environment] = e; });
        var rows = Object.keys(s.environments || {}).map(function (name) {
          var e = s.environments[name], es = envStatus[name] || {};
          var url = e.endpoint_url || (location.origin + e.endpoint_path);
          return el('tr', null,
            el('td', { text: name }),
            el('td', null, el('code', { class: 'endpoint', text: 'POST ' + url })),
            el('td', null, e.verify ? badge('verify on', 'ok') : badge('verify off', 'off')),
            el('td', { text: (e.signing_keys || []).length + ' key(s)' }),
            el('td', { text: String(e.mappings_count) }),
            el('td', { text: es.events_count === undefined ? '-' : String(es.events_count) }),
            el('td', null, timeAgo(es.last_event_received)),
            el('td', null, el('a', { href: '#/logs?' + qs({ source: s.key, environment: name }), text: 'log' }),
              ' · ', el('a', { href: '#/types?' + qs({ source: s.key, environment: name }), text: 'types' }),
              ' · ', el('a', { href: '#/rehearse?' + qs({ source: s.key, environment: name }), text: 'rehearse' })));
        });
        v.appendChild(el('div', { class: 'card source', 'data-source': s.key },
          el('h3', null, s.name || s.key, ' ', el('span', { class: 'muted', text: '(' + s.key + ', ' + s.type + ')' })),
          el('p', { class: 'muted' }, 'Last 30 days: ' + (ss.events_count || 0) + ' events; last received ',
            timeAgo(ss.last_event_received), '; ' + (ss.mappings_count || 0) + ' mappings'),
          el('table', null,
            el('thead', null, el('tr', null, ['Environment', 'Endpoint', 'Verification', 'Signing keys',
              'Mappings', 'Events (30 d)', 'Last event', 'Open'].map(function (t) { return el('th', { text: t }); }))),
            el('tbody', null, rows))));
      });
    }).catch(failed(v));
  }

  /* ------------------------------------------------------------- logs */

  function toIso(local) {
    if (!local) return '';
    var d = new Date(local);
    return isNaN(d.getTime()) ? local : d.toISOString();
  }

  /* An ISO time as a datetime-local input value (local time). */
  function toLocal(iso) {
    var d = new Date(iso || '');
    if (!iso || isNaN(d.getTime())) return '';
    return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 19);
  }

  /*
   * The event log's columns: header, width class (style.css) and cell,
   * in one table so that the header, the colgroup and every row agree.
   */
  var LOG_COLUMNS = [
    { head: 'Received', col: 'c-time', cell: function (m) {
      return el('td', { class: 'nowrap' }, timeAgo(m.received_at));
    } },
    { head: 'Event', col: 'c-event', cell: function (m) {
      return el('td', null, eventLink(m.id),
        m.replay_of ? el('span', { class: 'replay-of' }, 'replay of ', eventLink(m.replay_of)) : null);
    } },
    { head: 'Source', col: 'c-source', cell: function (m) {
      return el('td', { text: m.source + '/' + m.environment });
    } },
    { head: 'Type', col: 'c-type', cell: function (m) {
      return el('td', { class: 'event-type', text: eventType(m) });
    } },
    { head: 'Status', col: 'c-status', cell: function (m) {
      return el('td', null, badge(m.status));
    } },
    { head: 'Verification', col: 'c-verification', cell: function (m) {
      var v = m.verification || {};
      return el('td', null, badge(v.status), v.reason ? el('div', { class: 'muted small', text: v.reason }) : null);
    } },
    { head: 'Idempotency key', col: 'c-idem', cell: function (m) {
      return el('td', { class: 'mono' }, m.idempotency && m.idempotency.key ? m.idempotency.key : '');
    } }
  ];

  function logRow(m, isNew) {
    return el('tr', { 'data-id': m.id, 'data-type': m.event_type || '', class: isNew ? 'new' : null },
      LOG_COLUMNS.map(function (c) { return c.cell(m); }));
  }

  function viewLogs(v, h, current) {
    var p = h.params, form, tbody, pager, live;
    v.appendChild(el('h2', { text: 'Event log' }));

    function field(name, label, input) {
      input.id = 'f-' + name;
      input.name = name;
      return el('div', null, el('label', { for: input.id, text: label }), input);
    }
    function select(name, values, cur) {
      return el('select', null, el('option', { value: '', text: 'any' }),
        values.map(function (x) { return el('option', { value: x, text: x, selected: x === cur ? 'selected' : null }); }));
    }
    var srcSel = select('source', [], p.source);
    var types = el('datalist', { id: 'type-list' });
    form = el('form', { class: 'card filters', id: 'log-filters', onsubmit: function (e) {
      e.preventDefault();
      var out = {};
      FILTERS.forEach(function (k) {
        var i = form.elements[k];
        if (!i || !i.value) return;
        out[k] = (k === 'since' || k === 'until') ? toIso(i.value) : i.value.trim();
      });
      location.hash = '#/logs?' + qs(out);
    } },
      field('source', 'Source', srcSel),
      field('environment', 'Environment', el('input', { value: p.environment || '' })),
      field('event_type', 'Event type', el('input', { value: p.event_type || '', list: 'type-list' })),
      field('status', 'Status', select('status', STATUSES, p.status)),
      field('verification', 'Verification', select('verification', VERIFICATIONS, p.verification)),
      field('idempotency_key', 'Idempotency key', el('input', { value: p.idempotency_key || '' })),
      field('since', 'Since', el('input', { type: 'datetime-local', step: '1', value: toLocal(p.since) })),
      field('until', 'Until', el('input', { type: 'datetime-local', step: '1', value: toLocal(p.until) })),
      field('limit', 'Per page', el('input', { type: 'number', min: '1', max: '200', value: p.limit || '50' })),
      el('div', { class: 'actions' },
        el('button', { type: 'submit', id: 'f-apply', text: 'Search' }),
        el('a', { href: '#/logs', text: 'clear' })),
      types);
    v.appendChild(form);
    sources().then(function (list) {
      list.forEach(function (s) {
        srcSel.appendChild(el('option', { value: s.key, text: s.key, selected: s.key === p.source ? 'selected' : null }));
      });
    }).catch(function () {});
    api('event_types').then(function (res) {
      var seen = {};
      ((res.body && res.body.data) || []).forEach(function (t) {
        if (seen[t.event]) return;
        seen[t.event] = 1;
        types.appendChild(el('option', { value: t.event }));
      });
    });

    live = el('input', { type: 'checkbox', id: 'live' });
    tbody = el('tbody', { id: 'log-rows' });
    pager = el('div', { class: 'pager' });
    v.appendChild(el('div', { class: 'card' },
      el('label', { class: 'inline' }, live, ' Live: show new events as they arrive'),
      el('div', { class: 'table-wrap' }, el('table', { id: 'log-table' },
        el('colgroup', null, LOG_COLUMNS.map(function (c) { return el('col', { class: c.col }); })),
        el('thead', null, el('tr', null, LOG_COLUMNS.map(function (c) { return el('th', { text: c.head }); }))),
        tbody)),
      pager));

    var base = {};
    ['source', 'environment', 'event_type', 'status', 'verification', 'idempotency_key',
      'since', 'until', 'limit'].forEach(function (k) { if (p[k]) base[k] = p[k]; });

    /* Replay what the filters select: a dry run shows the count, then ask. */
    var bulk = {};
    ['source', 'environment', 'event_type', 'status', 'verification', 'since', 'until']
      .forEach(function (k) { if (p[k]) bulk[k] = p[k]; });
    var replayBox = el('div', { id: 'bulk-replay' });
    if (Object.keys(bulk).length && !state.me.read_only) {
      replayBox.appendChild(el('button', { type: 'button', class: 'secondary', id: 'bulk-replay-check',
        text: 'Replay these…', onclick: function () {
          clear(replayBox);
          api('replays', { method: 'POST', body: Object.assign({ dry_run: true, limit: 100 }, bulk) }).then(function (res) {
            if (!current()) return;
            if (res.status !== 200) { replayBox.appendChild(el('p', { class: 'error', text: errText(res) })); return; }
            var n = res.body.would_replay.length, skip = res.body.skipped.length;
            replayBox.appendChild(el('p', { id: 'bulk-replay-plan', text: n + ' event' + (n === 1 ? '' : 's') +
              ' would be replayed (oldest first, each as a new event)' + (skip ? ', ' + skip + ' skipped: not verified' : '') +
              (res.body.more ? '; more match than 100: narrow the filters' : '') + '.' }));
            if (n) replayBox.appendChild(el('button', { type: 'button', id: 'bulk-replay-go', text: 'Replay ' + n,
              onclick: function () {
                clear(replayBox);
                say('Replaying…');
                api('replays', { method: 'POST', body: Object.assign({ limit: 100 }, bulk) }).then(function (r2) {
                  if (!current()) return;
                  say('');
                  if (r2.status !== 200) { replayBox.appendChild(el('p', { class: 'error', text: errText(r2) })); return; }
                  replayBox.appendChild(el('p', { id: 'bulk-replay-done', text: 'Replayed ' + r2.body.replayed.length +
                    ', failed ' + r2.body.failed.length + ', skipped ' + r2.body.skipped.length + '.' }));
                  load(null);
                });
              } }));
          });
        } }));
    }
    v.appendChild(replayBox);

    function load(before) {
      var q = Object.assign({}, base);
      if (before) q.before = before;
      say('Loading…');
      return api('logs?' + qs(q)).then(function (res) {
        if (!current()) return;
        if (res.status !== 200) { say(errText(res), true); return; }
        say('');
        var data = res.body.data, pi = res.body.page_info;
        if (!before) { clear(tbody); newestAt = data.length ? data[0].received_at : null; }
        data.forEach(function (m) { tbody.appendChild(logRow(m, false)); });
        if (!tbody.firstChild)
          tbody.appendChild(el('tr', { class: 'empty' }, el('td', { colspan: String(LOG_COLUMNS.length), class: 'muted', text: 'No events.' })));
        clear(pager);
        if (pi.has_more && pi.before) {
          pager.appendChild(el('button', { class: 'secondary', id: 'older', type: 'button', text: 'Older',
            onclick: function () { load(pi.before); } }));
          if (pi.scan_limited)
            pager.appendChild(el('span', { class: 'muted', text: 'Searched ' + pi.scanned + ' events; there may be more.' }));
        }
      });
    }

    /*
     * Live: poll the last 10 s before the newest entry shown (as
     * `porterctl logs --follow` does), so that a write that commits late,
     * with an older id, still shows; each entry once.
     */
    var shown = {}, newestAt = null;
    function poll() {
      if (!current()) { stopLive(); return; }
      var q = Object.assign({}, base);
      delete q.before;
      q.limit = 200;
      if (newestAt) q.since = new Date(Date.parse(newestAt) - 10000).toISOString();
      Array.prototype.forEach.call(tbody.querySelectorAll('tr[data-id]'), function (tr) {
        shown[tr.getAttribute('data-id')] = 1;
      });
      api('logs?' + qs(q)).then(function (res) {
        if (!current() || res.status !== 200) return;
        var data = res.body.data.filter(function (m) { return !shown[m.id]; });
        var empty = tbody.querySelector('tr.empty');
        if (data.length && empty) tbody.removeChild(empty);
        for (var i = data.length - 1; i >= 0; i--) {
          shown[data[i].id] = 1;
          tbody.insertBefore(logRow(data[i], true), tbody.firstChild);
        }
        res.body.data.forEach(function (m) {
          if (!newestAt || m.received_at > newestAt) newestAt = m.received_at;
        });
        if (data.length) say(data.length + ' new event' + (data.length === 1 ? '' : 's'));
      });
    }
    live.addEventListener('change', function () {
      stopLive();
      if (live.checked) { poll(); state.timer = setInterval(poll, LIVE_MS); }
    });
    load(null).catch(failed(v));
  }

  /* ---------------------------------------------------------- actions */

  var ACTION_STATUSES = ['success', 'skipped', 'failed', 'pending', 'interrupted', 'filtered'];

  function viewActions(v, h, current) {
    var p = h.params, tbody = el('tbody', { id: 'action-rows' }), pager = el('div', { class: 'pager' });
    v.appendChild(el('h2', { text: 'Action logs' }));
    var st = el('select', { id: 'a-status', name: 'status' }, el('option', { value: '', text: 'any' }),
      ACTION_STATUSES.map(function (x) { return el('option', { value: x, text: x, selected: x === p.status ? 'selected' : null }); }));
    var wf = el('input', { id: 'a-workflow', name: 'workflow', value: p.workflow || '' });
    var src = el('input', { id: 'a-source', name: 'source', value: p.source || '' });
    var form = el('form', { class: 'card filters', id: 'action-filters', onsubmit: function (e) {
      e.preventDefault();
      var out = {};
      if (st.value) out.status = st.value;
      if (wf.value.trim()) out.workflow = wf.value.trim();
      if (src.value.trim()) out.source = src.value.trim();
      location.hash = '#/actions?' + qs(out);
    } },
      el('div', null, el('label', { for: 'a-status', text: 'Status' }), st),
      el('div', null, el('label', { for: 'a-workflow', text: 'Workflow' }), wf),
      el('div', null, el('label', { for: 'a-source', text: 'Source' }), src),
      el('div', { class: 'actions' }, el('button', { type: 'submit', id: 'a-apply', text: 'Search' })));
    v.appendChild(form);
    v.appendChild(el('div', { class: 'card' }, el('div', { class: 'table-wrap' }, el('table', { id: 'action-table' },
      el('thead', null, el('tr', null, ['Inserted', 'Action', 'Status', 'Event', 'Error'].map(function (t) { return el('th', { text: t }); }))),
      tbody)), pager));
    var base = {};
    ['status', 'workflow', 'source'].forEach(function (k) { if (p[k]) base[k] = p[k]; });
    function load(before) {
      var q = Object.assign({}, base);
      if (before) q.before = before;
      return api('actions?' + qs(q)).then(function (res) {
        if (!current()) return;
        if (res.status !== 200) { v.appendChild(el('p', { class: 'error', text: errText(res) })); return; }
        if (!before) clear(tbody);
        res.body.data.forEach(function (a) {
          tbody.appendChild(el('tr', { 'data-id': a.id },
            el('td', { text: a.inserted_at }), el('td', { text: a.action }), el('td', null, badge(a.status)),
            el('td', null, eventLink(a.event_id)),
            el('td', { text: a.error ? a.error.message : '' })));
        });
        if (!tbody.firstChild) tbody.appendChild(el('tr', { class: 'empty' }, el('td', { colspan: '5', class: 'muted', text: 'No action logs.' })));
        clear(pager);
        if (res.body.page_info.has_more && res.body.page_info.before)
          pager.appendChild(el('button', { class: 'secondary', id: 'a-older', type: 'button', text: 'Older',
            onclick: function () { load(res.body.page_info.before); } }));
      });
    }
    load(null).catch(failed(v));
  }

  /* ------------------------------------------------------------- data */

  /* What the actions made: users, objects, tenants, audiences, runs. */
  var DATA_KINDS = ['users', 'objects', 'tenants', 'audiences', 'runs'];

  function viewData(v, h, current) {
    var p = h.params, kind = DATA_KINDS.indexOf(p.kind) >= 0 ? p.kind : 'users';
    var out = el('div', { id: 'data-result' });
    v.appendChild(el('h2', { text: 'Data' }));
    var kindSel = el('select', { id: 'd-kind', name: 'kind' },
      DATA_KINDS.map(function (k) { return el('option', { value: k, text: k, selected: k === kind ? 'selected' : null }); }));
    var name = el('input', { id: 'd-name', name: 'name', value: p.name || '',
      placeholder: 'collection (objects), key (audiences), or one id' });
    v.appendChild(el('form', { class: 'card filters', id: 'data-form', onsubmit: function (e) {
      e.preventDefault();
      var q = { kind: kindSel.value };
      if (name.value.trim()) q.name = name.value.trim();
      location.hash = '#/data?' + qs(q);
    } },
      el('div', null, el('label', { for: 'd-kind', text: 'Kind' }), kindSel),
      el('div', null, el('label', { for: 'd-name', text: 'Name' }), name),
      el('div', { class: 'actions' }, el('button', { type: 'submit', id: 'd-apply', text: 'Show' }))));
    v.appendChild(out);
    if (kind === 'objects' && !p.name) {
      out.appendChild(el('p', { class: 'muted', text: 'Name a collection to list its objects.' }));
      return;
    }
    var path = kind + (p.name ? '/' + encodeURIComponent(p.name) : '');
    api(path).then(function (res) {
      if (!current()) return;
      if (res.status !== 200) { out.appendChild(el('p', { class: 'error', text: errText(res) })); return; }
      var recs = res.body && res.body.data !== undefined ? res.body.data : [res.body];
      out.appendChild(el('p', { class: 'muted', id: 'd-count', text: recs.length + ' record' + (recs.length === 1 ? '' : 's') +
        (res.body && res.body.has_more ? ' (more: the first 100 shown)' : '') }));
      recs.forEach(function (r) { out.appendChild(el('div', { class: 'card data-rec' }, pre(r))); });
    }).catch(failed(v));
  }

  /* ------------------------------------------------------------ event */

  function kv(pairs) {
    var dl = el('dl', { class: 'kv' });
    pairs.forEach(function (p) {
      if (p[1] === undefined) return;
      dl.appendChild(el('dt', { text: p[0] }));
      dl.appendChild(el('dd', { id: p[2] }, p[1] === null ? '-' : p[1]));
    });
    return dl;
  }

  function actionLog(a) {
    var cls = a.status === 'success' ? 'ok' : (a.status === 'skipped' || a.status === 'pending' || a.status === 'filtered') ? 'warn' : 'bad';
    return el('div', { class: 'action ' + cls, 'data-action': a.id },
      el('h3', null, a.action + ' ', badge(a.status), ' ', el('span', { class: 'muted mono', text: a.id })),
      a.error ? el('p', { class: 'error action-error', text: (a.error.field ? a.error.field + ': ' : '') + (a.error.message || '') }) : null,
      el('div', { class: 'grid2' },
        el('div', null, el('label', { text: 'Configured params' }), pre(a.params)),
        el('div', null, el('label', { text: 'Resolved payload' }), pre(a.payload === null || a.payload === undefined ? '(none)' : a.payload))),
      a.result ? el('div', null, el('label', { text: 'Result' }), pre(a.result)) : null);
  }

  function viewEvent(v, h, current) {
    var id = h.arg;
    api('logs/' + encodeURIComponent(id)).then(function (res) {
      if (!current()) return;
      if (res.status !== 200) { v.appendChild(el('p', { class: 'error', text: errText(res) })); return; }
      var m = res.body, vf = m.verification || {}, idem = m.idempotency || {};
      var replayBox = el('div', { id: 'replay-result' });
      // No Replay for an event the server would refuse without force: it
      // was not verified where verification is enforced.
      var replay = m.replayable === false ? el('span', { id: 'replay-refused', class: 'muted',
        text: 'No replay: not verified where verification is enforced (porterctl replay --force)' }) :
        el('button', { id: 'replay', type: 'button', text: 'Replay',
        disabled: state.me.read_only,
        title: state.me.read_only ? 'A read-only token cannot replay' : 'Run this event\u2019s mappings again, as configured now',
        onclick: function () {
          replay.disabled = true;
          clear(replayBox).appendChild(el('span', { class: 'muted', text: 'Replaying…' }));
          api('logs/' + encodeURIComponent(id) + '/replay', { method: 'POST' }).then(function (r) {
            clear(replayBox);
            replay.disabled = false;
            if (r.status !== 200) { replayBox.appendChild(el('span', { class: 'error', text: errText(r) })); return; }
            replayBox.appendChild(el('span', null, 'Replayed as ', eventLink(r.body.id), ' ', badge(r.body.status)));
          });
        } });
      v.appendChild(el('h2', null, 'Event ', el('span', { id: 'event-id', class: 'mono', text: m.id })));
      v.appendChild(el('div', { class: 'card' },
        kv([
          ['Received', m.received_at],
          ['Source', m.source + '/' + m.environment],
          ['Endpoint', m.endpoint_id],
          ['Event type', eventType(m), 'event-type'],
          ['Event time', m.event_time],
          ['Status', badge(m.status), 'event-status'],
          ['Verification', el('span', null, badge(vf.status), vf.reason ? ' ' + vf.reason : ''), 'event-verification'],
          ['Idempotency key', m.idempotency ? (idem.key || '-') : undefined, 'event-idem'],
          ['Original event', idem.original_event_id ? eventLink(idem.original_event_id) : undefined],
          ['Replay of', m.replay_of ? eventLink(m.replay_of) : undefined],
          ['Error', m.error ? m.error.code + ': ' + m.error.message : undefined, 'event-error'],
          ['Answered', m.response ? m.response.status + (m.response.error ? ' ' + m.response.error : '') +
            (m.response.retry_after ? ' (Retry-After: ' + m.response.retry_after + ')' : '') : undefined, 'event-response'],
          ['Body size', m.body_bytes + ' bytes']
        ]),
        (m.warnings && m.warnings.length) ? el('div', null, el('label', { text: 'Warnings' }),
          el('ul', { class: 'warnings' }, m.warnings.map(function (w) { return el('li', { text: w }); }))) : null,
        el('div', { class: 'pager' }, replay, replayBox,
          m.event_type !== null ? el('a', { href: '#/logs?' + qs({ source: m.source, environment: m.environment, event_type: m.event_type }),
            text: 'events of this type' }) : null)));
      var hrows = Object.keys(m.headers || {}).map(function (k) {
        return el('tr', null, el('td', { class: 'mono', text: k }), el('td', { class: 'mono', text: String(m.headers[k]) }));
      });
      v.appendChild(el('div', { class: 'card' }, el('h3', { text: 'Headers' }),
        el('table', { id: 'event-headers' }, el('tbody', null, hrows))));
      var body = m.body !== undefined ? m.body : m.body_text !== undefined ? m.body_text :
        m.body_base64 !== undefined ? '(base64) ' + m.body_base64 : '';
      if (m.preprocess !== undefined)
        v.appendChild(el('div', { class: 'card' }, el('h3', { text: 'Preprocess output' }),
          pre(m.preprocess, 'event-preprocess')));
      v.appendChild(el('div', { class: 'card' }, el('h3', { text: 'Body' }), pre(body, 'event-body'),
        el('details', null, el('summary', { text: 'Raw body, as received' }),
          pre(m.raw_body !== undefined ? m.raw_body : '(base64) ' + (m.raw_body_base64 || ''), 'event-raw'))));
      var logs = m.action_logs || [];
      v.appendChild(el('div', { class: 'card', id: 'action-logs' }, el('h3', { text: 'Action logs (' + logs.length + ')' }),
        logs.length ? logs.map(actionLog) : el('p', { class: 'muted', text: m.actions ? 'No action logs.' : 'No actions ran for this event.' })));
    }).catch(failed(v));
  }

  /* ------------------------------------------------------------ types */

  function viewTypes(v, h, current) {
    v.appendChild(el('h2', { text: 'Received event types' }));
    api('event_types?' + qs({ source: h.params.source, environment: h.params.environment })).then(function (res) {
      if (!current()) return;
      if (res.status !== 200) { v.appendChild(el('p', { class: 'error', text: errText(res) })); return; }
      var data = res.body.data;
      if (!data.length) { v.appendChild(el('p', { class: 'muted', text: 'No events received yet.' })); return; }
      v.appendChild(el('div', { class: 'card' }, el('table', { id: 'types-table' },
        el('thead', null, el('tr', null, ['Source', 'Environment', 'Event type', 'Count', 'First received',
          'Last received', 'Mappings'].map(function (t) { return el('th', { text: t }); }))),
        el('tbody', null, data.map(function (t) {
          return el('tr', null, el('td', { text: t.source }), el('td', { text: t.environment }),
            el('td', null, el('a', { href: '#/logs?' + qs({ source: t.source, environment: t.environment, event_type: t.event }),
              text: t.event })),
            el('td', { text: String(t.count) }), el('td', null, timeAgo(t.first_received_at)),
            el('td', null, timeAgo(t.last_received_at)),
            el('td', null, el('a', { class: 'edit-mappings', href: '#/mappings?' + qs({ source: t.source,
              environment: t.environment, event_type: t.event }), text: 'edit' })));
        })))));
    }).catch(failed(v));
  }

  /* --------------------------------------------------------- mappings */

  /*
   * Edit one event type's mappings (Knock's "Create action mapping"): the
   * list as JSON, a form built from the action's parameter table to add
   * one, a rehearsal against the last event of that type received, then
   * the diff of a dry run before it is applied, as `porterctl apply`
   * validates it.
   */
  function viewMappings(v, h, current) {
    var p = h.params, doc = null, env = null, catalogue = [];
    v.appendChild(el('h2', { text: 'Mappings of ' + (p.event_type || '?') }));
    v.appendChild(el('p', { class: 'muted', text: (p.source || '?') + '/' + (p.environment || '?') +
      ': the mappings of this event type, in JSON; the others of the environment stay as they are.' }));
    var area = el('textarea', { id: 'm-json', rows: '14', spellcheck: 'false' });
    var actSel = el('select', { id: 'm-action' });
    var paramsBox = el('div', { id: 'm-params', class: 'filters' });
    var out = el('div', { id: 'm-result' });
    function fillParams() {
      clear(paramsBox);
      var spec = catalogue.filter(function (c) { return c.action === actSel.value; })[0];
      (spec ? spec.params : []).forEach(function (pp) {
        paramsBox.appendChild(el('div', null, el('label', { for: 'm-p-' + pp.name,
          text: pp.name + (pp.required ? ' (required)' : '') }),
          el('input', { id: 'm-p-' + pp.name, 'data-param': pp.name, placeholder: 'a path: data.id' })));
      });
    }
    actSel.addEventListener('change', fillParams);
    function others() {
      return (env.mappings || []).filter(function (m) { return m.event_type !== p.event_type; });
    }
    function edited() {
      var list = JSON.parse(area.value);
      if (!Array.isArray(list)) throw new Error('the mappings must be a JSON array');
      return list;
    }
    var add = el('button', { type: 'button', id: 'm-add', class: 'secondary', text: 'Add mapping', onclick: function () {
      var list;
      try { list = edited(); } catch (e) { say(String(e.message || e), true); return; }
      var params = {};
      Array.prototype.forEach.call(paramsBox.querySelectorAll('input[data-param]'), function (i) {
        if (i.value.trim()) params[i.getAttribute('data-param')] = i.value.trim();
      });
      list.push({ event_type: p.event_type, action: actSel.value, params: params });
      area.value = JSON.stringify(list, null, 2);
    } });
    var rehearse = el('button', { type: 'button', id: 'm-rehearse', class: 'secondary', text: 'Rehearse on the last event',
      onclick: function () {
        var list;
        clear(out);
        try { list = edited(); } catch (e) { say(String(e.message || e), true); return; }
        api('logs?' + qs({ source: p.source, environment: p.environment, event_type: p.event_type, limit: 1 })).then(function (res) {
          var last = res.status === 200 && res.body.data[0];
          if (!last) throw new Error('no event of this type received yet');
          return api('logs/' + encodeURIComponent(last.id));
        }).then(function (res) {
          var e = res.body || {};
          return api('sources/' + encodeURIComponent(p.source) + '/rehearse', { method: 'POST', body: {
            environment: p.environment, mappings: list,
            payload: { body: e.raw_body !== undefined ? e.raw_body : e.body, headers: e.headers || {} } } });
        }).then(function (res) {
          if (!current()) return;
          if (res.status !== 200) { out.appendChild(el('p', { class: 'error', id: 'm-error', text: errText(res) })); return; }
          out.appendChild(el('div', { class: 'card', id: 'm-rehearsal' }, res.body.mappings.map(function (m) {
            return el('div', { class: 'action ' + (m.status === 'ok' ? 'ok' : 'warn') },
              el('h3', null, m.action + ' ', badge(m.status)),
              m.error ? el('p', { class: 'error', text: m.error.field + ': ' + m.error.message }) : null,
              m.payload !== undefined ? pre(m.payload) : null);
          })));
        }).catch(function (e) { out.appendChild(el('p', { class: 'error', text: String(e.message || e) })); });
      } });
    function put(dry) {
      var list, next;
      try { list = edited(); } catch (e) { say(String(e.message || e), true); return Promise.resolve(null); }
      env.mappings = others().concat(list);
      next = doc;
      return api('config' + (dry ? '?dry_run=1' : ''), { method: 'PUT', body: next });
    }
    var save = el('button', { type: 'button', id: 'm-save', text: 'Save\u2026', disabled: state.me.read_only,
      title: state.me.read_only ? 'A read-only token cannot change the configuration' : 'Show the changes, then apply them',
      onclick: function () {
        clear(out);
        put(true).then(function (res) {
          if (!res || !current()) return;
          if (res.status !== 200) { out.appendChild(el('p', { class: 'error', id: 'm-error', text: errText(res) })); return; }
          out.appendChild(el('div', { class: 'card', id: 'm-diff' }, el('h3', { text: 'Changes' }),
            pre((res.body.diff || []).join('\n') || 'no changes')));
          if (res.body.changes > 0)
            out.appendChild(el('button', { type: 'button', id: 'm-apply', text: 'Apply', onclick: function () {
              put(false).then(function (r2) {
                if (!r2 || !current()) return;
                out.appendChild(el('p', { id: r2.status === 200 ? 'm-applied' : 'm-error', class: r2.status === 200 ? '' : 'error',
                  text: r2.status === 200 ? 'Applied (generation ' + r2.body.generation + ').' : errText(r2) }));
              });
            } }));
        });
      } });
    v.appendChild(el('div', { class: 'card' },
      el('label', { for: 'm-json', text: 'Mappings (JSON)' }), area,
      el('div', { class: 'filters' }, el('div', null, el('label', { for: 'm-action', text: 'Action' }), actSel)),
      paramsBox,
      el('div', { class: 'pager' }, add, rehearse, save)));
    v.appendChild(out);
    Promise.all([api('config'), api('mapping_actions')]).then(function (r) {
      if (!current()) return;
      if (r[0].status !== 200) throw new Error(errText(r[0]));
      doc = r[0].body;
      catalogue = r[1].status === 200 ? r[1].body : [];
      catalogue.forEach(function (c) { actSel.appendChild(el('option', { value: c.action, text: c.action })); });
      fillParams();
      (doc.sources || []).forEach(function (s) {
        if (s.key === p.source && s.environments && s.environments[p.environment]) env = s.environments[p.environment];
      });
      if (!env) throw new Error('no environment ' + p.source + '/' + p.environment + ' is configured');
      area.value = JSON.stringify((env.mappings || []).filter(function (m) { return m.event_type === p.event_type; }), null, 2);
    }).catch(failed(v));
  }

  /* --------------------------------------------------------- rehearse */

  function viewRehearse(v, h, current) {
    v.appendChild(el('h2', { text: 'Rehearse' }));
    v.appendChild(el('p', { class: 'muted', text: 'Runs a payload through an environment\u2019s mappings ' +
      'and shows what each would do. Nothing is stored and nothing runs.' }));
    var out = el('div', { id: 'rehearse-result' });
    var envSel = el('select', { id: 'r-env' });
    var srcSel = el('select', { id: 'r-source', onchange: function () { fillEnvs(null); } });
    var headers = el('textarea', { id: 'r-headers', rows: '3', placeholder: 'X-Request-Id: 123' });
    var body = el('textarea', { id: 'r-body', rows: '12', placeholder: '{"type": "..."}' });
    var list = [];
    function fillEnvs(pick) {
      clear(envSel);
      list.forEach(function (s) {
        if (s.key !== srcSel.value) return;
        Object.keys(s.environments || {}).forEach(function (e) {
          envSel.appendChild(el('option', { value: e, text: e, selected: e === pick ? 'selected' : null }));
        });
      });
    }
    /*
     * Where to start: the source and environment in the address
     * (#/rehearse?source=S&environment=E), else the first environment
     * with mappings, since rehearsing one without any shows nothing.
     */
    function start() {
      var p = h.params, first = null;
      list.forEach(function (s) {
        Object.keys(s.environments || {}).forEach(function (e) {
          var hit = p.source ? s.key === p.source && (!p.environment || e === p.environment)
            : s.environments[e].mappings_count > 0;
          if (!first && hit) first = [s.key, e];
        });
      });
      return first || (list.length ? [list[0].key, null] : [null, null]);
    }
    var form = el('form', { class: 'card', id: 'rehearse-form', onsubmit: function (e) {
      e.preventDefault();
      var hdrs = {}, bad = null;
      headers.value.split('\n').forEach(function (line) {
        if (!line.trim()) return;
        var i = line.indexOf(':');
        if (i <= 0) { bad = line; return; }
        hdrs[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      });
      clear(out);
      if (bad !== null) { out.appendChild(el('p', { class: 'error', text: 'Not a header: ' + bad })); return; }
      api('sources/' + encodeURIComponent(srcSel.value) + '/rehearse', { method: 'POST',
        body: { environment: envSel.value, payload: { body: body.value, headers: hdrs } } }).then(function (res) {
        if (!current()) return;
        if (res.status !== 200) { out.appendChild(el('p', { class: 'error', text: errText(res) })); return; }
        var r = res.body;
        out.appendChild(el('div', { class: 'card' },
          kv([['Event type', r.event_type === null ? '(none)' : r.event_type, 'r-type'],
            ['Status', badge(r.status), 'r-status'], ['Message', r.message]]),
          r.preprocess ? el('div', { id: 'r-preprocess' }, el('h3', { text: 'Preprocess script' }),
            r.preprocess.error ? el('p', { class: 'error', text: r.preprocess.error.code + ': ' + r.preprocess.error.message }) :
              el('div', null, kv([['Verified', r.preprocess.verified === null ? 'not said' : String(r.preprocess.verified)],
                ['Skip', String(r.preprocess.skip)]]), pre(r.preprocess.output))) : null,
          r.mappings.length ? r.mappings.map(function (m) {
            return el('div', { class: 'action ' + (m.status === 'ok' ? 'ok' : m.status === 'skipped' ? 'bad' : 'warn') },
              el('h3', null, m.action + ' ', badge(m.status)),
              m.error ? el('p', { class: 'error', text: m.error.field + ': ' + m.error.message }) : null,
              m.payload !== undefined ? pre(m.payload) : null);
          }) : el('p', { class: 'muted', text: r.status === 'no_mapping' ? 'No mapping for this event type: it would be logged as no_mapping.' : '' })));
      });
    } },
      el('div', { class: 'filters' },
        el('div', null, el('label', { for: 'r-source', text: 'Source' }), srcSel),
        el('div', null, el('label', { for: 'r-env', text: 'Environment' }), envSel)),
      el('label', { for: 'r-headers', text: 'Headers (one "Name: value" a line)' }), headers,
      el('label', { for: 'r-body', text: 'Body (JSON)' }), body,
      el('div', { class: 'pager' }, el('button', { type: 'submit', id: 'r-submit', text: 'Rehearse' })));
    v.appendChild(form);
    v.appendChild(out);
    sources().then(function (s) {
      if (!current()) return;
      list = s;
      var at = start();
      s.forEach(function (x) {
        srcSel.appendChild(el('option', { value: x.key, text: x.key, selected: x.key === at[0] ? 'selected' : null }));
      });
      fillEnvs(at[1]);
    }).catch(failed(v));
  }

  /* ------------------------------------------------------------ start */

  document.addEventListener('DOMContentLoaded', function () {
    $('signin-form').addEventListener('submit', function (e) {
      e.preventDefault();
      var t = $('token').value.trim();
      if (t) signIn(t);
    });
    $('signout').addEventListener('click', function () { signOut(''); });
    window.addEventListener('hashchange', route);
    setInterval(clockTick, 30000);
    var t = token();
    if (!t) { showSignin(''); return; }
    api('whoami').then(function (res) {
      if (res.status === 200) started(res.body);
      else if (res.status !== 401) showSignin('The API answered ' + errText(res));
    }).catch(function (e) { showSignin('Cannot reach the API: ' + e.message); });
  });
}());
