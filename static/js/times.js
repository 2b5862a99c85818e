// Times: every <time class="when" datetime="…Z"> shows "5 minutes ago", and its exact time in the
// reader's zone on hover: the zone of their profile (<html data-timezone>), else the browser's.
(function () {
  var zone = document.documentElement.dataset.timezone || undefined;
  var lang = document.documentElement.lang || undefined;
  // dateStyle cannot be combined with timeZoneName, hence the parts one by one.
  var parts = { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" };
  var exact;
  try {
    exact = new Intl.DateTimeFormat(lang, Object.assign({ timeZone: zone }, parts));
  } catch (e) { // an unknown zone name: the browser's own
    exact = new Intl.DateTimeFormat(lang, parts);
  }
  var relative = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(lang, { numeric: "auto" }) : null;
  var steps = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60]];

  function ago(seconds) {
    if (Math.abs(seconds) < 45) return relative.format(seconds <= 0 ? 0 : 1, seconds <= 0 ? "second" : "minute");
    for (var i = 0; i < steps.length; i++) {
      if (Math.abs(seconds) >= steps[i][1] || steps[i][0] === "minute") {
        return relative.format(Math.round(seconds / steps[i][1]), steps[i][0]);
      }
    }
  }

  function render() {
    var now = Date.now();
    document.querySelectorAll("time.when[datetime]").forEach(function (node) {
      var moment = new Date(node.getAttribute("datetime"));
      if (isNaN(moment)) return;
      var text = exact.format(moment);
      node.title = text;
      // Past a week the date itself says more than "3 weeks ago".
      var seconds = (moment.getTime() - now) / 1000;
      node.textContent = relative && Math.abs(seconds) < 7 * 86400 ? ago(seconds) : text;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    render();
    setInterval(render, 60000);
  });
})();
