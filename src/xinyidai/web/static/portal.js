// The operator dashboard's chart: organizations by kind (x) and state (stacked bars).
(function () {
  "use strict";
  var holder = document.getElementById("org-chart");
  var source = document.getElementById("org-chart-data");
  if (!holder || !source || typeof echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var colors = ["#9a6700", "#1f7a3a", "#b3261e", "#5b6675"];
  var chart = echarts.init(holder, null, { renderer: "svg" });
  chart.setOption({
    color: colors,
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    legend: { top: 0 },
    grid: { left: 40, right: 16, bottom: 60, top: 40 },
    xAxis: { type: "category", data: data.categories, axisLabel: { interval: 0, rotate: 30 } },
    yAxis: { type: "value", minInterval: 1 },
    series: data.series.map(function (values, index) {
      return { name: data.names[index], type: "bar", stack: "total", data: values };
    })
  });
  holder.setAttribute("data-rendered", "true");
  window.addEventListener("resize", function () { chart.resize(); });
})();
