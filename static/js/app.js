// Site behaviour that needs script: the Create document menu presets the dialog.
document.addEventListener("DOMContentLoaded", function () {
  var modal = document.getElementById("create-modal");
  if (!modal) return;
  modal.addEventListener("show.bs.modal", function (event) {
    var trigger = event.relatedTarget;
    if (!trigger || !trigger.dataset.kind) return;
    modal.querySelector("select[name=kind]").value = trigger.dataset.kind;
    modal.querySelector(".modal-title").textContent = "New " + trigger.dataset.label.toLowerCase();
  });
  modal.addEventListener("shown.bs.modal", function () {
    modal.querySelector("input[name=name]").focus();
  });
});
