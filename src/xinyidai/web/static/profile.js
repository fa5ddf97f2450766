// The enterprise profile's rating trend: score by as-of day, the grade in the tooltip.
// Data comes from the page's JSON block (CSP: no inline script); graph.js draws the
// association graph from its own block.
(function () {
  "use strict";
  var holder = document.getElementById("rating-trend");
  var source = document.getElementById("rating-trend-data");
  if (!holder || !source || typeof echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var chart = echarts.init(holder, null, { renderer: "svg" });
  chart.setOption({
    color: ["#0b57a4"],
    tooltip: {
      trigger: "axis",
      formatter: function (items) {
        var item = items[0];
        return item.axisValue + "<br>" + item.value + " · " + data.grades[item.dataIndex];
      }
    },
    grid: { left: 44, right: 16, bottom: 30, top: 16 },
    xAxis: { type: "category", data: data.dates },
    yAxis: { type: "value", scale: true },
    series: [{ type: "line", data: data.scores, symbolSize: 7,
      label: { show: true, formatter: function (p) { return data.grades[p.dataIndex]; } } }]
  });
  holder.setAttribute("data-rendered", "true");
  window.addEventListener("resize", function () { chart.resize(); });
}());
