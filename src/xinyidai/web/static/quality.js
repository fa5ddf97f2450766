// The operator's data quality chart: validity and completeness (%) per provider and
// category as grouped bars. Data comes from the page's JSON block (CSP: no inline script).
(function () {
  "use strict";
  var holder = document.getElementById("quality-chart");
  var source = document.getElementById("quality-chart-data");
  if (!holder || !source || typeof echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var chart = echarts.init(holder, null, { renderer: "svg" });
  chart.setOption({
    color: ["#1f7a3a", "#0b57a4"],
    tooltip: {
      trigger: "axis",
      axisPointer: { type: "shadow" },
      valueFormatter: function (value) { return value === null || value === undefined ? "—" : value + "%"; }
    },
    legend: { top: 0 },
    grid: { left: 44, right: 16, bottom: 90, top: 40 },
    xAxis: {
      type: "category",
      data: data.categories,
      axisLabel: { interval: 0, rotate: 35, width: 160, overflow: "truncate" }
    },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
    dataZoom: data.categories.length > 8 ? [{ type: "slider", bottom: 0, height: 16 }] : [],
    series: data.series.map(function (values, index) {
      return { name: data.names[index], type: "bar", data: values, barMaxWidth: 28 };
    })
  });
  holder.setAttribute("data-rendered", "true");
  window.addEventListener("resize", function () { chart.resize(); });
})();
