// Kehu's small client glue: modals filled by HTMX, select-all checkboxes, toasts, pickers.
(function () {
  const modalEl = document.getElementById("modal");
  const modal = modalEl && window.tabler ? new window.tabler.Modal(modalEl) : null;

  document.body.addEventListener("htmx:afterSwap", function (evt) {
    if (evt.detail.target && evt.detail.target.id === "modal-content" && modal) {
      const size = evt.detail.target.querySelector("[data-modal-size]");
      const dialog = modalEl.querySelector(".modal-dialog");
      dialog.classList.remove("modal-sm", "modal-lg", "modal-xl");
      dialog.classList.add(size ? size.dataset.modalSize : "modal-lg");
      modal.show();
    }
    initPickers(evt.detail.target);
  });
  // A 4xx answer to a modal form still carries the form with its errors: show it.
  document.body.addEventListener("htmx:beforeSwap", function (evt) {
    const status = evt.detail.xhr.status;
    if (status >= 400 && status < 500 && evt.detail.target && evt.detail.target.id === "modal-content") {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
    }
  });
  document.body.addEventListener("objectSaved", function (evt) {
    if (modal) modal.hide();
    const msg = evt.detail && evt.detail.message;
    if (msg) toast(msg);
  });
  document.body.addEventListener("change", function (evt) {
    const el = evt.target;
    if (el.matches("[data-select-all]")) {
      const table = el.closest("table");
      table.querySelectorAll('input[name="pk"]').forEach(function (box) { box.checked = el.checked; });
    }
  });

  function toast(message) {
    const box = document.getElementById("toasts");
    if (!box) return;
    const div = document.createElement("div");
    div.className = "alert alert-success alert-dismissible shadow-sm";
    div.setAttribute("role", "status");
    div.textContent = message;
    box.appendChild(div);
    setTimeout(function () { div.remove(); }, 4000);
  }
  window.kehuToast = toast;

  function initPickers(root) {
    if (!window.TomSelect) return;
    (root || document).querySelectorAll("select[data-picker]:not(.tomselected)").forEach(function (el) {
      new TomSelect(el, { plugins: el.multiple ? ["remove_button"] : [], maxOptions: 500, allowEmptyOption: true });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { initPickers(document); });
})();
