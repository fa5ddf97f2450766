/* The operator's market overview: products, applications and loans by institution. */
(function () {
  "use strict";
  function draw() {
    var holder = document.getElementById("market-chart");
    var source = document.getElementById("market-chart-data");
    if (!holder || !source || typeof echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var chart = echarts.init(holder, null, { renderer: "svg" });
    chart.setOption({
      color: ["#1f7a3a", "#9a6700", "#2f5d8a"],
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0 },
      grid: { left: 40, right: 16, bottom: 60, top: 40 },
      xAxis: { type: "category", data: data.categories, axisLabel: { interval: 0, rotate: 20 } },
      yAxis: { type: "value", minInterval: 1 },
      series: data.series.map(function (values, index) {
        return { name: data.names[index], type: "bar", data: values };
      })
    });
    holder.setAttribute("data-rendered", "true");
    window.addEventListener("resize", function () { chart.resize(); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
