// Starts the ONLYOFFICE editor from the signed config the server put in the page.
(function () {
  "use strict";
  var message = document.getElementById("editor-message");
  var links = document.getElementById("editor-links").dataset;

  function show(text) {
    message.textContent = text;
    message.classList.remove("d-none");
  }

  if (typeof window.DocsAPI === "undefined" || typeof window.DocsAPI.DocEditor !== "function") {
    show(coeditText("The ONLYOFFICE Docs editor could not be loaded. The Document Server may be down or unreachable " +
                    "from your browser; please try again later or tell an administrator."));
    return;
  }

  // A calm end: the editor goes, a note says where to go next (or, for a guest, that the tab can close).
  function closed(ended) {
    if (window.docEditor && typeof window.docEditor.destroyEditor === "function") { window.docEditor.destroyEditor(); }
    message.classList.add("d-none");
    document.querySelector(".editor-frame").classList.add("d-none");
    if (ended) { document.getElementById("editor-closed-why").classList.remove("d-none"); }
    var box = document.getElementById("editor-closed");
    box.classList.remove("d-none");
    box.focus();
    document.getElementById("editor-mode").textContent = "Closed";
    document.body.dataset.editorClosed = "true";
  }

  var config = JSON.parse(document.getElementById("docs-config").textContent);
  var unsaved = false;

  config.events = {
    onAppReady: function () { document.body.dataset.editorReady = "true"; },
    onDocumentReady: function () { document.body.dataset.documentReady = "true"; },
    onDocumentStateChange: function (event) { unsaved = !!event.data; },
    onRequestClose: function () {
      // The editor itself asked to close, after its own warning about unsaved changes: no second one.
      unsaved = false;
      closed();
      if (links.back) { window.location.href = links.back; }
    },
    onError: function (event) {
      var data = event && event.data ? event.data : {};
      // -100: the session was ended from the server (a drop: revoked link, changed rights, a
      // deleted file). Nothing went wrong on the reader's side, so it ends as a close does.
      if (data.errorCode === -100) { unsaved = false; closed(true); return; }
      show(coeditText("The editor reported an error (%(code)s): %(description)s",
                       { code: data.errorCode, description: data.errorDescription || coeditText("unknown error") }));
    }
  };

  if (links.mentions) {
    var post = function (url, body) {
      return fetch(url, {method: "POST", credentials: "same-origin",
                         headers: {"Content-Type": "application/json", "X-CSRFToken": links.csrf},
                         body: JSON.stringify(body)}).then(function (r) { return r.json(); });
    };
    // @mentions: the people who can read the file, filtered and paged as the editor asks.
    config.events.onRequestUsers = function (event) {
      var data = event.data || {};
      var query = new URLSearchParams({c: data.c || "mention", search: data.search || "",
                                       from: data.from || 0, count: data.count || 50});
      fetch(links.mentions + "?" + query.toString(), {credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(function (answer) { window.docEditor.setUsers(answer); });
    };
    config.events.onRequestSendNotify = function (event) {
      post(links.notify, event.data || {}).then(function (answer) {
        if (!answer.no_access || !answer.no_access.length) return;
        var names = answer.no_access.map(function (p) { return p.name; }).join(", ");
        if (answer.can_grant && window.confirm(names + " cannot read this document. Give them read access?")) {
          post(links.grant, {usernames: answer.no_access.map(function (p) { return p.username; })});
        } else if (!answer.can_grant) {
          show(names + " cannot read this document, so they were not notified. Ask its owner to share it.");
        }
      });
    };
    var getJson = function (url) {
      return fetch(url, {credentials: "same-origin"}).then(function (r) { return r.json(); });
    };
    // Version history inside the editor.
    config.events.onRequestHistory = function () {
      getJson(links.history).then(function (answer) { window.docEditor.refreshHistory(answer); });
    };
    config.events.onRequestHistoryData = function (event) {
      getJson(links.historyVersion + encodeURIComponent(event.data))
        .then(function (answer) { window.docEditor.setHistoryData(answer); });
    };
    config.events.onRequestHistoryClose = function () { window.location.reload(); };
    if (links.restore) {
      config.events.onRequestRestore = function (event) {
        post(links.restore + encodeURIComponent(event.data.version) + "/restore", {})
          .then(function () { return getJson(links.history); })
          .then(function (answer) { window.docEditor.refreshHistory(answer); });
      };
    }
    if (links.rename) {
      config.events.onRequestRename = function (event) {
        post(links.rename, {title: event.data}).then(function (answer) {
          if (answer.title) { document.getElementById("editor-title").textContent = answer.title; }
        });
      };
    }
    config.events.onRequestSaveAs = function (event) {
      post(links.saveAs, event.data || {}).then(function (answer) {
        if (answer.title) { window.docEditor.showMessage(coeditText("Saved a copy as %(title)s.", { title: answer.title })); }
        else { show(coeditText("The copy could not be saved: %(error)s", { error: answer.error || coeditText("unknown error") })); }
      });
    };
    // Reopened with an outdated key (the file changed meanwhile): load the current one.
    config.events.onRequestRefreshFile = function () {
      getJson(links.refresh).then(function (fresh) { window.docEditor.refreshFile(fresh); });
    };
    config.events.onMakeActionLink = function (event) {
      window.docEditor.setActionLink(links.open + "?action=" + encodeURIComponent(JSON.stringify(event.data)));
    };
    // Other files for the editor: it asks, the person picks one, url answers the signed object its
    // method takes (a short-lived link Docs fetches for this person); a refusal leaves the picker
    // open with a note.
    var pickFor = function (kind, url, body, method) {
      window.coeditPicker.open(kind, function (fileId) {
        return fetch(url, {method: "POST", credentials: "same-origin",
                           headers: {"Content-Type": "application/json", "X-CSRFToken": links.csrf},
                           body: JSON.stringify(Object.assign({file_id: fileId}, body))})
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (answer) {
            if (answer && typeof window.docEditor[method] === "function") { window.docEditor[method](answer); }
            return !!answer;
          });
      });
    };
    if (links.picked && window.coeditPicker) {
      var pick = function (kind, command, method) {
        pickFor(kind, links.picked, {kind: kind, c: command}, method);
      };
      config.events.onRequestInsertImage = function (event) {
        pick("image", (event.data && event.data.c) || "add", "insertImage");
      };
      config.events.onRequestSelectDocument = function (event) {
        pick("document", (event.data && event.data.c) || "compare", "setRequestedDocument");
      };
      config.events.onRequestSelectSpreadsheet = function (event) {
        pick("spreadsheet", (event.data && event.data.c) || "mailmerge", "setRequestedSpreadsheet");
      };
      // The names Docs before 7.5 used for compare and mail merge.
      config.events.onRequestCompareFile = function () { pick("document", "compare", "setRevisedFile"); };
      config.events.onRequestMailMergeRecipients = function () {
        pick("spreadsheet", "mailmerge", "setMailMergeRecipients");
      };
    }
    // Linked data between spreadsheets: document.referenceData names our file id and installation.
    if (config.document.referenceData) {
      var openFile = function (fileKey, windowName) {
        window.open(links.openTemplate.replace(/\/0\/open$/, "/" + encodeURIComponent(fileKey) + "/open"),
                    windowName || "_blank");
      };
      config.events.onRequestReferenceData = function (event) {
        post(links.reference, event.data || {}).then(function (answer) { window.docEditor.setReferenceData(answer); });
      };
      // "Change source": the person picks the spreadsheet the link takes its data from instead.
      if (links.referenceSource && window.coeditPicker) {
        config.events.onRequestReferenceSource = function () {
          pickFor("spreadsheet", links.referenceSource, {}, "setReferenceSource");
        };
      }
      config.events.onRequestOpen = function (event) {
        var data = event.data || {};
        var reference = data.referenceData || {};
        if (reference.instanceId === config.document.referenceData.instanceId && /^\d+$/.test(reference.fileKey || "")) {
          openFile(reference.fileKey, data.windowName);
          return;
        }
        post(links.reference, data).then(function (answer) {
          if (answer.referenceData) { openFile(answer.referenceData.fileKey, data.windowName); }
        });
      };
    }
  }

  window.addEventListener("beforeunload", function (event) {
    if (unsaved) { event.preventDefault(); event.returnValue = ""; }
  });

  window.docEditor = new DocsAPI.DocEditor("docs-placeholder", config);
})();
