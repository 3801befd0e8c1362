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
  });
  // Pickers once htmx has settled: until then a swapped-in element that has the id of the one it
  // replaces carries the old element's attributes (htmx's attribute settling), so a select that
  // was a TomSelect before would look initialised already, or lose TomSelect's classes after.
  document.body.addEventListener("htmx:afterSettle", function (evt) {
    initPickers(evt.detail.target);
  });
  // A 4xx answer to a modal form still carries the form with its errors: show it.
  document.body.addEventListener("htmx:beforeSwap", function (evt) {
    const status = evt.detail.xhr.status;
    const target = evt.detail.target;
    // A 4xx answer to a form still carries the form with its errors: show it (modal or inline).
    if (status >= 400 && status < 500 && target && (target.id === "modal-content" || target.hasAttribute("data-swap-errors"))) {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
    }
  });
  // An answer that brings new content for the modal (a batch result) also sends objectSaved to
  // refresh the list; htmx fires it before the swap, and hiding the modal then would drop the
  // result: Bootstrap ignores the show() that follows while the modal is fading out.
  let modalGetsContent = false;
  document.body.addEventListener("htmx:beforeOnLoad", function (evt) {
    const target = evt.detail.target;
    const xhr = evt.detail.xhr;
    modalGetsContent = !!(target && target.id === "modal-content" && xhr.status === 200 && xhr.responseText);
  });
  document.body.addEventListener("objectSaved", function (evt) {
    if (modal && !modalGetsContent) modal.hide();
    modalGetsContent = false;
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

  // 取消 on full-page forms: back to where the user came from (no javascript: URL, see the CSP);
  // the link's own href when there is no page to go back to.
  document.body.addEventListener("click", function (evt) {
    const link = evt.target.closest && evt.target.closest("a[data-history-back]");
    if (link && window.history.length > 1) {
      evt.preventDefault();
      window.history.back();
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
      // clearAfterSelect: the text typed to find one employee must not stay for the next one.
      new TomSelect(el, {
        plugins: el.multiple ? ["remove_button"] : [],
        maxOptions: 500,
        allowEmptyOption: true,
        clearAfterSelect: true,
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { initPickers(document); });

  // Sticky list columns (kehu-sticky: checkbox, 操作, name): each one's left offset is the
  // width of those before it, measured once the table is laid out (CSS makes them sticky only
  // on wide screens; on a phone the offsets are harmless).
  function stickColumns(root) {
    (root || document).querySelectorAll("table.datatable").forEach(function (table) {
      const head = table.querySelectorAll("thead th.kehu-sticky");
      let left = 0;
      head.forEach(function (th, i) {
        const index = th.cellIndex;
        const last = i === head.length - 1;
        table.querySelectorAll("tr").forEach(function (tr) {
          const cell = tr.cells[index];
          if (!cell || !cell.classList.contains("kehu-sticky")) return;
          cell.style.left = left + "px";
          cell.classList.toggle("kehu-sticky-last", last);
        });
        left += th.getBoundingClientRect().width;
      });
    });
  }
  window.kehuStickColumns = stickColumns;
  document.addEventListener("DOMContentLoaded", function () { stickColumns(document); });
  document.body.addEventListener("htmx:afterSettle", function (evt) { stickColumns(evt.detail.target); });
  window.addEventListener("resize", function () { stickColumns(document); });

  // hx-confirm in the app's own modal, not the browser's confirm() (批量删除 …): 确定 issues the
  // request, whose answer (the batch result) replaces the question in the same modal.
  document.body.addEventListener("htmx:confirm", function (evt) {
    const question = evt.detail.question;
    if (!question || !modal) return;
    evt.preventDefault();
    const danger = evt.detail.elt.dataset.confirmDanger === "1";
    const box = document.getElementById("modal-content");
    box.innerHTML =
      '<div class="modal-status ' + (danger ? "bg-danger" : "bg-primary") + '"></div>' +
      '<div class="modal-body text-center py-4">' +
      '<i class="ti ti-alert-triangle fs-1 ' + (danger ? "text-danger" : "text-primary") + '"></i>' +
      '<h3 data-testid="confirm-question"></h3></div>' +
      '<div class="modal-footer"><div class="w-100"><div class="row">' +
      '<div class="col"><button type="button" class="btn w-100" data-bs-dismiss="modal">取消</button></div>' +
      '<div class="col"><button type="button" class="btn w-100 ' + (danger ? "btn-danger" : "btn-primary") +
      '" data-testid="confirm-ok">确定</button></div></div></div></div>';
    box.querySelector("h3").textContent = question;
    const dialog = modalEl.querySelector(".modal-dialog");
    dialog.classList.remove("modal-sm", "modal-lg", "modal-xl");
    dialog.classList.add("modal-sm");
    box.querySelector("[data-testid=confirm-ok]").addEventListener("click", function (click) {
      click.currentTarget.disabled = true;
      evt.detail.issueRequest(true);
    });
    modal.show();
  });
})();

// Cascading 省/市/区 pickers over /api/v1/regions; choosing a division fills its centroid.
(function () {
  function fill(select, items) {
    // the select's own empty label (请选择 in forms, 全部 in search panels)
    const first = select.querySelector('option[value=""]');
    const placeholder = first ? first.textContent : "请选择";
    select.innerHTML = "";
    const empty = document.createElement("option");
    empty.value = ""; empty.textContent = placeholder;
    select.appendChild(empty);
    items.forEach(function (r) {
      const opt = document.createElement("option");
      opt.value = r.adcode; opt.textContent = r.name;
      opt.dataset.lng = r.longitude == null ? "" : r.longitude;
      opt.dataset.lat = r.latitude == null ? "" : r.latitude;
      select.appendChild(opt);
    });
  }
  function setCoords(form, select) {
    const opt = select.selectedOptions[0];
    if (!opt || !opt.value) return;
    const lng = form.querySelector('[data-region="longitude"]');
    const lat = form.querySelector('[data-region="latitude"]');
    if (lng && opt.dataset.lng) lng.value = opt.dataset.lng;
    if (lat && opt.dataset.lat) lat.value = opt.dataset.lat;
  }
  function load(parent) {
    return fetch("/api/v1/regions?parent=" + encodeURIComponent(parent), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : []; });
  }
  document.body.addEventListener("change", function (evt) {
    const el = evt.target;
    const level = el.dataset && el.dataset.region;
    if (!level || ["province", "city", "district"].indexOf(level) < 0) return;
    const form = el.closest("form");
    const city = form.querySelector('[data-region="city"]');
    const district = form.querySelector('[data-region="district"]');
    if (level === "province") {
      fill(city, []); fill(district, []);
      if (el.value) load(el.value).then(function (items) {
        const cities = items.filter(function (r) { return r.level === 2; });
        fill(city, cities);
        // 直辖市 and 省直辖 counties hang directly under the province.
        fill(district, items.filter(function (r) { return r.level === 3; }));
      });
    } else if (level === "city") {
      fill(district, []);
      if (el.value) load(el.value).then(function (items) { fill(district, items); });
    }
    setCoords(form, el);
  });
})();

// Search-as-you-type pickers over the API (e.g. the customer of a new contact). The options'
// label is their "name", or the key data-label-field names (the 产品 picker's "text").
(function () {
  function initRemote(root) {
    if (!window.TomSelect) return;
    (root || document).querySelectorAll("select[data-remote]:not(.tomselected)").forEach(function (el) {
      var label = el.dataset.labelField || "name";
      // preload on focus: the first entries (e.g. employees) show before anything is typed
      new TomSelect(el, {
        valueField: "id", labelField: label, searchField: [label], maxOptions: 50, preload: "focus",
        shouldLoad: function () { return true; },
        load: function (query, callback) {
          fetch(el.dataset.remote + "?page_size=50&q=" + encodeURIComponent(query), { credentials: "same-origin" })
            .then(function (r) { return r.json(); })
            .then(function (body) { callback(body.items || []); })
            .catch(function () { callback(); });
        },
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { initRemote(document); });
  document.body.addEventListener("htmx:afterSettle", function (evt) { initRemote(evt.detail.target); });
})();

// 添加一行: a new line-item row of a quote/contract form, cloned from the formset's empty form.
(function () {
  document.body.addEventListener("click", function (evt) {
    const button = evt.target.closest("[data-add-line-item]");
    if (!button) return;
    const box = button.closest("[data-line-items]");
    const total = box.querySelector('input[name="items-TOTAL_FORMS"]');
    const template = box.querySelector("template[data-line-item-template]");
    const index = parseInt(total.value, 10);
    if (index >= 200) return;
    const html = template.innerHTML.replace(/__prefix__/g, String(index));
    const tbody = box.querySelector("[data-line-item-rows]");
    tbody.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    if (window.TomSelect) {
      tbody.lastElementChild.querySelectorAll("select[data-picker]").forEach(function (el) {
        new TomSelect(el, { allowEmptyOption: true, maxOptions: 500 });
      });
    }
  });
})();

// The 通知代办 badges (sidebar, header): loaded once the page is there — no page waits for the
// count — and again after every save (a follow-up added or done, a document approved …).
(function () {
  let pending = null;
  function refreshTodo() {
    const url = document.body.dataset.todoCountUrl;
    if (!url) return Promise.resolve();
    if (pending) return pending;
    pending = fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) return;
        const some = body.count > 0;
        document.querySelectorAll("[data-todo-badge]").forEach(function (el) {
          el.textContent = body.label;
          el.classList.remove("invisible");
          el.classList.toggle("bg-red", some);
          el.classList.toggle("text-red-fg", some);
          el.classList.toggle("bg-secondary-lt", !some);
        });
        document.querySelectorAll("[data-todo-count]").forEach(function (el) {
          el.textContent = body.label;
          el.classList.toggle("d-none", !some);
        });
        document.body.dataset.todoLoaded = String(body.count);
      })
      .catch(function () {})
      .finally(function () { pending = null; });
    return pending;
  }
  window.kehuRefreshTodo = refreshTodo;
  document.addEventListener("DOMContentLoaded", refreshTodo);
  document.body.addEventListener("objectSaved", function () { setTimeout(refreshTodo, 0); });
})();
