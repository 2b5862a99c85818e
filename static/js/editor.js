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
    show("The ONLYOFFICE Docs editor could not be loaded. The Document Server may be down or unreachable " +
         "from your browser; please try again later or tell an administrator.");
    return;
  }

  var config = JSON.parse(document.getElementById("docs-config").textContent);
  var unsaved = false;

  config.events = {
    onAppReady: function () { document.body.dataset.editorReady = "true"; },
    onDocumentReady: function () { document.body.dataset.documentReady = "true"; },
    onDocumentStateChange: function (event) { unsaved = !!event.data; },
    onRequestClose: function () {
      if (links.back) { window.location.href = links.back; } else { window.docEditor.destroyEditor(); show("The document is closed. You can close this tab."); }
    },
    onError: function (event) {
      var data = event && event.data ? event.data : {};
      show("The editor reported an error (" + data.errorCode + "): " + (data.errorDescription || "unknown error"));
    }
  };

  window.addEventListener("beforeunload", function (event) {
    if (unsaved) { event.preventDefault(); event.returnValue = ""; }
  });

  window.docEditor = new DocsAPI.DocEditor("docs-placeholder", config);
})();
