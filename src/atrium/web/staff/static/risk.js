// The anti-fraud console's one script: the case page's model explanation (the top feature contributions)
// as a horizontal bar chart, drawn from the table on the page — the table is the data, and it stays for
// screen readers (and is shown whenever the chart cannot be drawn). No inline code: the CSP forbids it.
(function () {
  "use strict";

  var UP = "#b42318";    // raises the score (the console's danger colour)
  var DOWN = "#05603a";  // lowers it (the console's ok colour)

  function draw() {
    var table = document.getElementById("explain");
    var canvas = document.getElementById("explain-canvas");
    if (!table || !canvas || typeof window.Chart === "undefined") {
      return;
    }
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr"));
    var labels = rows.map(function (r) { return r.getAttribute("data-feature"); });
    var values = rows.map(function (r) { return parseFloat(r.getAttribute("data-contribution")); });
    if (!rows.length || values.some(isNaN)) {
      return;
    }
    var up = table.getAttribute("data-increase");
    var down = table.getAttribute("data-decrease");
    canvas.parentElement.hidden = false;
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: labels,
        datasets: [{
          data: values,
          backgroundColor: values.map(function (v) { return v > 0 ? UP : DOWN; }),
          borderWidth: 0,
          barPercentage: 0.7,
        }],
      },
      options: {
        indexAxis: "y",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (item) {
                var v = item.parsed.x;
                return (v > 0 ? "+" : "") + v.toFixed(3) + " " + (v > 0 ? up : down);
              },
            },
          },
        },
        scales: {
          x: { grid: { color: "#e3e7ef" }, ticks: { color: "#505c73" } },
          y: { grid: { display: false }, ticks: { color: "#111a2e", font: { family: "ui-monospace, Menlo, Consolas, monospace" } } },
        },
      },
    });
    // The table leaves the screen (not the accessibility tree) once the chart shows the same numbers.
    table.closest(".panel").classList.add("explain-drawn");
  }

  document.addEventListener("DOMContentLoaded", draw);
})();
