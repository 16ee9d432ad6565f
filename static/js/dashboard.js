/* Draws the dashboard's charts (templates/settlement/dashboard.html) with the vendored Chart.js.
 *
 * Each <canvas data-chart="ID"> reads its numbers from the json_script element #ID:
 *   {labels, stacked, units: {unit: axis title}, datasets: [{label, type, unit, hidden, data}]}
 * No inline script: the page works under a Content-Security-Policy without 'unsafe-inline'.
 * Without JavaScript the charts stay hidden and the tables beside them carry the numbers.
 */
(function () {
  "use strict";

  if (typeof window.Chart === "undefined") {
    return;
  }

  var PALETTE = [
    "#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#d63384",
    "#20c997", "#ffc107", "#6c757d", "#0dcaf0", "#dc3545"
  ];
  var locale = document.documentElement.lang || undefined;

  function axesFor(spec) {
    var ids = {};
    var scales = { x: { stacked: spec.stacked } };
    var order = 0;
    spec.datasets.forEach(function (dataset) {
      if (ids[dataset.unit]) {
        return;
      }
      var id = order === 0 ? "y" : "y" + order;
      ids[dataset.unit] = id;
      scales[id] = {
        type: "linear",
        position: order === 0 ? "left" : "right",
        beginAtZero: true,
        stacked: spec.stacked,
        grid: { drawOnChartArea: order === 0 },
        // Counts are whole numbers: no 0.2 filings on an axis of small counts.
        ticks: dataset.unit === "count" ? { precision: 0 } : {},
        title: { display: true, text: spec.units[dataset.unit] || dataset.unit }
      };
      order += 1;
    });
    return { ids: ids, scales: scales };
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source) {
      return;
    }
    var spec = JSON.parse(source.textContent);
    // Shown before drawing, so Chart.js measures a visible container.
    var figure = canvas.closest("figure");
    if (figure) {
      figure.classList.remove("d-none");
    }
    var axes = axesFor(spec);
    var datasets = spec.datasets.map(function (dataset, index) {
      var colour = PALETTE[index % PALETTE.length];
      return {
        label: dataset.label,
        type: dataset.type,
        data: dataset.data,
        hidden: dataset.hidden,
        yAxisID: axes.ids[dataset.unit],
        backgroundColor: dataset.type === "line" ? colour : colour + "cc",
        borderColor: colour,
        borderWidth: dataset.type === "line" ? 2 : 0,
        spanGaps: true,
        order: dataset.type === "line" ? 0 : 1
      };
    });
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: spec.labels, datasets: datasets },
      options: {
        locale: locale,
        responsive: true,
        aspectRatio: 2,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom" } },
        scales: axes.scales
      }
    });
  }

  document.querySelectorAll("canvas[data-chart]").forEach(draw);
})();
