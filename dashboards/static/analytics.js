// Draws the Activity Analytics page's charts with ECharts from the JSON
// its data-src names: the same figures as the tables beside each chart,
// which stay the page's text for those who do not see the charts.
(function () {
  "use strict";
  var palette = ["#0a58ca", "#b35c00", "#198754", "#a4161a", "#6f42c1"];

  function longest(labels) {
    return labels.reduce(function (n, l) { return Math.max(n, l.length); }, 0);
  }

  function option(c) {
    var horizontal = c.kind === "bar" && longest(c.labels) > 9;
    var category = { type: "category", data: c.labels, axisLabel: { color: "#1b1f24" } };
    var value = { type: "value", name: c.unit, axisLabel: { color: "#1b1f24" } };
    if (horizontal) {
      category.inverse = true;
      category.axisLabel.width = 220;
      category.axisLabel.overflow = "truncate";
    }
    return {
      aria: { enabled: true },
      animation: false,
      color: palette,
      grid: { left: horizontal ? 230 : 50, right: 20, top: 30, bottom: 40 },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? category : value,
      series: c.series.map(function (s) {
        return {
          name: s.name,
          type: c.kind === "line" ? "line" : "bar",
          stack: c.kind === "stacked" ? "all" : undefined,
          data: s.values
        };
      })
    };
  }

  function draw(data) {
    (data.charts || []).forEach(function (c) {
      var el = document.getElementById("chart-" + c.id);
      if (!el || !c.labels || c.labels.length === 0) {
        if (el) { el.hidden = true; }
        return;
      }
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option(c));
      el.setAttribute("data-drawn", "true");
      window.addEventListener("resize", function () { chart.resize(); });
    });
    document.getElementById("analytics").setAttribute("data-charts", "drawn");
  }

  function start() {
    var root = document.getElementById("analytics");
    if (!root || !window.echarts) { return; }
    fetch(root.getAttribute("data-src"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (res) {
        if (!res.ok) { throw new Error("analytics data: " + res.status); }
        return res.json();
      })
      .then(draw)
      .catch(function () { root.setAttribute("data-charts", "failed"); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
