// opsfloor dashboard: live updates for the floor page, and the market countdown.
// The page is complete without this script (it then refreshes itself every 10 s).
// With it, the page follows /api/v1/stream and changes text and classes in place
// only: nothing is added, removed or resized, so nothing shifts. The words come
// from the server's own vocabulary (#vocabulary), so an updated row reads exactly
// like a freshly rendered one. Times are the floor's clock, which may be simulated:
// the offset from this machine's clock is taken from the page's data-now.
(function () {
  'use strict';
  var body = document.body;
  var tz = body.getAttribute('data-tz') || 'UTC';
  var rendered = Date.parse(body.getAttribute('data-now') || '');
  var skew = isNaN(rendered) ? 0 : rendered - Date.now();
  function now() { return Date.now() + skew; }
  function q(sel, root) { return (root || document).querySelector(sel); }

  // Formatting, exactly as the server does it (src/words.rs).
  function pad(n) { return n < 10 ? '0' + n : String(n); }
  function span(s) {
    s = Math.max(0, Math.floor(s));
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min';
    if (s < 86400) return Math.floor(s / 3600) + ' h ' + pad(Math.floor((s % 3600) / 60)) + ' min';
    return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
  }
  function countdown(s) {
    s = Math.max(0, Math.floor(s));
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
    var m = Math.floor((s % 3600) / 60), sec = s % 60;
    if (d > 0) return d + ' d ' + h + ' h ' + pad(m) + ' min';
    if (h > 0) return h + ' h ' + pad(m) + ' min ' + pad(sec) + ' s';
    return m + ' min ' + pad(sec) + ' s';
  }
  function ago(s) { return s < 1 ? 'just now' : span(s) + ' ago'; }
  function millis(ms) { return typeof ms === 'number' && isFinite(ms) ? ms.toFixed(1) + ' ms' : '\u2013'; }
  function secsSince(iso, t) { return Math.floor((t - Date.parse(iso)) / 1000); }
  function dayTime(iso, zone) {
    var opts = { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit',
      minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' };
    if (zone) opts.timeZone = zone;
    var p = {};
    try {
      new Intl.DateTimeFormat('en-US', opts).formatToParts(new Date(iso)).forEach(function (x) { p[x.type] = x.value; });
    } catch (e) { return ''; }
    return p.weekday + ' ' + p.day + ' ' + p.month + ' ' + p.hour + ':' + p.minute + ' ' + p.timeZoneName;
  }
  // `21:00`, or `Thu 09:30` when not today, in the viewer's own zone.
  function yourTime(iso, t) {
    var at = new Date(iso), today = new Date(t);
    var hm = pad(at.getHours()) + ':' + pad(at.getMinutes());
    if (at.toDateString() === today.toDateString()) return hm;
    return at.toLocaleDateString('en-US', { weekday: 'short' }) + ' ' + hm;
  }
  function utcLong(iso) { return iso.replace('T', ' ').replace('Z', ' UTC'); }
  function setText(el, text) { if (el && el.textContent !== text) el.textContent = text; }
  function setClass(el, cls) { if (el && el.className !== cls) el.className = cls; }

  // Ticks: the countdown, "your time", and every "for …" once a second.
  var model = null; // name -> service view, once the stream has sent a snapshot
  var rows = new Map();
  var lastMarketFetch = 0;
  function hhmm(ms) { return new Date(ms).toISOString().slice(11, 16) + ' UTC'; }
  function tick() {
    var t = now();
    var sim = q('#sim-clock');
    if (sim) {
      setText(q('.sim-floor', sim), hhmm(t));
      setText(q('.sim-real', sim), hhmm(Date.now()));
    }
    document.querySelectorAll('.count[data-at]').forEach(function (el) {
      var left = Math.floor((Date.parse(el.getAttribute('data-at')) - t) / 1000);
      setText(el, 'in ' + countdown(left));
      if (left <= 0 && model && t - lastMarketFetch > 5000) { lastMarketFetch = t; refresh(); }
    });
    document.querySelectorAll('.m-local[data-at]').forEach(function (el) {
      var verb = q('#market .m-verb');
      setText(el, (verb ? verb.textContent + ' ' : '') + yourTime(el.getAttribute('data-at'), t) + ' your time');
    });
    setText(q('.foot .f-now'), utcLong(new Date(t).toISOString().slice(0, 19) + 'Z'));
    var since = q('#banner time');
    if (since) setText(q('.b-for'), 'for ' + span(secsSince(since.getAttribute('datetime'), t)));
    if (model) {
      rows.forEach(function (tr, name) {
        var v = model.get(name);
        if (!v) return;
        setText(tr.cells[3], span(secsSince(v.since, t)));
        setText(tr.cells[4], pollText(v, t));
      });
    }
  }

  // The floor page's filters: kind (the row's group), state (the row's class),
  // criticality (its cell) and a name search, over the rows already on the page.
  var applyFilter = function () {};
  var filterBox = document.getElementById('filters');
  if (filterBox) {
    var fKind = q('#f-kind'), fState = q('#f-state'), fCrit = q('#f-crit'), fName = q('#f-name');
    applyFilter = function () {
      var k = fKind.value, s = fState.value, c = fCrit.value, n = fName.value.trim().toLowerCase();
      var shown = 0, total = 0;
      document.querySelectorAll('table.services tbody').forEach(function (tb) {
        var any = false, kindOk = !k || tb.getAttribute('data-kind') === k;
        tb.querySelectorAll('tr:not(.g)').forEach(function (tr) {
          var a = q('th a', tr);
          var ok = kindOk && (!s || tr.classList.contains(s)) &&
            (!c || (tr.cells[6] && tr.cells[6].textContent === c)) &&
            (!n || (a && a.textContent.toLowerCase().indexOf(n) >= 0));
          total += 1;
          if (ok) { shown += 1; any = true; }
          if (tr.hidden === ok) tr.hidden = !ok;
        });
        if (tb.hidden === any) tb.hidden = !any;
      });
      setText(q('#f-count'), shown === total ? '' : 'Showing ' + shown + ' of ' + total + ' services');
    };
    [fKind, fState, fCrit].forEach(function (el) { el.addEventListener('change', applyFilter); });
    fName.addEventListener('input', applyFilter);
    filterBox.hidden = false;
    applyFilter();
  }

  var vocabEl = document.getElementById('vocabulary');
  if (body.getAttribute('data-page') !== 'floor' || !vocabEl || !window.EventSource || !window.fetch) {
    tick();
    setInterval(tick, 1000);
    return;
  }
  var vocab = JSON.parse(vocabEl.textContent);
  var ORDER = ['OK', 'DEGRADED', 'HALTED', 'MARKET_CLOSED', 'OFFLINE', 'UNKNOWN'];
  document.querySelectorAll('table.services tbody tr:not(.g)').forEach(function (tr) {
    var a = q('th a', tr);
    if (a) rows.set(a.textContent, tr);
  });

  function asleep(state, codes) { return state === 'OFFLINE' && codes.indexOf('EXECUTION_DISABLED') >= 0; }
  function look(state, codes) {
    if (asleep(state, codes)) return vocab.asleep;
    return vocab.states[state] || vocab.states.UNKNOWN;
  }
  function reasonText(state, codes, fallback) {
    if (asleep(state, codes)) return vocab.asleep.note;
    if (!codes.length) return fallback;
    return codes.map(function (c) { return vocab.reasons[c] || c; }).join('; ');
  }
  // As the server's floor_reason_text: "No service answered" when none did.
  function floorReason(state, codes) {
    var none = model && model.size > 0 && codes.indexOf('UNREACHABLE') >= 0;
    if (none) model.forEach(function (v) { if (v.status.reason_codes.indexOf('UNREACHABLE') < 0) none = false; });
    if (!none || asleep(state, codes)) return reasonText(state, codes, vocab.ok_floor);
    return codes.map(function (c) { return c === 'UNREACHABLE' ? vocab.none_answered : (vocab.reasons[c] || c); }).join('; ');
  }
  function pollText(v, t) {
    if (v.consecutive_failures > 0) {
      return v.last_seen_utc ? 'last seen ' + ago(secsSince(v.last_seen_utc, t)) : 'never seen';
    }
    if (v.last_poll_utc) return ago(secsSince(v.last_poll_utc, t));
    return v.expected_to_run ? 'not yet polled' : 'not polled';
  }

  function paintRow(tr, v, t) {
    var st = v.status, l = look(st.state, st.reason_codes);
    setClass(tr, l['class'] + (v.consecutive_failures > 0 ? ' late' : ''));
    var c = tr.cells;
    setText(c[1].firstElementChild, l.word);
    var codes = st.reason_codes.join(', ');
    var reason = reasonText(st.state, st.reason_codes, vocab.ok_service);
    var title = codes ? codes + ' \u2014 ' + reason : reason;
    setText(c[2].firstElementChild, reason);
    if (c[2].getAttribute('title') !== title) c[2].setAttribute('title', title);
    setText(c[3], span(secsSince(v.since, t)));
    setText(c[4], pollText(v, t));
    setText(c[5], millis(v.latency_ms));
    setText(c[6], v.criticality);
    paintBadge(c[0], v.maintenance);
  }

  // The "maintenance" badge follows the API: a window opens and closes without a
  // transition, so each refresh (at least every 15 s) sets it. The note is shown
  // as text only (textContent, an attribute), never as markup.
  function paintBadge(th, m) {
    var badge = q('.badge-maint', th);
    if (!m) { if (badge) badge.remove(); return; }
    if (!badge) {
      badge = document.createElement('span');
      badge.className = 'badge-maint';
      badge.textContent = 'maintenance';
      th.appendChild(document.createTextNode(' '));
      th.appendChild(badge);
    }
    if (badge.getAttribute('title') !== m.note) badge.setAttribute('title', m.note);
  }

  function paintCounts() {
    if (!model) return;
    var n = {}, total = 0;
    model.forEach(function (v) { n[v.status.state] = (n[v.status.state] || 0) + 1; total += 1; });
    var text = total + ' service' + (total === 1 ? '' : 's');
    ORDER.forEach(function (s) {
      if (n[s]) text += (text.indexOf(':') >= 0 ? ' \u00b7 ' : ': ') + n[s] + ' ' + vocab.states[s].word;
    });
    setText(q('.b-counts'), text);
  }

  function paintBanner(state, codes, since, contributors) {
    var l = look(state, codes);
    setClass(q('#banner-box'), 'banner ' + l['class']);
    q('#banner').setAttribute('data-state', state);
    setText(q('.b-word'), l.word);
    setText(q('.b-codes'), codes.join(', '));
    setText(q('.b-reason'), floorReason(state, codes));
    var time = q('#banner time');
    if (time.getAttribute('datetime') !== since) {
      time.setAttribute('datetime', since);
      var zoned = tz === 'UTC' ? '' : dayTime(since, tz);
      setText(time, (zoned ? zoned + ' \u00b7 ' : '') + utcLong(since));
    }
    if (contributors) {
      var named = contributors.slice(0, 5).join(', ');
      var more = contributors.length > 5 ? ' and ' + (contributors.length - 5) + ' more' : '';
      setText(q('.b-contrib'), contributors.length ? 'Decided by ' + named + more : '');
    }
  }

  // One line per venue, as the server writes it: `XNYS open, closes in 2 h`.
  function rough(s) {
    s = Math.max(0, Math.floor(s));
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    if (d > 0) return d + ' d ' + h + ' h';
    if (h > 0) return h + ' h';
    if (m > 0) return m + ' min';
    return s + ' s';
  }
  function venueText(v, t) {
    var until = function (iso) { return iso ? rough((Date.parse(iso) - t) / 1000) : null; };
    if (v.is_open === true) {
      var c = until(v.next_close_utc);
      return v.calendar + (c ? ' open, closes in ' + c : ' open, never closes');
    }
    if (v.is_open === false) {
      var o = until(v.next_open_utc);
      return v.calendar + (o ? ' closed, opens in ' + o : ' closed, no session scheduled');
    }
    return v.calendar + ' hours unknown';
  }
  function paintVenues(venues) {
    var items = document.querySelectorAll('#market .m-venues li');
    if (!venues || items.length !== venues.length) { if (venues) location.reload(); return; }
    var t = now();
    venues.forEach(function (v, i) {
      var li = items[i];
      if (li.getAttribute('data-calendar') !== v.calendar) { location.reload(); return; }
      setClass(li, v.is_open === true ? 'm-open' : v.is_open === false ? 'm-closed' : 'm-unknown');
      setText(li, venueText(v, t));
    });
  }

  function paintMarket(m) {
    paintVenues(m.venues);
    var box = q('#market'), open = m.is_open;
    var next = open === true ? m.next_close_utc : open === false ? m.next_open_utc : null;
    var count = q('.count', box);
    if (!next || !count) { if (next || count) location.reload(); return; }
    setClass(box, 'market ' + (open ? 'm-open' : 'm-closed'));
    setText(q('.m-word', box), open ? 'Market open' : 'Market closed');
    setText(q('.m-verb', box), open ? 'closes' : 'opens');
    count.setAttribute('data-at', next);
    q('.m-local', box).setAttribute('data-at', next);
    setText(q('.m-zoned', box), dayTime(next, tz));
    setText(q('.m-utc', box), dayTime(next, 'UTC').replace(/ (GMT|UTC)$/, ' UTC'));
  }

  function applyFloor(f) {
    var s = f.floor.status;
    paintBanner(s.state, s.reason_codes, f.since, f.contributors);
    paintMarket(f.market);
  }

  function applyServices(list) {
    var t = now(), next = new Map();
    list.forEach(function (v) { next.set(v.service_name, v); });
    if (next.size !== rows.size || list.some(function (v) { return !rows.has(v.service_name); })) {
      location.reload(); // the inventory changed: the server lays the groups out again
      return;
    }
    model = next;
    list.forEach(function (v) { paintRow(rows.get(v.service_name), v, t); });
    paintCounts();
    applyFilter();
  }

  // At most one refresh in flight and one every two seconds, however busy the stream.
  var timer = null, lastRefresh = 0;
  function refresh() {
    if (timer) return;
    var wait = Math.max(400, lastRefresh + 2000 - Date.now());
    timer = setTimeout(function () {
      lastRefresh = Date.now();
      Promise.all([
        fetch('/api/v1/floor', { cache: 'no-store' }).then(function (r) { return r.json(); }),
        fetch('/api/v1/services', { cache: 'no-store' }).then(function (r) { return r.json(); })
      ]).then(function (both) {
        timer = null;
        applyServices(both[1].services);
        applyFloor(both[0]);
      }).catch(function () { timer = null; /* the stream's reconnect brings a snapshot */ });
    }, wait);
  }

  var live = q('#live');
  var stream = new EventSource('/api/v1/stream');
  stream.addEventListener('open', function () { setText(live, 'Live: changes appear as they happen.'); });
  stream.addEventListener('error', function () { setText(live, 'Connection to the floor lost: reconnecting\u2026'); });
  stream.addEventListener('snapshot', function (e) {
    var d = JSON.parse(e.data);
    skew = Date.parse(d.floor.floor.status.last_updated_utc) - Date.now();
    applyServices(d.services);
    applyFloor(d.floor);
  });
  stream.addEventListener('transition', function (e) {
    var tr = JSON.parse(e.data), t = now();
    if (tr.service === null) {
      var shown = q('#banner').getAttribute('data-state'), codes = q('.b-codes').textContent;
      paintBanner(tr.to, tr.reason_codes, tr.at, null);
      if (shown === tr.to && codes === tr.reason_codes.join(', ')) return; // nothing else changed
    } else if (model && model.has(tr.service) && rows.has(tr.service)) {
      var v = model.get(tr.service);
      v.status.state = tr.to;
      v.status.reason_codes = tr.reason_codes;
      v.since = tr.at;
      paintRow(rows.get(tr.service), v, t);
      paintCounts();
      applyFilter();
    }
    refresh(); // since, last poll and latency: from the API
  });
  setInterval(refresh, 15000);
  tick();
  setInterval(tick, 1000);
})();
