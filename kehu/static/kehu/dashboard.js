// 首页: 我的销售漏斗 drawn by ECharts from the figures the page carries (json_script).
(function () {
  var el = document.getElementById("funnel-chart");
  var source = document.getElementById("funnel-data");
  if (!el || !source || !window.echarts) return;
  var data = JSON.parse(source.textContent);
  var chart = echarts.init(el);
  chart.on("finished", function () { el.dataset.rendered = "1"; });
  chart.setOption({
    animationDuration: 400,
    tooltip: { trigger: "item", formatter: "{b}：{c}" },
    series: [{ type: "funnel", sort: "none", left: "10%", width: "80%", minSize: "20%",
      label: { show: true, position: "inside", formatter: "{b} {c}" }, data: data }]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
