// 客户画像: re-render from the server after any action, the offline map pin, the 同比增幅 charts
// and the 附件 tab's drag-and-drop upload (several files, progress). No inline script (CSP).
(function () {
  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }
  function currentUrl() {
    const url = new URL(window.location.href);
    url.searchParams.delete("opportunity"); // the 商机 row's 跟进 opened its dialog once
    return url;
  }

  // After 编辑 / 分享 / 转移 / 转入公海 / 领取 / 添加 … the whole page comes again from the server:
  // header, actions, summary, masking and tab counts can never stay stale. A customer the user
  // no longer sees (转入公海 without the pool permission, 删除) leaves for the list.
  let refreshing = null;
  function refresh() {
    const root = document.querySelector("[data-portrait]");
    if (!root) return Promise.resolve();
    const leave = root.dataset.leaveUrl;
    const url = currentUrl();
    refreshing = fetch(url.toString(), { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (res) {
        if (res.status === 404 || res.status === 403 || new URL(res.url).pathname !== url.pathname) {
          window.location.href = leave;
          return null;
        }
        return res.text();
      })
      .then(function (html) {
        if (!html) return;
        const doc = new DOMParser().parseFromString(html, "text/html");
        const fresh = doc.querySelector(".page-wrapper");
        const old = document.querySelector(".page-wrapper");
        if (!fresh || !old) { window.location.reload(); return; }
        // The map pin stays as it is when the coordinates did not change (drawn once).
        const oldMap = old.querySelector("[data-portrait-map]");
        const newMap = fresh.querySelector("[data-portrait-map]");
        if (oldMap && newMap && oldMap.dataset.lng === newMap.dataset.lng && oldMap.dataset.lat === newMap.dataset.lat) {
          newMap.replaceWith(oldMap);
        }
        disposeCharts(old);
        old.replaceWith(fresh);
        // the 通知代办 badges (sidebar, header) follow: a follow-up added or done changes them
        if (window.kehuRefreshTodo) window.kehuRefreshTodo();
        document.title = doc.title;
        if (window.htmx) window.htmx.process(fresh);
        init(fresh);
        fresh.dataset.refreshed = String(Date.now());
      });
    return refreshing;
  }
  document.body.addEventListener("objectSaved", function () { refresh(); });
  window.kehuPortraitRefresh = refresh;

  // A chart whose element left the page (the page re-rendered) stops: no animation frame nor
  // resize may touch a detached element.
  function disposeCharts(root) {
    if (!window.echarts) return;
    root.querySelectorAll("[_echarts_instance_]").forEach(function (el) {
      const chart = echarts.getInstanceByDom(el);
      if (chart) chart.dispose();
    });
  }
  function autoResize(chart, el) {
    function onResize() {
      if (!el.isConnected || chart.isDisposed()) {
        window.removeEventListener("resize", onResize);
        if (!chart.isDisposed()) chart.dispose();
        return;
      }
      chart.resize();
    }
    window.addEventListener("resize", onResize);
  }

  function drawMap(el) {
    if (!window.echarts || el.dataset.drawn || !el.isConnected || !el.offsetWidth) return;
    el.dataset.drawn = "1";
    const lng = parseFloat(el.dataset.lng), lat = parseFloat(el.dataset.lat);
    const chart = echarts.init(el);
    const hasChina = !!(echarts.getMap && echarts.getMap("china"));
    // Drawn once, then kept as a picture: a static pin needs no live chart, and a live geo
    // chart must not be moved around when the page re-renders.
    chart.on("finished", function () {
      if (el.dataset.rendered) return;
      const img = new Image();
      img.alt = el.getAttribute("aria-label") || "";
      img.className = "portrait-map-img";
      img.src = chart.getDataURL({ type: "png", pixelRatio: 2, backgroundColor: "#fff" });
      el.dataset.rendered = "1";
      setTimeout(function () { chart.dispose(); el.replaceChildren(img); }, 0);
    });
    function option(withOutline) {
      return {
        animation: false,
        tooltip: { trigger: "item", formatter: function () { return el.dataset.name + "<br>" + lng + ", " + lat; } },
        geo: withOutline ? {
          map: "china", roam: false, silent: true, layoutCenter: ["50%", "50%"], layoutSize: "118%",
          itemStyle: { areaColor: "#eef3fb", borderColor: "#9fb3d1", borderWidth: 0.6 },
          emphasis: { disabled: true }, label: { show: false }
        } : undefined,
        xAxis: withOutline ? undefined : { show: false, min: 73, max: 135 },
        yAxis: withOutline ? undefined : { show: false, min: 18, max: 54 },
        series: [{
          type: "scatter", coordinateSystem: withOutline ? "geo" : "cartesian2d",
          data: [[lng, lat]], symbol: "pin", symbolSize: 26, symbolOffset: [0, "-40%"],
          itemStyle: { color: "#d63939" }
        }]
      };
    }
    try {
      chart.setOption(option(hasChina));
    } catch (e) { // the outline could not be laid out: the pin alone, never a broken page
      chart.clear();
      chart.setOption(option(false));
    }
  }

  function drawYoy(root) {
    const source = root.querySelector("#yoy-data");
    const bar = root.querySelector("[data-yoy-bar]");
    const line = root.querySelector("[data-yoy-trend]");
    if (!source || !window.echarts) return;
    const d = JSON.parse(source.textContent);
    if (bar) {
      const chart = echarts.init(bar);
      chart.on("finished", function () { bar.dataset.rendered = "1"; });
      chart.setOption({
        animationDuration: 300,
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        legend: { top: 0, data: [d.period, d.compare] },
        grid: { left: 8, right: 8, bottom: 8, top: 40, containLabel: true },
        xAxis: { type: "category", data: d.kinds, axisLabel: { interval: 0, rotate: bar.clientWidth < 500 ? 35 : 0 } },
        yAxis: { type: "value" },
        series: [
          { name: d.period, type: "bar", data: d.amount, itemStyle: { color: "#206bc4" } },
          { name: d.compare, type: "bar", data: d.compare_amount, itemStyle: { color: "#a8bfe0" } }
        ]
      });
      autoResize(chart, bar);
    }
    if (line) {
      const chart = echarts.init(line);
      chart.on("finished", function () { line.dataset.rendered = "1"; });
      chart.setOption({
        animationDuration: 300,
        tooltip: { trigger: "axis" },
        legend: { top: 0, data: [d.year + "年", (d.year - 1) + "年"] },
        grid: { left: 8, right: 24, bottom: 8, top: 40, containLabel: true },
        xAxis: { type: "category", data: d.months, boundaryGap: false },
        yAxis: { type: "value" },
        series: [
          { name: d.year + "年", type: "line", data: d.trend, itemStyle: { color: "#206bc4" } },
          { name: (d.year - 1) + "年", type: "line", data: d.trend_previous, itemStyle: { color: "#f59f00" }, lineStyle: { type: "dashed" } }
        ]
      });
      autoResize(chart, line);
    }
  }

  // 附件: drop or choose several files; one request with a progress bar; the page then shows them.
  function initDropzone(zone) {
    if (zone.dataset.ready) return;
    zone.dataset.ready = "1";
    const input = zone.querySelector("input[type=file]");
    const bar = zone.querySelector("[data-upload-progress]");
    const fill = bar && bar.querySelector(".progress-bar");
    const message = zone.querySelector("[data-upload-message]");
    function say(text, ok) {
      message.textContent = text;
      message.className = "small mt-2 " + (ok ? "text-success" : "text-danger");
    }
    function upload(files) {
      if (!files || !files.length) return;
      const form = new FormData();
      Array.prototype.forEach.call(files, function (f) { form.append("files", f); });
      const xhr = new XMLHttpRequest();
      xhr.open("POST", zone.dataset.uploadUrl);
      xhr.setRequestHeader("X-CSRFToken", csrfToken());
      bar.classList.remove("d-none");
      fill.style.width = "0%";
      say("正在上传 " + files.length + " 个文件…", true);
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) fill.style.width = Math.round((e.loaded / e.total) * 100) + "%";
      });
      xhr.addEventListener("load", function () {
        let body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
        if (xhr.status === 201) {
          fill.style.width = "100%";
          if (window.kehuToast) window.kehuToast(body.detail || "已上传");
          refresh();
        } else {
          bar.classList.add("d-none");
          say(body.detail || (xhr.status === 413 ? "文件太大，上传失败" : "上传失败，请重试"), false);
        }
      });
      xhr.addEventListener("error", function () { bar.classList.add("d-none"); say("网络错误，上传失败", false); });
      xhr.send(form);
    }
    input.addEventListener("change", function () { upload(input.files); });
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.add("is-dragover"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.remove("is-dragover"); });
    });
    zone.addEventListener("drop", function (e) { upload(e.dataTransfer && e.dataTransfer.files); });
  }

  function init(root) {
    (root || document).querySelectorAll("[data-portrait-map]").forEach(drawMap);
    (root || document).querySelectorAll("[data-upload-url]").forEach(initDropzone);
    drawYoy(root || document);
  }

  if (window.htmx) window.htmx.onLoad(function (el) { init(el); });
  else document.addEventListener("DOMContentLoaded", function () { init(document); });
  // The URL keeps the open tab; the 商机 row's ?opportunity= opened the dialog once only.
  if (new URL(window.location.href).searchParams.has("opportunity")) {
    window.history.replaceState(window.history.state, "", currentUrl().toString());
  }
})();
