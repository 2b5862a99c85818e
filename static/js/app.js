// Site behaviour that needs script: the Create document menu presets the dialog, and uploads
// show each file's progress. Without script the forms work as plain forms.
document.addEventListener("DOMContentLoaded", function () {
  var modal = document.getElementById("create-modal");
  if (!modal) return;
  var kind = modal.querySelector("select[name=kind]");
  var title = modal.querySelector(".modal-title");
  // The title names the type chosen, as the menu item says it ("New PDF form", not "New pdf form").
  function retitle() {
    var item = document.querySelector('[data-bs-target="#create-modal"][data-kind="' + kind.value + '"]');
    if (item && item.dataset.title) title.textContent = item.dataset.title;
  }
  var template = modal.querySelector("select[name=template]");
  modal.addEventListener("show.bs.modal", function (event) {
    var trigger = event.relatedTarget;
    if (trigger && trigger.dataset.kind) kind.value = trigger.dataset.kind;
    if (template && trigger) template.value = trigger.dataset.template || "";
    retitle();
  });
  kind.addEventListener("change", function () {
    // Another type than the template's: start blank.
    var chosen = template && document.querySelector('.template-choice[data-template="' + template.value + '"]');
    if (chosen && chosen.dataset.kind !== kind.value) template.value = "";
    retitle();
  });
  if (template) {
    // A template sets the type: the dialog shows the one the document will have.
    template.addEventListener("change", function () {
      var chosen = document.querySelector('.template-choice[data-template="' + template.value + '"]');
      if (chosen) kind.value = chosen.dataset.kind;
      retitle();
    });
  }
  modal.addEventListener("shown.bs.modal", function () {
    modal.querySelector("input[name=name]").focus();
  });
});

// Uploads: one request per file to the form's own address, with its CSRF token, showing a
// progress bar and, for a file refused, why in plain words. Dropping files on the dialog or on
// the file list uploads them the same way.
document.addEventListener("DOMContentLoaded", function () {
  var dialog = document.getElementById("upload-modal");
  if (!dialog || !window.XMLHttpRequest || !window.FormData) return;
  var form = dialog.querySelector("form");
  var input = form.querySelector("input[type=file]");
  var list = document.getElementById("upload-progress");
  var drop = document.getElementById("upload-drop");
  var stored = 0;
  var running = 0;
  var serial = 0;

  function explain(xhr) {
    if (xhr.status === 413) return coeditText("The file is larger than the server accepts.");
    if (xhr.status === 0) return coeditText("The upload was interrupted: check the connection and try again.");
    try {
      var answer = JSON.parse(xhr.responseText);
      if (answer && answer.error) return answer.error.replace(/^[^:]*: /, "");
    } catch (ignored) { /* not JSON: an error page */ }
    if (xhr.status === 400) return coeditText("The page has expired: reload it and try again.");
    return coeditText("The server could not store the file (error %(status)s).", { status: xhr.status });
  }

  function uploadOne(file) {
    serial += 1;
    var item = document.createElement("li");
    item.className = "mb-2 upload-item";
    var name = document.createElement("div");
    name.className = "small text-break";
    name.textContent = file.name;
    var bar = document.createElement("div");
    bar.className = "progress";
    bar.setAttribute("role", "progressbar");
    bar.setAttribute("aria-label", coeditText("Upload of %(name)s", { name: file.name }));
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", "100");
    bar.setAttribute("aria-valuenow", "0");
    var fill = document.createElement("div");
    fill.className = "progress-bar";
    fill.style.width = "0%";
    bar.appendChild(fill);
    var status = document.createElement("div");
    status.className = "small upload-status";
    item.appendChild(name);
    item.appendChild(bar);
    item.appendChild(status);
    list.appendChild(item);

    var data = new FormData();
    form.querySelectorAll("input[type=hidden]").forEach(function (hidden) {
      data.append(hidden.name, hidden.value);  // csrf_token and folder
    });
    data.append("file", file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (event) {
      if (!event.lengthComputable) return;
      var percent = Math.round((event.loaded / event.total) * 100);
      fill.style.width = percent + "%";
      bar.setAttribute("aria-valuenow", String(percent));
    });
    xhr.addEventListener("loadend", function () {
      running -= 1;
      if (xhr.status === 201) {
        stored += 1;
        fill.style.width = "100%";
        fill.classList.add("bg-success");
        bar.setAttribute("aria-valuenow", "100");
        status.textContent = coeditText("Uploaded.");
        status.classList.add("text-success");
        item.classList.add("upload-done");
      } else {
        fill.classList.add("bg-danger");
        status.textContent = explain(xhr);
        status.classList.add("text-danger");
        item.classList.add("upload-failed");
      }
      if (running === 0 && !list.querySelector(".upload-failed")) {
        window.location.reload();  // everything stored: show it in the list
      }
    });
    running += 1;
    xhr.send(data);
  }

  function uploadAll(files) {
    list.textContent = "";
    Array.prototype.forEach.call(files, uploadOne);
    input.value = "";
  }

  form.addEventListener("submit", function (event) {
    if (!input.files || !input.files.length) return;  // the server says "Choose a file"
    event.preventDefault();
    uploadAll(input.files);
  });

  function accept(target, onDrop) {
    ["dragenter", "dragover"].forEach(function (type) {
      target.addEventListener(type, function (event) {
        if (!event.dataTransfer || Array.prototype.indexOf.call(event.dataTransfer.types, "Files") < 0) return;
        event.preventDefault();
        target.classList.add("upload-drag");
      });
    });
    ["dragleave", "drop"].forEach(function (type) {
      target.addEventListener(type, function () { target.classList.remove("upload-drag"); });
    });
    target.addEventListener("drop", function (event) {
      if (!event.dataTransfer || !event.dataTransfer.files.length) return;
      event.preventDefault();
      onDrop(event.dataTransfer.files);
    });
  }

  accept(drop, uploadAll);
  var table = document.getElementById("files");
  if (table) {
    accept(table, function (files) {
      window.bootstrap.Modal.getOrCreateInstance(dialog).show();
      uploadAll(files);
    });
  }
  dialog.addEventListener("hidden.bs.modal", function () {
    if (stored && running === 0) window.location.reload();
  });
});
