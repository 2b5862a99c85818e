/*
 * Document Server emulator: browser API (window.DocsAPI).
 * A test double of ONLYOFFICE Docs' api.js for development and tests; it is not a real editor.
 * No inline scripts, styles or form posts: the config reaches the editor iframe by postMessage,
 * so embedding pages can keep a strict Content-Security-Policy.
 */
(function (window, document) {
  'use strict';

  var VERSION = '9.0.0-emulator';

  // Where this script came from = the emulator. currentScript only exists while the script runs.
  var script = document.currentScript;
  if (!script) {
    var all = document.getElementsByTagName('script');
    for (var i = all.length - 1; i >= 0; i--) {
      if (/\/web-apps\/apps\/api\/documents\/api\.js/.test(all[i].src)) { script = all[i]; break; }
    }
  }
  var SRC = new URL(script ? script.src : '/web-apps/apps/api/documents/api.js', window.location.href);
  var ORIGIN = SRC.origin;
  // Keep any path prefix (reverse proxy) in front of /web-apps/.
  var BASE = ORIGIN + SRC.pathname.replace(/\/web-apps\/apps\/api\/documents\/api\.js$/, '');

  var TYPES = {
    word: ['doc', 'docm', 'docx', 'dot', 'dotm', 'dotx', 'epub', 'fb2', 'fodt', 'hml', 'htm', 'html', 'hwp',
      'hwpx', 'md', 'mht', 'mhtml', 'odt', 'ott', 'pages', 'rtf', 'stw', 'sxw', 'txt', 'wps', 'wpt', 'xml',
      'oform', 'docxf', 'gdoc'],
    cell: ['csv', 'et', 'ett', 'fods', 'numbers', 'ods', 'ots', 'sxc', 'xls', 'xlsb', 'xlsm', 'xlsx', 'xlt',
      'xltm', 'xltx', 'tsv', 'gsheet'],
    slide: ['dps', 'dpt', 'fodp', 'key', 'odg', 'odp', 'otp', 'pot', 'potm', 'potx', 'pps', 'ppsm', 'ppsx',
      'ppt', 'pptm', 'pptx', 'sxi', 'gslides'],
    pdf: ['djvu', 'oxps', 'pdf', 'xps'],
    diagram: ['vsdm', 'vsdx', 'vssm', 'vssx', 'vstm', 'vstx']
  };
  var ALIASES = { text: 'word', spreadsheet: 'cell', presentation: 'slide' };
  var DEFAULT_EXT = { word: 'docx', cell: 'xlsx', slide: 'pptx', pdf: 'pdf', diagram: 'vsdx' };
  var APPS = { word: 'documenteditor', cell: 'spreadsheeteditor', slide: 'presentationeditor',
    pdf: 'pdfeditor', diagram: 'visioeditor' };
  var METHODS = ['refreshHistory', 'setHistoryData', 'setUsers', 'setActionLink', 'refreshFile',
    'requestClose', 'showMessage', 'denyEditingRights', 'setFavorite', 'setSharingSettings',
    'insertImage', 'setRequestedDocument', 'setRequestedSpreadsheet', 'setReferenceData',
    'setReferenceSource', 'downloadAs', 'startFilling', 'setRevisedFile', 'setMailMergeRecipients'];

  function typeOf(ext) {
    for (var t in TYPES) {
      if (Object.prototype.hasOwnProperty.call(TYPES, t) && TYPES[t].indexOf(ext) >= 0) { return t; }
    }
    return null;
  }

  function randomKey() {
    var bytes = new Uint8Array(10);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }

  // An editor that was refused by the client-side checks: methods exist but do nothing.
  function inertEditor() {
    var api = { destroyEditor: function () {} };
    METHODS.forEach(function (m) { api[m] = function () {}; });
    return api;
  }

  function DocEditor(placeholderId, config) {
    config = config || {};
    var handlers = config.events || {};
    var doc = config.document;
    var hasFileType = doc && typeof doc.fileType === 'string' && doc.fileType !== '';
    var hasDocType = typeof config.documentType === 'string' && config.documentType !== '';
    if (!doc || !doc.url || (!hasFileType && !hasDocType)) {
      window.alert('One or more required parameter for the config object is not set');
      return inertEditor();
    }
    var docType = hasDocType ? (ALIASES[config.documentType] || config.documentType) : null;
    if (docType) {
      if (ALIASES[config.documentType]) {
        console.warn('The "documentType" value "' + config.documentType + '" is deprecated; use "' + docType + '".');
      }
      if (!APPS[docType]) {
        window.alert('The "documentType" parameter for the config object is invalid. Please correct it.');
        return inertEditor();
      }
    }
    if (hasFileType) {
      doc.fileType = doc.fileType.toLowerCase();
      var inferred = typeOf(doc.fileType);
      if (!inferred) {
        window.alert('The "document.fileType" parameter for the config object is invalid. Please correct it.');
        return inertEditor();
      }
      docType = docType || inferred;
    } else {
      doc.fileType = DEFAULT_EXT[docType];
    }
    config.documentType = docType;
    if (!doc.title) { doc.title = 'Unnamed.' + doc.fileType; }
    if (doc.key === undefined || doc.key === null || doc.key === '') {
      doc.key = randomKey();
    } else if (typeof doc.key !== 'string') {
      window.alert('The "document.key" parameter for the config object is invalid. Please correct it.');
      return inertEditor();
    }
    var user = config.editorConfig && config.editorConfig.user;
    if (user && typeof user.id === 'number') {
      console.warn('The "editorConfig.user.id" parameter should be a string.');
      user.id = String(user.id);
    }
    if (config.token) { doc.token = config.token; }

    var placeholder = document.getElementById(placeholderId);
    if (!placeholder) {
      console.error('DocsAPI.DocEditor: no element with id "' + placeholderId + '"');
      return inertEditor();
    }

    // Functions cannot cross postMessage: send the config without events, plus the handler names.
    var plain = {};
    Object.keys(config).forEach(function (k) { if (k !== 'events') { plain[k] = config[k]; } });
    plain = JSON.parse(JSON.stringify(plain));
    var eventNames = Object.keys(handlers).filter(function (n) { return typeof handlers[n] === 'function'; });

    var variant = config.type === 'mobile' ? 'mobile' : (config.type === 'embedded' ? 'embed' : 'main');
    var query = new URLSearchParams({
      _dc: '0',
      lang: (config.editorConfig && config.editorConfig.lang) || 'en',
      type: config.type || 'desktop',
      frameEditorId: placeholderId,
      parentOrigin: window.location.origin,
      fileType: doc.fileType
    });
    var iframe = document.createElement('iframe');
    iframe.name = 'frameEditor';
    iframe.id = placeholderId;
    iframe.title = 'Document Server emulator';
    iframe.setAttribute('allowfullscreen', '');
    iframe.setAttribute('allow', 'clipboard-read; clipboard-write');
    // element.style is CSSOM, which a strict style-src policy allows (a style attribute would not).
    iframe.style.width = config.width || '100%';
    iframe.style.height = config.height || '100%';
    iframe.style.border = '0';
    iframe.src = BASE + '/web-apps/apps/' + APPS[docType] + '/' + variant + '/index.html?' + query.toString();

    var ready = false;
    var queue = [];
    var api = {};

    function send(msg) {
      if (!iframe || !iframe.contentWindow) { return; }
      msg.frameEditorId = placeholderId;
      iframe.contentWindow.postMessage(msg, ORIGIN);
    }

    function fire(name, data) {
      var handler = handlers[name];
      if (typeof handler === 'function') { handler({ target: api, data: data }); }
    }

    function onMessage(event) {
      // Only our own iframe, from the emulator's origin.
      if (!iframe || event.origin !== ORIGIN || event.source !== iframe.contentWindow) { return; }
      var msg = event.data;
      if (!msg || typeof msg !== 'object' || msg.frameEditorId !== placeholderId) { return; }
      if (msg.type === 'emu:ready') {
        send({ type: 'emu:init', config: plain, events: eventNames });
        ready = true;
        queue.splice(0).forEach(send);
      } else if (msg.type === 'emu:event' && typeof msg.name === 'string') {
        fire(msg.name, msg.data);
      }
    }
    window.addEventListener('message', onMessage);

    function call(name, data) {
      var msg = { type: 'emu:method', name: name, data: data === undefined ? null : data };
      if (ready) { send(msg); } else { queue.push(msg); }
    }

    METHODS.forEach(function (m) { api[m] = function (arg) { call(m, arg); }; });
    api.destroyEditor = function () {
      if (!iframe) { return; }
      // The iframe leaves the session from its pagehide handler when it is removed.
      window.removeEventListener('message', onMessage);
      var div = document.createElement('div');
      div.id = placeholderId;
      if (iframe.parentNode) { iframe.parentNode.replaceChild(div, iframe); }
      iframe = null;
    };

    placeholder.parentNode.replaceChild(iframe, placeholder);
    return api;
  }

  DocEditor.version = function () { return VERSION; };
  DocEditor.warmUp = function () {};

  window.DocsAPI = window.DocsAPI || {};
  window.DocsAPI.DocEditor = DocEditor;
}(window, document));
