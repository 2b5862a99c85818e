// The file page after Convert: ask the job's status (GET /api/v1/jobs/<id>) until it ends, show
// the percent, then a link to the new file, or the error and, for a password-protected file, the
// password form.
(function () {
  "use strict";
  var box = document.getElementById("conversion");
  if (!box) return;
  var bar = document.getElementById("conversion-progress");
  var status = document.getElementById("conversion-status");
  var result = document.getElementById("conversion-result");
  var passwordForm = document.getElementById("conversion-password");
  var fileUrl = box.dataset.fileUrl.replace(/0$/, "");

  function show(job) {
    bar.value = job.percent || 0;
    bar.textContent = (job.percent || 0) + "%";
    if (job.status === "queued") {
      status.textContent = coeditText("Waiting for its turn…");
    } else if (job.status === "running") {
      status.textContent = coeditText("Converting… %(percent)s%%", { percent: job.percent || 0 }).replace("%%", "%");
    } else if (job.status === "done") {
      bar.value = 100;
      status.textContent = coeditText("Done.");
      result.textContent = "";
      if (job.file) {
        var link = document.createElement("a");
        link.id = "conversion-file";
        link.className = "btn btn-sm btn-success";
        link.href = fileUrl + job.file.id;
        link.textContent = coeditText("Open %(title)s", { title: job.file.title });
        result.appendChild(link);
      }
    } else if (job.status === "failed") {
      status.textContent = job.error || coeditText("The conversion failed.");
      status.className = "small text-danger";
      if (job.needs_password) passwordForm.classList.remove("d-none");
    }
  }

  function ask() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (job) {
        show(job);
        if (job.status === "queued" || job.status === "running") setTimeout(ask, 700);
      })
      .catch(function () { setTimeout(ask, 2000); });
  }
  ask();
})();
