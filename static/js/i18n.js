// The page's language for scripts: the server puts the translations of the scripts' sentences in
// <script type="application/json" id="js-messages">; a sentence not there stays in English.
(function () {
  "use strict";
  var texts = null;
  window.coeditText = function (text, values) {
    if (texts === null) {
      var node = document.getElementById("js-messages");
      try { texts = node ? JSON.parse(node.textContent) : {}; } catch (e) { texts = {}; }
    }
    return (texts[text] || text).replace(/%\((\w+)\)s/g, function (whole, key) {
      return values && key in values ? String(values[key]) : whole;
    });
  };
})();
