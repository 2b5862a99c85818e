// The file picker of the editor page: a dialog listing the files of one kind the person may read and
// download, searched as they type. Keyboard: type to search, Up/Down to move, Enter to choose,
// Esc to close; focus goes back to the editor afterwards (the ARIA combobox-with-listbox pattern).
(function () {
  "use strict";
  var box = document.getElementById("picker");
  if (!box || typeof window.bootstrap === "undefined") { return; }
  var modal = window.bootstrap.Modal.getOrCreateInstance(box);
  var search = document.getElementById("picker-search");
  var list = document.getElementById("picker-list");
  var empty = document.getElementById("picker-empty");
  var failure = document.getElementById("picker-error");
  var chooseButton = document.getElementById("picker-choose");
  var state = {kind: null, onChosen: null, files: [], active: -1, timer: null, asked: 0};

  function setActive(index) {
    state.active = index;
    Array.prototype.forEach.call(list.children, function (item, i) {
      item.setAttribute("aria-selected", i === index ? "true" : "false");
      item.classList.toggle("active", i === index);
      if (i === index) { item.scrollIntoView({block: "nearest"}); }
    });
    if (index >= 0) { search.setAttribute("aria-activedescendant", "picker-option-" + index); }
    else { search.removeAttribute("aria-activedescendant"); }
    chooseButton.disabled = index < 0;
  }

  function render(files) {
    state.files = files;
    list.textContent = "";
    files.forEach(function (file, i) {
      var item = document.createElement("li");
      item.id = "picker-option-" + i;
      item.className = "list-group-item list-group-item-action";
      item.setAttribute("role", "option");
      item.dataset.fileId = file.id;
      var title = document.createElement("span");
      title.className = "fw-semibold";
      title.textContent = file.title;
      var where = document.createElement("span");
      where.className = "small d-block";
      where.textContent = file.space;
      item.appendChild(title);
      item.appendChild(where);
      item.addEventListener("mousedown", function (event) { event.preventDefault(); });  // keep focus in the search
      item.addEventListener("click", function () { setActive(i); choose(); });
      list.appendChild(item);
    });
    empty.classList.toggle("d-none", files.length > 0);
    setActive(files.length ? 0 : -1);
  }

  function load() {
    var asked = ++state.asked;
    var query = new URLSearchParams({kind: state.kind, q: search.value});
    fetch(box.dataset.list + "?" + query.toString(), {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (answer) { if (asked === state.asked) { render(answer.files || []); } });
  }

  function choose() {
    var file = state.files[state.active];
    if (!file || !state.onChosen) { return; }
    failure.classList.add("d-none");
    state.onChosen(file.id).then(function (ok) {
      if (ok) { modal.hide(); } else { failure.classList.remove("d-none"); }
    });
  }

  search.addEventListener("input", function () {
    window.clearTimeout(state.timer);
    state.timer = window.setTimeout(load, 200);
  });
  search.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" && state.files.length) {
      event.preventDefault();
      setActive(Math.min(state.active + 1, state.files.length - 1));
    } else if (event.key === "ArrowUp" && state.files.length) {
      event.preventDefault();
      setActive(Math.max(state.active - 1, 0));
    } else if (event.key === "Enter") {
      event.preventDefault();
      choose();
    }
  });
  chooseButton.addEventListener("click", choose);
  box.addEventListener("shown.bs.modal", function () { search.focus(); });
  box.addEventListener("hidden.bs.modal", function () {
    state.onChosen = null;
    // Back where the request came from: the editor's frame.
    var frame = document.querySelector(".editor-frame iframe");
    if (frame) { frame.focus(); }
  });

  // kind: image, document or spreadsheet; onChosen(fileId) answers a promise of whether it worked.
  window.coeditPicker = {
    open: function (kind, onChosen) {
      state.kind = kind;
      state.onChosen = onChosen;
      document.getElementById("picker-title").textContent = box.dataset["title" + kind.charAt(0).toUpperCase() + kind.slice(1)];
      search.value = "";
      failure.classList.add("d-none");
      render([]);
      empty.classList.add("d-none");
      load();
      modal.show();
    }
  };
})();
