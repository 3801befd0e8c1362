// 首页 charts, drawn by ECharts from the figures the page carries (json_script "dashboard-charts").
// A bar opens the list it counts (each datum carries the list's URL).
(function () {
  var source = document.getElementById("dashboard-charts");
  if (!source || !window.echarts) return;
  var data = JSON.parse(source.textContent);
  var charts = [];

  function draw(id, option, urls) {
    var el = document.getElementById(id);
    if (!el) return;
    var chart = echarts.init(el);
    chart.on("finished", function () { el.dataset.rendered = "1"; });
    if (urls) {
      chart.on("click", function (p) { if (urls[p.dataIndex]) window.location.href = urls[p.dataIndex]; });
    }
    chart.setOption(option);
    charts.push(chart);
  }

  var grid = { left: 8, right: 16, top: 16, bottom: 8, containLabel: true };
  function bars(items, color, money) {
    return {
      animationDuration: 400, grid: grid,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "category", data: items.map(function (d) { return d.name; }), axisLabel: { interval: 0 } },
      yAxis: { type: "value", minInterval: money ? 0 : 1 },
      series: [{ type: "bar", barMaxWidth: 36, itemStyle: { color: color },
        data: items.map(function (d) { return Number(d.value); }) }]
    };
  }

  if (data.opportunities) {
    draw("chart-opportunities", bars(data.opportunities, "#206bc4", false),
      data.opportunities.map(function (d) { return d.url; }));
  }
  if (data.receivables) {
    draw("chart-receivables", bars(data.receivables, "#f76707", true),
      data.receivables.map(function (d) { return d.url; }));
  }
  if (data.team) {
    var series = data.team.series.map(function (s) {
      return { name: s.name, type: "bar", stack: "opportunities", barMaxWidth: 36, data: s.data };
    });
    series.push({ name: "待收款（元）", type: "line", yAxisIndex: 1, data: data.team.receivable.map(Number) });
    draw("chart-team", {
      animationDuration: 400, grid: { left: 8, right: 8, top: 40, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" }, legend: { top: 0 },
      xAxis: { type: "category", data: data.team.members, axisLabel: { interval: 0 } },
      yAxis: [{ type: "value", name: "商机", minInterval: 1 }, { type: "value", name: "待收款" }],
      series: series
    });
  }
  if (data.ageing) {
    draw("chart-ageing", bars(data.ageing.buckets.map(function (b, i) {
      return { name: b, value: data.ageing.amounts[i] };
    }), "#d63939", true));
  }
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
