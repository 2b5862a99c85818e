// Site behaviour that needs script: the Create document menu presets the dialog.
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
  modal.addEventListener("show.bs.modal", function (event) {
    var trigger = event.relatedTarget;
    if (trigger && trigger.dataset.kind) kind.value = trigger.dataset.kind;
    retitle();
  });
  kind.addEventListener("change", retitle);
  modal.addEventListener("shown.bs.modal", function () {
    modal.querySelector("input[name=name]").focus();
  });
});
