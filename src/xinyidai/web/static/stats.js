// The statistics dashboard: a figure's trend (line) and its breakdown (bars). Data comes
// from the page's JSON block (CSP: no inline script).
(function () {
  "use strict";
  var source = document.getElementById("stats-chart-data");
  if (!source || typeof echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  function draw(id, option) {
    var holder = document.getElementById(id);
    if (!holder) { return; }
    var chart = echarts.init(holder, null, { renderer: "svg" });
    chart.setOption(option);
    holder.setAttribute("data-rendered", "true");
    window.addEventListener("resize", function () { chart.resize(); });
  }
  draw("stats-trend", {
    color: ["#0b57a4"],
    tooltip: { trigger: "axis" },
    grid: { left: 80, right: 16, bottom: 40, top: 20 },
    xAxis: { type: "category", data: data.periods },
    yAxis: { type: "value" },
    dataZoom: data.periods.length > 24 ? [{ type: "slider", bottom: 0, height: 16 }] : [],
    series: [{ name: data.name, type: "line", data: data.trend, smooth: true, areaStyle: {} }]
  });
  draw("stats-breakdown", {
    color: ["#1f7a3a"],
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    grid: { left: 80, right: 16, bottom: 90, top: 20 },
    xAxis: { type: "category", data: data.cells, axisLabel: { interval: 0, rotate: 35, width: 160, overflow: "truncate" } },
    yAxis: { type: "value" },
    dataZoom: data.cells.length > 12 ? [{ type: "slider", bottom: 0, height: 16 }] : [],
    series: [{ name: data.name, type: "bar", data: data.breakdown, barMaxWidth: 28 }]
  });
})();
