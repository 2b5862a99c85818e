/*
 * Document Server emulator: the page inside the editor iframe.
 * It receives the config from api.js by postMessage, has the emulator verify it and open the
 * document, then shows the document as plain text with a few buttons that drive the protocol.
 */
(function (window, document) {
  'use strict';

  var params = new URLSearchParams(window.location.search);
  var frameEditorId = params.get('frameEditorId');
  var parentOrigin = params.get('parentOrigin');
  // Relative to .../web-apps/apps/<app>/<variant>/index.html, so a proxy path prefix still works.
  var API = new URL('../../../../_emu/editor/', window.location.href).href;

  var state = {
    conn: null, config: null, events: [], mode: null, canAppend: false, closed: false,
    pollMs: 1000, pollTimer: null, history: { selected: null, loaded: {} }, readOnly: false
  };

  function $(id) { return document.getElementById(id); }
  function has(name) { return state.events.indexOf(name) >= 0; }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function emit(name, data) {
    // Events the integrator has no handler for are not even sent: no handler, no feature.
    if (!has(name) || window.parent === window) { return; }
    window.parent.postMessage({ type: 'emu:event', frameEditorId: frameEditorId, name: name, data: data },
      parentOrigin);
  }

  function post(path, body) {
    return window.fetch(API + path, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body), credentials: 'omit'
    }).then(function (r) { return r.json(); });
  }

  function show(id, text) {
    var box = $(id);
    box.textContent = text;
    box.hidden = !text;
  }

  function fail(code, description) {
    show('emu-error', description + ' (error ' + code + ')');
    $('emu-error').setAttribute('data-code', String(code));
  }

  function stopPolling() {
    if (state.pollTimer) { window.clearTimeout(state.pollTimer); state.pollTimer = null; }
  }

  // --- opening ---------------------------------------------------------------

  function open(config, replace) {
    state.config = config;
    return post('open', { config: config, events: state.events, replace: replace || null }).then(function (r) {
      if (r.alert) { fail(r.error, r.alert); return; }
      if (r.error) {
        fail(r.error, r.errorDescription);
        if (r.refresh && has('onRequestRefreshFile')) {
          emit('onRequestRefreshFile');
        } else {
          emit('onError', { errorCode: r.error, errorDescription: r.errorDescription });
        }
        return;
      }
      show('emu-error', '');
      state.conn = r.conn;
      state.mode = r.mode;
      state.canAppend = r.canAppend;
      state.readOnly = false;
      state.closed = false;
      state.config = r.config || config;
      state.pollMs = Math.max(100, (r.pollInterval || 1) * 1000);
      $('emu-main').hidden = false;
      $('emu-title').textContent = r.title;
      $('emu-user').textContent = r.user.name;
      renderMode();
      renderLines(r.content);
      buildToolbar();
      show('emu-warning', (r.warnings || []).join(' '));
      emit('onDocumentReady');
      emit('onInfo', { mode: r.mode });
      schedulePoll(0);
    }).catch(function (err) {
      fail(-1, 'The Document Server emulator could not be reached: ' + err);
      emit('onError', { errorCode: -1, errorDescription: String(err) });
    });
  }

  function renderMode() {
    $('emu-mode').textContent = (state.mode === 'edit' && !state.readOnly) ? 'Editing' : 'Viewing';
  }

  function renderLines(lines) {
    var box = $('emu-content');
    box.textContent = '';
    (lines || []).forEach(function (line) { box.appendChild(el('p', { 'class': 'emu-line' }, line)); });
  }

  function renderUsers(users) {
    var list = $('emu-users');
    list.textContent = '';
    (users || []).forEach(function (u) {
      var item = el('li', { 'data-user-id': u.id }, u.name + (u.mode === 'view' ? ' (viewing)' : ''));
      list.appendChild(item);
    });
  }

  function customization() {
    return (state.config && state.config.editorConfig && state.config.editorConfig.customization) || {};
  }

  function permissions() {
    return (state.config && state.config.document && state.config.document.permissions) || {};
  }

  function button(id, label, onClick) {
    var b = el('button', { id: id, type: 'button' }, label);
    b.addEventListener('click', onClick);
    $('emu-toolbar').appendChild(b);
    return b;
  }

  function buildToolbar() {
    var bar = $('emu-toolbar');
    bar.textContent = '';
    $('emu-extra').textContent = '';
    var editing = state.mode === 'edit' && !state.readOnly;
    if (editing && state.canAppend) {
      bar.appendChild(el('input', { id: 'emu-text', type: 'text', 'aria-label': 'Text to append' }));
      button('emu-append', 'Append', onAppend);
    }
    if (editing && customization().forcesave === true) { button('emu-save', 'Save', onSave); }
    if (has('onRequestHistory')) { button('emu-history', 'History', function () { emit('onRequestHistory'); }); }
    if (has('onRequestRename')) {
      bar.appendChild(el('input', { id: 'emu-rename-title', type: 'text', 'aria-label': 'New title' }));
      button('emu-rename', 'Rename', function () { emit('onRequestRename', $('emu-rename-title').value); });
    }
    if (has('onRequestSaveAs')) { button('emu-save-as', 'Save copy as', onSaveAs); }
    if (has('onMakeActionLink')) {
      button('emu-link', 'Get link', function () {
        emit('onMakeActionLink', { action: { type: 'bookmark', data: 'emu-bookmark' } });
      });
    }
    if (editing && has('onRequestInsertImage')) {
      button('emu-insert-image', 'Insert image', function () { emit('onRequestInsertImage', { c: 'add' }); });
    }
    if (editing && has('onRequestSelectDocument')) {
      button('emu-compare', 'Compare', function () { emit('onRequestSelectDocument', { c: 'compare' }); });
    }
    if (editing && has('onRequestSelectSpreadsheet')) {
      button('emu-mail-merge', 'Mail merge', function () { emit('onRequestSelectSpreadsheet', { c: 'mailmerge' }); });
    }
    var doc = (state.config && state.config.document) || {};
    if (doc.referenceData && has('onRequestReferenceData')) {
      // Docs asks when a linked cell is updated; the emulator links the document to itself.
      button('emu-update-links', 'Update links', function () {
        emit('onRequestReferenceData', { referenceData: doc.referenceData, path: doc.title });
      });
    }
    if (editing && doc.referenceData && has('onRequestReferenceSource')) {
      // "Change source" of a link: Docs names the current source, the integrator answers the new one.
      button('emu-change-source', 'Change source', function () {
        emit('onRequestReferenceSource', { referenceData: doc.referenceData, path: doc.title });
      });
    }
    if (has('onRequestUsers')) {
      button('emu-mention', 'Mention', function () { emit('onRequestUsers', { c: 'mention' }); });
    }
    if (has('onRequestSendNotify')) {
      bar.appendChild(el('input', { id: 'emu-comment', type: 'text', 'aria-label': 'Comment' }));
      button('emu-notify', 'Comment and notify', onNotify);
    }
    if (state.mode === 'view' && permissions().edit !== false && has('onRequestEditRights')) {
      button('emu-edit-rights', 'Edit current file', function () { emit('onRequestEditRights'); });
    }
    var close = customization().close;
    if (has('onRequestClose') && !(close && close.visible === false)) { button('emu-close', 'Close', doClose); }
  }

  // --- actions -----------------------------------------------------------------

  function onAppend() {
    var input = $('emu-text');
    var text = input.value;
    emit('onDocumentStateChange', true);
    post('append', { conn: state.conn, text: text }).then(function (r) {
      if (r.error) { show('emu-warning', r.error); return; }
      input.value = '';
      renderLines(r.lines);
      emit('onDocumentStateChange', false);
    });
  }

  function onSave() {
    post('forcesave', { conn: state.conn }).then(function (r) {
      show('emu-message', r.sent ? 'Saving…' : 'No changes to save.');
    });
  }

  function onSaveAs() {
    post('download-url', { conn: state.conn }).then(function (r) {
      if (r.url) { emit('onRequestSaveAs', { fileType: r.fileType, title: r.title, url: r.url }); }
    });
  }

  function onNotify() {
    var message = $('emu-comment').value;
    var emails = (message.match(/@[^\s@]+@[^\s@]+/g) || []).map(function (m) { return m.slice(1); });
    emit('onRequestSendNotify', {
      actionLink: { action: { type: 'comment', data: 'emu-comment-' + Date.now() } },
      message: message, emails: emails
    });
  }

  function leave() {
    if (!state.conn || state.closed) { return; }
    state.closed = true;
    stopPolling();
    var body = JSON.stringify({ conn: state.conn });
    if (!(navigator.sendBeacon && navigator.sendBeacon(API + 'leave', body))) {
      window.fetch(API + 'leave', { method: 'POST', body: body, keepalive: true, credentials: 'omit' });
    }
  }

  function doClose() {
    leave();
    $('emu-main').hidden = true;
    show('emu-message', 'The editor was closed.');
    emit('onRequestClose');
  }

  function makeReadOnly(message) {
    state.readOnly = true;
    renderMode();
    buildToolbar();
    if (message) { show('emu-message', message); }
  }

  // --- polling -------------------------------------------------------------------

  function schedulePoll(delay) {
    stopPolling();
    if (state.closed) { return; }
    state.pollTimer = window.setTimeout(poll, delay);
  }

  function poll() {
    var conn = state.conn;
    window.fetch(API + 'poll?conn=' + encodeURIComponent(conn), { credentials: 'omit' })
      .then(function (r) { return r.json(); })
      .then(function (r) {
        if (conn !== state.conn || state.closed) { return; }
        if (r.ended) {
          state.closed = true;
          if (r.code) {
            fail(r.code, r.description);
            makeReadOnly();
            emit('onError', { errorCode: r.code, errorDescription: r.description });
          }
          return;
        }
        $('emu-title').textContent = r.title;
        renderUsers(r.users);
        renderLines(r.lines);
        (r.events || []).forEach(handleEvent);
        schedulePoll(state.pollMs);
      })
      .catch(function () { schedulePoll(state.pollMs * 2); });
  }

  function handleEvent(ev) {
    if (ev.type === 'meta') {
      if (typeof ev.data.title === 'string') { $('emu-title').textContent = ev.data.title; }
      emit('onMetaChange', ev.data);
    } else if (ev.type === 'warning') {
      show('emu-warning', ev.text);
    }
  }

  // --- history ---------------------------------------------------------------------

  function historyButtons() {
    var box = $('emu-history-buttons');
    box.textContent = '';
    if (has('onRequestRestore')) {
      var restore = el('button', { id: 'emu-restore', type: 'button' }, 'Restore');
      restore.disabled = state.history.selected === null;
      restore.addEventListener('click', function () {
        var v = state.history.selected;
        var loaded = state.history.loaded[v] || {};
        var data = { version: v };
        if (loaded.url) { data.url = loaded.url; data.fileType = loaded.fileType; }
        emit('onRequestRestore', data);
      });
      box.appendChild(restore);
    }
    var close = el('button', { id: 'emu-history-close', type: 'button' }, 'Close history');
    close.addEventListener('click', function () {
      $('emu-history-view').hidden = true;
      emit('onRequestHistoryClose');
    });
    box.appendChild(close);
  }

  function refreshHistory(obj) {
    var view = $('emu-history-view');
    view.hidden = false;
    var list = $('emu-history-list');
    list.textContent = '';
    $('emu-history-content').textContent = '';
    show('emu-history-info', '');
    state.history.selected = null;
    if (!obj || obj.error || !Array.isArray(obj.history)) {
      show('emu-history-error', 'History loading failed' +
        (obj && typeof obj.error === 'string' ? ': ' + obj.error : ''));
      historyButtons();
      return;
    }
    show('emu-history-error', '');
    obj.history.forEach(function (h) {
      if (!h || !h.version) { return; }  // Docs ignores entries without a truthy version
      var label = 'Version ' + h.version + (h.created ? ' — ' + h.created : '') +
        (h.user && h.user.name ? ' — ' + h.user.name : '') +
        (h.version === obj.currentVersion ? ' (current)' : '');
      var item = el('li', { 'data-version': String(h.version), tabindex: '0' }, label);
      item.addEventListener('click', function () {
        state.history.selected = h.version;
        Array.prototype.forEach.call(list.children, function (c) { c.classList.remove('selected'); });
        item.classList.add('selected');
        historyButtons();
        emit('onRequestHistoryData', h.version);
      });
      list.appendChild(item);
    });
    historyButtons();
  }

  function setHistoryData(obj) {
    post('history-data', { conn: state.conn, data: obj || {} }).then(function (r) {
      if (r.error) {
        show('emu-history-error', r.error);
        $('emu-history-content').textContent = '';
        return;
      }
      show('emu-history-error', '');
      if (obj && obj.version !== undefined) {
        state.history.loaded[obj.version] = { url: obj.url, fileType: obj.fileType };
      }
      var box = $('emu-history-content');
      box.textContent = '';
      (r.lines || []).forEach(function (line) { box.appendChild(el('p', { 'class': 'emu-line' }, line)); });
      show('emu-history-info', 'Version ' + r.version + (r.info && r.info.length ? ' · ' + r.info.join(' · ') : ''));
    });
  }

  // --- files the integrator hands over (insertImage, setRequestedDocument, ...) -----

  function requested(name) {
    return function (obj) {
      post('requested', { conn: state.conn, method: name, data: obj || {} }).then(function (r) {
        var box = $('emu-requested') || $('emu-extra').appendChild(el('div', { id: 'emu-requested', role: 'status' }));
        box.textContent = '';
        box.setAttribute('data-method', name);
        box.setAttribute('data-ok', r.ok ? 'true' : 'false');
        if (!r.ok) { box.textContent = name + ' failed: ' + r.error; return; }
        box.appendChild(el('p', {}, name + (r.c ? ' (' + r.c + ')' : '') + ': ' + r.files.map(function (f) {
          return f.fileType + ', ' + f.bytes + ' bytes';
        }).join('; ')));
        r.files.forEach(function (f) {
          if (f.preview) { box.appendChild(el('img', { src: f.preview, alt: 'Inserted image', 'class': 'emu-inserted' })); }
        });
      });
    };
  }

  // --- methods forwarded by api.js ------------------------------------------------

  var methods = {
    refreshHistory: refreshHistory,
    setHistoryData: setHistoryData,
    setUsers: function (obj) {
      var box = $('emu-users-list') || $('emu-extra').appendChild(el('ul', { id: 'emu-users-list' }));
      box.textContent = '';
      ((obj && obj.users) || []).forEach(function (u) {
        var label = (u.name || '') + (u.email ? ' <' + u.email + '>' : '');
        box.appendChild(el('li', { 'data-user-id': u.id || '' }, label));
      });
    },
    setActionLink: function (link) {
      var box = $('emu-action-link') || $('emu-extra').appendChild(el('p', { id: 'emu-action-link' }));
      box.textContent = String(link);
    },
    refreshFile: function (config) { open(config, state.closed ? null : state.conn); },
    requestClose: doClose,
    showMessage: function (text) { show('emu-message', String(text)); },
    denyEditingRights: function (message) { makeReadOnly(message || 'Editing is not allowed.'); },
    destroyEditor: leave
  };
  ['insertImage', 'setRequestedDocument', 'setRequestedSpreadsheet', 'setReferenceData', 'setReferenceSource',
    'setRevisedFile', 'setMailMergeRecipients'].forEach(function (name) { methods[name] = requested(name); });

  window.addEventListener('message', function (event) {
    // Only the page that embedded us, from the origin api.js announced.
    if (event.origin !== parentOrigin || event.source !== window.parent) { return; }
    var msg = event.data;
    if (!msg || typeof msg !== 'object' || msg.frameEditorId !== frameEditorId) { return; }
    if (msg.type === 'emu:init') {
      state.events = Array.isArray(msg.events) ? msg.events : [];
      emit('onAppReady');
      open(msg.config);
    } else if (msg.type === 'emu:method' && Object.prototype.hasOwnProperty.call(methods, msg.name)) {
      methods[msg.name](msg.data);
    }
  });

  window.addEventListener('pagehide', leave);
  window.addEventListener('unload', leave);

  if (window.parent === window || !parentOrigin) {
    show('emu-error', 'This page is the Document Server emulator\'s editor; it is opened by api.js.');
  } else {
    window.parent.postMessage({ type: 'emu:ready', frameEditorId: frameEditorId }, parentOrigin);
  }
}(window, document));
