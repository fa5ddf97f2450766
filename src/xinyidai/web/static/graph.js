// The association graph: enterprises as nodes on rings by distance, their links (by kind)
// as edges, drawn with ECharts from a JSON block (CSP: no inline script). Any element with
// data-graph-source="<id of the JSON block>" is drawn; other pages (the enterprise
// profile) may call XYDGraph.draw(holder, data, legendHolder) themselves.
(function () {
  "use strict";
  var KIND_COLORS = {
    guarantee: "#b3261e",
    shareholding: "#0b57a4",
    representative: "#6a3d9a",
    common_shareholder: "#a65e9a",
    phone: "#9a6700",
    address: "#5b6675"
  };
  // Room around the drawing: the legend above, the names written right of the nodes.
  var MARGIN = { top: 48, bottom: 24, left: 24, right: 170 };
  var NODE_COLORS = ["#1d2733", "#b3261e", "#1f7a3a"];  // this enterprise, bad now, other

  function category(node, center) {
    if (node.id === center) { return 0; }
    return node.bad ? 1 : 2;
  }

  function curveness(edges) {
    // Several links between the same two enterprises are drawn as separate arcs.
    var seen = {};
    return edges.map(function (edge) {
      var pair = edge.source < edge.target ? edge.source + "|" + edge.target : edge.target + "|" + edge.source;
      var count = seen[pair] || 0;
      seen[pair] = count + 1;
      return count === 0 ? 0 : (count % 2 ? 1 : -1) * 0.18 * Math.ceil(count / 2);
    });
  }

  function radial(data) {
    // Rings by distance from the enterprise asked about; each ring ordered by where its
    // nodes' links one ring in sit, so that links run outwards without crossing much.
    var near = {};
    data.edges.forEach(function (edge) {
      (near[edge.source] = near[edge.source] || []).push(edge.target);
      (near[edge.target] = near[edge.target] || []).push(edge.source);
    });
    var rings = [];
    data.nodes.forEach(function (node) {
      (rings[node.distance] = rings[node.distance] || []).push(node);
    });
    var angle = {}, place = {};
    angle[data.center] = 0;
    place[data.center] = [0, 0];
    for (var d = 1; d < rings.length; d++) {
      var ring = rings[d] || [];
      ring.forEach(function (node) {
        var sin = 0, cos = 0;
        (near[node.id] || []).forEach(function (other) {
          if (angle[other] !== undefined && (d === 1 || other !== data.center)) {
            sin += Math.sin(angle[other]);
            cos += Math.cos(angle[other]);
          }
        });
        node.wanted = sin || cos ? Math.atan2(sin, cos) : 0;
      });
      ring.sort(function (a, b) { return a.wanted - b.wanted || (a.id < b.id ? -1 : 1); });
      var start = ring.length ? ring[0].wanted : 0;
      ring.forEach(function (node, i) {
        angle[node.id] = start + 2 * Math.PI * i / ring.length;
        place[node.id] = [d * 100 * Math.cos(angle[node.id]), d * 100 * Math.sin(angle[node.id])];
      });
    }
    return place;
  }

  function frame(data, holder) {
    // Two invisible corners around the outermost ring, spread to the drawing area's shape:
    // the rings are scaled alike across and down, so they stay round and the nodes too,
    // even when every node sits on one line (one neighbour), which would otherwise
    // stretch the drawing to the frame's full height.
    var reach = 100 * Math.max(1, Math.max.apply(null, data.nodes.map(function (n) { return n.distance; })));
    var wide = Math.max(1, holder.clientWidth - MARGIN.left - MARGIN.right);
    var high = Math.max(1, holder.clientHeight - MARGIN.top - MARGIN.bottom);
    var across = wide >= high ? reach * wide / high : reach;
    var down = wide >= high ? reach : reach * high / wide;
    return [[-across, -down], [across, down]].map(function (corner, i) {
      return {
        id: "__frame" + i, name: "", x: corner[0], y: corner[1], symbolSize: 0,
        draggable: false, label: { show: false }, itemStyle: { opacity: 0 },
        tooltip: { show: false }, emphasis: { disabled: true }
      };
    });
  }

  function legend(holder, data) {
    if (!holder) { return; }
    var used = {};
    data.edges.forEach(function (edge) { used[edge.kind] = true; });
    Object.keys(KIND_COLORS).forEach(function (kind) {
      if (!used[kind]) { return; }
      var item = document.createElement("span");
      item.className = "legend-item";
      item.setAttribute("data-kind", kind);
      var swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = KIND_COLORS[kind];
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(data.labels[kind] || kind));
      holder.appendChild(item);
    });
  }

  function draw(holder, data, legendHolder) {
    if (typeof echarts === "undefined") { return null; }
    var labels = data.labels || {};
    var byId = {};
    data.nodes.forEach(function (node) { byId[node.id] = node; });
    var bends = curveness(data.edges);
    var place = radial(data);
    var chart = echarts.init(holder, null, { renderer: "svg" });
    chart.setOption({
      color: NODE_COLORS,
      tooltip: {
        formatter: function (item) {
          if (item.dataType === "edge") {
            var from = byId[item.data.source], to = byId[item.data.target];
            return echarts.format.encodeHTML(
              (from ? from.name : item.data.source) + (item.data.directed ? " → " : " — ") +
              (to ? to.name : item.data.target) + ": " + (labels[item.data.kind] || item.data.kind));
          }
          return echarts.format.encodeHTML(item.data.name + " " + item.data.id);
        }
      },
      legend: { top: 0, data: [labels.center, labels.bad, labels.other] },
      series: [{
        type: "graph",
        layout: "none",  // rings by distance, scaled to the frame (see radial)
        roam: true,
        draggable: true,
        top: MARGIN.top,
        bottom: MARGIN.bottom,
        left: MARGIN.left,
        right: MARGIN.right,
        nodeScaleRatio: 0,  // nodes keep their size, round, whatever the scale
        aspectScale: 1,
        categories: [{ name: labels.center }, { name: labels.bad }, { name: labels.other }],
        labelLayout: { hideOverlap: true },  // a name that would cover another is left out
        label: { show: data.nodes.length <= 40, position: "right", fontSize: 11,
                 formatter: function (item) { return item.data.name; } },
        emphasis: { focus: "adjacency", lineStyle: { width: 4 } },
        edgeSymbolSize: [4, 9],
        data: data.nodes.map(function (node) {
          return {
            id: node.id,
            name: node.name,
            category: category(node, data.center),
            symbolSize: node.id === data.center ? 30 : Math.max(12, 22 - 4 * node.distance),
            x: place[node.id][0],
            y: place[node.id][1]
          };
        }).concat(frame(data, holder)),
        links: data.edges.map(function (edge, index) {
          return {
            source: edge.source,
            target: edge.target,
            kind: edge.kind,
            directed: edge.directed,
            symbol: edge.directed ? ["none", "arrow"] : ["none", "none"],
            lineStyle: {
              color: KIND_COLORS[edge.kind] || "#5b6675",
              width: edge.kind === "guarantee" ? 2.5 : 1.5,
              type: edge.kind === "address" || edge.kind === "phone" ? "dashed" : "solid",
              curveness: bends[index],
              opacity: 0.85
            }
          };
        })
      }]
    });
    holder.setAttribute("data-rendered", "true");
    holder.setAttribute("data-nodes", String(data.nodes.length));
    holder.setAttribute("data-links", String(data.edges.length));
    legend(legendHolder, data);
    window.addEventListener("resize", function () { chart.resize(); });
    return chart;
  }

  window.XYDGraph = { draw: draw, colors: KIND_COLORS };

  var holders = document.querySelectorAll("[data-graph-source]");
  Array.prototype.forEach.call(holders, function (holder) {
    var source = document.getElementById(holder.getAttribute("data-graph-source"));
    if (!source) { return; }
    draw(holder, JSON.parse(source.textContent),
         document.getElementById(holder.getAttribute("data-graph-legend") || ""));
  });
})();
